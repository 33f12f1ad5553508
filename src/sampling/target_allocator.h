// GetSamplingTargets: takes the clients' statistics reports, records them
// (StatisticsWindows), keeps which clients use each rule, and answers each
// reported rule's target.
//
// How a target is computed (docs/api.md "How targets are computed"):
//  - A client is active on a rule while its last report for the rule is at
//    most kActiveClientUs old (one Interval plus 5 s of slack for jitter and
//    latency); a client that stops reporting drops out after that.
//  - The rule's ReservoirSize is shared among its N active clients, the
//    reporting one included: ordered by ClientID, client i gets
//    ReservoirSize / N, plus one while i < ReservoirSize % N, so the quotas
//    add up to the ReservoirSize exactly.
//  - ReservoirQuotaTTL = now (whole seconds) + kQuotaTtlUs (300 s), as the
//    X-Ray docs describe quotas "good for five minutes"; Interval =
//    kIntervalSeconds (10); FixedRate = the rule's. Every target carries all
//    of them (some SDKs drop a target without FixedRate, or a quota without
//    its TTL).
//  - Reports for a rule that does not exist, and malformed reports, are
//    answered in UnprocessedStatistics with ErrorCode "400" (the SDKs then
//    refetch the rules).
//
// Memory: at most kMaxClientsPerRule clients are tracked per rule (a client
// beyond them gets quota 0 until others drop out); clients of deleted rules
// are forgotten at the next report.
//
// One process (the default): the clients of each rule are kept in memory.
// Several processes over one store (constructed with a SharedClients,
// shared_clients.h): the clients are kept in the store, so N is the number of
// clients active on the rule over every process and the quotas of all the
// processes' clients add up to the ReservoirSize; the statistics windows are
// then shared too (StatisticsWindows' shared mode), flushed at the end of
// each report.
//
// Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "sampling/sampling_rule.h"
#include "sampling/statistics_windows.h"

namespace roentgen::sampling {

inline constexpr int64_t kIntervalSeconds = 10;
inline constexpr int64_t kActiveClientUs = (kIntervalSeconds + 5) * 1'000'000;
inline constexpr int64_t kQuotaTtlUs = 300 * 1'000'000;
inline constexpr size_t kMaxClientsPerRule = 1000;
inline constexpr size_t kMaxStatisticsDocuments = 25;
inline constexpr size_t kClientIdLength = 24;
// A report's Timestamp may be this far ahead of the server's clock.
inline constexpr int64_t kMaxClockAheadUs = 300 * 1'000'000;

// One SamplingStatisticsDocument, parsed.
struct StatisticsDocument {
  std::string rule_name;
  std::string client_id;
  int64_t timestamp_us = 0;
  Counts counts;
};

struct Target {
  std::string rule_name;
  double fixed_rate = 0;
  int64_t reservoir_quota = 0;
  int64_t reservoir_quota_ttl_s = 0;  // epoch seconds
  int64_t interval_s = kIntervalSeconds;
};

struct Unprocessed {
  std::string rule_name;
  std::string error_code;  // "400"
  std::string message;
};

struct TargetsResult {
  std::vector<Target> targets;  // one per rule reported, by rule name
  std::vector<Unprocessed> unprocessed;
  // Not OK when the state shared through the store could not be read or
  // written (shared mode only): the targets are then not to be answered.
  Status status;
};

class SharedClients;

// InvalidArgument naming the field when a parsed document breaks X-Ray's
// limits: RuleName 1–32, ClientID 24 hexadecimal digits, Timestamp no more
// than kMaxClockAheadUs ahead of `now_us`.
Status ValidateStatisticsDocument(const StatisticsDocument& doc, int64_t now_us);

class TargetAllocator {
 public:
  TargetAllocator(const Clock& clock, StatisticsWindows& statistics)
      : clock_(clock), statistics_(statistics) {}
  // Shared mode: the clients come from `shared` (which must outlive this),
  // and `statistics` is flushed to the store after each report.
  TargetAllocator(const Clock& clock, StatisticsWindows& statistics, SharedClients& shared)
      : clock_(clock), statistics_(statistics), shared_(&shared) {}

  // Records `docs` and answers targets. `rules`: every rule that exists now.
  TargetsResult Report(std::span<const StatisticsDocument> docs,
                       const std::vector<SamplingRule>& rules) EXCLUDES(mu_);

  // Active clients of `rule_name` now (in shared mode, over every process, as
  // of the last read of the store). 0 when the store cannot be read.
  size_t ActiveClients(std::string_view rule_name) EXCLUDES(mu_);

 private:
  TargetsResult ReportShared(std::span<const StatisticsDocument> docs,
                             const std::vector<SamplingRule>& rules);

  // Drops clients not seen within kActiveClientUs of `now_us`.
  void Expire(std::map<std::string, int64_t>& clients, int64_t now_us) REQUIRES(mu_);

  const Clock& clock_;
  StatisticsWindows& statistics_;
  SharedClients* const shared_ = nullptr;
  Mutex mu_;
  // rule name → client id → when it last reported for the rule (one-process
  // mode only).
  std::map<std::string, std::map<std::string, int64_t>, std::less<>> clients_ GUARDED_BY(mu_);
};

}  // namespace roentgen::sampling
