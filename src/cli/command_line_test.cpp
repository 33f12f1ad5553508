#include "cli/command_line.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace roentgen::cli {
namespace {

struct Parsed {
  std::variant<Command, int> result;
  std::string out;
  std::string err;
};

Parsed Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "roentgen");
  std::ostringstream out, err;
  Parsed p{ParseCommandLine(static_cast<int>(args.size()), args.data(), out, err), "", ""};
  p.out = out.str();
  p.err = err.str();
  return p;
}

const ServeConfig& Serve(const Parsed& p) {
  EXPECT_TRUE(std::holds_alternative<Command>(p.result)) << p.err;
  static const Command kEmpty;
  const Command& c =
      std::holds_alternative<Command>(p.result) ? std::get<Command>(p.result) : kEmpty;
  EXPECT_EQ(c.kind, Command::Kind::kServe);
  return c.serve;
}

TEST(CommandLineTest, ServeDefaults) {
  Parsed p = Parse({"serve"});
  const ServeConfig& c = Serve(p);
  EXPECT_EQ(c.host, "127.0.0.1");
  EXPECT_EQ(c.port, 2000);
  EXPECT_EQ(c.data_dir, "./roentgen-data");
  EXPECT_EQ(c.retention, std::chrono::seconds(30 * 86400));
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.http_threads, 2);
  EXPECT_EQ(c.pipeline.writer_threads, 2u);
  EXPECT_EQ(c.max_body_bytes, 32u << 20);
  EXPECT_EQ(c.udp_spool_max_bytes, uint64_t{1} << 30);
  EXPECT_EQ(c.otlp_spool_max_bytes, uint64_t{1} << 30);
  EXPECT_EQ(c.api_spool_max_bytes, uint64_t{1} << 30);
  EXPECT_TRUE(c.low_priority_indexing);
  EXPECT_EQ(c.http_max_connections, 1024u);
  EXPECT_EQ(c.http_request_timeout, std::chrono::seconds(30));
  EXPECT_EQ(c.http_idle_timeout, std::chrono::seconds(60));
  EXPECT_FALSE(c.max_query_range.has_value());
  EXPECT_EQ(c.MaxQueryRange(), std::chrono::seconds(31 * 86400));  // the retention and a day
}

TEST(CommandLineTest, ServeLimitFlags) {
  Parsed p = Parse({"serve", "--retention", "7d", "--http-max-connections", "10",
                    "--http-request-timeout", "5s", "--http-idle-timeout", "2m"});
  EXPECT_EQ(Serve(p).http_max_connections, 10u);
  EXPECT_EQ(Serve(p).http_request_timeout, std::chrono::seconds(5));
  EXPECT_EQ(Serve(p).http_idle_timeout, std::chrono::seconds(120));
  EXPECT_EQ(Serve(p).MaxQueryRange(), std::chrono::seconds(8 * 86400));
  Parsed q = Parse({"serve", "--max-query-range", "6h"});
  EXPECT_EQ(Serve(q).MaxQueryRange(), std::chrono::seconds(6 * 3600));
  Parsed bad = Parse({"serve", "--http-idle-timeout", "soon"});
  ASSERT_TRUE(std::holds_alternative<int>(bad.result));
}

TEST(CommandLineTest, ServeFlags) {
  Parsed p = Parse({"serve",
                    "--listen",
                    "0.0.0.0:3000",
                    "--data-dir",
                    "/var/lib/rg",
                    "--retention",
                    "12h",
                    "--log-level",
                    "debug",
                    "--http-threads",
                    "4",
                    "--max-body-bytes",
                    "1048576",
                    "--ingest-writers",
                    "3",
                    "--udp-spool-max-bytes",
                    "0",
                    "--otlp-spool-max-bytes",
                    "2097152",
                    "--api-spool-max-bytes",
                    "0",
                    "--indexing-priority",
                    "normal"});
  const ServeConfig& c = Serve(p);
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.port, 3000);
  EXPECT_EQ(c.data_dir, "/var/lib/rg");
  EXPECT_EQ(c.retention, std::chrono::seconds(12 * 3600));
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.http_threads, 4);
  EXPECT_EQ(c.pipeline.writer_threads, 3u);
  EXPECT_EQ(c.max_body_bytes, 1048576u);
  EXPECT_EQ(c.udp_spool_max_bytes, 0u);
  EXPECT_EQ(c.otlp_spool_max_bytes, 2097152u);
  EXPECT_EQ(c.api_spool_max_bytes, 0u);
  EXPECT_FALSE(c.low_priority_indexing);
}

