// The counters X-Ray daemons report with PutTelemetryRecords, summed per
// reporting host into /metrics:
//   roentgen_telemetry_records_total                      records received
//   roentgen_daemon_segments_total{host,kind}             kind received|sent|spillover|rejected
//   roentgen_daemon_backend_connection_errors_total{host,kind}
//                      kind timeout|connection_refused|http_4xx|http_5xx|unknown_host|other
//   roentgen_telemetry_hosts_overflow_total               records counted under host="(other)"
// The host label is the request's Hostname, else its EC2InstanceId, else its
// ResourceARN, else "(unknown)" (TelemetryHost). Each host costs ten series
// for as long as the process runs, so at most `max_hosts` distinct hosts get
// their own label; records from any further host are added to host="(other)"
// and counted in the overflow counter, so no client can grow memory or
// /metrics without bound. The parentheses keep these two labels apart from
// any real host name.
//
// Thread safety: Record may be called from any thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "common/metrics.h"
#include "common/mutex.h"

namespace roentgen::api {

inline constexpr size_t kMaxTelemetryHosts = 500;
inline constexpr std::string_view kOtherTelemetryHost = "(other)";
inline constexpr std::string_view kUnknownTelemetryHost = "(unknown)";

// One request's counts, summed over its records.
struct TelemetryCounts {
  size_t records = 0;
  // SegmentsReceivedCount, SegmentsSentCount, SegmentsSpilloverCount,
  // SegmentsRejectedCount.
  std::array<uint64_t, 4> segments{};
  // BackendConnectionErrors: TimeoutCount, ConnectionRefusedCount,
  // HTTPCode4XXCount, HTTPCode5XXCount, UnknownHostCount, OtherCount.
  std::array<uint64_t, 6> errors{};
};

// The label for a request's reporter (empty fields count as absent).
std::string_view TelemetryHost(std::string_view hostname, std::string_view ec2_instance_id,
                               std::string_view resource_arn);

class DaemonTelemetry {
 public:
  explicit DaemonTelemetry(MetricsRegistry& metrics, size_t max_hosts = kMaxTelemetryHosts);

  void Record(std::string_view host, const TelemetryCounts& counts);

 private:
  struct HostCounters {
    std::array<Counter*, 4> segments{};
    std::array<Counter*, 6> errors{};
  };
  HostCounters MakeCounters(std::string_view host);
  // The host's counters, or the "(other)" ones once max_hosts_ hosts have
  // their own (then *overflow is set).
  const HostCounters& CountersFor(std::string_view host, bool* overflow) EXCLUDES(mu_);

  MetricsRegistry& metrics_;
  const size_t max_hosts_;
  Counter& records_;
  Counter& overflow_;
  const HostCounters other_;
  Mutex mu_;
  // std::map: the counters' addresses stay put as hosts are added.
  std::map<std::string, HostCounters, std::less<>> hosts_ GUARDED_BY(mu_);
};

}  // namespace roentgen::api
