// Intake's back end in `roentgen serve` (src/cli/server.h wires the parts):
// the ingest pipeline and the durable spools in front of it, one for UDP
// datagrams (DATA_DIR/udp-spool), one for OTLP's translated documents
// (DATA_DIR/otlp-spool) and one for PutTraceSegments' documents
// (DATA_DIR/api-spool, ingest/put_spool.h), each left out when its
// --*-spool-max-bytes is 0.
//
// Start() starts the pipeline, then opens the spools, whose consumers feed
// the pipeline at the store's pace (a backlog from the last run first). The
// destructor stops them in the order that loses nothing: the API spool,
// the OTLP spool, then the UDP spool, each delivering what it holds, then the pipeline,
// which drains its queue into the store. So the front ends (HTTP, UDP,
// OTLP/gRPC) must be stopped before, and the store and rollups (and the indexing policy) must
// outlive it.
//
// Thread safety: OnDatagram and the OTLP sink from any thread; Start and the
// destructor from the controlling thread.
#pragma once

#include <memory>
#include <string_view>

#include "cli/serve.h"
#include "common/metrics.h"
#include "common/status.h"
#include "graph/rollup_store.h"
#include "ingest/pipeline.h"
#include "ingest/put_spool.h"
#include "ingest/spool.h"
#include "otlp/export_service.h"
#include "store/store.h"

namespace roentgen::cli {

class Intake {
 public:
  // Errors: the pipeline's (config) and the spools' (IOError: a directory or
  // file that cannot be created or read).
  static Result<std::unique_ptr<Intake>> Start(const ServeConfig& config, store::Store& store,
                                               graph::RollupStore& rollups,
                                               ingest::IndexingPolicy& indexing,
                                               MetricsRegistry& metrics);
  ~Intake();
  Intake(const Intake&) = delete;
  Intake& operator=(const Intake&) = delete;

  ingest::Pipeline& pipeline() { return *pipeline_; }
  // One UDP datagram: appended to the UDP spool (a drop is counted there),
  // or handed to the pipeline's queue without a spool. Never blocks.
  void OnDatagram(std::string_view datagram);
  // Where OTLP (HTTP and gRPC) puts its documents: the OTLP spool, or the
  // pipeline without one.
  otlp::DocumentSink OtlpSink();
  // Where PutTraceSegments puts its documents: the API spool, or the
  // pipeline without one.
  ingest::SubmitSink PutSink();

  bool udp_spooled() const { return udp_spool_ != nullptr; }
  bool otlp_spooled() const { return otlp_spool_ != nullptr; }
  bool api_spooled() const { return api_spool_ != nullptr; }

 private:
  Intake() = default;

  // Declared in the order they start; destroyed in reverse.
  std::unique_ptr<ingest::Pipeline> pipeline_;
  std::unique_ptr<ingest::Spool> udp_spool_;
  std::unique_ptr<ingest::Spool> otlp_spool_;
  std::unique_ptr<ingest::PutSpool> api_spool_;
};

}  // namespace roentgen::cli
