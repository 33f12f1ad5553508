#include "cli/serve.h"

#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "api/console_assets.h"
#include "api/cors.h"
#include "api/http_server.h"
#include "cli/flags.h"
#include "cli/server.h"
#include "insights/webhook.h"
#include "store/clickhouse/clickhouse_client.h"

namespace roentgen::cli {
namespace {

// Blocks SIGINT, SIGTERM and SIGHUP for this thread (and the threads it
// starts) while alive, so they are only taken by sigwait(). An inherited
// SIG_IGN (a shell starts background jobs with SIGINT ignored) would discard
// them, so their dispositions are reset to the default for the lifetime of
// this object.
class BlockedSignals {
 public:
  BlockedSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set_, &old_mask_);
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigaction(SIGINT, &default_action, &old_int_);
    sigaction(SIGTERM, &default_action, &old_term_);
    sigaction(SIGHUP, &default_action, &old_hup_);
  }
  ~BlockedSignals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    sigaction(SIGHUP, &old_hup_, nullptr);
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
  }
  int Wait() const {
    int signal = 0;
    sigwait(&set_, &signal);
    return signal;
  }

 private:
  sigset_t set_;
  sigset_t old_mask_;
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  struct sigaction old_hup_ {};
};

// The host of an OTLP/gRPC listen address ("[::1]:4317", "0.0.0.0:4317").
std::string GrpcHost(const std::string& listen) {
  if (listen.starts_with('[')) return listen.substr(1, listen.find(']') - 1);
  return listen.substr(0, listen.rfind(':'));
}

// Without keys, an address beyond loopback opens the API (and intake) to the
// network: refused unless --insecure says that is meant. OTLP/gRPC checks no
// keys (SigV4 is not defined for gRPC), so beyond loopback it needs client
// certificates (--otlp-grpc-client-ca) or --insecure, with or without keys.
Status CheckExposure(const ServeConfig& config) {
  if (config.insecure) return Status::Ok();
  std::vector<std::pair<std::string, std::string>> listeners;
  if (config.keys_file.empty()) {
    listeners.emplace_back("--listen", config.host + ":" + std::to_string(config.port));
  }
  if (config.otlp_grpc_listen != "off" && config.otlp_grpc_client_ca_file.empty()) {
    listeners.emplace_back("--otlp-grpc-listen", config.otlp_grpc_listen);
  }
  for (const auto& [flag, address] : listeners) {
    const std::string host = flag == "--listen" ? config.host : GrpcHost(address);
    Result<bool> loopback = IsLoopbackHost(host);
    if (!loopback.ok()) {
      return Status::InvalidArgument(
          fmt::format("serve: {}: {}", flag, loopback.status().message()));
    }
    if (!*loopback && flag == "--otlp-grpc-listen") {
      return Status::InvalidArgument(fmt::format(
          "serve: {} {} is not a loopback address, and OTLP/gRPC checks no keys (SigV4 is not "
          "defined for gRPC): anyone who can reach it could write traces. Require client "
          "certificates (--otlp-grpc-client-ca FILE, with --tls-cert/--tls-key), send OTLP over "
          "HTTP (/v1/traces, signed with --keys) instead, keep gRPC on loopback (or off), or give "
          "--insecure to serve it open anyway",
          flag, address));
    }
    if (!*loopback) {
      return Status::InvalidArgument(fmt::format(
          "serve: {} {} is not a loopback address, and without --keys anyone who can reach it "
          "could read and write traces. Give --keys FILE (made by roentgen keys create) to "
          "require signed requests, or --insecure to serve it open anyway",
          flag, address));
    }
  }
  return Status::Ok();
}

std::string Joined(const std::vector<std::string>& items) {
  return fmt::format("{}", fmt::join(items, ","));
}

// Which listeners encrypt, in one line: "TLS on: HTTP 127.0.0.1:2000,
// OTLP/gRPC 127.0.0.1:4317 (client certificates required); plaintext: UDP …".
// OTLP/gRPC has TLS exactly when HTTP has (the same --tls-cert/--tls-key).
void LogTransports(const ServeConfig& config, const Server& server) {
  const std::string http_address = fmt::format("{}:{}", config.host, server.port());
  std::vector<std::string> tls, plaintext;
  (server.http().tls() ? tls : plaintext).push_back("HTTP " + http_address);
  if (server.otlp_grpc()) {
    (server.http().tls() ? tls : plaintext)
        .push_back(
            "OTLP/gRPC " + config.otlp_grpc_listen +
            (config.otlp_grpc_client_ca_file.empty() ? "" : " (client certificates required)"));
  }
  plaintext.push_back("UDP " + http_address + " (the daemon protocol has no TLS)");
  spdlog::info("TLS on: {}; plaintext: {}",
               tls.empty() ? "none" : fmt::format("{}", fmt::join(tls, ", ")),
               fmt::format("{}", fmt::join(plaintext, ", ")));
}

