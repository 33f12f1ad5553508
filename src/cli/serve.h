// `roentgen serve`: the server process. Wires the store, the ingest pipeline,
// the X-Ray API, /healthz and /metrics onto one HTTP server and one UDP
// receiver sharing HOST:PORT (as the X-Ray daemon does on 2000), then runs until
// SIGINT or SIGTERM. With --keys, API requests are verified (src/auth) before
// they are routed; SIGHUP re-reads the keys file.
//
// Shutdown order: /healthz turns 503, UDP and HTTP intake stop (HTTP requests
// in flight finish), the UDP spool delivers what it holds, the pipeline drains
// its queue into the store, the store closes.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/status.h"
#include "ingest/pipeline.h"

namespace roentgen::cli {

struct ServeConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 2000;                      // 0: any free port (logged)
  std::string data_dir = "./roentgen-data";  // created if missing
  std::chrono::seconds retention{30 * 24 * 3600};
  std::string log_level = "info";  // trace, debug, info, warn, error, off
  int http_threads = 2;
  size_t max_body_bytes = 32 << 20;
  ingest::PipelineConfig pipeline;
  // UDP datagrams are appended to a durable spool under the data dir before
  // they are parsed (ingest/spool.h), up to this many bytes not yet stored;
  // 0: no spool, datagrams wait in memory (and are lost by a crash).
  uint64_t udp_spool_max_bytes = uint64_t{1} << 30;
  // OTLP's translated documents likewise (OTLP/HTTP and gRPC): an export is
  // answered once its spans are durable in the spool, and indexed after; a
  // full spool answers "retry later". 0: answered once indexed.
  uint64_t otlp_spool_max_bytes = uint64_t{1} << 30;
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
  Status Validate() const;
};

// Runs the server until SIGINT/SIGTERM (which it blocks in the calling thread
// and in every thread it starts). Returns OK after a clean shutdown, or the
// error that kept it from starting (bad config, busy port, unusable data dir).
// Call from the main thread before any other thread exists.
Status RunServe(const ServeConfig& config);

}  // namespace roentgen::cli
