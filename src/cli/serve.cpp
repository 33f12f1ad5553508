#include "cli/serve.h"

#include <fmt/format.h>
#include <pthread.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <future>
#include <memory>
#include <thread>

#include "api/console_assets.h"
#include "api/console_server.h"
#include "api/http.h"
#include "api/http_server.h"
#include "api/rollup_rebuild.h"
#include "api/xray_api.h"
#include "auth/actions.h"
#include "auth/authorizer.h"
#include "auth/key_store.h"
#include "auth/session_keys_api.h"
#include "cli/flags.h"
#include "common/clock.h"
#include "common/metrics.h"
#include "common/thread_name.h"
#include "graph/rollup_store.h"
#include "ingest/spool.h"
#include "ingest/udp_receiver.h"
#include "otlp/otlp_grpc.h"
#include "otlp/otlp_http.h"
#include "store/rocksdb_store.h"
#include "store/store_metrics.h"

namespace roentgen::cli {
namespace {

enum class Health { kStarting, kReady, kDraining };

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

bool IsLoopback(const std::string& host) {
  return host.starts_with("127.") || host == "::1" || host == "localhost";
}

// Every route must be open (auth/actions.h) or name an action: a route added
// without one would be reachable by any valid key whatever its actions.
Status CheckRoutesHaveActions(const api::Router& router) {
  for (const auto& [method, path] : router.Routes()) {
    if (!auth::IsOpenRoute(method, path) && !auth::ActionForPath(path).has_value()) {
      return Status::Internal(fmt::format(
          "serve: route {} {} has no action in auth/actions.cpp (a bug)", method, path));
    }
  }
  return Status::Ok();
}

api::HttpResponse PlainText(int status, std::string body, std::string content_type) {
  api::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::move(content_type);
  return r;
}

void AddOperationalRoutes(api::Router& router, const std::atomic<Health>& health,
                          const MetricsRegistry& metrics, store::StoreMetrics& store_metrics) {
  router.Add("GET", "/healthz", [&health](const api::HttpRequest&, api::Responder respond) {
    switch (health.load()) {
      case Health::kReady:
        return respond(PlainText(200, "ok", "text/plain"));
      case Health::kStarting:
        return respond(PlainText(503, "starting", "text/plain"));
      case Health::kDraining:
        return respond(PlainText(503, "draining", "text/plain"));
    }
  });
  router.Add(
      "GET", "/metrics",
      [&metrics, &store_metrics](const api::HttpRequest&, api::Responder respond) {
        store_metrics.Refresh();
        respond(PlainText(200, metrics.RenderText(), "text/plain; version=0.0.4; charset=utf-8"));
      });
}

// The service-graph rollups' rebuild from the store, on its own thread
// (rg-rebuild) while serve runs. The constructor returns once the rebuild's
// scan has fixed its snapshot of the store, so that the writer, started
// after, commits nothing the scan could also see (graph/rollup_store.h). The
// destructor stops the scan if it is still running and joins.
class BackgroundRebuild {
 public:
  BackgroundRebuild(store::Store& store, graph::RollupStore& rollups, int64_t retention_us,
                    MetricsRegistry& metrics)
      : rebuilding_(metrics.GetGauge(
            "roentgen_rollups_rebuilding",
            "1 while the service-graph rollups are rebuilt from the store after a start (the "
            "default group's service map is then answered from trace scans)")),
        rebuilt_traces_(metrics.GetGauge("roentgen_rollups_rebuilt_traces",
                                         "Stored traces the last rollup rebuild added")) {
    rebuilding_.Set(1);
    std::promise<void> snapshot;
    std::future<void> snapshot_taken = snapshot.get_future();
    thread_ = std::thread([this, &store, &rollups, retention_us, &snapshot] {
      SetCurrentThreadName("rg-rebuild");
      Result<api::RebuildStats> rebuilt =
          api::RebuildRollups(store, rollups, retention_us, Clock::System().NowMicros(), &stop_,
                              [&snapshot] { snapshot.set_value(); });
      if (rebuilt.ok()) {
        rebuilding_.Set(0);
        rebuilt_traces_.Set(static_cast<int64_t>(rollups.stats().rebuilt_traces));
        spdlog::info(
            "service-graph rollups rebuilt from {} stored traces in {:.3f} s ({} minutes, {} "
            "bytes)",
            rebuilt->traces, rebuilt->seconds, rollups.stats().minutes, rollups.stats().bytes);
      } else if (!stop_.load()) {
        spdlog::error(
            "service-graph rollup rebuild failed: {}; service maps keep being answered from "
            "trace scans",
            rebuilt.status().ToString());
      }
    });
    snapshot_taken.wait();
  }
  ~BackgroundRebuild() {
    stop_.store(true);
    thread_.join();
  }
  BackgroundRebuild(const BackgroundRebuild&) = delete;
  BackgroundRebuild& operator=(const BackgroundRebuild&) = delete;

