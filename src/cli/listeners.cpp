#include "cli/listeners.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace roentgen::cli {

Result<std::unique_ptr<api::HttpServer>> StartHttp(const ServeConfig& config,
                                                   const api::Router& router,
                                                   MetricsRegistry& metrics) {
  api::HttpServerConfig http_config;
  http_config.host = config.host;
  http_config.port = config.port;
  http_config.threads = config.http_threads;
  http_config.max_body_bytes = config.max_body_bytes;
  http_config.max_connections = config.http_max_connections;
  http_config.request_timeout = config.http_request_timeout;
  http_config.idle_timeout = config.http_idle_timeout;
  http_config.tls = {config.tls_cert_file, config.tls_key_file};
  auto http = std::make_unique<api::HttpServer>(http_config, router, metrics);
  if (Status s = http->Start(); !s.ok()) {
    // A certificate's or key's error names the file; say which option it is.
    if (s.message().starts_with("tls: ")) {
      return Status(s.code(), "serve: --tls-cert/--tls-key: " + s.message());
    }
    return s;
  }
  return http;
}

Result<std::unique_ptr<ingest::UdpReceiver>> StartUdp(const ServeConfig& config, uint16_t port,
                                                      Intake& intake, MetricsRegistry& metrics) {
  ingest::UdpReceiverConfig udp_config;
  udp_config.host = config.host;
  udp_config.port = port;
  Result<NetworkAllowlist> allow = config.UdpAllowlist();
  if (!allow.ok()) return allow.status();
  udp_config.allow = std::move(allow).value();
  auto udp = std::make_unique<ingest::UdpReceiver>(
      udp_config, [&intake](std::string_view datagram) { intake.OnDatagram(datagram); }, metrics);
  RG_RETURN_IF_ERROR(udp->Start());
  return udp;
}

Result<std::unique_ptr<otlp::OtlpGrpcServer>> StartOtlpGrpc(const ServeConfig& config,
                                                            Intake& intake,
                                                            MetricsRegistry& metrics) {
  if (config.otlp_grpc_listen == "off") return std::unique_ptr<otlp::OtlpGrpcServer>();
  otlp::OtlpGrpcConfig grpc_config;
  grpc_config.listen = config.otlp_grpc_listen;
  grpc_config.max_message_bytes = config.max_body_bytes;
  grpc_config.tls_cert_file = config.tls_cert_file;
  grpc_config.tls_key_file = config.tls_key_file;
  grpc_config.client_ca_file = config.otlp_grpc_client_ca_file;
  auto grpc = std::make_unique<otlp::OtlpGrpcServer>(grpc_config, intake.OtlpSink(), metrics);
  if (Status s = grpc->Start(); !s.ok()) {
    // A file's error names it; say which option it is.
    if (s.message().starts_with("otlp grpc: ")) {
      const bool client_ca = s.message().find("client CA") != std::string::npos;
      return Status(
          s.code(),
          fmt::format("serve: {}: {}", client_ca ? "--otlp-grpc-client-ca" : "--tls-cert/--tls-key",
                      s.message()));
    }
    if (config.otlp_grpc_listen_explicit) return s;
    spdlog::warn("{}: running without OTLP/gRPC (choose an address with --otlp-grpc-listen)",
                 s.message());
    return std::unique_ptr<otlp::OtlpGrpcServer>();
  }
  return grpc;
}

}  // namespace roentgen::cli
