// The active clients of each sampling rule, shared through the store. See
// shared_clients.h.
#include "sampling/shared_clients.h"

#include <fmt/format.h>

#include <utility>
#include <vector>

#include "common/coding.h"

namespace roentgen::sampling {
namespace {

std::string ClientKey(std::string_view rule_name, std::string_view client_id) {
  return fmt::format("{}/{}", rule_name, client_id);
}

std::string EncodeClientTime(int64_t us) {
  std::string out;
  coding::PutBigEndian64(static_cast<uint64_t>(us), out);
  return out;
}

Result<int64_t> DecodeClientTime(std::string_view key, std::string_view value) {
  coding::Reader in(value);
  uint64_t us = 0;
  if (!in.BigEndian64(us) || in.remaining() != 0) {
    return Status::Corruption(
        fmt::format("sampling client '{}': the stored time is not 8 bytes", key));
  }
  return static_cast<int64_t>(us);
}

}  // namespace

Status SharedClients::Refresh(int64_t now_us, const std::set<std::string, std::less<>>* existing,
                              std::vector<std::string>& stale) {
  if (cache_read_us_ && now_us - *cache_read_us_ < kClientCacheUs && now_us >= *cache_read_us_) {
    return Status::Ok();
  }
  Result<std::vector<std::pair<std::string, std::string>>> entries =
      store_.ListConfig(kClientNamespace);
  if (!entries.ok()) return entries.status();
  RuleClients fresh;
  for (const auto& [key, value] : *entries) {
    const size_t slash = key.rfind('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == key.size()) {
      return Status::Corruption(fmt::format("sampling client key '{}': not <rule>/<client>", key));
    }
    Result<int64_t> us = DecodeClientTime(key, value);
    if (!us.ok()) return us.status();
    const std::string_view rule = std::string_view(key).substr(0, slash);
    if (*us < now_us - kClientDeleteAfterUs || (existing != nullptr && !existing->contains(rule))) {
      stale.push_back(key);
      continue;
    }
    fresh[std::string(rule)].emplace(key.substr(slash + 1), *us);
  }
  cache_ = std::move(fresh);
  cache_read_us_ = now_us;
  return Status::Ok();
}

Status SharedClients::DeleteIfStale(const std::string& key, int64_t cutoff_us) {
  Result<std::string> value = store_.GetConfig(kClientNamespace, key);
  if (!value.ok()) return value.status().code() == StatusCode::kNotFound ? Status::Ok() : value.status();
  Result<int64_t> us = DecodeClientTime(key, *value);
  // A damaged entry is deleted too: it would fail every read.
  if (us.ok() && *us >= cutoff_us) return Status::Ok();
  Status s = store_.DeleteConfig(kClientNamespace, key);
  return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
}

Result<SharedClients::RuleClients> SharedClients::Active(
    int64_t now_us, const std::set<std::string, std::less<>>& wanted,
    const std::set<std::string, std::less<>>* existing) {
  std::vector<std::string> stale;
  RuleClients out;
  {
    MutexLock lock(mu_);
    RG_RETURN_IF_ERROR(Refresh(now_us, existing, stale));
    for (const std::string& rule : wanted) {
      Clients& clients = out[rule];
      auto it = cache_.find(rule);
      if (it == cache_.end()) continue;
      for (const auto& [client, us] : it->second) {
        if (us >= now_us - kActiveClientUs) clients.emplace(client, us);
      }
    }
  }
  for (const std::string& key : stale) {
    // Entries of deleted rules are gone whatever their time (cutoff: never).
    const std::string_view rule = std::string_view(key).substr(0, key.rfind('/'));
    const bool rule_gone = existing != nullptr && !existing->contains(rule);
    RG_RETURN_IF_ERROR(DeleteIfStale(key, rule_gone ? INT64_MAX : now_us - kClientDeleteAfterUs));
  }
  return out;
}

Result<int64_t> SharedClients::Record(std::string_view rule_name, std::string_view client_id,
                                      int64_t now_us) {
  {
    MutexLock lock(mu_);
    auto rule = cache_.find(rule_name);
    if (rule != cache_.end()) {
      auto client = rule->second.find(std::string(client_id));
      if (client != rule->second.end() && client->second > now_us - kClientWriteIntervalUs &&
          client->second <= now_us) {
        return client->second;
      }
    }
  }
  RG_RETURN_IF_ERROR(
      store_.PutConfig(kClientNamespace, ClientKey(rule_name, client_id), EncodeClientTime(now_us)));
  MutexLock lock(mu_);
  int64_t& cached = cache_[std::string(rule_name)][std::string(client_id)];
  cached = std::max(cached, now_us);
  return now_us;
}

}  // namespace roentgen::sampling
