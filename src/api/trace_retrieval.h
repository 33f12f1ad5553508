// Trace retrievals: X-Ray's asynchronous StartTraceRetrieval jobs over the
// store (xray_retrieval.cpp serves them).
//
// A retrieval names up to 100 trace ids and a time range. One worker thread
// runs the retrievals in the order they were started: for each id it reads the
// trace's record and keeps the trace when the store has it and the trace's
// time span overlaps [start, end] (both inclusive, as X-Ray documents), with
// its graph and the links its documents declare to other traces. Status goes
// SCHEDULED → RUNNING → COMPLETE (or FAILED on a store error, TIMEOUT past
// `timeout_us`, CANCELLED by Cancel()). The documents themselves are read when
// they are listed, so a retrieval holds ids and graphs, not documents, and
// its memory stays small.
//
// Retrievals live in memory: at most `max_retrievals` at once (the oldest
// finished ones are forgotten first; Start answers ResourceExhausted when
// every kept one is still waiting or running), each forgotten `keep_us` after
// it finished, and none survives a restart.
//
// Thread-safe. The store and clock must outlive the object; the destructor
// stops the worker (a running retrieval ends CANCELLED).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "graph/trace_graph.h"
#include "store/store.h"
#include "xray/ids.h"

namespace roentgen::api {

enum class RetrievalStatus { kScheduled, kRunning, kComplete, kFailed, kCancelled, kTimeout };

// "SCHEDULED", "RUNNING", "COMPLETE", "FAILED", "CANCELLED", "TIMEOUT".
std::string_view RetrievalStatusName(RetrievalStatus status);

// A link declared by an entity of a retrieved trace to other traces
// (the X-Ray document's `links`), kept with the service that declared it.
struct RetrievedLink {
  std::string service_name;    // the declaring segment's name
  std::string reference_type;  // aws.xray.reserved.reference_type, "child" when absent
  xray::TraceId source;
  std::vector<xray::TraceId> destinations;
};

// What a finished retrieval found (immutable once published).
struct RetrievalResult {
  std::vector<xray::TraceId> traces;     // in the order they were asked for
  std::vector<graph::TraceGraph> graphs;  // parallel to `traces`
  std::vector<RetrievedLink> links;
};

struct RetrievalState {
  RetrievalStatus status = RetrievalStatus::kScheduled;
  std::shared_ptr<const RetrievalResult> result;  // set when COMPLETE
  std::string failure;                            // why, when FAILED
};

struct TraceRetrievalConfig {
  size_t max_retrievals = 1000;
  int64_t timeout_us = 60LL * 60 * 1'000'000;  // X-Ray: retrievals time out after 60 minutes
  int64_t keep_us = 24LL * 3600 * 1'000'000;
  size_t max_trace_ids = 100;  // X-Ray's limit per retrieval
};

class TraceRetrievals {
 public:
  TraceRetrievals(store::Store& store, const Clock& clock, TraceRetrievalConfig config = {});
  ~TraceRetrievals();
  TraceRetrievals(const TraceRetrievals&) = delete;
  TraceRetrievals& operator=(const TraceRetrievals&) = delete;

  // Schedules a retrieval and returns its token. InvalidArgument for more
  // than max_trace_ids ids or start after end; ResourceExhausted when
  // max_retrievals are kept and none has finished.
  Result<std::string> Start(std::vector<xray::TraceId> ids, int64_t start_us, int64_t end_us)
      EXCLUDES(mu_);
  // NotFound for an unknown (or forgotten) token.
  Result<RetrievalState> Get(std::string_view token) const EXCLUDES(mu_);
  // Stops a waiting or running retrieval (CANCELLED); a finished one is left
  // as it is. NotFound for an unknown token.
  Status Cancel(std::string_view token) EXCLUDES(mu_);

 private:
  struct Job {
    std::vector<xray::TraceId> ids;
    int64_t start_us = 0;
    int64_t end_us = 0;
    int64_t started_us = 0;                 // when Start() was called
    std::optional<int64_t> finished_us;     // unset while waiting or running
    RetrievalState state;
  };

  void Run() EXCLUDES(mu_);
  // Reads the job's traces; kCancelled / kTimeout / kFailed end it early.
  RetrievalStatus Execute(const std::string& token, const Job& job, RetrievalResult& result,
                          std::string& failure) EXCLUDES(mu_);
  bool Stopping(const std::string& token, int64_t started_us) const EXCLUDES(mu_);
  void ForgetOld() REQUIRES(mu_);

  store::Store& store_;
  const Clock& clock_;
  const TraceRetrievalConfig config_;
  mutable Mutex mu_;
  CondVar work_;
  std::map<std::string, Job, std::less<>> jobs_ GUARDED_BY(mu_);
  std::deque<std::string> queue_ GUARDED_BY(mu_);
  bool stop_ GUARDED_BY(mu_) = false;
  std::thread worker_;
};

}  // namespace roentgen::api