 private:
  Gauge& rebuilding_;
  Gauge& rebuilt_traces_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

Status ServeConfig::Validate() const {
  if (host.empty()) return Status::InvalidArgument("serve: the listen host is empty");
  if (data_dir.empty()) return Status::InvalidArgument("serve: --data-dir is empty");
  if (retention < std::chrono::minutes(1)) {
    return Status::InvalidArgument("serve: --retention must be at least 1m");
  }
  if (spdlog::level::from_str(log_level) == spdlog::level::off && log_level != "off") {
    return Status::InvalidArgument("serve: unknown --log-level '" + log_level +
                                   "' (trace, debug, info, warn, error, off)");
  }
  api::HttpServerConfig http;
  http.threads = http_threads;
  http.max_body_bytes = max_body_bytes;
  RG_RETURN_IF_ERROR(http.Validate());
  for (auto [flag, bytes] : {std::pair{"--udp-spool-max-bytes", udp_spool_max_bytes},
                             std::pair{"--otlp-spool-max-bytes", otlp_spool_max_bytes}}) {
    if (bytes != 0 && bytes < (uint64_t{1} << 20)) {
      return Status::InvalidArgument(
          fmt::format("serve: {} must be 0 (no spool) or >= 1 MiB", flag));
    }
  }
  return pipeline.Validate();
}

Status RunServe(const ServeConfig& config) {
  RG_RETURN_IF_ERROR(config.Validate());
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  BlockedSignals signals;  // before the store, pipeline and servers start threads

  // The keys file first: a bad one stops start-up before anything is opened.
  std::unique_ptr<auth::KeyStore> keys;
  if (!config.keys_file.empty()) {
    keys = std::make_unique<auth::KeyStore>(auth::KeyStoreConfig{config.keys_file},
                                            Clock::System());
    if (Status s = keys->Load(); !s.ok()) {
      return Status(s.code(), "serve: --keys: " + s.message());
    }
  }

  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) {
    return Status::IOError("serve: cannot create data dir '" + config.data_dir +
                           "': " + ec.message());
  }
  store::RocksDbStoreConfig store_config;
  store_config.path = config.data_dir;
  store_config.low_priority_background = config.low_priority_indexing;
  store_config.retention_us =
      std::chrono::duration_cast<std::chrono::microseconds>(config.retention).count();
  Result<std::unique_ptr<store::Store>> opened = store::OpenRocksDbStore(store_config);
  if (!opened.ok()) return opened.status();
  std::unique_ptr<store::Store> store = std::move(opened).value();

  MetricsRegistry metrics;
  api::Router router;
  std::atomic<Health> health{Health::kStarting};
  store::StoreMetrics store_metrics(*store, metrics);
  AddOperationalRoutes(router, health, metrics, store_metrics);
  // Every request is checked before it is routed (src/auth/authorizer.h).
  auth::Authorizer authorizer(keys.get(), {}, Clock::System(), metrics);
  router.SetGate([&authorizer](const api::HttpRequest& r) { return authorizer.Check(r); });

  // Service-graph rollups: in memory, kept up to date by the writer and
  // refilled from the store by a background rebuild (docs/service-map.md),
  // whose snapshot of the store is taken before the pipeline starts.
  graph::RollupConfig rollup_config;
  rollup_config.retention_us = store_config.retention_us;
  graph::RollupStore rollups(rollup_config);
  auto rebuild =
      std::make_unique<BackgroundRebuild>(*store, rollups, rollup_config.retention_us, metrics);
  ingest::PipelineConfig pipeline_config = config.pipeline;
  pipeline_config.rollups = &rollups;
  pipeline_config.low_priority_writers = config.low_priority_indexing;

