// Resource policies persisted in the store's config space. See
// resource_policies.h.
#include "api/resource_policies.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <nlohmann/json.hpp>

#include "api/account_settings.h"

namespace roentgen::api {
namespace {

constexpr std::string_view kRevisionKey = "policy_revision";

Status Malformed(std::string_view where, std::string_view what) {
  return Status::InvalidArgument(fmt::format("PolicyDocument: {}: {}", where, what));
}

bool OneOf(std::string_view key, std::initializer_list<std::string_view> keys) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// A string, or a non-empty array of strings, each accepted by `valid`.
template <typename Valid>
Status CheckStrings(simdjson::dom::element e, std::string_view where, std::string_view what,
                    Valid valid) {
  std::string_view text;
  if (e.get(text) == simdjson::SUCCESS) {
    if (!valid(text)) return Malformed(where, fmt::format("'{}' is not {}", text, what));
    return Status::Ok();
  }
  simdjson::dom::array array;
  if (e.get(array) != simdjson::SUCCESS || array.size() == 0) {
    return Malformed(where, fmt::format("must be {} or a non-empty list of them", what));
  }
  for (simdjson::dom::element item : array) {
    if (item.get(text) != simdjson::SUCCESS) {
      return Malformed(where, fmt::format("must be {} or a non-empty list of them", what));
    }
    if (!valid(text)) return Malformed(where, fmt::format("'{}' is not {}", text, what));
  }
  return Status::Ok();
}

bool IsAction(std::string_view action) {
  if (action == "*") return true;
  const size_t colon = action.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == action.size()) return false;
  const std::string_view service = action.substr(0, colon);
  const std::string_view name = action.substr(colon + 1);
  return std::all_of(service.begin(), service.end(),
                     [](char c) {
                       return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || c == '-';
                     }) &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '*' || c == '?' || c == '-' || c == '_';
         });
}

bool NotEmpty(std::string_view s) { return !s.empty(); }

Status CheckPrincipal(simdjson::dom::element e, std::string_view where) {
  std::string_view text;
  if (e.get(text) == simdjson::SUCCESS) {
    if (text != "*") return Malformed(where, "must be \"*\" or an object such as {\"AWS\": …}");
    return Status::Ok();
  }
  simdjson::dom::object o;
  if (e.get(o) != simdjson::SUCCESS || o.size() == 0) {
    return Malformed(where, "must be \"*\" or an object such as {\"AWS\": …}");
  }
  for (auto [key, value] : o) {
    if (!OneOf(key, {"AWS", "Service", "Federated", "CanonicalUser"})) {
      return Malformed(where, fmt::format("unknown principal type '{}' (AWS, Service, Federated "
                                          "or CanonicalUser)",
                                          key));
    }
    RG_RETURN_IF_ERROR(
        CheckStrings(value, fmt::format("{}.{}", where, key), "a principal", NotEmpty));
  }
  return Status::Ok();
}

Status CheckCondition(simdjson::dom::element e, std::string_view where) {
  simdjson::dom::object operators;
  if (e.get(operators) != simdjson::SUCCESS) {
    return Malformed(where, "must be an object of condition operators");
  }
  for (auto [op, block] : operators) {
    const std::string op_where = fmt::format("{}.{}", where, op);
    simdjson::dom::object conditions;
    if (block.get(conditions) != simdjson::SUCCESS || conditions.size() == 0) {
      return Malformed(op_where, "must be an object of condition keys and values");
    }
    for (auto [key, value] : conditions) {
      const auto scalar = [](simdjson::dom::element v) {
        return v.is_string() || v.is_number() || v.is_bool();
      };
      bool ok = scalar(value);
      simdjson::dom::array values;
      if (!ok && value.get(values) == simdjson::SUCCESS && values.size() > 0) {
        ok = std::all_of(values.begin(), values.end(), scalar);
      }
      if (!ok) {
        return Malformed(fmt::format("{}.{}", op_where, key),
                         "must be a string, number or boolean, or a non-empty list of them");
      }
    }
  }
  return Status::Ok();
}

