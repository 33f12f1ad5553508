#include "sampling.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "http_client.h"
#include "sdk_internal.h"

namespace roentgen::sdk::detail {
namespace {

using nlohmann::json;

// Rules that were fetched longer ago than this are stale: the local rules
// apply again (the X-Ray SDKs' one hour).
constexpr double kCentralRulesLifetime = 3600;

std::string GetString(const json& j, const char* key, const char* fallback = "*") {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

SamplingRule DefaultLocal() {
  SamplingRule r;
  r.name = "default";
  r.reservoir_size = 1;
  r.fixed_rate = 0.05;
  return r;
}

}  // namespace

bool GlobMatch(std::string_view p, std::string_view t) {
  // Iterative matcher with one backtrack point: linear in practice.
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || std::tolower(static_cast<unsigned char>(p[pi])) ==
                                              std::tolower(static_cast<unsigned char>(t[ti])))) {
      ++pi, ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool SamplingRule::Matches(const SamplingRequest& r, std::string_view service,
                           bool centralized) const {
  if (centralized) {
    // Rules with attributes need request attributes, which a segment does not
    // carry; ResourceARN can only be matched as '*' (as in the X-Ray SDKs).
    if (has_attributes || resource_arn != "*") return false;
    if (!GlobMatch(service_name, service) || !GlobMatch(service_type, r.service_type)) return false;
  } else if (service_name != "*" && !GlobMatch(service_name, service)) {
    return false;
  }
  return GlobMatch(host, r.host) && GlobMatch(http_method, r.http_method) &&
         GlobMatch(url_path, r.url_path);
}

bool ParseLocalRules(std::string_view text, std::vector<SamplingRule>& rules,
                     SamplingRule& fallback, std::string& error) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return error = "not a JSON object", false;
  auto version = j.find("version");
  if (version == j.end() || !version->is_number_integer() || (*version != 1 && *version != 2))
    return error = "version: must be 1 or 2", false;
  auto parse_rule = [&](const json& r, SamplingRule& out, const std::string& where) {
    auto ft = r.find("fixed_target");
    auto rate = r.find("rate");
    if (ft == r.end() || !ft->is_number_integer() || *ft < 0)
      return error = where + ".fixed_target: must be an integer >= 0", false;
    if (rate == r.end() || !rate->is_number() || *rate < 0 || *rate > 1)
      return error = where + ".rate: must be a number in [0, 1]", false;
    out.reservoir_size = ft->get<int64_t>();
    out.fixed_rate = rate->get<double>();
    return true;
  };
  auto def = j.find("default");
  if (def == j.end() || !def->is_object()) return error = "default: required", false;
  fallback = SamplingRule{};
  fallback.name = "default";
  if (!parse_rule(*def, fallback, "default")) return false;
  rules.clear();
  if (auto rs = j.find("rules"); rs != j.end()) {
    if (!rs->is_array()) return error = "rules: must be an array", false;
    for (size_t i = 0; i < rs->size(); ++i) {
      const json& r = (*rs)[i];
      std::string where = "rules[" + std::to_string(i) + "]";
      if (!r.is_object()) return error = where + ": must be an object", false;
      SamplingRule rule;
      rule.name = GetString(r, "description", where.c_str());
      if (*version == 1) {
        rule.service_name = GetString(r, "service_name");
      } else {
        rule.host = GetString(r, "host");
        rule.service_name = GetString(r, "service_name");
      }
      rule.http_method = GetString(r, "http_method");
      rule.url_path = GetString(r, "url_path");
      if (!parse_rule(r, rule, where)) return false;
      rules.push_back(std::move(rule));
    }
  }
  return true;
}

Sampler::Sampler(const RecorderOptions& options, std::string tcp_host, uint16_t tcp_port,
                 std::function<void(std::string_view)> warn)
    : options_(options),
      tcp_host_(std::move(tcp_host)),
      tcp_port_(tcp_port),
      warn_(std::move(warn)) {
  AppendHex(client_id_, Random64(), 16);
  AppendHex(client_id_, Random64(), 8);
  local_default_ = DefaultLocal();
  std::string text = options.sampling_rules_json;
  if (text.empty() && !options.sampling_rules_file.empty()) {
    std::ifstream in(options.sampling_rules_file);
    if (!in) {
      warn_("sampling: cannot read " + options.sampling_rules_file + "; using the default rule");
    } else {
      std::stringstream ss;
      ss << in.rdbuf();
      text = ss.str();
    }
  }
  if (!text.empty()) {
    std::string error;
    std::vector<SamplingRule> rules;
    SamplingRule fallback;
    if (ParseLocalRules(text, rules, fallback, error)) {
      local_ = std::move(rules);
      local_default_ = std::move(fallback);
    } else {
      warn_("sampling: invalid local rules (" + error + "); using the default rule");
    }
  }
}

Sampler::~Sampler() { Stop(); }

void Sampler::Start() {
  if (!options_.centralized_sampling || thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void Sampler::Stop() {
  {
    std::lock_guard lock(poll_mu_);
    stop_ = true;
  }
  poll_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool Sampler::DecideRule(SamplingRule& rule, bool centralized, double now) {
  ++rule.requests;
  auto second = static_cast<int64_t>(now);
  if (second != rule.this_second) {
    rule.this_second = second;
    rule.taken = 0;
  }
  bool sampled = false;
  if (!centralized) {
    if (rule.taken < rule.reservoir_size) {
      ++rule.taken;
      sampled = true;
    }
  } else if (rule.quota && now < rule.quota_expiry) {
    if (rule.taken < *rule.quota) {
      ++rule.taken;
      sampled = true;
    }
  } else if (rule.taken < 1) {
    // No quota yet, or it lapsed: borrow one request a second.
    ++rule.taken;
    ++rule.borrowed;
    sampled = true;
  }
  if (!sampled) sampled = RandomUnit() < rule.fixed_rate;
  if (sampled) ++rule.sampled;
  return sampled;
}

bool Sampler::Decide(const SamplingRequest& request, std::string_view service_name) {
  double now = NowSeconds();
  std::lock_guard lock(mu_);
  if (!central_.empty() && now - central_fetched_ < kCentralRulesLifetime) {
    for (auto& rule : central_)
      if (rule.Matches(request, service_name, true)) return DecideRule(rule, true, now);
  }
  for (auto& rule : local_)
    if (rule.Matches(request, service_name, false)) return DecideRule(rule, false, now);
  return DecideRule(local_default_, false, now);
}

bool Sampler::FetchRules() {
  HttpResult r = HttpPost(tcp_host_, tcp_port_, "/GetSamplingRules", "{}");
  if (r.status != 200) {
    warn_("sampling: GetSamplingRules failed: " +
          (r.status ? std::to_string(r.status) + " " + r.body : r.error));
    return false;
  }
  json j = json::parse(r.body, nullptr, false);
  auto records = j.is_object() ? j.find("SamplingRuleRecords") : j.end();
  if (j.is_discarded() || !j.is_object() || records == j.end() || !records->is_array()) {
    warn_("sampling: GetSamplingRules: malformed answer");
    return false;
  }
  std::vector<SamplingRule> rules;
  for (const json& rec : *records) {
    auto it = rec.find("SamplingRule");
    if (it == rec.end() || !it->is_object()) continue;
    const json& s = *it;
    if (s.value("Version", 1) != 1) continue;
    SamplingRule rule;
    rule.name = GetString(s, "RuleName", "");
    if (rule.name.empty()) continue;
    rule.priority = s.value("Priority", 10000);
    rule.fixed_rate = s.value("FixedRate", 0.0);
    rule.reservoir_size = s.value("ReservoirSize", int64_t{0});
    rule.service_name = GetString(s, "ServiceName");
    rule.service_type = GetString(s, "ServiceType");
    rule.host = GetString(s, "Host");
    rule.http_method = GetString(s, "HTTPMethod");
    rule.url_path = GetString(s, "URLPath");
    rule.resource_arn = GetString(s, "ResourceARN");
    auto attrs = s.find("Attributes");
    rule.has_attributes = attrs != s.end() && attrs->is_object() && !attrs->empty();
    rules.push_back(std::move(rule));
  }
  std::stable_sort(rules.begin(), rules.end(), [](const SamplingRule& a, const SamplingRule& b) {
    bool ad = a.name == "Default", bd = b.name == "Default";
    if (ad != bd) return bd;
    return a.priority != b.priority ? a.priority < b.priority : a.name < b.name;
  });
  std::lock_guard lock(mu_);
  // A rule that stays keeps its reservoir and statistics.
  for (auto& rule : rules) {
    for (auto& old : central_) {
      if (old.name != rule.name) continue;
      rule.quota = old.quota;
      rule.quota_expiry = old.quota_expiry;
      rule.this_second = old.this_second;
      rule.taken = old.taken;
      rule.requests = old.requests;
      rule.sampled = old.sampled;
      rule.borrowed = old.borrowed;
    }
  }
  central_ = std::move(rules);
  central_fetched_ = NowSeconds();
  ++rule_fetches_;
  return true;
}

bool Sampler::FetchTargets() {
  double now = NowSeconds();
  json docs = json::array();
  struct Sent {
    std::string name;
    int64_t requests, sampled, borrowed;
  };
  std::vector<Sent> sent;
  {
    std::lock_guard lock(mu_);
    if (central_.empty()) return false;
    for (const auto& rule : central_) {
      docs.push_back({{"RuleName", rule.name},
                      {"ClientID", client_id_},
                      {"Timestamp", std::floor(now)},
                      {"RequestCount", rule.requests},
                      {"SampledCount", rule.sampled},
                      {"BorrowCount", rule.borrowed}});
      sent.push_back({rule.name, rule.requests, rule.sampled, rule.borrowed});
    }
  }
  json body = {{"SamplingStatisticsDocuments", docs}};
  HttpResult r = HttpPost(tcp_host_, tcp_port_, "/SamplingTargets", body.dump());
  if (r.status != 200) {
    warn_("sampling: SamplingTargets failed: " +
          (r.status ? std::to_string(r.status) + " " + r.body : r.error));
    return false;
  }
  json j = json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    warn_("sampling: SamplingTargets: malformed answer");
    return false;
  }
  bool refetch = false;
  {
    std::lock_guard lock(mu_);
    // The reported counts were delivered: subtract them (requests made
    // meanwhile stay for the next report).
    for (const auto& s : sent) {
      for (auto& rule : central_) {
        if (rule.name != s.name) continue;
        rule.requests -= std::min(rule.requests, s.requests);
        rule.sampled -= std::min(rule.sampled, s.sampled);
        rule.borrowed -= std::min(rule.borrowed, s.borrowed);
      }
    }
    if (auto targets = j.find("SamplingTargetDocuments");
        targets != j.end() && targets->is_array()) {
      for (const json& t : *targets) {
        std::string name = GetString(t, "RuleName", "");
        for (auto& rule : central_) {
          if (rule.name != name) continue;
          if (auto f = t.find("FixedRate"); f != t.end() && f->is_number())
            rule.fixed_rate = f->get<double>();
          auto q = t.find("ReservoirQuota");
          auto ttl = t.find("ReservoirQuotaTTL");
          if (q != t.end() && q->is_number() && ttl != t.end() && ttl->is_number()) {
            rule.quota = q->get<int64_t>();
            rule.quota_expiry = ttl->get<double>();
          }
        }
      }
    }
    if (auto m = j.find("LastRuleModification"); m != j.end() && m->is_number())
      refetch = m->get<double>() > central_fetched_;
    ++target_fetches_;
  }
  if (refetch) FetchRules();
  return true;
}

uint64_t Sampler::rule_fetches() const {
  std::lock_guard lock(mu_);
  return rule_fetches_;
}
uint64_t Sampler::target_fetches() const {
  std::lock_guard lock(mu_);
  return target_fetches_;
}

std::vector<std::string> Sampler::CentralizedRuleNames() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> names;
  for (const auto& r : central_) names.push_back(r.name);
  return names;
}

void Sampler::Run() {
  using Clock = std::chrono::steady_clock;
  auto jitter = [](std::chrono::milliseconds interval) {
    auto max = std::max<int64_t>(1, std::min<int64_t>(interval.count() / 10, 5000));
    return std::chrono::milliseconds(static_cast<int64_t>(Random64() % static_cast<uint64_t>(max)));
  };
  auto next_rules = Clock::now();
  auto next_targets = Clock::now() + options_.targets_interval + jitter(options_.targets_interval);
  std::unique_lock lock(poll_mu_);
  while (!stop_) {
    auto now = Clock::now();
    if (now >= next_rules) {
      lock.unlock();
      FetchRules();
      lock.lock();
      next_rules = Clock::now() + options_.rules_interval + jitter(options_.rules_interval);
    }
    if (now >= next_targets) {
      lock.unlock();
      FetchTargets();
      lock.lock();
      next_targets = Clock::now() + options_.targets_interval + jitter(options_.targets_interval);
    }
    poll_cv_.wait_until(lock, std::min(next_rules, next_targets), [&] { return stop_; });
  }
}

}  // namespace roentgen::sdk::detail
