// PutTraceSegments through a durable spool (DATA_DIR/api-spool): a request's
// documents are validated (per-document outcomes as Pipeline::Submit gives
// them), the accepted ones appended to the spool as one unit, and the spool's
// consumer feeds them to the pipeline. The request is answered once its
// documents are both durable in the spool and applied by the writers (so the
// next GetTraceSummaries / BatchGetTraces finds them), while the spool's
// checkpoint passes them only once the store's write is durable
// (WriteBatch::on_durable): with an engine that commits in the background the
// answer does not wait for the commit, and a crash after it loses nothing —
// the next Open() delivers what the checkpoint had not passed.
//
// Each spool record is an 8-byte request token (coding.h fixed64) followed by
// one document; the token ties the applied documents back to their waiting
// request. Tokens start at a random value per process, so a record replayed
// from an earlier run matches no request of this one.
//
// Answers (SubmitCallback's status): OK with the outcomes; ResourceExhausted
// when the spool is full (counted in
// roentgen_segments_dropped_total{reason="spool_full"}: retry later);
// Unavailable when the spool could not write or sync them because its disk
// is full (roentgen_disk_full{component="api_spool"}), or the server is
// stopping; IOError when the spool could not write them otherwise; a store
// failure while applying them, as the direct path gives it (the
// documents stay in the spool and are stored when the store takes writes
// again).
//
// Ownership: borrows the pipeline and the metrics, which must outlive it.
// Thread safety: Submit from any thread; Open/Stop from the controlling
// thread. Stop() (also the destructor) stops the spool — which delivers its
// backlog — and answers any request still waiting with Unavailable.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/metrics.h"
#include "common/status.h"
#include "ingest/pipeline.h"
#include "ingest/spool.h"

namespace roentgen::ingest {

class PutSpool {
 public:
  // `config.name` labels the spool's metrics ("api").
  PutSpool(SpoolConfig config, Pipeline& pipeline, MetricsRegistry& metrics);
  ~PutSpool();
  PutSpool(const PutSpool&) = delete;
  PutSpool& operator=(const PutSpool&) = delete;

  // Opens the spool (Spool::Open's errors), whose consumer delivers any
  // backlog from the last run first.
  Status Open();
  // As Pipeline::Submit (one outcome per document), through the spool.
  void Submit(std::vector<std::string> documents, Pipeline::SubmitCallback done);
  void Stop();

  // PutSpool::Submit bound to this spool, for the API's routes.
  SubmitSink Sink();

 private:
  struct Waiters;
  Pipeline& pipeline_;
  std::shared_ptr<Waiters> waiters_;  // shared with the spool's callbacks
  std::unique_ptr<Spool> spool_;
};

}  // namespace roentgen::ingest