Status CheckStatement(simdjson::dom::element e, std::string_view where) {
  simdjson::dom::object statement;
  if (e.get(statement) != simdjson::SUCCESS) return Malformed(where, "must be an object");
  bool has_effect = false;
  int principals = 0, actions = 0, resources = 0;
  for (auto [key, value] : statement) {
    const std::string member = fmt::format("{}.{}", where, key);
    if (key == "Sid") {
      if (!value.is_string()) return Malformed(member, "must be a string");
    } else if (key == "Effect") {
      std::string_view effect;
      if (value.get(effect) != simdjson::SUCCESS || (effect != "Allow" && effect != "Deny")) {
        return Malformed(member, "must be \"Allow\" or \"Deny\"");
      }
      has_effect = true;
    } else if (key == "Principal" || key == "NotPrincipal") {
      RG_RETURN_IF_ERROR(CheckPrincipal(value, member));
      ++principals;
    } else if (key == "Action" || key == "NotAction") {
      RG_RETURN_IF_ERROR(
          CheckStrings(value, member, "an action (\"*\" or \"service:name\")", IsAction));
      ++actions;
    } else if (key == "Resource" || key == "NotResource") {
      RG_RETURN_IF_ERROR(CheckStrings(value, member, "a resource", NotEmpty));
      ++resources;
    } else if (key == "Condition") {
      RG_RETURN_IF_ERROR(CheckCondition(value, member));
    } else {
      return Malformed(where, fmt::format("unknown member '{}'", key));
    }
  }
  if (!has_effect) return Malformed(where, "Effect is required");
  if (principals != 1)
    return Malformed(where, "exactly one of Principal or NotPrincipal is required");
  if (actions != 1) return Malformed(where, "exactly one of Action or NotAction is required");
  if (resources != 1) return Malformed(where, "exactly one of Resource or NotResource is required");
  return Status::Ok();
}

std::string Encode(const ResourcePolicy& p) {
  return nlohmann::json{{"name", p.name},
                        {"document", p.document},
                        {"revision", p.revision_id},
                        {"updated_us", p.last_updated_us}}
      .dump();
}

Result<ResourcePolicy> Decode(std::string_view key, const std::string& value) {
  auto corrupt = [&] {
    return Status::Corruption(
        fmt::format("resource policy '{}': stored record does not decode", key));
  };
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  if (parser.parse(value).get(o) != simdjson::SUCCESS) return corrupt();
  std::string_view name, document, revision;
  int64_t updated = 0;
  if (o["name"].get(name) != simdjson::SUCCESS ||
      o["document"].get(document) != simdjson::SUCCESS ||
      o["revision"].get(revision) != simdjson::SUCCESS ||
      o["updated_us"].get(updated) != simdjson::SUCCESS) {
    return corrupt();
  }
  return ResourcePolicy{std::string(name), std::string(document), std::string(revision), updated};
}

Status Refuse(PolicyRefusal* refusal, PolicyRefusal why, std::string message) {
  if (refusal) *refusal = why;
  return Status::InvalidArgument(std::move(message));
}

}  // namespace

std::string_view PolicyRefusalName(PolicyRefusal refusal) {
  switch (refusal) {
    case PolicyRefusal::kNone:
    case PolicyRefusal::kInvalidRequest:
      return "InvalidRequestException";
    case PolicyRefusal::kMalformedDocument:
      return "MalformedPolicyDocumentException";
    case PolicyRefusal::kSizeLimitExceeded:
      return "PolicySizeLimitExceededException";
    case PolicyRefusal::kCountLimitExceeded:
      return "PolicyCountLimitExceededException";
    case PolicyRefusal::kInvalidRevisionId:
      return "InvalidPolicyRevisionIdException";
  }
  return "InvalidRequestException";
}

Status ValidatePolicyName(std::string_view name) {
  if (name.empty() || name.size() > kMaxPolicyNameLength) {
    return Status::InvalidArgument(
        fmt::format("PolicyName: must be 1 to {} characters long", kMaxPolicyNameLength));
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '+' || c == '=' || c == ',' || c == '.' || c == '@' ||
                    c == '-';
    if (!ok) {
      return Status::InvalidArgument(
          "PolicyName: may contain only letters, digits and _ + = , . @ -");
    }
  }
  return Status::Ok();
}

