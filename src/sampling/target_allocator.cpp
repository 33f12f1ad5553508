// Sampling targets from the clients' reports. See target_allocator.h.
#include "sampling/target_allocator.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <utility>

namespace roentgen::sampling {
namespace {

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

}  // namespace

Status ValidateStatisticsDocument(const StatisticsDocument& doc, int64_t now_us) {
  RG_RETURN_IF_ERROR(ValidateRuleName(doc.rule_name, "RuleName"));
  if (doc.client_id.size() != kClientIdLength ||
      !std::all_of(doc.client_id.begin(), doc.client_id.end(), IsHex)) {
    return Status::InvalidArgument(
        fmt::format("ClientID: must be {} hexadecimal digits", kClientIdLength));
  }
  if (doc.timestamp_us > now_us + kMaxClockAheadUs) {
    return Status::InvalidArgument(
        fmt::format("Timestamp: more than {} seconds ahead of the server's clock",
                    kMaxClockAheadUs / 1'000'000));
  }
  return Status::Ok();
}

void TargetAllocator::Expire(std::map<std::string, int64_t>& clients, int64_t now_us) {
  std::erase_if(clients, [&](const auto& c) { return c.second < now_us - kActiveClientUs; });
}

TargetsResult TargetAllocator::Report(std::span<const StatisticsDocument> docs,
                                      const std::vector<SamplingRule>& rules) {
  const int64_t now = clock_.NowMicros();
  std::map<std::string_view, const SamplingRule*> by_name;
  for (const SamplingRule& r : rules) by_name.emplace(r.rule_name, &r);
  TargetsResult result;
  // Rule → the client whose quota the answer carries (the first reporter).
  std::map<std::string, std::string> answered;
  MutexLock lock(mu_);
  std::erase_if(clients_, [&](const auto& entry) { return !by_name.contains(entry.first); });
  for (const StatisticsDocument& doc : docs) {
    if (Status s = ValidateStatisticsDocument(doc, now); !s.ok()) {
      result.unprocessed.push_back({doc.rule_name, "400", s.message()});
      continue;
    }
    if (!by_name.contains(doc.rule_name)) {
      result.unprocessed.push_back(
          {doc.rule_name, "400",
           fmt::format("RuleName: no sampling rule named '{}' (deleted?); fetch the rules again "
                       "with GetSamplingRules",
                       doc.rule_name)});
      continue;
    }
    if (Status s = statistics_.Add(doc.rule_name, doc.timestamp_us, doc.counts); !s.ok()) {
      result.unprocessed.push_back({doc.rule_name, "400", s.message()});
      continue;
    }
    std::map<std::string, int64_t>& clients = clients_[doc.rule_name];
    Expire(clients, now);
    if (clients.contains(doc.client_id) || clients.size() < kMaxClientsPerRule) {
      clients[doc.client_id] = now;
    }
    answered.emplace(doc.rule_name, doc.client_id);
  }
  for (const auto& [rule_name, client_id] : answered) {
    const SamplingRule& rule = *by_name.at(rule_name);
    const std::map<std::string, int64_t>& clients = clients_[rule_name];
    Target t;
    t.rule_name = rule_name;
    t.fixed_rate = rule.fixed_rate;
    t.reservoir_quota_ttl_s = (now + kQuotaTtlUs) / 1'000'000;
    t.interval_s = kIntervalSeconds;
    auto it = clients.find(client_id);
    if (it != clients.end()) {
      const auto n = static_cast<int64_t>(clients.size());
      const auto i = static_cast<int64_t>(std::distance(clients.begin(), it));
      t.reservoir_quota = rule.reservoir_size / n + (i < rule.reservoir_size % n ? 1 : 0);
    }
    result.targets.push_back(std::move(t));
  }
  return result;
}

size_t TargetAllocator::ActiveClients(std::string_view rule_name) {
  MutexLock lock(mu_);
  auto it = clients_.find(rule_name);
  if (it == clients_.end()) return 0;
  Expire(it->second, clock_.NowMicros());
  return it->second.size();
}

}  // namespace roentgen::sampling