// What the server says at start, before /healthz turns ready: a client that
// saw it ready finds it logged.
void LogStart(const ServeConfig& config, const Server& server) {
  const uint16_t port = server.port();
  if (auth::KeyStore* keys = server.keys()) {
    spdlog::info(
        "API requests must be signed (SigV4, service xray) by a key in {} ({} keys) and be "
        "allowed its action; /healthz, /metrics and the console are open",
        config.keys_file, keys->Snapshot()->keys.size());
    if (server.otlp_grpc() && config.otlp_grpc_client_ca_file.empty()) {
      spdlog::warn(
          "OTLP/gRPC on {} takes exports without keys (--otlp-grpc-client-ca requires client "
          "certificates, --otlp-grpc-listen off closes it)",
          config.otlp_grpc_listen);
    }
  } else if (Result<bool> loopback = IsLoopbackHost(config.host); loopback.ok() && *loopback) {
    spdlog::info(
        "no --keys: the API is open (no signature needed) to anyone on this machine ({} is "
        "loopback); roentgen keys create and serve --keys FILE require signed requests "
        "(docs/security.md)",
        config.host);
  } else {
    spdlog::warn(
        "no --keys: the API is open (no signature needed) to anyone who can reach {}:{} "
        "(--insecure); roentgen keys create and serve --keys FILE require signed requests "
        "(docs/security.md)",
        config.host, port);
  }
  spdlog::info(
      "UDP datagrams are taken from {} only (--udp-allow){}", config.UdpAllowlist()->ToString(),
      server.keys() != nullptr ? "; the SDKs' sampling calls from there need no signature" : "");
  if (server.http().tls()) {
    spdlog::info("HTTPS (TLS 1.2+) with the certificate in {}: {}", config.tls_cert_file,
                 server.http().tls_description());
  }
  LogTransports(config, server);
  if (!config.cors_origins.empty()) {
    spdlog::info("web pages from {} may call the API (--cors-origins)",
                 Joined(config.cors_origins));
  }
  const Intake& intake = server.intake();
  spdlog::info(
      "roentgen serving X-Ray on {}:{} (UDP + {}), store {}, retention {}, udp "
      "receive buffer {} bytes, udp spool {}, otlp spool {}, api spool {}",
      config.host, port, server.http().tls() ? "HTTPS" : "HTTP", server.store().description(),
      FormatDuration(config.retention), server.udp().receive_buffer_bytes(),
      intake.udp_spooled() ? fmt::format("up to {} bytes", config.udp_spool_max_bytes)
                           : std::string("off"),
      intake.otlp_spooled() ? fmt::format("up to {} bytes", config.otlp_spool_max_bytes)
                            : std::string("off"),
      intake.api_spooled() ? fmt::format("up to {} bytes", config.api_spool_max_bytes)
                           : std::string("off"));
  if (api::EmbeddedConsoleAssets().empty()) {
    spdlog::info("no web console in this build (-DROENTGEN_BUILD_CONSOLE=OFF)");
  } else {
    const bool ipv6 = config.host.find(':') != std::string::npos;
    spdlog::info("console at {}://{}{}{}:{}/", server.http().tls() ? "https" : "http",
                 ipv6 ? "[" : "", config.host, ipv6 ? "]" : "", port);
  }
}

}  // namespace

