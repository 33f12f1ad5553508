// Sampling as the X-Ray SDKs do it (docs/sdk-cpp.md, "Sampling").
//
// Local rules (the SDKs' JSON file, version 1 or 2): the first rule that
// matches host, method and path decides; each samples `fixed_target`
// requests a second, then `rate` of the rest; "default" otherwise.
// Centralized rules (GetSamplingRules, fetched every rules interval, or
// earlier when a target reply says they changed): matched in priority order
// on service name, service type, host, method and path; each rule's
// reservoir takes the quota its SamplingTargets reply assigned until the
// quota's TTL, borrows one request a second while it has none, then applies
// FixedRate. Statistics (requests, sampled, borrowed) go with every targets
// call and restart from zero. Centralized rules win while they are fresh
// (fetched within the last hour); otherwise the local ones apply.
//
// Thread safety: Decide() from any thread; one mutex, held for a few
// comparisons. The poller runs on a thread of its own.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "roentgen/xray.h"

namespace roentgen::sdk::detail {

// X-Ray's matcher: '*' any run, '?' one character, case-insensitive.
bool GlobMatch(std::string_view pattern, std::string_view text);

struct SamplingRule {
  std::string name;
  int priority = 0;
  double fixed_rate = 0;
  int64_t reservoir_size = 0;  // local: fixed_target a second
  std::string service_name = "*", service_type = "*", host = "*", http_method = "*", url_path = "*";
  std::string resource_arn = "*";
  bool has_attributes = false;

  // The reservoir. Local rules: reservoir_size a second. Centralized: the
  // quota until quota_expiry, else borrowing one a second.
  std::optional<int64_t> quota;
  double quota_expiry = 0;  // epoch seconds
  int64_t this_second = -1;
  int64_t taken = 0;
  // Statistics since the last report.
  int64_t requests = 0, sampled = 0, borrowed = 0;

  bool Matches(const SamplingRequest& r, std::string_view service, bool centralized) const;
};

// Parses the local rules file's text; an error message on failure.
bool ParseLocalRules(std::string_view json, std::vector<SamplingRule>& rules,
                     SamplingRule& fallback, std::string& error);

class Sampler {
 public:
  // Local rules from `options` (file or text; the SDKs' default otherwise);
  // with centralized sampling, a poller against tcp_host:tcp_port.
  Sampler(const RecorderOptions& options, std::string tcp_host, uint16_t tcp_port,
          std::function<void(std::string_view)> warn);
  ~Sampler();
  void Start();
  void Stop();
  bool Decide(const SamplingRequest& request, std::string_view service_name);

  // One poll step each (the poller's; public for tests).
  bool FetchRules();
  bool FetchTargets();
  uint64_t rule_fetches() const;
  uint64_t target_fetches() const;
  // The centralized rules' names in matching order (tests, diagnostics).
  std::vector<std::string> CentralizedRuleNames() const;
  std::string client_id() const { return client_id_; }

 private:
  bool DecideRule(SamplingRule& rule, bool centralized, double now);
  void Run();

  const RecorderOptions& options_;
  std::string tcp_host_;
  uint16_t tcp_port_;
  std::function<void(std::string_view)> warn_;
  std::string client_id_;

  mutable std::mutex mu_;
  std::vector<SamplingRule> local_;    // guarded by mu_
  SamplingRule local_default_;         // guarded by mu_
  std::vector<SamplingRule> central_;  // guarded by mu_; Default last
  double central_fetched_ = 0;         // epoch seconds of the last rules fetch; guarded by mu_
  uint64_t rule_fetches_ = 0, target_fetches_ = 0;  // guarded by mu_

  std::mutex poll_mu_;
  std::condition_variable poll_cv_;
  bool stop_ = false;  // guarded by poll_mu_
  std::thread thread_;
};

}  // namespace roentgen::sdk::detail