TEST(CommandLineTest, BadValuesEndWithAMessage) {
  Parsed p = Parse({"serve", "--retention", "3w"});
  ASSERT_TRUE(std::holds_alternative<int>(p.result));
  EXPECT_NE(std::get<int>(p.result), 0);
  EXPECT_NE(p.err.find("invalid duration '3w': unknown unit 'w'"), std::string::npos) << p.err;

  p = Parse({"serve", "--listen", "nowhere"});
  ASSERT_TRUE(std::holds_alternative<int>(p.result));
  EXPECT_NE(p.err.find("invalid listen address 'nowhere': missing ':PORT'"), std::string::npos)
      << p.err;

  p = Parse({"serve", "--log-level", "loud"});
  ASSERT_TRUE(std::holds_alternative<int>(p.result));
  EXPECT_NE(std::get<int>(p.result), 0);

  p = Parse({});  // a subcommand is required
  ASSERT_TRUE(std::holds_alternative<int>(p.result));
  EXPECT_NE(std::get<int>(p.result), 0);
}

TEST(CommandLineTest, HelpExitsZero) {
  Parsed p = Parse({"serve", "--help"});
  ASSERT_TRUE(std::holds_alternative<int>(p.result));
  EXPECT_EQ(std::get<int>(p.result), 0);
  EXPECT_NE(p.out.find("--retention"), std::string::npos);
}

TEST(CommandLineTest, Version) {
  Parsed p = Parse({"version"});
  ASSERT_TRUE(std::holds_alternative<Command>(p.result));
  EXPECT_EQ(std::get<Command>(p.result).kind, Command::Kind::kVersion);
  EXPECT_EQ(std::string(VersionString()), "roentgen 0.1.0");
}

TEST(CommandLineTest, ConfigFileWithFlagsWinning) {
  std::string path = testing::TempDir() + "roentgen_cli_test_" + std::to_string(getpid()) + ".toml";
  {
    std::ofstream f(path);
    f << "listen = \"[::1]:2100\"\n"
         "retention = \"7d\"\n"
         "data-dir = \"/from/file\"\n"
         "http-threads = 3\n";
  }
  Parsed p = Parse({"serve", "--config", path.c_str(), "--retention", "1d"});
  std::remove(path.c_str());
  const ServeConfig& c = Serve(p);
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.port, 2100);
  EXPECT_EQ(c.data_dir, "/from/file");
  EXPECT_EQ(c.http_threads, 3);
  EXPECT_EQ(c.retention, std::chrono::seconds(86400));
}

TEST(CommandLineTest, StoreEngineFlagAndConfigKey) {
  EXPECT_EQ(Serve(Parse({"serve"})).store_engine, "rocksdb");
  EXPECT_EQ(Serve(Parse({"serve", "--store-engine", "block"})).store_engine, "block");
  Parsed bad = Parse({"serve", "--store-engine", "lsm"});
  ASSERT_TRUE(std::holds_alternative<int>(bad.result));
  EXPECT_NE(std::get<int>(bad.result), 0);
  EXPECT_NE(bad.err.find("--store-engine"), std::string::npos) << bad.err;
  std::string path = testing::TempDir() + "roentgen_cli_engine_" + std::to_string(getpid()) + ".toml";
  std::ofstream(path) << "store-engine = \"block\"\n";
  Parsed p = Parse({"serve", "--config", path.c_str()});
  std::remove(path.c_str());
  EXPECT_EQ(Serve(p).store_engine, "block");
}