Status ServeConfig::Validate() const {
  if (host.empty()) return Status::InvalidArgument("serve: the listen host is empty");
  if (data_dir.empty()) return Status::InvalidArgument("serve: --data-dir is empty");
  if (store_engine != "rocksdb" && store_engine != "block") {
    return Status::InvalidArgument("serve: --store-engine must be rocksdb or block, not '" +
                                   store_engine + "'");
  }
  if (!store_url.empty()) {
    Result<store::clickhouse::ClickHouseUrl> url = store::clickhouse::ParseClickHouseUrl(store_url);
    if (!url.ok()) return Status::InvalidArgument("serve: --store: " + url.status().message());
    if (store_engine == "block") {
      return Status::InvalidArgument(
          "serve: --store and --store-engine block exclude each other: the block engine keeps "
          "its files in the data dir, --store names a shared database");
    }
  } else if (!store_user.empty() || !store_password_file.empty()) {
    return Status::InvalidArgument(
        "serve: --store-user and --store-password-file need --store (a shared database)");
  }
  if (retention < std::chrono::minutes(1)) {
    return Status::InvalidArgument("serve: --retention must be at least 1m");
  }
  if (spdlog::level::from_str(log_level) == spdlog::level::off && log_level != "off") {
    return Status::InvalidArgument("serve: unknown --log-level '" + log_level +
                                   "' (trace, debug, info, warn, error, off)");
  }
  for (auto [flag, timeout] : {std::pair{"--http-request-timeout", http_request_timeout},
                               std::pair{"--http-idle-timeout", http_idle_timeout}}) {
    if (timeout < std::chrono::seconds(1)) {
      return Status::InvalidArgument(fmt::format("serve: {} must be at least 1s", flag));
    }
  }
  api::HttpServerConfig http;
  http.threads = http_threads;
  http.max_body_bytes = max_body_bytes;
  http.max_connections = http_max_connections;
  http.request_timeout = http_request_timeout;
  http.idle_timeout = http_idle_timeout;
  RG_RETURN_IF_ERROR(http.Validate());
  if (MaxQueryRange() < std::chrono::minutes(1)) {
    return Status::InvalidArgument("serve: --max-query-range must be at least 1m");
  }
  for (auto [flag, bytes] : {std::pair{"--udp-spool-max-bytes", udp_spool_max_bytes},
                             std::pair{"--otlp-spool-max-bytes", otlp_spool_max_bytes},
                             std::pair{"--api-spool-max-bytes", api_spool_max_bytes}}) {
    if (bytes != 0 && bytes < (uint64_t{1} << 20)) {
      return Status::InvalidArgument(
          fmt::format("serve: {} must be 0 (no spool) or >= 1 MiB", flag));
    }
  }
  RG_RETURN_IF_ERROR(pipeline.Validate());
  RG_RETURN_IF_ERROR(UdpAllowlist().status());
  if (Status s = api::CorsConfig{cors_origins}.Validate(); !s.ok()) {
    return Status::InvalidArgument("serve: --cors-origins: " + s.message());
  }
  if (!keys_file.empty() && cors_origins.size() == 1 && cors_origins[0] == "*") {
    return Status::InvalidArgument(
        "serve: --cors-origins '*' (any web page) is refused with --keys: name the origins "
        "whose pages may call the API (https://app.example.com,…)");
  }
  if (tls_cert_file.empty() != tls_key_file.empty()) {
    return Status::InvalidArgument("serve: HTTPS needs both --tls-cert FILE and --tls-key FILE");
  }
  if (!otlp_grpc_client_ca_file.empty() && tls_cert_file.empty()) {
    return Status::InvalidArgument(
        "serve: --otlp-grpc-client-ca needs TLS: give --tls-cert FILE and --tls-key FILE too");
  }
  if (!otlp_grpc_client_ca_file.empty() && otlp_grpc_listen == "off") {
    return Status::InvalidArgument("serve: --otlp-grpc-client-ca is for OTLP/gRPC, which is off");
  }
  if (insights_interval < std::chrono::seconds(1) || insights_interval > std::chrono::hours(1)) {
    return Status::InvalidArgument("serve: --insights-interval must be from 1s to 1h");
  }
  if (!insights_webhook.empty()) {
    if (Status s = insights::ParseWebhookUrl(insights_webhook).status(); !s.ok()) {
      return Status::InvalidArgument("serve: " + s.message());
    }
  }
  return CheckExposure(*this);
}

Result<NetworkAllowlist> ServeConfig::UdpAllowlist() const {
  Result<NetworkAllowlist> allow = NetworkAllowlist::Parse(Joined(udp_allow));
  if (!allow.ok()) {
    return Status::InvalidArgument("serve: --udp-allow: " + allow.status().message());
  }
  return allow;
}

Status RunServe(const ServeConfig& config) {
  RG_RETURN_IF_ERROR(config.Validate());
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  BlockedSignals signals;  // before the parts start threads

  Result<std::unique_ptr<Server>> started = Server::Start(config);
  if (!started.ok()) return started.status();
  std::unique_ptr<Server> server = std::move(started).value();
  LogStart(config, *server);
  server->SetReady();

  int signal = 0;
  while ((signal = signals.Wait()) == SIGHUP) server->Reload();
  spdlog::info("received {}: shutting down", strsignal(signal));
  server.reset();
  spdlog::info("stopped");
  return Status::Ok();
}

}  // namespace roentgen::cli
