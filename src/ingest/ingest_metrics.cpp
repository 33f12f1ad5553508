#include "ingest/ingest_metrics.h"

#include <string>

namespace roentgen::ingest {
namespace {

constexpr char kReceived[] = "roentgen_segments_received_total";
constexpr char kReceivedHelp[] = "Segment documents received, by transport.";
constexpr char kRejected[] = "roentgen_segments_rejected_total";
constexpr char kRejectedHelp[] = "Segment documents rejected as invalid, by reason.";
constexpr char kDropped[] = "roentgen_segments_dropped_total";
constexpr char kDroppedHelp[] = "Valid segment documents lost before storage, by reason.";

Counter& RejectedCounter(MetricsRegistry& r, std::string_view reason) {
  return r.GetCounter(kRejected, kRejectedHelp, {{"reason", std::string(reason)}});
}

}  // namespace

Counter& DroppedCounter(MetricsRegistry& r, std::string_view reason) {
  return r.GetCounter(kDropped, kDroppedHelp, {{"reason", std::string(reason)}});
}

IngestMetrics::IngestMetrics(MetricsRegistry& r)
    : received_udp(r.GetCounter(kReceived, kReceivedHelp, {{"transport", "udp"}})),
      received_http(r.GetCounter(kReceived, kReceivedHelp, {{"transport", "http"}})),
      accepted(r.GetCounter("roentgen_segments_accepted_total",
                            "Segment documents that parsed and validated.")),
      rejected_by_parse_error{
          &RejectedCounter(r, xray::ParseErrorCode(xray::ParseError::kTooLarge)),
          &RejectedCounter(r, xray::ParseErrorCode(xray::ParseError::kMalformedJson)),
          &RejectedCounter(r, xray::ParseErrorCode(xray::ParseError::kMissingField)),
          &RejectedCounter(r, xray::ParseErrorCode(xray::ParseError::kInvalidField)),
          &RejectedCounter(r, xray::ParseErrorCode(xray::ParseError::kInvalidId)),
      },
      rejected_daemon_header(RejectedCounter(r, "InvalidDaemonHeader")),
      dropped_queue_full(DroppedCounter(r, "queue_full")),
      dropped_not_running(DroppedCounter(r, "not_running")),
      dropped_disk_full(DroppedCounter(r, "disk_full")),
      dropped_store_error(DroppedCounter(r, "store_error")),
      stored(r.GetCounter("roentgen_segments_stored_total",
                          "Segment and subsegment documents durably stored.")),
      traces_updated(r.GetCounter("roentgen_traces_updated_total",
                                  "Trace records (summary + graph) written.")),
      queue_depth(r.GetGauge("roentgen_ingest_queue_depth",
                             "Segment documents waiting to be parsed or written.")),
      commit_seconds(r.GetHistogram("roentgen_store_commit_seconds",
                                    "Time of one batched store commit.",
                                    MetricsRegistry::LatencyBuckets())) {}

}  // namespace roentgen::ingest
