// The ingest pipeline: parse + validate documents, queue them, and commit them
// to the store in batches (group commit), recomputing the summary and graph of
// every trace a batch touches.
//
// UDP datagrams enter through OnDatagram(), which never blocks: when the bounded
// queue is full the datagram is dropped and counted. HTTP PutTraceSegments enters
// through Submit(), whose callback runs once the documents are durable.
// Thread safety: OnDatagram/Submit may be called from any thread.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/metrics.h"
#include "common/status.h"
#include "graph/rollup_store.h"
#include "ingest/indexing_policy.h"
#include "ingest/spool.h"
#include "store/store.h"
#include "xray/segment_parser.h"

namespace roentgen::ingest {

struct PipelineConfig {
  // Datagrams waiting to be parsed. Parsed documents waiting for the writer
  // (HTTP requests enter there) are bounded by min(this, 2 × max_batch_documents).
  size_t queue_capacity = 65536;
  size_t max_batch_documents = 4096;     // documents per store commit
  size_t trace_cache_entries = 100000;   // assembled traces kept in memory
  size_t trace_cache_bytes = 128 << 20;  // and their estimated memory (over all writers)
  // Writer threads; each owns the traces whose id hashes to it. Two keep both
  // cores of a small machine busy while one of them waits for a WAL sync.
  size_t writer_threads = 2;
  // Writers at the lowest CPU priority (common/thread_priority.h), so that
  // receiving wins the CPU when it is short, except for batches a
  // PutTraceSegments request waits for while no backlog waits (half a
  // shard's queue or more): those at the process's priority, so the requests
  // are not starved. Each shard then has two threads, one at each priority,
  // handing its writer over.
  bool low_priority_writers = false;
  const Clock* clock = &Clock::System();  // received / updated times; not owned
  graph::RollupStore* rollups = nullptr;  // service-graph rollups to keep; not owned
  // Which new traces are searchable summaries; not owned; null: every trace.
  IndexingPolicy* indexing = nullptr;
  Status Validate() const;
};

// The outcome of one document of a Submit() call.
struct DocumentOutcome {
  bool accepted = false;
  std::string id;          // the document's id, if it could be read
  std::string error_code;  // e.g. "MalformedJson" when rejected
  std::string message;
};

class Pipeline {
 public:
  Pipeline(const PipelineConfig& config, store::Store& store, MetricsRegistry& metrics);
  ~Pipeline();
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  Status Start();
  // UDP callback: one daemon datagram. Never blocks.
  void OnDatagram(std::string_view datagram);
  // HTTP: validates every document now, queues the good ones, and calls `done`
  // (from the writer thread) once they are durable — or with a failure status
  // if they could not be stored. `outcomes` has one entry per input document.
  using SubmitCallback = std::function<void(Status, std::vector<DocumentOutcome> outcomes)>;
  void Submit(std::vector<std::string> documents, SubmitCallback done);
  // HTTP through a spool (put_spool.h): validates every document as Submit
  // does (counted as received over http, accepted or rejected), without
  // queueing them. One outcome per document.
  std::vector<DocumentOutcome> Validate(const std::vector<std::string>& documents);
  // Records from a spool (ingest/spool.h): parses them on the caller's
  // thread, waits for room in the write queues (the spool holds the backlog,
  // so waiting loses nothing), and calls `done` once every document is
  // stored or has failed: kDone when all are stored or failed for good
  // (counted in roentgen_segments_dropped_total{reason="store_error"}),
  // kRetryLater when a store write failed in a way that may clear (a full
  // disk, an I/O error: StoreErrorMayClear), so the spool delivers the batch
  // again; kNotTaken if the pipeline stopped before taking them. The views
  // need to live during the call only. `applied`, if set, is called once
  // every document is applied (visible to reads) or failed, with the status
  // the batch's documents failed with (OK if none did): before `done` for an
  // engine that makes writes durable later (SubmitTicket::applied).
  enum class SpooledRecord {
    kDaemonDatagram,  // a UDP datagram: header line, then a document (counted as udp)
    kDocument,        // a document from OTLP (counted as http)
    // A PutTraceSegments document, counted when its request validated it
    // (Validate): not counted again.
    kValidatedDocument,
  };
  void SubmitSpooled(const std::vector<std::string_view>& records, SpooledRecord kind,
                     SpoolDone done, std::function<void(Status)> applied = nullptr);
  // Stops intake, drains the queue, flushes. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Where PutTraceSegments hands its documents: Pipeline::Submit, or a spool in
// front of it (put_spool.h); the same contract.
using SubmitSink =
    std::function<void(std::vector<std::string> documents, Pipeline::SubmitCallback done)>;
// A SubmitSink that calls pipeline.Submit; the pipeline must outlive it.
SubmitSink PipelineSubmitSink(Pipeline& pipeline);

}  // namespace roentgen::ingest
