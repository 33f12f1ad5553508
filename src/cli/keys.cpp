#include "cli/keys.h"

#include <ostream>

#include "auth/key_admin.h"
#include "common/clock.h"

namespace roentgen::cli {

int RunKeys(const KeysConfig& config, std::ostream& out, std::ostream& err) {
  const int64_t now_s = Clock::System().NowMicros() / 1'000'000;
  switch (config.action) {
    case KeysConfig::Action::kCreate: {
      auth::CreateKeyOptions options;
      options.actions = config.actions;
      if (config.ttl) options.ttl_s = config.ttl->count();
      options.name = config.name;
      Result<nlohmann::json> created = auth::CreateKey(config.file, options, now_s);
      if (!created.ok()) {
        err << "roentgen keys create: " << created.status().message() << "\n";
        return 1;
      }
      out << created->dump(2) << "\n";
      return 0;
    }
    case KeysConfig::Action::kList: {
      Result<nlohmann::json> listed = auth::ListKeys(config.file);
      if (!listed.ok()) {
        err << "roentgen keys list: " << listed.status().message() << "\n";
        return 1;
      }
      out << listed->dump(2) << "\n";
      return 0;
    }
    case KeysConfig::Action::kRevoke: {
      if (config.all_session_keys) {
        if (Status s = auth::RevokeAllSessionKeys(config.file); !s.ok()) {
          err << "roentgen keys revoke: " << s.message() << "\n";
          return 1;
        }
        err << "revoked every session key (a new SessionTokenKey)\n";
        return 0;
      }
      Result<std::string> revoked = auth::RevokeKey(config.file, config.access_key_id, now_s);
      if (!revoked.ok()) {
        err << "roentgen keys revoke: " << revoked.status().message() << "\n";
        return 1;
      }
      err << *revoked << "\n";
      return 0;
    }
  }
  return 1;
}

}  // namespace roentgen::cli