TEST(CommandLineTest, ConfigFileServeSection) {
  std::string path =
      testing::TempDir() + "roentgen_cli_section_" + std::to_string(getpid()) + ".ini";
  {
    std::ofstream f(path);
    f << "[serve]\nlisten = \"0.0.0.0:4000\"\nlog-level = \"warn\"\n";
  }
  Parsed p = Parse({"serve", "--config", path.c_str()});
  std::remove(path.c_str());
  const ServeConfig& c = Serve(p);
  EXPECT_EQ(c.host, "0.0.0.0");
  EXPECT_EQ(c.port, 4000);
  EXPECT_EQ(c.log_level, "warn");
}

TEST(CommandLineTest, UnknownConfigKeyIsAnError) {
  std::string path =
      testing::TempDir() + "roentgen_cli_unknown_" + std::to_string(getpid()) + ".toml";
  std::ofstream(path) << "retention = \"7d\"\nretenion = \"1d\"\n";
  Parsed p = Parse({"serve", "--config", path.c_str()});
  std::remove(path.c_str());
  ASSERT_TRUE(std::holds_alternative<int>(p.result));
  EXPECT_NE(std::get<int>(p.result), 0);
  EXPECT_NE(p.err.find("retenion"), std::string::npos) << p.err;
}

TEST(CommandLineTest, MissingConfigFileIsAnError) {
  Parsed p = Parse({"serve", "--config", "/nonexistent/roentgen.toml"});
  ASSERT_TRUE(std::holds_alternative<int>(p.result));
  EXPECT_NE(std::get<int>(p.result), 0);
}

}  // namespace
}  // namespace roentgen::cli

