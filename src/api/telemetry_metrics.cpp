// Per-host daemon telemetry counters. See telemetry_metrics.h.
#include "api/telemetry_metrics.h"

namespace roentgen::api {
namespace {

constexpr std::array<const char*, 4> kSegmentKinds = {"received", "sent", "spillover", "rejected"};
constexpr std::array<const char*, 6> kErrorKinds = {"timeout",  "connection_refused", "http_4xx",
                                                    "http_5xx", "unknown_host",       "other"};

}  // namespace

std::string_view TelemetryHost(std::string_view hostname, std::string_view ec2_instance_id,
                               std::string_view resource_arn) {
  if (!hostname.empty()) return hostname;
  if (!ec2_instance_id.empty()) return ec2_instance_id;
  if (!resource_arn.empty()) return resource_arn;
  return kUnknownTelemetryHost;
}

DaemonTelemetry::DaemonTelemetry(MetricsRegistry& metrics, size_t max_hosts)
    : metrics_(metrics),
      max_hosts_(max_hosts),
      records_(metrics.GetCounter("roentgen_telemetry_records_total",
                                  "Telemetry records received from X-Ray daemons.")),
      overflow_(metrics.GetCounter(
          "roentgen_telemetry_hosts_overflow_total",
          "Telemetry records from hosts past the limit of distinct hosts, counted under "
          "host=\"(other)\".")),
      other_(MakeCounters(kOtherTelemetryHost)) {}

DaemonTelemetry::HostCounters DaemonTelemetry::MakeCounters(std::string_view host) {
  HostCounters c;
  for (size_t i = 0; i < kSegmentKinds.size(); ++i) {
    c.segments[i] = &metrics_.GetCounter("roentgen_daemon_segments_total",
                                         "Segment counts reported by X-Ray daemons' telemetry.",
                                         {{"host", std::string(host)}, {"kind", kSegmentKinds[i]}});
  }
  for (size_t i = 0; i < kErrorKinds.size(); ++i) {
    c.errors[i] =
        &metrics_.GetCounter("roentgen_daemon_backend_connection_errors_total",
                             "Errors X-Ray daemons report meeting when sending segments, by kind.",
                             {{"host", std::string(host)}, {"kind", kErrorKinds[i]}});
  }
  return c;
}

const DaemonTelemetry::HostCounters& DaemonTelemetry::CountersFor(std::string_view host,
                                                                  bool* overflow) {
  *overflow = false;
  MutexLock lock(mu_);
  if (auto it = hosts_.find(host); it != hosts_.end()) return it->second;
  if (host == kOtherTelemetryHost) return other_;
  if (hosts_.size() >= max_hosts_) {
    *overflow = true;
    return other_;
  }
  return hosts_.emplace(std::string(host), MakeCounters(host)).first->second;
}

void DaemonTelemetry::Record(std::string_view host, const TelemetryCounts& counts) {
  bool overflow = false;
  const HostCounters& c = CountersFor(host, &overflow);
  records_.Inc(counts.records);
  if (overflow) overflow_.Inc(counts.records);
  for (size_t i = 0; i < counts.segments.size(); ++i) c.segments[i]->Inc(counts.segments[i]);
  for (size_t i = 0; i < counts.errors.size(); ++i) c.errors[i]->Inc(counts.errors[i]);
}

}  // namespace roentgen::api
