// The `roentgen serve` process, wired from named parts, each started by its
// factory (which returns a Status) and stopped by its destructor:
//
//   keys       the keys file (auth::KeyStore), when --keys is given
//   store      the data dir and its store, or the shared database of
//              --store, and the store's gauges (StorePart)
//   rollups    the service-graph rollups and their background rebuild
//   intake     the ingest pipeline and the UDP and OTLP spools (Intake)
//   insights   the insights detector, its timer and webhook notifier
//              (InsightsPart), reading the rollups and the store
//   routes     the Router: the X-Ray API, OTLP/HTTP, /healthz, /metrics, the
//              console, CreateSessionKeys; behind the authorizer (the gate)
//              and CORS
//   http, udp, otlp_grpc   the network front ends (listeners.h)
//   control    DATA_DIR/control.sock, where `roentgen backup` asks for a
//              consistent snapshot of the data dir (backup/control_socket.h)
//
// They start in that order and are members in that order, so they stop in
// the reverse one: the front ends first (no new data), then the spools
// deliver what they hold and the pipeline drains into the store, then the
// store closes. A start-up that fails at any step returns its error from
// Start() after undoing exactly what had started, through the same
// destructors (the store closed, its lock released, so a second start works).
//
// Thread safety: Start, Reload, SetReady and the destructor from one
// controlling thread (RunServe's); the parts serve requests on their own
// threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "api/http.h"
#include "api/http_server.h"
#include "api/indexing_rules.h"
#include "api/trace_retrieval.h"
#include "auth/authorizer.h"
#include "auth/key_store.h"
#include "backup/control_socket.h"
#include "cli/insights_part.h"
#include "cli/intake.h"
#include "cli/serve.h"
#include "cli/store_part.h"
#include "common/metrics.h"
#include "common/status.h"
#include "ingest/udp_receiver.h"
#include "otlp/otlp_grpc.h"

namespace roentgen::cli {

class Server {
 public:
  // Starts every part; /healthz answers 503 "starting" until SetReady().
  // `config` must have passed Validate(). Errors: the first part's that
  // failed, after the parts started before it are stopped.
  static Result<std::unique_ptr<Server>> Start(const ServeConfig& config);
  // /healthz turns 503 "draining", the rollups' rebuild stops (so it does
  // not compete with the drain), then the parts stop in reverse order.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void SetReady();
  // SIGHUP: re-reads the keys file, and the TLS certificate and key for
  // HTTPS and OTLP/gRPC (and gRPC's client CAs); an error is logged and what
  // was loaded stays in use.
  void Reload();

  uint16_t port() const { return http_->port(); }
  const api::HttpServer& http() const { return *http_; }
  const ingest::UdpReceiver& udp() const { return *udp_; }
  const Intake& intake() const { return *intake_; }
  const StorePart& store() const { return *store_; }
  auth::KeyStore* keys() const { return keys_.get(); }
  bool otlp_grpc() const { return otlp_grpc_ != nullptr; }

 private:
  enum class Health { kStarting, kReady, kDraining };

  explicit Server(const ServeConfig& config) : config_(config) {}
  Status StartParts();
  Status AddRoutes();

  const ServeConfig config_;
  // Declared in the order the parts start: destroyed in reverse.
  MetricsRegistry metrics_;
  std::atomic<Health> health_{Health::kStarting};
  std::unique_ptr<auth::KeyStore> keys_;
  std::unique_ptr<StorePart> store_;
  std::unique_ptr<RollupsPart> rollups_;
  std::unique_ptr<api::IndexingRules> indexing_;  // applied by the intake's writers
  std::unique_ptr<Intake> intake_;
  std::unique_ptr<InsightsPart> insights_;
  std::unique_ptr<auth::Authorizer> authorizer_;
  std::unique_ptr<api::TraceRetrievals> retrievals_;  // StartTraceRetrieval's jobs
  api::Router router_;  // its handlers refer to the parts above
  std::unique_ptr<api::HttpServer> http_;
  std::unique_ptr<ingest::UdpReceiver> udp_;
  std::unique_ptr<otlp::OtlpGrpcServer> otlp_grpc_;
  std::unique_ptr<backup::ControlSocket> control_;
};

}  // namespace roentgen::cli