namespace roentgen::cli {
namespace {

const KeysConfig& Keys(const Parsed& p) {
  EXPECT_TRUE(std::holds_alternative<Command>(p.result)) << p.err;
  static const Command kEmpty;
  const Command& c =
      std::holds_alternative<Command>(p.result) ? std::get<Command>(p.result) : kEmpty;
  EXPECT_EQ(c.kind, Command::Kind::kKeys);
  return c.keys;
}

TEST(CommandLineTest, ServeKeys) {
  EXPECT_EQ(Serve(Parse({"serve"})).keys_file, "");
  EXPECT_EQ(Serve(Parse({"serve", "--keys", "/etc/roentgen/keys.json"})).keys_file,
            "/etc/roentgen/keys.json");
}

TEST(CommandLineTest, ServeExposureFlags) {
  const Parsed parsed_defaults = Parse({"serve"});
  const ServeConfig& defaults = Serve(parsed_defaults);
  EXPECT_FALSE(defaults.insecure);
  EXPECT_EQ(defaults.udp_allow, (std::vector<std::string>{"127.0.0.0/8", "::1"}));
  EXPECT_TRUE(defaults.cors_origins.empty());
  EXPECT_EQ(defaults.tls_cert_file, "");
  Parsed p = Parse({"serve", "--insecure", "--udp-allow", "10.0.0.0/8,fd00::/8", "--cors-origins",
                    "https://a.example,http://127.0.0.1:8080", "--tls-cert", "/etc/rg/cert.pem",
                    "--tls-key", "/etc/rg/key.pem", "--otlp-grpc-client-ca", "/etc/rg/ca.pem"});
  const ServeConfig& c = Serve(p);
  EXPECT_TRUE(c.insecure);
  EXPECT_EQ(c.udp_allow, (std::vector<std::string>{"10.0.0.0/8", "fd00::/8"}));
  EXPECT_EQ(c.cors_origins,
            (std::vector<std::string>{"https://a.example", "http://127.0.0.1:8080"}));
  EXPECT_EQ(c.tls_cert_file, "/etc/rg/cert.pem");
  EXPECT_EQ(c.tls_key_file, "/etc/rg/key.pem");
  EXPECT_EQ(c.otlp_grpc_client_ca_file, "/etc/rg/ca.pem");
  EXPECT_EQ(defaults.otlp_grpc_client_ca_file, "");
}

TEST(CommandLineTest, QueryServerUrlAndCaFile) {
  Parsed p = Parse({"query", "--server", "https://xray.example.com:2000", "--ca-file", "ca.pem"});
  ASSERT_TRUE(std::holds_alternative<Command>(p.result)) << p.err;
  const QueryConfig& q = std::get<Command>(p.result).query;
  EXPECT_EQ(q.server, "https://xray.example.com:2000");
  EXPECT_EQ(q.ca_file, "ca.pem");
  for (const char* server : {"127.0.0.1:2000", "http://[::1]:2000", "https://localhost"}) {
    EXPECT_TRUE(std::holds_alternative<Command>(Parse({"query", "--server", server}).result))
        << server;
  }
  Parsed bad = Parse({"query", "--server", "ftp://x:1"});
  EXPECT_TRUE(std::holds_alternative<int>(bad.result));
  EXPECT_NE(bad.err.find("the scheme must be http or https"), std::string::npos) << bad.err;
}

TEST(CommandLineTest, ServeInsightsOptions) {
  const Parsed defaults = Parse({"serve"});
  EXPECT_EQ(Serve(defaults).insights_interval, std::chrono::seconds(60));
  EXPECT_EQ(Serve(defaults).insights_webhook, "");
  const Parsed p = Parse({"serve", "--insights-interval", "5s", "--insights-webhook",
                          "http://127.0.0.1:9000/hook"});
  EXPECT_EQ(Serve(p).insights_interval, std::chrono::seconds(5));
  EXPECT_EQ(Serve(p).insights_webhook, "http://127.0.0.1:9000/hook");
}

TEST(CommandLineTest, KeysCreateListRevoke) {
  Parsed create = Parse({"keys", "create", "--keys", "k.json", "--actions",
                         "xray:PutTraceSegments,xray:Get*", "--ttl", "1h", "--name", "web"});
  const KeysConfig& c = Keys(create);
  EXPECT_EQ(c.action, KeysConfig::Action::kCreate);
  EXPECT_EQ(c.file, "k.json");
  EXPECT_EQ(c.actions, (std::vector<std::string>{"xray:PutTraceSegments", "xray:Get*"}));
  EXPECT_EQ(c.ttl, std::chrono::seconds(3600));
  EXPECT_EQ(c.name, "web");
  EXPECT_EQ(Keys(Parse({"keys", "create", "--keys", "k", "--actions", "*"})).ttl, std::nullopt);

  EXPECT_EQ(Keys(Parse({"keys", "list", "--keys", "k.json"})).action, KeysConfig::Action::kList);
  Parsed revoke = Parse({"keys", "revoke", "--keys", "k.json", "AKRGX"});
  const KeysConfig& r = Keys(revoke);
  EXPECT_EQ(r.action, KeysConfig::Action::kRevoke);
  EXPECT_EQ(r.access_key_id, "AKRGX");
  EXPECT_TRUE(
      Keys(Parse({"keys", "revoke", "--keys", "k", "--all-session-keys"})).all_session_keys);

  // Usage errors: no file, no actions, a bad TTL, nothing to revoke.
  for (std::vector<const char*> bad : std::vector<std::vector<const char*>>{
           {"keys", "create", "--actions", "*"},
           {"keys", "create", "--keys", "k"},
           {"keys", "create", "--keys", "k", "--actions", "*", "--ttl", "soon"},
           {"keys", "revoke", "--keys", "k"},
           {"keys"}}) {
    Parsed p = Parse(bad);
    ASSERT_TRUE(std::holds_alternative<int>(p.result)) << bad[1];
    EXPECT_NE(std::get<int>(p.result), 0);
  }
}

TEST(CommandLineTest, BackupAndRestore) {
  Parsed p = Parse({"backup", "--data-dir", "/var/lib/roentgen", "--to", "/backups/today"});
  ASSERT_TRUE(std::holds_alternative<Command>(p.result)) << p.err;
  const Command& backup = std::get<Command>(p.result);
  EXPECT_EQ(backup.kind, Command::Kind::kBackup);
  EXPECT_EQ(backup.backup.data_dir, "/var/lib/roentgen");
  EXPECT_EQ(backup.backup.to, "/backups/today");

  p = Parse({"restore", "--from", "/backups/today", "--data-dir", "/var/lib/roentgen"});
  ASSERT_TRUE(std::holds_alternative<Command>(p.result)) << p.err;
  const Command& restore = std::get<Command>(p.result);
  EXPECT_EQ(restore.kind, Command::Kind::kRestore);
  EXPECT_EQ(restore.restore.from, "/backups/today");
  EXPECT_EQ(restore.restore.data_dir, "/var/lib/roentgen");

  for (std::vector<const char*> bad : std::vector<std::vector<const char*>>{
           {"backup", "--data-dir", "d"},
           {"backup", "--to", "t"},
           {"restore", "--from", "b"},
           {"restore", "--data-dir", "d"}}) {
    Parsed e = Parse(bad);
    ASSERT_TRUE(std::holds_alternative<int>(e.result)) << bad[0] << " " << bad[1];
    EXPECT_NE(std::get<int>(e.result), 0);
    EXPECT_NE(e.err.find("is required"), std::string::npos) << e.err;
  }
}

TEST(CommandLineTest, Migrate) {
  Parsed p = Parse({"migrate", "--data-dir", "/var/lib/roentgen", "--to", "block"});
  ASSERT_TRUE(std::holds_alternative<Command>(p.result)) << p.err;
  const Command& migrate = std::get<Command>(p.result);
  EXPECT_EQ(migrate.kind, Command::Kind::kMigrate);
  EXPECT_EQ(migrate.migrate.data_dir, "/var/lib/roentgen");
  EXPECT_EQ(migrate.migrate.to, "block");
  EXPECT_FALSE(migrate.migrate.remove_old_store);

  p = Parse({"migrate", "--data-dir", "d", "--to", "block", "--remove-old-store"});
  ASSERT_TRUE(std::holds_alternative<Command>(p.result)) << p.err;
  EXPECT_TRUE(std::get<Command>(p.result).migrate.remove_old_store);

  for (std::vector<const char*> bad : std::vector<std::vector<const char*>>{
           {"migrate", "--data-dir", "d"}, {"migrate", "--to", "block"}}) {
    Parsed e = Parse(bad);
    ASSERT_TRUE(std::holds_alternative<int>(e.result)) << bad[1];
    EXPECT_NE(std::get<int>(e.result), 0);
    EXPECT_NE(e.err.find("is required"), std::string::npos) << e.err;
  }
}

// The sample config that `cmake --install` installs (and the systemd unit
// reads) parses, and gives the defaults but for its data dir.
TEST(CommandLineTest, SampleConfigParses) {
  Parsed p = Parse({"serve", "--config", "packaging/roentgen.toml"});
  const ServeConfig& c = Serve(p);
  const ServeConfig defaults;
  EXPECT_EQ(c.data_dir, "/var/lib/roentgen");
  EXPECT_EQ(c.host, defaults.host);
  EXPECT_EQ(c.port, defaults.port);
  EXPECT_EQ(c.retention, defaults.retention);
  EXPECT_EQ(c.log_level, defaults.log_level);
  EXPECT_EQ(c.udp_allow, defaults.udp_allow);
  EXPECT_TRUE(c.keys_file.empty());
  EXPECT_FALSE(c.otlp_grpc_listen_explicit);
}

}  // namespace
}  // namespace roentgen::cli
