// `roentgen serve`: its configuration, and the run of the server process
// (src/cli/server.h wires its parts: the store, the ingest pipeline, the
// X-Ray API, /healthz and /metrics on one HTTP server and one UDP receiver
// sharing HOST:PORT, as the X-Ray daemon does on 2000) until SIGINT or
// SIGTERM. With --keys, API requests are verified (src/auth) before they are
// routed; SIGHUP re-reads the keys file and the TLS certificate.
//
// Shutdown order: /healthz turns 503, UDP, HTTP and OTLP/gRPC intake stop
// (requests in flight finish), the spools deliver what they hold, the
// pipeline drains its queue into the store, the store closes.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/network_allowlist.h"
#include "common/status.h"
#include "ingest/pipeline.h"

namespace roentgen::cli {

struct ServeConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 2000;                      // 0: any free port (logged)
  std::string data_dir = "./roentgen-data";  // created if missing
  // The storage engine (docs/storage.md): "rocksdb" or "block". A data dir
  // keeps the engine that wrote it (cli/store_part.h refuses the other).
  std::string store_engine = "rocksdb";
  // A store shared by several servers instead of the data dir's embedded one
  // (docs/storage.md, "ClickHouse engine"):
  // "clickhouse://[USER[:PASSWORD]@]HOST[:PORT]/DATABASE". The data dir then
  // keeps only this server's spools. Empty: the embedded engine.
  std::string store_url;
  std::string store_user;  // overrides the URL's user
  // A file whose first line is the store's password (overrides the URL's and
  // ROENTGEN_STORE_PASSWORD's): a password in a flag shows in `ps`.
  std::string store_password_file;
  std::chrono::seconds retention{30 * 24 * 3600};
  std::string log_level = "info";  // trace, debug, info, warn, error, off
  int http_threads = 2;
  size_t max_body_bytes = 32 << 20;
  // HTTP limits (api/http_server.h): connections served at once (more get
  // 503); the time a request may take to arrive from its first byte (then
  // 408); the time a connection may wait for a request, or for the client to
  // take a response (then it is closed).
  size_t http_max_connections = 1024;
  std::chrono::seconds http_request_timeout{30};
  std::chrono::seconds http_idle_timeout{60};
  // The longest [StartTime, EndTime) a query may span (api/limits.h); unset:
  // MaxQueryRange()'s default.
  std::optional<std::chrono::seconds> max_query_range;
  ingest::PipelineConfig pipeline;
  // UDP datagrams are appended to a durable spool under the data dir before
  // they are parsed (ingest/spool.h), up to this many bytes not yet stored;
  // 0: no spool, datagrams wait in memory (and are lost by a crash).
  uint64_t udp_spool_max_bytes = uint64_t{1} << 30;
  // OTLP's translated documents likewise (OTLP/HTTP and gRPC): an export is
  // answered once its spans are durable in the spool, and indexed after; a
  // full spool answers "retry later". 0: answered once indexed.
  uint64_t otlp_spool_max_bytes = uint64_t{1} << 30;
  // PutTraceSegments' accepted documents likewise: a request is answered once
  // they are durable in the spool and applied by the writers (visible to the
  // next query), without waiting for the store's own durability; a full
  // spool answers ThrottledException. 0: answered once durable in the store.
  uint64_t api_spool_max_bytes = uint64_t{1} << 30;
  // Indexing (ingest writers, the spool's reader, the store's flushes and
  // compactions) at the lowest CPU priority, so receiving wins when the CPU is
  // short (common/thread_priority.h); false: everything at normal priority.
  bool low_priority_indexing = true;
  // OTLP/gRPC (src/otlp): HOST:PORT, or "off". Left at the default, a busy
  // port is logged and serve runs without OTLP/gRPC; an address given
  // explicitly that cannot be bound stops start-up.
  std::string otlp_grpc_listen = "127.0.0.1:4317";
  bool otlp_grpc_listen_explicit = false;
  // The keys file (src/auth/keys_file.h, docs/security.md): when set, every
  // API request must be signed (SigV4) by one of its keys and be allowed its
  // action; re-read when it changes and on SIGHUP. Empty: the API is open.
  std::string keys_file;
  // Without keys, listening beyond loopback (HTTP/UDP) opens the API to the
  // network, and OTLP/gRPC beyond loopback without client certificates takes
  // exports from anyone: refused unless this is set (--insecure).
  bool insecure = false;
  // The networks UDP datagrams are taken from (CIDR blocks or addresses);
  // also those that may call the SDKs' sampling routes unsigned.
  std::vector<std::string> udp_allow = {"127.0.0.0/8", "::1"};
  // Web origins whose pages may call the API (api/cors.h): exact origins, or
  // "*" (any) when there are no keys. Empty: none.
  std::vector<std::string> cors_origins;
  // HTTPS on the --listen port, and TLS on OTLP/gRPC, with this certificate
  // chain and private key (PEM); both or neither. HTTPS re-reads them on
  // SIGHUP; OTLP/gRPC reads them at start.
  std::string tls_cert_file;
  std::string tls_key_file;
  // OTLP/gRPC with mutual TLS: only exporters whose client certificate one of
  // these CAs (PEM) signed may call. Needs tls_cert_file; lets gRPC listen
  // beyond loopback without `insecure`.
  std::string otlp_grpc_client_ca_file;
  // How often the insights detector evaluates the groups with insights
  // enabled (each evaluation looks at the whole minutes before it;
  // docs/api.md, "Insights"). 1s to 1h.
  std::chrono::seconds insights_interval{60};
  // Where insight events of groups with notifications enabled are POSTed
  // (http://HOST[:PORT][/PATH]); empty: nowhere.
  std::string insights_webhook;
  // Errors (InvalidArgument) name the option and the way out; resolves the
  // listen host (a name is looked up).
  Status Validate() const;
  // udp_allow parsed. Errors: InvalidArgument naming --udp-allow's item.
  Result<NetworkAllowlist> UdpAllowlist() const;
  // max_query_range, by default the retention plus a day: a longer range
  // cannot hold more traces, and a "last 30 days" query ending a little in
  // the future still fits.
  std::chrono::seconds MaxQueryRange() const {
    return max_query_range.value_or(retention + std::chrono::hours(24));
  }
};

// Runs the server until SIGINT/SIGTERM (which it blocks in the calling thread
// and in every thread it starts). Returns OK after a clean shutdown, or the
// error that kept it from starting (bad config, busy port, unusable data dir).
// Call from the main thread before any other thread exists.
Status RunServe(const ServeConfig& config);

}  // namespace roentgen::cli
