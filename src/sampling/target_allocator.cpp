// Sampling targets from the clients' reports. See target_allocator.h.
#include "sampling/target_allocator.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <set>
#include <utility>

#include "sampling/shared_clients.h"

namespace roentgen::sampling {
namespace {

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Client `client_id`'s share of `reservoir` among `clients` (ordered by id);
// 0 when it is not among them.
int64_t QuotaAmong(const std::map<std::string, int64_t>& clients, const std::string& client_id,
                   int64_t reservoir) {
  auto it = clients.find(client_id);
  if (it == clients.end()) return 0;
  const auto n = static_cast<int64_t>(clients.size());
  const auto i = static_cast<int64_t>(std::distance(clients.begin(), it));
  return reservoir / n + (i < reservoir % n ? 1 : 0);
}

Target TargetOf(const SamplingRule& rule, int64_t now_us) {
  Target t;
  t.rule_name = rule.rule_name;
  t.fixed_rate = rule.fixed_rate;
  t.reservoir_quota_ttl_s = (now_us + kQuotaTtlUs) / 1'000'000;
  t.interval_s = kIntervalSeconds;
  return t;
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

namespace {

// Checks one client's report and counts its statistics; false, with the
// reason in `result.unprocessed`, for a malformed report or a rule that does
// not exist (the SDKs then fetch the rules again).
bool AcceptReport(const StatisticsDocument& doc,
                  const std::map<std::string_view, const SamplingRule*>& by_name, int64_t now,
                  StatisticsWindows& statistics, TargetsResult& result) {
  if (Status s = ValidateStatisticsDocument(doc, now); !s.ok()) {
    result.unprocessed.push_back({doc.rule_name, "400", s.message()});
    return false;
  }
  if (!by_name.contains(doc.rule_name)) {
    result.unprocessed.push_back(
        {doc.rule_name, "400",
         fmt::format("RuleName: no sampling rule named '{}' (deleted?); fetch the rules again "
                     "with GetSamplingRules",
                     doc.rule_name)});
    return false;
  }
  if (Status s = statistics.Add(doc.rule_name, doc.timestamp_us, doc.counts); !s.ok()) {
    result.unprocessed.push_back({doc.rule_name, "400", s.message()});
    return false;
  }
  return true;
}

}  // namespace

void TargetAllocator::Expire(std::map<std::string, int64_t>& clients, int64_t now_us) {
  std::erase_if(clients, [&](const auto& c) { return c.second < now_us - kActiveClientUs; });
}

TargetsResult TargetAllocator::Report(std::span<const StatisticsDocument> docs,
                                      const std::vector<SamplingRule>& rules) {
  if (shared_ != nullptr) return ReportShared(docs, rules);
  const int64_t now = clock_.NowMicros();
  std::map<std::string_view, const SamplingRule*> by_name;
  for (const SamplingRule& r : rules) by_name.emplace(r.rule_name, &r);
  TargetsResult result;
  // Rule → the client whose quota the answer carries (the first reporter).
  std::map<std::string, std::string> answered;
  MutexLock lock(mu_);
  std::erase_if(clients_, [&](const auto& entry) { return !by_name.contains(entry.first); });
  for (const StatisticsDocument& doc : docs) {
    if (!AcceptReport(doc, by_name, now, statistics_, result)) continue;
    std::map<std::string, int64_t>& clients = clients_[doc.rule_name];
    Expire(clients, now);
    if (clients.contains(doc.client_id) || clients.size() < kMaxClientsPerRule) {
      clients[doc.client_id] = now;
    }
    answered.emplace(doc.rule_name, doc.client_id);
  }
  for (const auto& [rule_name, client_id] : answered) {
    const SamplingRule& rule = *by_name.at(rule_name);
    Target t = TargetOf(rule, now);
    t.reservoir_quota = QuotaAmong(clients_[rule_name], client_id, rule.reservoir_size);
    result.targets.push_back(std::move(t));
  }
  return result;
}

// The same steps as the one-process path, with the clients read from and
// recorded in the store, and the statistics flushed to it.
TargetsResult TargetAllocator::ReportShared(std::span<const StatisticsDocument> docs,
                                            const std::vector<SamplingRule>& rules) {
  const int64_t now = clock_.NowMicros();
  std::map<std::string_view, const SamplingRule*> by_name;
  std::set<std::string, std::less<>> existing;
  for (const SamplingRule& r : rules) {
    by_name.emplace(r.rule_name, &r);
    existing.insert(r.rule_name);
  }
  TargetsResult result;
  std::vector<const StatisticsDocument*> accepted;
  std::map<std::string, std::string> answered;
  std::set<std::string, std::less<>> wanted;
  for (const StatisticsDocument& doc : docs) {
    if (!AcceptReport(doc, by_name, now, statistics_, result)) continue;
    accepted.push_back(&doc);
    answered.emplace(doc.rule_name, doc.client_id);
    wanted.insert(doc.rule_name);
  }
  if (Status s = statistics_.Flush(); !s.ok()) {
    result.status = s;
    return result;
  }
  if (accepted.empty()) return result;
  Result<SharedClients::RuleClients> active = shared_->Active(now, wanted, &existing);
  if (!active.ok()) {
    result.status = active.status();
    return result;
  }
  for (const StatisticsDocument* doc : accepted) {
    SharedClients::Clients& clients = (*active)[doc->rule_name];
    if (!clients.contains(doc->client_id) && clients.size() >= kMaxClientsPerRule) continue;
    Result<int64_t> recorded = shared_->Record(doc->rule_name, doc->client_id, now);
    if (!recorded.ok()) {
      result.status = recorded.status();
      return result;
    }
    clients[doc->client_id] = *recorded;
  }
  for (const auto& [rule_name, client_id] : answered) {
    const SamplingRule& rule = *by_name.at(rule_name);
    Target t = TargetOf(rule, now);
    t.reservoir_quota = QuotaAmong((*active)[rule_name], client_id, rule.reservoir_size);
    result.targets.push_back(std::move(t));
  }
  return result;
}

size_t TargetAllocator::ActiveClients(std::string_view rule_name) {
  if (shared_ != nullptr) {
    const std::set<std::string, std::less<>> wanted = {std::string(rule_name)};
    Result<SharedClients::RuleClients> active =
        shared_->Active(clock_.NowMicros(), wanted, nullptr);
    if (!active.ok()) return 0;
    auto it = active->find(rule_name);
    return it == active->end() ? 0 : it->second.size();
  }
  MutexLock lock(mu_);
  auto it = clients_.find(rule_name);
  if (it == clients_.end()) return 0;
  Expire(it->second, clock_.NowMicros());
  return it->second.size();
}

}  // namespace roentgen::sampling