  auto pipeline = std::make_unique<ingest::Pipeline>(pipeline_config, *store, metrics);
  RG_RETURN_IF_ERROR(pipeline->Start());
  ingest::Pipeline* intake = pipeline.get();

  // UDP datagrams and OTLP's documents go to durable spools first; their
  // consumers feed the pipeline at the store's pace (a backlog from the last
  // run comes first).
  auto open_spool =
      [&](const char* name, uint64_t max_bytes,
          ingest::Pipeline::SpooledRecord kind) -> Result<std::unique_ptr<ingest::Spool>> {
    if (max_bytes == 0) return std::unique_ptr<ingest::Spool>();
    ingest::SpoolConfig spool_config;
    spool_config.name = name;
    spool_config.dir =
        (std::filesystem::path(config.data_dir) / fmt::format("{}-spool", name)).string();
    spool_config.max_bytes = max_bytes;
    spool_config.low_priority_consumer = config.low_priority_indexing;
    spool_config.file_bytes = std::clamp<uint64_t>(max_bytes / 16, 4096, uint64_t{64} << 20);
    auto spool = std::make_unique<ingest::Spool>(
        spool_config,
        [intake, kind](const std::vector<std::string_view>& records, ingest::SpoolDone done) {
          intake->SubmitSpooled(records, kind, std::move(done));
        },
        metrics);
    RG_RETURN_IF_ERROR(spool->Open());
    return spool;
  };
  Result<std::unique_ptr<ingest::Spool>> udp_spool_opened = open_spool(
      "udp", config.udp_spool_max_bytes, ingest::Pipeline::SpooledRecord::kDaemonDatagram);
  if (!udp_spool_opened.ok()) {
    pipeline->Stop();
    return udp_spool_opened.status();
  }
  std::unique_ptr<ingest::Spool> udp_spool = std::move(udp_spool_opened).value();
  Result<std::unique_ptr<ingest::Spool>> otlp_spool_opened =
      open_spool("otlp", config.otlp_spool_max_bytes, ingest::Pipeline::SpooledRecord::kDocument);
  if (!otlp_spool_opened.ok()) {
    if (udp_spool) udp_spool->Stop();
    pipeline->Stop();
    return otlp_spool_opened.status();
  }
  std::unique_ptr<ingest::Spool> otlp_spool = std::move(otlp_spool_opened).value();
  // Stops intake's back end: the spools deliver what they hold, then the
  // pipeline drains into the store.
  auto stop_intake = [&] {
    if (otlp_spool) otlp_spool->Stop();
    if (udp_spool) udp_spool->Stop();
    pipeline->Stop();
  };
  const otlp::DocumentSink otlp_sink =
      otlp_spool ? otlp::SpoolSink(*otlp_spool) : otlp::PipelineSink(*pipeline);
  api::RegisterXRayApi(router, *pipeline, *store, metrics);
  api::RegisterServiceMapApis(router, *store, rollups);
  otlp::RegisterOtlpHttp(router, otlp_sink, metrics);  // POST /v1/traces
  // The web console (GET /, /favicon.svg, /assets/…), after the API routes.
  api::RegisterConsole(router, api::EmbeddedConsoleAssets());
  auth::RegisterSessionKeysApi(router, authorizer);  // POST /roentgen/CreateSessionKeys
  if (Status s = CheckRoutesHaveActions(router); !s.ok()) {
    stop_intake();
    return s;
  }

  api::HttpServerConfig http_config;
  http_config.host = config.host;
  http_config.port = config.port;
  http_config.threads = config.http_threads;
  http_config.max_body_bytes = config.max_body_bytes;
  api::HttpServer http(http_config, router, metrics);
  if (Status s = http.Start(); !s.ok()) {
    stop_intake();
    return s;
  }

