// The ingest pipeline's metrics, created once so hot paths only touch atomics.
//
//   roentgen_segments_received_total{transport="udp|http"}  documents offered
//   roentgen_segments_accepted_total                        documents that parsed
//   roentgen_segments_rejected_total{reason}                ParseErrorCode, or
//                                                           "InvalidDaemonHeader"
//   roentgen_segments_dropped_total{reason}                 queue_full, not_running,
//                                                           disk_full, store_error (and
//                                                           the spool's)
//   roentgen_segments_stored_total                          entity documents committed
//   roentgen_traces_updated_total                           trace records committed
//   roentgen_ingest_queue_depth                             documents waiting
//   roentgen_store_commit_seconds                           one store Write per batch
//
// A document is one UDP datagram or one PutTraceSegments string; an array of
// subsegments is one document but several stored entity documents.
// Thread safety: the referenced metrics are thread-safe; the struct is immutable.
#pragma once

#include <array>
#include <string_view>

#include "common/metrics.h"
#include "xray/segment_parser.h"

namespace roentgen::ingest {

// roentgen_segments_dropped_total{reason}: also counted by the UDP spool
// (spool_full, disk_full, spool_write_error, not_running).
Counter& DroppedCounter(MetricsRegistry& registry, std::string_view reason);

struct IngestMetrics {
  explicit IngestMetrics(MetricsRegistry& registry);

  Counter& Rejected(xray::ParseError error) const {
    return *rejected_by_parse_error[static_cast<size_t>(error)];
  }

  Counter& received_udp;
  Counter& received_http;
  Counter& accepted;
  std::array<Counter*, 5> rejected_by_parse_error;  // indexed by xray::ParseError
  Counter& rejected_daemon_header;
  Counter& dropped_queue_full;
  Counter& dropped_not_running;
  Counter& dropped_disk_full;    // the store refused the write: its disk is full
  Counter& dropped_store_error;  // any other failed store write, or a trace that cannot load
  Counter& stored;
  Counter& traces_updated;
  Gauge& queue_depth;
  Histogram& commit_seconds;
};

}  // namespace roentgen::ingest
