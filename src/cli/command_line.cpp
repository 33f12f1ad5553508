#include "cli/command_line.h"

#include <CLI/CLI.hpp>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cli/api_client.h"
#include "cli/flags.h"

#ifndef ROENTGEN_VERSION
#error "ROENTGEN_VERSION must be defined by the build"
#endif

namespace roentgen::cli {
namespace {

// A CLI11 validator from one of our parsers: the parser's message on failure.
template <typename Parse>
CLI::Validator FromParser(Parse parse, std::string description) {
  return CLI::Validator(
      [parse](std::string& value) -> std::string {
        auto parsed = parse(value);
        return parsed.ok() ? std::string() : parsed.status().message();
      },
      std::move(description));
}

// CLI11 applies config files to the main app only: this reader files top-level
// keys under `serve`, so a file says `listen = "0.0.0.0:2000"` (a `[serve]`
// section works too). TOML, and INI files of `key = value` lines.
class ServeConfigFile : public CLI::ConfigTOML {
 public:
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override {
    std::vector<CLI::ConfigItem> items = CLI::ConfigTOML::from_config(input);
    for (CLI::ConfigItem& item : items) {
      if (item.parents.empty()) item.parents = {"serve"};
    }
    return items;
  }
};

}  // namespace

const char* VersionString() { return "roentgen " ROENTGEN_VERSION; }

std::variant<Command, int> ParseCommandLine(int argc, const char* const* argv, std::ostream& out,
                                            std::ostream& err) {
  CLI::App app{"Roentgen: a self-hosted, AWS X-Ray-compatible tracing server.", "roentgen"};
  app.require_subcommand(1);

  Command command;
  ServeConfig& serve = command.serve;
  std::string listen = serve.host + ":" + std::to_string(serve.port);
  std::string retention = FormatDuration(serve.retention);
  std::string request_timeout = FormatDuration(serve.http_request_timeout);
  std::string idle_timeout = FormatDuration(serve.http_idle_timeout);
  std::string max_query_range;
  std::string insights_interval = FormatDuration(serve.insights_interval);

  CLI::App* serve_cmd =
      app.add_subcommand("serve",
                         "Receive traces over UDP and HTTP on one port, store, serve the "
                         "X-Ray API, /healthz and /metrics.");
  serve_cmd->add_option("--listen", listen, "HOST:PORT for both UDP and HTTP")
      ->check(FromParser(ParseListenAddress, "HOST:PORT"))
      ->capture_default_str();
  serve_cmd->add_option("--data-dir", serve.data_dir, "Where the store keeps its files")
      ->capture_default_str();
  serve_cmd
      ->add_option("--store-engine", serve.store_engine,
                   "Storage engine: rocksdb, or block (a data dir keeps the engine that wrote it)")
      ->check(CLI::IsMember({"rocksdb", "block"}))
      ->capture_default_str();
  serve_cmd->add_option("--store", serve.store_url,
                        "A store shared by several servers instead of the embedded one: "
                        "clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE, or every server of "
                        "a sharded cluster: clickhouse://H1:P1,H2:P2/DATABASE?cluster=NAME (the "
                        "data dir then keeps only this server's spools)");
  serve_cmd->add_option("--store-user", serve.store_user,
                        "The --store database's user (overrides the URL's)");
  serve_cmd->add_option("--store-password-file", serve.store_password_file,
                        "File whose first line is the --store database's password (else the "
                        "URL's, else $ROENTGEN_STORE_PASSWORD)");
  serve_cmd->add_option("--retention", retention, "How long traces are kept (30d, 12h, 90m)")
      ->check(FromParser(ParseDuration, "DURATION"))
      ->capture_default_str();
  serve_cmd->add_option("--log-level", serve.log_level, "Log verbosity")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}))
      ->capture_default_str();
  serve_cmd->add_option("--http-threads", serve.http_threads, "HTTP I/O threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  serve_cmd
      ->add_option("--ingest-writers", serve.pipeline.writer_threads,
                   "Ingest writer threads (each owns a share of the traces)")
      ->check(CLI::Range(size_t{1}, size_t{64}))
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-body-bytes", serve.max_body_bytes,
                   "Largest HTTP request body, after gzip decompression")
      ->check(CLI::Range(size_t{1}, size_t{1} << 30))
      ->capture_default_str();
  // --- Limits (docs/api.md, Limits) ---
  serve_cmd
      ->add_option("--http-max-connections", serve.http_max_connections,
                   "HTTP connections served at once; more are answered 503")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20))
      ->capture_default_str();
  serve_cmd
      ->add_option("--http-request-timeout", request_timeout,
                   "Time for a request's headers and body to arrive, from its first byte; "
                   "a slower one is answered 408")
      ->check(FromParser(ParseDuration, "DURATION"))
      ->capture_default_str();
  serve_cmd
      ->add_option("--http-idle-timeout", idle_timeout,
                   "Time a connection may wait for its next request (or a client to take a "
                   "response) before it is closed")
      ->check(FromParser(ParseDuration, "DURATION"))
      ->capture_default_str();
  serve_cmd
      ->add_option("--max-query-range", max_query_range,
                   "Longest StartTime-EndTime range a query may span (default: the retention "
                   "plus a day)")
      ->check(FromParser(ParseDuration, "DURATION"));
  // --- end limits ---
  serve_cmd
      ->add_option("--udp-spool-max-bytes", serve.udp_spool_max_bytes,
                   "UDP datagrams are spooled to disk (under the data dir) before they are "
                   "stored; the most bytes waiting there, or 0 for no spool")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 50))
      ->capture_default_str();
  serve_cmd
      ->add_option("--otlp-spool-max-bytes", serve.otlp_spool_max_bytes,
                   "OTLP exports are answered once spooled to disk (under the data dir) and "
                   "indexed after; the most bytes waiting there, or 0 to answer once indexed")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 50))
      ->capture_default_str();
  serve_cmd
      ->add_option("--api-spool-max-bytes", serve.api_spool_max_bytes,
                   "PutTraceSegments is answered once its documents are spooled to disk (under "
                   "the data dir) and applied to the store; the most bytes waiting there, or 0 "
                   "to answer once durable in the store")
      ->check(CLI::Range(uint64_t{0}, uint64_t{1} << 50))
      ->capture_default_str();
  std::string indexing_priority = serve.low_priority_indexing ? "low" : "normal";
  serve_cmd
      ->add_option("--indexing-priority", indexing_priority,
                   "CPU priority of indexing (spool readers, compactions, the writers but "
                   "for PutTraceSegments when nothing is behind): low lets receiving win when "
                   "the CPU is short")
      ->check(CLI::IsMember({"low", "normal"}))
      ->capture_default_str();
  // --- OTLP (src/otlp) ---
  CLI::Option* otlp_grpc_listen =
      serve_cmd
          ->add_option("--otlp-grpc-listen", serve.otlp_grpc_listen,
                       "HOST:PORT for OTLP/gRPC trace export, or \"off\"")
          ->check(CLI::Validator(
              [](std::string& value) -> std::string {
                if (value == "off") return std::string();
                auto parsed = ParseListenAddress(value);
                return parsed.ok() ? std::string() : parsed.status().message();
              },
              "HOST:PORT|off"))
          ->capture_default_str();
  // --- end OTLP ---
  serve_cmd->add_option("--keys", serve.keys_file,
                        "Keys file (roentgen keys create): API requests must then be signed "
                        "(SigV4) by one of its keys and be allowed their action");
  // --- Exposure: who may reach the server (docs/security.md) ---
  serve_cmd->add_flag("--insecure", serve.insecure,
                      "Serve an open API (no --keys) on an address other than loopback");
  serve_cmd
      ->add_option("--udp-allow", serve.udp_allow,
                   "Networks (CIDR,…) whose UDP datagrams are taken, and whose SDKs may call the "
                   "sampling API unsigned")
      ->delimiter(',')
      ->capture_default_str();
  serve_cmd
      ->add_option("--cors-origins", serve.cors_origins,
                   "Web origins (https://app.example.com,…, or * without --keys) whose pages may "
                   "call the API")
      ->delimiter(',');
  serve_cmd->add_option("--tls-cert", serve.tls_cert_file,
                        "TLS: the certificate chain (PEM) for HTTPS on the --listen port and for "
                        "OTLP/gRPC");
  serve_cmd->add_option("--tls-key", serve.tls_key_file,
                        "TLS: the certificate's private key (PEM, unencrypted)");
  serve_cmd->add_option("--otlp-grpc-client-ca", serve.otlp_grpc_client_ca_file,
                        "OTLP/gRPC takes only exporters with a client certificate signed by these "
                        "CAs (PEM; mutual TLS, needs --tls-cert/--tls-key)");
  // --- end exposure ---
  // --- Insights (docs/api.md, "Insights") ---
  serve_cmd
      ->add_option("--insights-interval", insights_interval,
                   "How often the insights detector evaluates the groups with insights enabled "
                   "(1s to 1h); each evaluation looks at the whole minutes before it")
      ->check(FromParser(ParseDuration, "DURATION"))
      ->capture_default_str();
  serve_cmd->add_option("--insights-webhook", serve.insights_webhook,
                        "http://HOST[:PORT][/PATH] that insight events of groups with "
                        "notifications enabled are POSTed to (EventBridge's JSON envelope)");
  // --- end insights ---
  app.set_config("--config", "", "Read serve's options from a TOML or INI file");
  app.config_formatter(std::make_shared<ServeConfigFile>());
  // A misspelt key (`retenion = "7d"`) is an error, not a setting silently
  // left at its default.
  app.allow_config_extras(CLI::config_extras_mode::error);
  serve_cmd->fallthrough();  // `roentgen serve --config FILE` reaches the app's --config

  QueryConfig& query = command.query;
  std::string since = FormatDuration(query.since);
  std::string from, to;
  CLI::App* query_cmd = app.add_subcommand(
      "query", "Find traces on a running server with an X-Ray filter expression.");
  query_cmd->add_option("expression", query.expression,
                        "Filter expression, e.g. 'annotation.email = \"alice@example.com\"'");
  query_cmd
      ->add_option("--server", query.server,
                   "roentgen serve's address: HOST:PORT, http://HOST:PORT or https://HOST:PORT")
      ->check(FromParser(ParseServerUrl, "URL"))
      ->capture_default_str();
  query_cmd->add_option("--ca-file", query.ca_file,
                        "PEM file of the CAs an https:// server's certificate must chain to "
                        "(default: $AWS_CA_BUNDLE, else the system's)");
  CLI::Option* since_opt =
      query_cmd->add_option("--since", since, "Look back this far from --to (1h, 30m, 2d)")
          ->check(FromParser(ParseDuration, "DURATION"))
          ->capture_default_str();
  query_cmd->add_option("--from", from, "Start: epoch seconds or 2026-11-25T14:00:00Z")
      ->check(FromParser(ParseTimestamp, "TIME"))
      ->excludes(since_opt);
  query_cmd->add_option("--to", to, "End (default now): epoch seconds or ISO 8601 UTC")
      ->check(FromParser(ParseTimestamp, "TIME"));
  query_cmd->add_flag("--json", query.json, "Print one JSON trace summary per line");
  query_cmd->add_option("--limit", query.limit, "Print at most this many traces")
      ->check(CLI::Range(size_t{1}, size_t{1'000'000}))
      ->capture_default_str();

  KeysConfig& keys = command.keys;
  std::string ttl;
  CLI::App* keys_cmd = app.add_subcommand(
      "keys", "Manage the keys file of roentgen serve --keys (while it runs, too).");
  keys_cmd->require_subcommand(1);
  CLI::App* keys_create = keys_cmd->add_subcommand(
      "create",
      "Create a key and print it as JSON (AccessKeyId, SecretAccessKey, and with --ttl "
      "SessionToken and Expiration)");
  keys_create->add_option("--keys", keys.file, "The keys file (created if missing)")->required();
  keys_create
      ->add_option("--actions", keys.actions,
                   "Actions the key may call, comma-separated (xray:PutTraceSegments, "
                   "xray:GetTraceSummaries, xray:Get*, xray:*, roentgen:*, *)")
      ->delimiter(',')
      ->required();
  keys_create
      ->add_option("--ttl", ttl, "A short-lived session key, valid this long (15m, 1h; 7d at most)")
      ->check(FromParser(ParseDuration, "DURATION"));
  keys_create->add_option("--name", keys.name, "A name for people (who holds the key)");
  CLI::App* keys_list =
      keys_cmd->add_subcommand("list", "Print the long-lived keys (without secrets) as JSON");
  keys_list->add_option("--keys", keys.file, "The keys file")->required();
  CLI::App* keys_revoke = keys_cmd->add_subcommand(
      "revoke", "Revoke a key (a long-lived key's session keys go with it) or every session key");
  keys_revoke->add_option("--keys", keys.file, "The keys file")->required();
  CLI::Option* revoke_id =
      keys_revoke->add_option("access_key_id", keys.access_key_id, "The key's AccessKeyId");
  CLI::Option* revoke_all =
      keys_revoke->add_flag("--all-session-keys", keys.all_session_keys,
                            "Revoke every session key (replaces the keys file's SessionTokenKey)");
  revoke_id->excludes(revoke_all);
  revoke_all->excludes(revoke_id);

  BackupConfig& backup = command.backup;
  CLI::App* backup_cmd = app.add_subcommand(
      "backup",
      "Write a consistent copy of a data dir (also while its server runs) into a new or empty "
      "directory");
  backup_cmd->add_option("--data-dir", backup.data_dir, "The data dir to back up")->required();
  backup_cmd->add_option("--to", backup.to, "Where the backup goes (a new or empty directory)")
      ->required();
  RestoreConfig& restore = command.restore;
  CLI::App* restore_cmd = app.add_subcommand(
      "restore", "Copy a backup into a new or empty data dir, checking every file");
  restore_cmd->add_option("--from", restore.from, "The backup (written by roentgen backup)")
      ->required();
  restore_cmd->add_option("--data-dir", restore.data_dir, "The data dir to create")->required();
  MigrateConfig& migrate = command.migrate;
  CLI::App* migrate_cmd = app.add_subcommand(
      "migrate",
      "Move a stopped server's data dir from the rocksdb engine to the block engine, copying "
      "every trace and config object");
  migrate_cmd->add_option("--data-dir", migrate.data_dir, "The data dir to migrate")->required();
  migrate_cmd->add_option("--to", migrate.to, "The engine to migrate to: block")->required();
  migrate_cmd->add_flag("--remove-old-store", migrate.remove_old_store,
                        "Delete the RocksDB files once the switch is done (kept by default in "
                        "DATA_DIR/rocksdb-before-migration/)");

  CLI::App* version_cmd = app.add_subcommand("version", "Print the version");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e, out, err);
  }

  if (version_cmd->parsed()) {
    command.kind = Command::Kind::kVersion;
    return command;
  }
  if (backup_cmd->parsed()) {
    command.kind = Command::Kind::kBackup;
    return command;
  }
  if (restore_cmd->parsed()) {
    command.kind = Command::Kind::kRestore;
    return command;
  }
  if (migrate_cmd->parsed()) {
    command.kind = Command::Kind::kMigrate;
    return command;
  }
  if (keys_cmd->parsed()) {
    command.kind = Command::Kind::kKeys;
    if (keys_create->parsed()) {
      keys.action = KeysConfig::Action::kCreate;
      if (!ttl.empty()) keys.ttl = ParseDuration(ttl).value();  // checked above
    } else if (keys_list->parsed()) {
      keys.action = KeysConfig::Action::kList;
    } else {
      keys.action = KeysConfig::Action::kRevoke;
      if (keys.access_key_id.empty() && !keys.all_session_keys) {
        err << "roentgen keys revoke: give an ACCESS_KEY_ID or --all-session-keys\n";
        return 2;
      }
    }
    return command;
  }
  if (query_cmd->parsed()) {
    command.kind = Command::Kind::kQuery;
    // All three were checked by the validators above.
    query.since = ParseDuration(since).value();
    if (!from.empty()) query.from_epoch_seconds = ParseTimestamp(from).value();
    if (!to.empty()) query.to_epoch_seconds = ParseTimestamp(to).value();
    return command;
  }
  command.kind = Command::Kind::kServe;
  // Both were checked by the validators above.
  ListenAddress address = ParseListenAddress(listen).value();
  serve.host = address.host;
  serve.port = address.port;
  serve.retention = ParseDuration(retention).value();
  serve.http_request_timeout = ParseDuration(request_timeout).value();
  serve.http_idle_timeout = ParseDuration(idle_timeout).value();
  serve.insights_interval = ParseDuration(insights_interval).value();
  if (!max_query_range.empty()) serve.max_query_range = ParseDuration(max_query_range).value();
  serve.low_priority_indexing = indexing_priority == "low";
  serve.otlp_grpc_listen_explicit = otlp_grpc_listen->count() > 0;
  return command;
}

}  // namespace roentgen::cli
