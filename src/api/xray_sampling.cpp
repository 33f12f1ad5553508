// X-Ray's centralized sampling APIs over a sampling::RuleRegistry and a
// sampling::TargetAllocator (src/sampling/):
//   CreateSamplingRule  POST /CreateSamplingRule  {SamplingRule, Tags?} → {SamplingRuleRecord}
//   UpdateSamplingRule  POST /UpdateSamplingRule  {SamplingRuleUpdate}  → {SamplingRuleRecord}
//   DeleteSamplingRule  POST /DeleteSamplingRule  {RuleName | RuleARN}  → {SamplingRuleRecord}
//   GetSamplingRules    POST /GetSamplingRules    {NextToken?} → {SamplingRuleRecords, NextToken?}
//   GetSamplingTargets  POST /SamplingTargets     {SamplingStatisticsDocuments,
//                       SamplingBoostStatisticsDocuments?} → {SamplingTargetDocuments,
//                       LastRuleModification, UnprocessedStatistics, UnprocessedBoostStatistics}
//   GetSamplingStatisticSummaries POST /SamplingStatisticSummaries {NextToken?}
//                       → {SamplingStatisticSummaries, NextToken?}
// Errors are X-Ray's: InvalidRequestException naming the field (also for an
// unknown rule, a duplicate name and the Default rule's restrictions), and
// RuleLimitExceededException past the rule limit. Times are epoch seconds.
// Over a store that several Roentgen processes share (Store::DerivesRecords)
// the clients of each rule and the statistics windows are shared through the
// store (sampling/shared_clients.h, sampling/statistics_windows.h), so every
// process answers as one would; otherwise they live in this process's memory.
// A page of rules holds kRulesPerPage, more than the rule limit allows, so one
// call returns every rule (the X-Ray SDKs never send NextToken).
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "api/json_io.h"
#include "api/tags.h"
#include "api/xray_handlers.h"
#include "common/hex.h"
#include "common/random.h"
#include "sampling/rule_registry.h"
#include "sampling/shared_clients.h"
#include "sampling/statistics_windows.h"
#include "sampling/target_allocator.h"

