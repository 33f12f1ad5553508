#include "cli/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/console_assets.h"
#include "api/console_server.h"
#include "api/cors.h"
#include "api/xray_api.h"
#include "auth/actions.h"
#include "auth/session_keys_api.h"
#include "cli/listeners.h"
#include "common/clock.h"
#include "otlp/otlp_http.h"

namespace roentgen::cli {
namespace {

// Moves a started part into its member, or passes its error on.
template <class Part>
Status Take(Result<std::unique_ptr<Part>> started, std::unique_ptr<Part>& member) {
  if (!started.ok()) return started.status();
  member = std::move(started).value();
  return Status::Ok();
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

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(const ServeConfig& config) {
  std::unique_ptr<Server> server(new Server(config));
  // On an error, `server` goes out of scope here and its destructor stops
  // whatever StartParts had started.
  RG_RETURN_IF_ERROR(server->StartParts());
  return server;
}

Status Server::StartParts() {
  // The keys file first: a bad one stops start-up before anything is opened.
  if (!config_.keys_file.empty()) {
    keys_ =
        std::make_unique<auth::KeyStore>(auth::KeyStoreConfig{config_.keys_file}, Clock::System());
    if (Status s = keys_->Load(); !s.ok()) {
      return Status(s.code(), "serve: --keys: " + s.message());
    }
  }
  RG_RETURN_IF_ERROR(Take(StorePart::Open(config_, metrics_), store_));
  // The rebuild's snapshot of the store is taken before the pipeline starts.
  RG_RETURN_IF_ERROR(Take(RollupsPart::Start(*store_, metrics_), rollups_));
  // The indexing rule is read before the first trace is written.
  RG_RETURN_IF_ERROR(Take(api::IndexingRules::Open(store_->store(), Clock::System()), indexing_));
  RG_RETURN_IF_ERROR(Take(
      Intake::Start(config_, store_->store(), rollups_->rollups(), indexing_->policy(), metrics_),
      intake_));
  RG_RETURN_IF_ERROR(Take(
      InsightsPart::Start(InsightsPartConfig{config_.insights_interval, config_.insights_webhook},
                          store_->store(), rollups_->rollups(), metrics_),
      insights_));
  RG_RETURN_IF_ERROR(AddRoutes());
  RG_RETURN_IF_ERROR(Take(StartHttp(config_, router_, metrics_), http_));
  // The same port as HTTP, also when port 0 had it pick one.
  RG_RETURN_IF_ERROR(Take(StartUdp(config_, http_->port(), *intake_, metrics_), udp_));
  RG_RETURN_IF_ERROR(Take(StartOtlpGrpc(config_, *intake_, metrics_), otlp_grpc_));
  // Last, so it stops first: a snapshot being staged is finished (and
  // removed) while the store and the spools still run.
  RG_RETURN_IF_ERROR(
      Take(backup::ControlSocket::Start(config_.data_dir, store_->store(), metrics_), control_));
  return Status::Ok();
}

Status Server::AddRoutes() {
  router_.Add("GET", "/healthz", [this](const api::HttpRequest&, api::Responder respond) {
    switch (health_.load()) {
      case Health::kReady:
        return respond(PlainText(200, "ok", "text/plain"));
      case Health::kStarting:
        return respond(PlainText(503, "starting", "text/plain"));
      case Health::kDraining:
        return respond(PlainText(503, "draining", "text/plain"));
    }
  });
  router_.Add("GET", "/metrics", [this](const api::HttpRequest&, api::Responder respond) {
    store_->metrics().Refresh();
    if (rollups_) rollups_->RefreshMetrics();
    respond(PlainText(200, metrics_.RenderText(), "text/plain; version=0.0.4; charset=utf-8"));
  });

  // Every request is checked before it is routed (src/auth/authorizer.h);
  // the SDKs' sampling calls come unsigned from the networks that may send
  // UDP, as they come to the X-Ray daemon.
  Result<NetworkAllowlist> daemon_networks = config_.UdpAllowlist();
  if (!daemon_networks.ok()) return daemon_networks.status();
  authorizer_ = std::make_unique<auth::Authorizer>(
      keys_.get(), auth::SigV4VerifierConfig{}, Clock::System(), metrics_,
      auth::UnsignedRoutes{auth::SdkSamplingRoutes(), std::move(daemon_networks).value()});
  router_.SetGate(
      [authorizer = authorizer_.get()](const api::HttpRequest& r) { return authorizer->Check(r); });
  if (!config_.cors_origins.empty()) {
    router_.SetCors(std::make_shared<const api::CorsPolicy>(api::CorsConfig{config_.cors_origins}));
  }

  store::Store& store = store_->store();
  api::QueryLimits query_limits;
  query_limits.max_range_us =
      std::chrono::duration_cast<std::chrono::microseconds>(config_.MaxQueryRange()).count();
  api::RegisterXRayApi(router_, intake_->PutSink(), store, metrics_, query_limits);
  api::RegisterServiceMapApis(router_, store, rollups_->rollups(), metrics_, query_limits);
  retrievals_ = std::make_unique<api::TraceRetrievals>(store, Clock::System());
  api::RegisterTraceRetrievalApis(router_, *retrievals_, store, metrics_, query_limits);
  api::RegisterIndexingRuleApis(router_, *indexing_);
  insights_->AddRoutes(router_);                                   // the four insight APIs
  otlp::RegisterOtlpHttp(router_, intake_->OtlpSink(), metrics_);  // POST /v1/traces
  // The web console (GET /, /favicon.svg, /assets/…), after the API routes.
  api::RegisterConsole(router_, api::EmbeddedConsoleAssets());
  auth::RegisterSessionKeysApi(router_, *authorizer_);  // POST /roentgen/CreateSessionKeys
  return CheckRoutesHaveActions(router_);
}

Server::~Server() {
  health_.store(Health::kDraining);
  if (rollups_) rollups_->StopRebuild();
  // The members stop in reverse order: the control socket, OTLP/gRPC, UDP
  // and HTTP (requests in flight finish), the routes, the insights (the
  // timer, then the webhook notifier), the intake (spools
  // deliver, the pipeline drains into the store), the rollups, the store
  // (closed), the keys.
}

void Server::SetReady() { health_.store(Health::kReady); }

void Server::Reload() {
  if (keys_) {
    spdlog::info("received SIGHUP: re-reading the keys file {}", config_.keys_file);
    keys_->Reload();
  } else {
    spdlog::info("received SIGHUP: no keys file to re-read");
  }
  if (http_->tls()) {
    if (Status s = http_->ReloadTls(); s.ok()) {
      spdlog::info("received SIGHUP: HTTPS certificate reloaded from {} ({})",
                   config_.tls_cert_file, http_->tls_description());
    } else {
      spdlog::error("received SIGHUP: {}; HTTPS keeps the certificate it had", s.message());
    }
    if (otlp_grpc_ != nullptr) {
      if (Status s = otlp_grpc_->ReloadTls(); s.ok()) {
        spdlog::info("received SIGHUP: OTLP/gRPC certificate reloaded from {}{}",
                     config_.tls_cert_file,
                     config_.otlp_grpc_client_ca_file.empty()
                         ? ""
                         : ", client CAs from " + config_.otlp_grpc_client_ca_file);
      } else {
        spdlog::error("received SIGHUP: {}; OTLP/gRPC keeps the certificate it had", s.message());
      }
    }
  }
}

}  // namespace roentgen::cli
