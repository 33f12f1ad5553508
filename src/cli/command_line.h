// The `roentgen` command line (CLI11): subcommands, flags, the config file.
//
//   roentgen serve [--listen HOST:PORT] [--data-dir DIR] [--retention 30d]
//                  [--log-level info] [--http-threads N] [--max-body-bytes N]
//                  [--otlp-grpc-listen HOST:PORT|off] [--keys FILE] [--insecure]
//                  [--udp-allow CIDR,…] [--cors-origins ORIGIN,…]
//                  [--tls-cert FILE --tls-key FILE] [--config FILE]
//   roentgen query [EXPR] [--since 1h | --from T [--to T]] [--json] [--limit N]
//                  [--server HOST:PORT]
//   roentgen keys create --keys FILE --actions A,B [--ttl 1h] [--name N]
//   roentgen keys list --keys FILE
//   roentgen keys revoke --keys FILE (ACCESS_KEY_ID | --all-session-keys)
//   roentgen backup --data-dir D --to DIR
//   roentgen restore --from DIR --data-dir D
//   roentgen migrate --data-dir D --to block [--remove-old-store]
//   roentgen version
//
// --config reads the same keys from a TOML or INI file (`listen =
// "0.0.0.0:2000"`, `retention = "7d"`); flags given on the command line win.
#pragma once

#include <iosfwd>
#include <variant>

#include "cli/backup.h"
#include "cli/keys.h"
#include "cli/migrate.h"
#include "cli/query.h"
#include "cli/serve.h"

namespace roentgen::cli {

struct Command {
  enum class Kind { kServe, kQuery, kKeys, kBackup, kRestore, kMigrate, kVersion };
  Kind kind = Kind::kServe;
  ServeConfig serve;  // for kServe
  QueryConfig query;  // for kQuery
  KeysConfig keys;    // for kKeys
  BackupConfig backup;    // for kBackup
  RestoreConfig restore;  // for kRestore
  MigrateConfig migrate;  // for kMigrate
};

// Parses argv. When parsing ends the program instead (--help, a usage error, a
// bad value), prints to `out`/`err` and returns the process exit code.
std::variant<Command, int> ParseCommandLine(int argc, const char* const* argv, std::ostream& out,
                                            std::ostream& err);

// "roentgen <version>".
const char* VersionString();

}  // namespace roentgen::cli