  ingest::UdpReceiverConfig udp_config;
  udp_config.host = config.host;
  udp_config.port = http.port();  // the same port, also when 0 picked one
  ingest::UdpReceiver udp(
      udp_config,
      [intake, spool = udp_spool.get()](std::string_view datagram) {
        if (spool != nullptr) {
          (void)spool->Append(datagram);  // a drop is counted by the spool
        } else {
          intake->OnDatagram(datagram);
        }
      },
      metrics);
  if (Status s = udp.Start(); !s.ok()) {
    http.Stop();
    stop_intake();
    return s;
  }

  // --- OTLP/gRPC (src/otlp) ---
  std::unique_ptr<otlp::OtlpGrpcServer> otlp_grpc;
  if (config.otlp_grpc_listen != "off") {
    otlp::OtlpGrpcConfig grpc_config;
    grpc_config.listen = config.otlp_grpc_listen;
    grpc_config.max_message_bytes = config.max_body_bytes;
    otlp_grpc = std::make_unique<otlp::OtlpGrpcServer>(grpc_config, otlp_sink, metrics);
    if (Status s = otlp_grpc->Start(); !s.ok()) {
      otlp_grpc.reset();
      if (config.otlp_grpc_listen_explicit) {
        udp.Stop();
        http.Stop();
        stop_intake();
        return s;
      }
      spdlog::warn("{}: running without OTLP/gRPC (choose an address with --otlp-grpc-listen)",
                   s.message());
    }
  }
  // --- end OTLP/gRPC ---

  // Said before /healthz turns ready: a client that saw it ready finds it logged.
  if (keys) {
    spdlog::info(
        "API requests must be signed (SigV4, service xray) by a key in {} ({} keys) and be "
        "allowed its action; /healthz, /metrics and the console are open",
        config.keys_file, keys->Snapshot()->keys.size());
    if (otlp_grpc) {
      spdlog::warn("OTLP/gRPC on {} takes exports without keys (--otlp-grpc-listen off closes it)",
                   config.otlp_grpc_listen);
    }
  } else if (IsLoopback(config.host)) {
    spdlog::info(
        "no --keys: the API is open (no signature needed) to anyone on this machine ({} is "
        "loopback); roentgen keys create and serve --keys FILE require signed requests "
        "(docs/security.md)",
        config.host);
  } else {
    spdlog::warn(
        "no --keys: the API is open (no signature needed) to anyone who can reach {}:{}; "
        "roentgen keys create and serve --keys FILE require signed requests (docs/security.md)",
        config.host, http.port());
  }

  health.store(Health::kReady);
  spdlog::info(
      "roentgen serving X-Ray on {}:{} (UDP + HTTP), data dir {}, retention {}, udp receive "
      "buffer {} bytes, udp spool {}, otlp spool {}",
      config.host, http.port(), config.data_dir, FormatDuration(config.retention),
      udp.receive_buffer_bytes(),
      udp_spool ? fmt::format("up to {} bytes", config.udp_spool_max_bytes) : std::string("off"),
      otlp_spool ? fmt::format("up to {} bytes", config.otlp_spool_max_bytes) : std::string("off"));
  if (api::EmbeddedConsoleAssets().empty()) {
    spdlog::info("no web console in this build (-DROENTGEN_BUILD_CONSOLE=OFF)");
  } else {
    const bool ipv6 = config.host.find(':') != std::string::npos;
    spdlog::info("console at http://{}{}{}:{}/", ipv6 ? "[" : "", config.host, ipv6 ? "]" : "",
                 http.port());
  }

  int signal = 0;
  while ((signal = signals.Wait()) == SIGHUP) {
    if (keys) {
      spdlog::info("received SIGHUP: re-reading the keys file {}", config.keys_file);
      keys->Reload();
    } else {
      spdlog::info("received SIGHUP: no keys file to re-read");
    }
  }
  spdlog::info("received {}: shutting down", strsignal(signal));
  health.store(Health::kDraining);
  rebuild.reset();
  udp.Stop();
  http.Stop();
  if (otlp_grpc) otlp_grpc->Stop();
  stop_intake();
  otlp_spool.reset();
  udp_spool.reset();
  pipeline.reset();
  store.reset();
  spdlog::info("stopped");
  return Status::Ok();
}

}  // namespace roentgen::cli