namespace roentgen::api {
namespace {

using nlohmann::json;
using sampling::RuleRecord;
using sampling::RuleRef;
using sampling::RuleRegistry;

constexpr size_t kRulesPerPage = 100;
constexpr size_t kSummariesPerPage = 100;
constexpr size_t kMaxBoostDocuments = 25;
constexpr size_t kMaxArnLength = 1011;

// A name for this process's sampling statistics in a shared store: random,
// so that processes never share one (16 hex digits).
std::string NewSamplingProcessId() {
  std::array<uint8_t, 8> bytes;
  FillRandom(bytes);
  return ToHex(bytes);
}

struct SamplingApi {
  // One process: clients and statistics in memory.
  SamplingApi(std::shared_ptr<RuleRegistry> r, const Clock& c)
      : rules(std::move(r)),
        clock(c),
        statistics(std::make_unique<sampling::StatisticsWindows>(c)),
        allocator(std::make_unique<sampling::TargetAllocator>(c, *statistics)) {}
  // Several processes over `store`: clients and statistics shared through it.
  SamplingApi(std::shared_ptr<RuleRegistry> r, store::Store& store, const Clock& c)
      : rules(std::move(r)),
        clock(c),
        shared_clients(std::make_unique<sampling::SharedClients>(store)),
        statistics(std::make_unique<sampling::StatisticsWindows>(c, store, NewSamplingProcessId())),
        allocator(
            std::make_unique<sampling::TargetAllocator>(c, *statistics, *shared_clients)) {}
  std::shared_ptr<RuleRegistry> rules;
  const Clock& clock;
  std::unique_ptr<sampling::SharedClients> shared_clients;  // null: one process
  std::unique_ptr<sampling::StatisticsWindows> statistics;
  std::unique_ptr<sampling::TargetAllocator> allocator;
};

HttpResponse SamplingError(const Status& s) {
  if (s.code() == StatusCode::kResourceExhausted) {
    return ErrorResponse(400, "RuleLimitExceededException", s.message());
  }
  return StatusResponse(s);
}

// An integer of any sign (JSON integer, or a double with no fraction).
Field<int64_t> GetInteger(simdjson::dom::object object, std::string_view key,
                          std::string_view path) {
  Field<double> n = GetNumber(object, key, path);
  if (!n.ok()) return n.status();
  if (!n->has_value()) return std::optional<int64_t>();
  const double v = **n;
  if (std::floor(v) != v || std::fabs(v) > 9.0e15) {
    return Status::InvalidArgument(fmt::format("{}: must be an integer", path));
  }
  return std::optional<int64_t>(static_cast<int64_t>(v));
}

Status Required(std::string_view path) {
  return Status::InvalidArgument(fmt::format("{}: required", path));
}

// "<object>.<key>", or the key alone for the request's root ("").
std::string PathOf(std::string_view object, std::string_view key) {
  return object.empty() ? std::string(key) : fmt::format("{}.{}", object, key);
}

Status ReadString(simdjson::dom::object o, std::string_view object, std::string_view key,
                  bool required, std::optional<std::string>& out) {
  const std::string path = PathOf(object, key);
  Field<std::string_view> v = GetString(o, key, path);
  if (!v.ok()) return v.status();
  if (v->has_value()) {
    out = std::string(**v);
  } else if (required) {
    return Required(path);
  }
  return Status::Ok();
}

template <typename T, typename Getter>
Status ReadNumber(simdjson::dom::object o, std::string_view object, std::string_view key,
                  bool required, Getter get, std::optional<T>& out) {
  const std::string path = PathOf(object, key);
  Field<T> v = get(o, key, path);
  if (!v.ok()) return v.status();
  if (v->has_value()) {
    out = **v;
  } else if (required) {
    return Required(path);
  }
  return Status::Ok();
}

Field<sampling::Attributes> ReadAttributes(simdjson::dom::object o, std::string_view object) {
  const std::string path = PathOf(object, "Attributes");
  Field<simdjson::dom::object> map = GetObject(o, "Attributes", path);
  if (!map.ok()) return map.status();
  if (!map->has_value()) return std::optional<sampling::Attributes>();
  sampling::Attributes attributes;
  for (auto [key, value] : **map) {
    std::string_view text;
    if (value.get(text) != simdjson::SUCCESS) {
      return Status::InvalidArgument(fmt::format("{}.{}: must be a string", path, key));
    }
    attributes.emplace_back(std::string(key), std::string(text));
  }
  std::sort(attributes.begin(), attributes.end());
  for (size_t i = 1; i < attributes.size(); ++i) {
    if (attributes[i].first == attributes[i - 1].first) {
      return Status::InvalidArgument(
          fmt::format("{}: the key \"{}\" appears twice", path, attributes[i].first));
    }
  }
  return std::optional<sampling::Attributes>(std::move(attributes));
}

Field<sampling::RateBoost> ReadRateBoost(simdjson::dom::object o, std::string_view object) {
  const std::string path = PathOf(object, "SamplingRateBoost");
  Field<simdjson::dom::object> boost = GetObject(o, "SamplingRateBoost", path);
  if (!boost.ok()) return boost.status();
  if (!boost->has_value()) return std::optional<sampling::RateBoost>();
  std::optional<double> max_rate;
  std::optional<int64_t> cooldown;
  RG_RETURN_IF_ERROR(ReadNumber(**boost, path, "MaxRate", true, GetNumber, max_rate));
  RG_RETURN_IF_ERROR(
      ReadNumber(**boost, path, "CooldownWindowMinutes", true, GetInteger, cooldown));
  return std::optional<sampling::RateBoost>(sampling::RateBoost{*max_rate, *cooldown});
}

// RuleName or RuleARN of `o` (fields of `object`): one is required; both are
// accepted when they name the same rule.
Result<RuleRef> ReadRuleRef(const RuleRegistry& registry, simdjson::dom::object o,
                            std::string_view object) {
  std::optional<std::string> name, arn;
  RG_RETURN_IF_ERROR(ReadString(o, object, "RuleName", false, name));
  RG_RETURN_IF_ERROR(ReadString(o, object, "RuleARN", false, arn));
  const std::string prefix = object.empty() ? "" : fmt::format("{}.", object);
  if (arn && arn->size() > kMaxArnLength) {
    return Status::InvalidArgument(
        fmt::format("{}: at most {} characters", PathOf(object, "RuleARN"), kMaxArnLength));
  }
  if (name && arn) {
    Result<std::string> arn_name = registry.NameOfArn(*arn);
    if (!arn_name.ok() || *arn_name != *name) {
      return Status::InvalidArgument(fmt::format(
          "{0}RuleName and {0}RuleARN name different rules; name the rule by one of them", prefix));
    }
  }
  if (name) {
    RG_RETURN_IF_ERROR(sampling::ValidateRuleName(*name, PathOf(object, "RuleName")));
    return RuleRef{*name, false};
  }
  if (arn) return RuleRef{*arn, true};
  return Status::InvalidArgument(fmt::format("{0}RuleName or {0}RuleARN: one is required", prefix));
}

Result<sampling::SamplingRule> ReadRule(const RuleRegistry& registry, simdjson::dom::object o) {
  constexpr std::string_view kObject = "SamplingRule";
  Result<RuleRef> ref = ReadRuleRef(registry, o, kObject);
  if (!ref.ok()) return ref.status();
  sampling::SamplingRule rule;
  if (ref->by_arn) {
    Result<std::string> name = registry.NameOfArn(ref->name_or_arn);
    if (!name.ok()) return name.status();
    rule.rule_name = std::move(*name);
  } else {
    rule.rule_name = ref->name_or_arn;
  }
  std::optional<std::string> resource_arn, service_name, service_type, host, method, url_path;
  std::optional<int64_t> priority, reservoir, version;
  std::optional<double> fixed_rate;
  RG_RETURN_IF_ERROR(ReadString(o, kObject, "ResourceARN", true, resource_arn));
  RG_RETURN_IF_ERROR(ReadNumber(o, kObject, "Priority", true, GetInteger, priority));
  RG_RETURN_IF_ERROR(ReadNumber(o, kObject, "FixedRate", true, GetNumber, fixed_rate));
  RG_RETURN_IF_ERROR(ReadNumber(o, kObject, "ReservoirSize", true, GetInteger, reservoir));
  RG_RETURN_IF_ERROR(ReadString(o, kObject, "ServiceName", true, service_name));
  RG_RETURN_IF_ERROR(ReadString(o, kObject, "ServiceType", true, service_type));
  RG_RETURN_IF_ERROR(ReadString(o, kObject, "Host", true, host));
  RG_RETURN_IF_ERROR(ReadString(o, kObject, "HTTPMethod", true, method));
  RG_RETURN_IF_ERROR(ReadString(o, kObject, "URLPath", true, url_path));
  RG_RETURN_IF_ERROR(ReadNumber(o, kObject, "Version", true, GetInteger, version));
  Field<sampling::Attributes> attributes = ReadAttributes(o, kObject);
  if (!attributes.ok()) return attributes.status();
  Field<sampling::RateBoost> boost = ReadRateBoost(o, kObject);
  if (!boost.ok()) return boost.status();
  rule.resource_arn = std::move(*resource_arn);
  rule.priority = *priority;
  rule.fixed_rate = *fixed_rate;
  rule.reservoir_size = *reservoir;
  rule.service_name = std::move(*service_name);
  rule.service_type = std::move(*service_type);
  rule.host = std::move(*host);
  rule.http_method = std::move(*method);
  rule.url_path = std::move(*url_path);
  rule.version = *version;
  rule.attributes = std::move(*attributes).value_or(sampling::Attributes{});
  rule.rate_boost = *boost;
  return rule;
}

Result<sampling::RuleUpdate> ReadUpdate(simdjson::dom::object o) {
  constexpr std::string_view kObject = "SamplingRuleUpdate";
  sampling::RuleUpdate u;
  RG_RETURN_IF_ERROR(ReadString(o, kObject, "ResourceARN", false, u.resource_arn));
  RG_RETURN_IF_ERROR(ReadNumber(o, kObject, "Priority", false, GetInteger, u.priority));
  RG_RETURN_IF_ERROR(ReadNumber(o, kObject, "FixedRate", false, GetNumber, u.fixed_rate));
  RG_RETURN_IF_ERROR(ReadNumber(o, kObject, "ReservoirSize", false, GetInteger, u.reservoir_size));
  RG_RETURN_IF_ERROR(ReadString(o, kObject, "ServiceName", false, u.service_name));
  RG_RETURN_IF_ERROR(ReadString(o, kObject, "ServiceType", false, u.service_type));
  RG_RETURN_IF_ERROR(ReadString(o, kObject, "Host", false, u.host));
  RG_RETURN_IF_ERROR(ReadString(o, kObject, "HTTPMethod", false, u.http_method));
  RG_RETURN_IF_ERROR(ReadString(o, kObject, "URLPath", false, u.url_path));
  Field<sampling::Attributes> attributes = ReadAttributes(o, kObject);
  if (!attributes.ok()) return attributes.status();
  u.attributes = std::move(*attributes);
  Field<sampling::RateBoost> boost = ReadRateBoost(o, kObject);
  if (!boost.ok()) return boost.status();
  u.rate_boost = *boost;
  return u;
}

// X-Ray's tag rules (tags.h), as for every taggable resource.
Result<sampling::Tags> ReadTags(const RequestBody& body) {
  Field<simdjson::dom::array> array = body.Array("Tags");
  if (!array.ok()) return array.status();
  if (!array->has_value()) return sampling::Tags();
  Result<TagList> tags = ParseTagList(**array, "Tags");
  if (!tags.ok()) return tags.status();
  RG_RETURN_IF_ERROR(CheckNewResourceTags(*tags, "Tags"));
  return std::move(*tags);
}

json RecordJson(const RuleRegistry& registry, const RuleRecord& record) {
  const sampling::SamplingRule& r = record.rule;
  json attributes = json::object();
  for (const auto& [k, v] : r.attributes) attributes[k] = v;
  json rule = {{"RuleName", r.rule_name},
               {"RuleARN", registry.Arn(r.rule_name)},
               {"ResourceARN", r.resource_arn},
               {"Priority", r.priority},
               {"FixedRate", r.fixed_rate},
               {"ReservoirSize", r.reservoir_size},
               {"ServiceName", r.service_name},
               {"ServiceType", r.service_type},
               {"Host", r.host},
               {"HTTPMethod", r.http_method},
               {"URLPath", r.url_path},
               {"Version", r.version},
               {"Attributes", std::move(attributes)}};
  if (r.rate_boost) {
    rule["SamplingRateBoost"] = {{"MaxRate", r.rate_boost->max_rate},
                                 {"CooldownWindowMinutes", r.rate_boost->cooldown_window_minutes}};
  }
  return {{"SamplingRule", std::move(rule)},
          {"CreatedAt", EpochSeconds(record.created_at_us)},
          {"ModifiedAt", EpochSeconds(record.modified_at_us)}};
}

void CreateSamplingRule(SamplingApi& api, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Field<simdjson::dom::object> object = body.Object("SamplingRule");
  if (!object.ok()) return respond(StatusResponse(object.status()));
  if (!object->has_value()) return respond(InvalidRequest("SamplingRule: required"));
  Result<sampling::SamplingRule> rule = ReadRule(*api.rules, **object);
  if (!rule.ok()) return respond(StatusResponse(rule.status()));
  Result<sampling::Tags> tags = ReadTags(body);
  if (!tags.ok()) return respond(StatusResponse(tags.status()));
  Result<RuleRecord> created = api.rules->Create(std::move(*rule), std::move(*tags));
  if (!created.ok()) return respond(SamplingError(created.status()));
  respond(JsonResponse({{"SamplingRuleRecord", RecordJson(*api.rules, *created)}}));
}

void UpdateSamplingRule(SamplingApi& api, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Field<simdjson::dom::object> object = body.Object("SamplingRuleUpdate");
  if (!object.ok()) return respond(StatusResponse(object.status()));
  if (!object->has_value()) return respond(InvalidRequest("SamplingRuleUpdate: required"));
  Result<RuleRef> ref = ReadRuleRef(*api.rules, **object, "SamplingRuleUpdate");
  if (!ref.ok()) return respond(StatusResponse(ref.status()));
  Result<sampling::RuleUpdate> update = ReadUpdate(**object);
  if (!update.ok()) return respond(StatusResponse(update.status()));
  Result<RuleRecord> updated = api.rules->Update(*ref, *update);
  if (!updated.ok()) return respond(SamplingError(updated.status()));
  respond(JsonResponse({{"SamplingRuleRecord", RecordJson(*api.rules, *updated)}}));
}

void DeleteSamplingRule(SamplingApi& api, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<RuleRef> ref = ReadRuleRef(*api.rules, body.root(), "");
  if (!ref.ok()) return respond(StatusResponse(ref.status()));
  Result<RuleRecord> deleted = api.rules->Delete(*ref);
  if (!deleted.ok()) return respond(SamplingError(deleted.status()));
  respond(JsonResponse({{"SamplingRuleRecord", RecordJson(*api.rules, *deleted)}}));
}

void GetSamplingRules(SamplingApi& api, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Field<std::string_view> token = body.String("NextToken");
  if (!token.ok()) return respond(StatusResponse(token.status()));
  Result<sampling::RulePage> page = api.rules->ListPage(token->value_or(""), kRulesPerPage);
  if (!page.ok()) return respond(SamplingError(page.status()));
  json records = json::array();
  for (const RuleRecord& r : page->records) records.push_back(RecordJson(*api.rules, r));
  json response = {{"SamplingRuleRecords", std::move(records)}};
  if (page->next_token) response["NextToken"] = *page->next_token;
  respond(JsonResponse(response));
}

// One SamplingStatisticsDocument; InvalidArgument names the field.
Result<sampling::StatisticsDocument> ReadStatisticsDocument(simdjson::dom::element e,
                                                            std::string_view path) {
  simdjson::dom::object o;
  if (e.get(o) != simdjson::SUCCESS) {
    return Status::InvalidArgument(fmt::format("{}: must be an object", path));
  }
  sampling::StatisticsDocument doc;
  std::optional<std::string> rule_name, client_id;
  std::optional<int64_t> timestamp, requests, sampled, borrowed;
  RG_RETURN_IF_ERROR(ReadString(o, path, "RuleName", true, rule_name));
  RG_RETURN_IF_ERROR(ReadString(o, path, "ClientID", true, client_id));
  RG_RETURN_IF_ERROR(ReadNumber(o, path, "Timestamp", true, GetEpochMicros, timestamp));
  RG_RETURN_IF_ERROR(ReadNumber(o, path, "RequestCount", true, GetCount, requests));
  RG_RETURN_IF_ERROR(ReadNumber(o, path, "SampledCount", true, GetCount, sampled));
  RG_RETURN_IF_ERROR(ReadNumber(o, path, "BorrowCount", false, GetCount, borrowed));
  doc.rule_name = std::move(*rule_name);
  doc.client_id = std::move(*client_id);
  doc.timestamp_us = *timestamp;
  doc.counts = sampling::Counts{*requests, *sampled, borrowed.value_or(0)};
  return doc;
}

// One SamplingBoostStatisticsDocument, checked against X-Ray's model; its
// RuleName, or InvalidArgument naming the field.
Result<std::string> ReadBoostDocument(simdjson::dom::element e, std::string_view path) {
  simdjson::dom::object o;
  if (e.get(o) != simdjson::SUCCESS) {
    return Status::InvalidArgument(fmt::format("{}: must be an object", path));
  }
  std::optional<std::string> rule_name, service_name;
  std::optional<int64_t> timestamp, anomalies, total, sampled_anomalies;
  RG_RETURN_IF_ERROR(ReadString(o, path, "RuleName", true, rule_name));
  RG_RETURN_IF_ERROR(sampling::ValidateRuleName(*rule_name, PathOf(path, "RuleName")));
  RG_RETURN_IF_ERROR(ReadString(o, path, "ServiceName", true, service_name));
  if (service_name->size() > sampling::kMaxMatcherLength) {
    return Status::InvalidArgument(fmt::format("{}: must be at most {} characters long",
                                               PathOf(path, "ServiceName"),
                                               sampling::kMaxMatcherLength));
  }
  RG_RETURN_IF_ERROR(ReadNumber(o, path, "Timestamp", true, GetEpochMicros, timestamp));
  RG_RETURN_IF_ERROR(ReadNumber(o, path, "AnomalyCount", true, GetCount, anomalies));
  RG_RETURN_IF_ERROR(ReadNumber(o, path, "TotalCount", true, GetCount, total));
  RG_RETURN_IF_ERROR(ReadNumber(o, path, "SampledAnomalyCount", true, GetCount, sampled_anomalies));
  return *rule_name;
}

void GetSamplingTargets(SamplingApi& api, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Field<simdjson::dom::array> documents = body.Array("SamplingStatisticsDocuments");
  if (!documents.ok()) return respond(StatusResponse(documents.status()));
  if (!documents->has_value())
    return respond(InvalidRequest("SamplingStatisticsDocuments: required"));
  if ((*documents)->size() > sampling::kMaxStatisticsDocuments) {
    return respond(InvalidRequest(fmt::format("SamplingStatisticsDocuments: at most {} documents",
                                              sampling::kMaxStatisticsDocuments)));
  }
  Field<simdjson::dom::array> boosts = body.Array("SamplingBoostStatisticsDocuments");
  if (!boosts.ok()) return respond(StatusResponse(boosts.status()));
  if (boosts->has_value() && (*boosts)->size() > kMaxBoostDocuments) {
    return respond(InvalidRequest(
        fmt::format("SamplingBoostStatisticsDocuments: at most {} documents", kMaxBoostDocuments)));
  }
  Result<std::vector<RuleRecord>> records = api.rules->List();
  if (!records.ok()) return respond(StatusResponse(records.status()));
  std::vector<sampling::SamplingRule> rules;
  for (RuleRecord& r : *records) rules.push_back(std::move(r.rule));
  Result<int64_t> last_modification = api.rules->LastModification();
  if (!last_modification.ok()) return respond(StatusResponse(last_modification.status()));

  json unprocessed = json::array();
  std::vector<sampling::StatisticsDocument> docs;
  size_t i = 0;
  for (simdjson::dom::element e : **documents) {
    Result<sampling::StatisticsDocument> doc =
        ReadStatisticsDocument(e, fmt::format("SamplingStatisticsDocuments[{}]", i));
    if (doc.ok()) {
      docs.push_back(std::move(*doc));
    } else {
      std::string_view name;
      if (e["RuleName"].get(name) != simdjson::SUCCESS) name = "";
      unprocessed.push_back(
          {{"RuleName", name}, {"ErrorCode", "400"}, {"Message", doc.status().message()}});
    }
    ++i;
  }
  const sampling::TargetsResult result = api.allocator->Report(docs, rules);
  if (!result.status.ok()) return respond(StatusResponse(result.status));
  for (const sampling::Unprocessed& u : result.unprocessed) {
    unprocessed.push_back(
        {{"RuleName", u.rule_name}, {"ErrorCode", u.error_code}, {"Message", u.message}});
  }
  json targets = json::array();
  for (const sampling::Target& t : result.targets) {
    targets.push_back({{"RuleName", t.rule_name},
                       {"FixedRate", t.fixed_rate},
                       {"ReservoirQuota", t.reservoir_quota},
                       {"ReservoirQuotaTTL", t.reservoir_quota_ttl_s},
                       {"Interval", t.interval_s}});
  }
  json unprocessed_boosts = json::array();
  if (boosts->has_value()) {
    i = 0;
    for (simdjson::dom::element e : **boosts) {
      Result<std::string> rule_name =
          ReadBoostDocument(e, fmt::format("SamplingBoostStatisticsDocuments[{}]", i));
      std::string_view name;
      if (e["RuleName"].get(name) != simdjson::SUCCESS) name = "";
      if (!rule_name.ok()) {
        unprocessed_boosts.push_back(
            {{"RuleName", name}, {"ErrorCode", "400"}, {"Message", rule_name.status().message()}});
      } else if (std::none_of(rules.begin(), rules.end(), [&](const sampling::SamplingRule& r) {
                   return r.rule_name == *rule_name;
                 })) {
        unprocessed_boosts.push_back(
            {{"RuleName", *rule_name},
             {"ErrorCode", "400"},
             {"Message", fmt::format("RuleName: no sampling rule named '{}'", *rule_name)}});
      }
      ++i;
    }
  }
  respond(JsonResponse({{"SamplingTargetDocuments", std::move(targets)},
                        {"LastRuleModification", EpochSeconds(*last_modification)},
                        {"UnprocessedStatistics", std::move(unprocessed)},
                        {"UnprocessedBoostStatistics", std::move(unprocessed_boosts)}}));
}

void GetSamplingStatisticSummaries(SamplingApi& api, const HttpRequest& request,
                                   Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Field<std::string_view> token = body.String("NextToken");
  if (!token.ok()) return respond(StatusResponse(token.status()));
  Result<sampling::SummaryPage> page = api.statistics->Page(token->value_or(""), kSummariesPerPage);
  if (!page.ok()) return respond(StatusResponse(page.status()));
  json summaries = json::array();
  for (const sampling::WindowSummary& w : page->summaries) {
    summaries.push_back({{"RuleName", w.rule_name},
                         {"Timestamp", EpochSeconds(w.window_start_us)},
                         {"RequestCount", w.counts.request_count},
                         {"BorrowCount", w.counts.borrow_count},
                         {"SampledCount", w.counts.sampled_count}});
  }
  json response = {{"SamplingStatisticSummaries", std::move(summaries)}};
  if (page->next_token) response["NextToken"] = *page->next_token;
  respond(JsonResponse(response));
}

void AddSamplingRoutes(Router& router, std::shared_ptr<SamplingApi> api) {
  using Fn = void (*)(SamplingApi&, const HttpRequest&, Responder);
  const std::pair<const char*, Fn> routes[] = {
      {"/CreateSamplingRule", &CreateSamplingRule},
      {"/UpdateSamplingRule", &UpdateSamplingRule},
      {"/DeleteSamplingRule", &DeleteSamplingRule},
      {"/GetSamplingRules", &GetSamplingRules},
      {"/SamplingTargets", &GetSamplingTargets},
      {"/SamplingStatisticSummaries", &GetSamplingStatisticSummaries},
  };
  for (const auto& [path, fn] : routes) {
    // fn = fn: clang 14 cannot capture a structured binding by name.
    router.Add("POST", path, [api, fn = fn](const HttpRequest& request, Responder respond) {
      fn(*api, request, std::move(respond));
    });
  }
}

}  // namespace

void RegisterSamplingApis(Router& router, std::shared_ptr<sampling::RuleRegistry> rules,
                          const Clock& clock) {
  AddSamplingRoutes(router, std::make_shared<SamplingApi>(std::move(rules), clock));
}

void RegisterSamplingApis(Router& router, std::shared_ptr<sampling::RuleRegistry> rules,
                          store::Store& store, const Clock& clock) {
  if (!store.DerivesRecords()) return RegisterSamplingApis(router, std::move(rules), clock);
  AddSamplingRoutes(router, std::make_shared<SamplingApi>(std::move(rules), store, clock));
}

}  // namespace roentgen::api
