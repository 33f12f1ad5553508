// The network front ends of `roentgen serve` (src/cli/server.h wires the
// parts), each started by its function and stopped by its destructor:
//
//   HTTP       the X-Ray API, OTLP/HTTP, /healthz, /metrics and the console
//              on --listen (TCP), HTTPS with --tls-cert/--tls-key;
//   UDP        the X-Ray daemon protocol on the same host and port, taking
//              datagrams only from --udp-allow's networks;
//   OTLP/gRPC  on --otlp-grpc-listen, or none ("off"); TLS with the same
//              certificate as HTTPS, and client certificates required with
//              --otlp-grpc-client-ca.
//
// Lifetime: the Router, the Intake and the MetricsRegistry must outlive
// what these return; destroying one stops it (HTTP requests in flight finish,
// the UDP thread is joined, gRPC calls in flight finish).
#pragma once

#include <cstdint>
#include <memory>

#include "api/http.h"
#include "api/http_server.h"
#include "cli/intake.h"
#include "cli/serve.h"
#include "common/metrics.h"
#include "common/status.h"
#include "ingest/udp_receiver.h"
#include "otlp/otlp_grpc.h"

namespace roentgen::cli {

// Errors: the server's (a busy port, an unusable certificate or key).
Result<std::unique_ptr<api::HttpServer>> StartHttp(const ServeConfig& config,
                                                   const api::Router& router,
                                                   MetricsRegistry& metrics);

// On config.host:`port` (the HTTP server's, also when it picked a free one).
// Errors: the receiver's (a busy port).
Result<std::unique_ptr<ingest::UdpReceiver>> StartUdp(const ServeConfig& config, uint16_t port,
                                                      Intake& intake, MetricsRegistry& metrics);

// Null when OTLP/gRPC is off, or when its default address cannot be bound
// (logged: serve runs without it). An address given explicitly that cannot be
// bound is an error, and so is an unusable certificate, key or client CA file
// (named with its option).
Result<std::unique_ptr<otlp::OtlpGrpcServer>> StartOtlpGrpc(const ServeConfig& config,
                                                            Intake& intake,
                                                            MetricsRegistry& metrics);

}  // namespace roentgen::cli