Status ValidatePolicyDocument(std::string_view document) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(document.data(), document.size()).get(root);
      err != simdjson::SUCCESS) {
    return Status::InvalidArgument(
        fmt::format("PolicyDocument: not valid JSON: {}", simdjson::error_message(err)));
  }
  simdjson::dom::object policy;
  if (root.get(policy) != simdjson::SUCCESS) {
    return Status::InvalidArgument("PolicyDocument: must be a JSON object");
  }
  bool has_statement = false;
  for (auto [key, value] : policy) {
    if (key == "Version") {
      std::string_view version;
      if (value.get(version) != simdjson::SUCCESS ||
          (version != "2012-10-17" && version != "2008-10-17")) {
        return Malformed("Version", "must be \"2012-10-17\" or \"2008-10-17\"");
      }
    } else if (key == "Id") {
      if (!value.is_string()) return Malformed("Id", "must be a string");
    } else if (key == "Statement") {
      has_statement = true;
      simdjson::dom::array statements;
      if (value.get(statements) == simdjson::SUCCESS) {
        if (statements.size() == 0) return Malformed("Statement", "must not be empty");
        size_t i = 0;
        for (simdjson::dom::element s : statements) {
          RG_RETURN_IF_ERROR(CheckStatement(s, fmt::format("Statement[{}]", i++)));
        }
      } else {
        RG_RETURN_IF_ERROR(CheckStatement(value, "Statement"));
      }
    } else {
      return Status::InvalidArgument(
          fmt::format("PolicyDocument: unknown member '{}' (Version, Id, Statement)", key));
    }
  }
  if (!has_statement) return Status::InvalidArgument("PolicyDocument: Statement is required");
  return Status::Ok();
}

ResourcePolicyRegistry::ResourcePolicyRegistry(store::Store& store, const Clock& clock)
    : store_(store), clock_(clock) {}

Result<std::optional<ResourcePolicy>> ResourcePolicyRegistry::Load(std::string_view name) const {
  Result<std::string> value = store_.GetConfig(kPolicyNamespace, name);
  if (!value.ok()) {
    if (value.status().code() == StatusCode::kNotFound) return std::optional<ResourcePolicy>();
    return value.status();
  }
  Result<ResourcePolicy> policy = Decode(name, *value);
  if (!policy.ok()) return policy.status();
  return std::optional<ResourcePolicy>(std::move(*policy));
}

Result<std::string> ResourcePolicyRegistry::NextRevisionId() {
  uint64_t last = 0;
  Result<std::string> stored = store_.GetConfig(kAccountNamespace, kRevisionKey);
  if (stored.ok()) {
    const auto [end, ec] = std::from_chars(stored->data(), stored->data() + stored->size(), last);
    if (ec != std::errc() || end != stored->data() + stored->size()) {
      return Status::Corruption(
          fmt::format("{}/{}: not a number: '{}'", kAccountNamespace, kRevisionKey, *stored));
    }
  } else if (stored.status().code() != StatusCode::kNotFound) {
    return stored.status();
  }
  const std::string next = std::to_string(last + 1);
  RG_RETURN_IF_ERROR(store_.PutConfig(kAccountNamespace, kRevisionKey, next));
  return next;
}

