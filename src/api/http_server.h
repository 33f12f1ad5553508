// The HTTP/1.1 server (Boost.Beast): accepts connections, parses requests with
// limits, and hands each request to a Router.
//
// Behaviour:
//  - keep-alive; one request at a time per connection (a pipelined request is
//    read only after the previous response is written), so responses never
//    interleave;
//  - request bodies larger than `max_body_bytes` → 413, also when a gzip body
//    (Content-Encoding: gzip) expands past it; a corrupt gzip body → 400; any
//    other Content-Encoding → 415; malformed HTTP → 400; headers over 16 KiB →
//    431; every error in X-Ray's shape, then the connection is closed;
//  - a request (headers and body) must arrive within `request_timeout` of
//    its first byte: a stalled one gets 408 RequestTimeoutException and the
//    connection is closed; a connection with no request begun within
//    `idle_timeout` (before its first, or between keep-alive requests) is
//    closed without an answer (nothing was asked), as is one whose client
//    does not take a response within `idle_timeout`;
//  - more than `max_connections` open connections → the extra ones get 503
//    and are closed;
//  - `Expect: 100-continue` is answered before the body is read;
//  - a handler may respond later from any thread: the response is posted back
//    to the connection's strand. A handler that drops its Responder without
//    calling it gets a 500, so a connection never hangs.
//  - HTTPS when `tls` names a certificate and key (tls_context.h): the same
//    port then speaks TLS only; a failed handshake closes that connection
//    and is counted in roentgen_http_tls_handshake_failures_total;
//  - metrics: roentgen_http_requests_total{path,status},
//    roentgen_http_request_duration_seconds{path} (request read → response
//    ready to write), roentgen_http_connections (gauge),
//    roentgen_http_connections_rejected_total, and each limit above in
//    roentgen_limits_exceeded_total{limit} (limits.h). `path` is
//    Router::RouteLabel.
//
// Lifetime: the Router and MetricsRegistry must outlive the server. Start()
// once; Stop() (idempotent, also run by the destructor) stops accepting, closes
// idle connections, lets requests being handled finish for up to
// `drain_timeout`, then closes everything and joins the I/O threads. A
// Responder called after Stop() returns is a no-op.
// Thread safety: Start/Stop/port from one controlling thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "api/http.h"
#include "api/tls_context.h"
#include "common/metrics.h"
#include "common/status.h"

namespace roentgen::api {

struct HttpServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 2000;  // 0: any free port (see HttpServer::port)
  // 32 MiB: X-Ray PutTraceSegments batches from the daemon are far smaller
  // (≤ 50 documents of ≤ 64 KB each ≈ 3.2 MB); this leaves headroom for
  // larger SDK batches while bounding memory per connection.
  size_t max_body_bytes = 32 << 20;
  size_t max_connections = 1024;
  // From a request's first byte to its last (a 32 MiB body in 30 s needs
  // ~9 Mbit/s); past it: 408.
  std::chrono::milliseconds request_timeout{30'000};
  // Waiting for a request to begin, and for the client to take a response.
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::seconds drain_timeout{10};  // Stop(): wait for in-flight requests
  int threads = 2;
  // Both set: HTTPS with this certificate and key; both empty: plain HTTP.
  TlsFiles tls;
  Status Validate() const;
};

class HttpServer {
 public:
  HttpServer(HttpServerConfig config, const Router& router, MetricsRegistry& metrics);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Validates the config, loads the TLS certificate and key (if any),
  // resolves and binds host:port, and starts the I/O threads. Errors:
  // InvalidArgument (config, unresolvable host, an unusable certificate or
  // key), IOError (the port is busy or cannot be bound, a file unreadable).
  Status Start();
  void Stop();
  // The bound port (useful with port 0), or 0 before Start().
  uint16_t port() const;
  bool tls() const { return !config_.tls.cert_file.empty(); }
  // The certificate in use ("CN=…, valid until …"), empty without TLS.
  std::string tls_description() const;
  // Loads the certificate and key files again; connections accepted from
  // then on use them, open ones keep theirs. On error the old ones stay.
  // Without TLS: OK, nothing to do. Call after Start(), from the controlling
  // thread.
  Status ReloadTls();

 private:
  struct Core;
  HttpServerConfig config_;
  const Router& router_;
  MetricsRegistry& metrics_;
  std::shared_ptr<Core> core_;
};

}  // namespace roentgen::api