Result<ResourcePolicy> ResourcePolicyRegistry::Put(std::string_view name, std::string_view document,
                                                   std::optional<std::string_view> revision_id,
                                                   PolicyRefusal* refusal) {
  if (refusal) *refusal = PolicyRefusal::kNone;
  if (Status s = ValidatePolicyName(name); !s.ok()) {
    return Refuse(refusal, PolicyRefusal::kInvalidRequest, s.message());
  }
  if (document.size() > kMaxPolicyDocumentBytes) {
    return Refuse(refusal, PolicyRefusal::kSizeLimitExceeded,
                  fmt::format("PolicyDocument: {} bytes, over the {}-byte limit", document.size(),
                              kMaxPolicyDocumentBytes));
  }
  if (Status s = ValidatePolicyDocument(document); !s.ok()) {
    return Refuse(refusal, PolicyRefusal::kMalformedDocument, s.message());
  }
  MutexLock lock(mu_);
  Result<std::optional<ResourcePolicy>> existing = Load(name);
  if (!existing.ok()) return existing.status();
  if (revision_id) {
    if (*revision_id == "0" && existing->has_value()) {
      return Refuse(refusal, PolicyRefusal::kInvalidRevisionId,
                    fmt::format("PolicyRevisionId: 0 creates a policy, and '{}' exists (revision "
                                "{})",
                                name, (*existing)->revision_id));
    }
    if (*revision_id != "0" && !existing->has_value()) {
      return Refuse(refusal, PolicyRefusal::kInvalidRevisionId,
                    fmt::format("PolicyRevisionId: there is no policy '{}' to update", name));
    }
    if (*revision_id != "0" && (*existing)->revision_id != *revision_id) {
      return Refuse(refusal, PolicyRefusal::kInvalidRevisionId,
                    fmt::format("PolicyRevisionId: '{}' is not the current revision of '{}' ({})",
                                revision_id->substr(0, 100), name, (*existing)->revision_id));
    }
  }
  if (!existing->has_value()) {
    Result<std::vector<std::pair<std::string, std::string>>> all =
        store_.ListConfig(kPolicyNamespace);
    if (!all.ok()) return all.status();
    if (all->size() >= kMaxPolicies) {
      return Refuse(refusal, PolicyRefusal::kCountLimitExceeded,
                    fmt::format("an account may have at most {} resource policies; delete one "
                                "before creating '{}'",
                                kMaxPolicies, name));
    }
  }
  Result<std::string> revision = NextRevisionId();
  if (!revision.ok()) return revision.status();
  ResourcePolicy policy{std::string(name), std::string(document), std::move(*revision),
                        clock_.NowMicros()};
  RG_RETURN_IF_ERROR(store_.PutConfig(kPolicyNamespace, name, Encode(policy)));
  return policy;
}

Result<std::vector<ResourcePolicy>> ResourcePolicyRegistry::List() const {
  Result<std::vector<std::pair<std::string, std::string>>> all =
      store_.ListConfig(kPolicyNamespace);
  if (!all.ok()) return all.status();
  std::vector<ResourcePolicy> policies;
  for (const auto& [key, value] : *all) {
    Result<ResourcePolicy> policy = Decode(key, value);
    if (!policy.ok()) return policy.status();
    policies.push_back(std::move(*policy));
  }
  std::sort(policies.begin(), policies.end(),
            [](const ResourcePolicy& a, const ResourcePolicy& b) { return a.name < b.name; });
  return policies;
}

Status ResourcePolicyRegistry::Delete(std::string_view name,
                                      std::optional<std::string_view> revision_id,
                                      PolicyRefusal* refusal) {
  if (refusal) *refusal = PolicyRefusal::kNone;
  if (Status s = ValidatePolicyName(name); !s.ok()) {
    return Refuse(refusal, PolicyRefusal::kInvalidRequest, s.message());
  }
  MutexLock lock(mu_);
  Result<std::optional<ResourcePolicy>> existing = Load(name);
  if (!existing.ok()) return existing.status();
  if (!existing->has_value()) {
    if (revision_id) {
      return Refuse(refusal, PolicyRefusal::kInvalidRevisionId,
                    fmt::format("PolicyRevisionId: there is no policy '{}'", name));
    }
    return Status::Ok();
  }
  if (revision_id && (*existing)->revision_id != *revision_id) {
    return Refuse(refusal, PolicyRefusal::kInvalidRevisionId,
                  fmt::format("PolicyRevisionId: '{}' is not the current revision of '{}' ({})",
                              revision_id->substr(0, 100), name, (*existing)->revision_id));
  }
  return store_.DeleteConfig(kPolicyNamespace, name);
}

}  // namespace roentgen::api
