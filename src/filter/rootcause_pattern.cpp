#include "filter/rootcause_pattern.h"

#include <fmt/format.h>
#include <simdjson.h>

namespace roentgen::filter {
namespace {

using simdjson::dom::element;

Status FieldError(std::string_view field, std::string_view what) {
  return Status::InvalidArgument(fmt::format("rootcause.json field '{}' {}", field, what));
}

Status GetString(element e, std::string_view field, std::optional<std::string>& out) {
  std::string_view s;
  if (e.get_string().get(s)) return FieldError(field, "must be a string");
  out = std::string(s);
  return Status::Ok();
}

Status GetBool(element e, std::string_view field, std::optional<bool>& out) {
  bool b = false;
  if (e.get_bool().get(b)) return FieldError(field, "must be true or false");
  out = b;
  return Status::Ok();
}

Status GetNumber(element e, std::string_view field, std::optional<double>& out) {
  if (!e.is_number()) return FieldError(field, "must be a number");
  double d = 0;
  if (e.get_double().get(d)) return FieldError(field, "must be a number");
  out = d;
  return Status::Ok();
}

// Calls `each(field_name, value)` for every field of the object `e`.
template <typename F>
Status ForEachField(element e, std::string_view what, F&& each) {
  simdjson::dom::object obj;
  if (e.get_object().get(obj)) {
    return Status::InvalidArgument(fmt::format("rootcause.json: {} must be a JSON object", what));
  }
  for (auto field : obj) RG_RETURN_IF_ERROR(each(field.key, field.value));
  return Status::Ok();
}

template <typename T, typename F>
Status GetList(element e, std::string_view field, std::optional<std::vector<T>>& out, F&& item) {
  simdjson::dom::array arr;
  if (e.get_array().get(arr)) return FieldError(field, "must be a JSON list");
  out.emplace();
  for (element x : arr) {
    out->emplace_back();
    RG_RETURN_IF_ERROR(item(x, out->back()));
  }
  return Status::Ok();
}

Status Unknown(std::string_view field, std::string_view expected) {
  return Status::InvalidArgument(
      fmt::format("rootcause.json: unknown field '{}' (expected one of {})", field, expected));
}

Status ParseException(element e, ExceptionPattern& p) {
  return ForEachField(e, "an exception", [&](std::string_view k, element v) {
    if (k == "Name") return GetString(v, k, p.name);
    if (k == "Message") return GetString(v, k, p.message);
    return Unknown(k, "Name, Message");
  });
}

Status ParseEntity(element e, EntityPattern& p) {
  return ForEachField(e, "an EntityPath element", [&](std::string_view k, element v) {
    if (k == "Name") return GetString(v, k, p.name);
    if (k == "Remote") return GetBool(v, k, p.remote);
    if (k == "Coverage") return GetNumber(v, k, p.coverage);
    if (k == "Exceptions") return GetList(v, k, p.exceptions, ParseException);
    return Unknown(k, "Name, Remote, Coverage, Exceptions");
  });
}

Status ParseNames(element e, std::string& out) {
  std::optional<std::string> s;
  RG_RETURN_IF_ERROR(GetString(e, "Names", s));
  out = *s;
  return Status::Ok();
}

Status ParseService(element e, ServicePattern& p) {
  return ForEachField(e, "a Services element", [&](std::string_view k, element v) {
    if (k == "Name") return GetString(v, k, p.name);
    if (k == "Names") return GetList(v, k, p.names, ParseNames);
    if (k == "Type") return GetString(v, k, p.type);
    if (k == "AccountId") return GetString(v, k, p.account_id);
    if (k == "Inferred") return GetBool(v, k, p.inferred);
    if (k == "EntityPath") return GetList(v, k, p.entity_path, ParseEntity);
    return Unknown(k, "Name, Names, Type, AccountId, Inferred, EntityPath");
  });
}

Status ParseCause(element e, RootCausePattern& p) {
  return ForEachField(e, "each root cause", [&](std::string_view k, element v) {
    if (k == "ClientImpacting") return GetBool(v, k, p.client_impacting);
    if (k == "Services") return GetList(v, k, p.services, ParseService);
    return Unknown(k, "Services, ClientImpacting");
  });
}

template <typename T>
bool Same(const std::optional<T>& want, const T& have) {
  return !want || *want == have;
}

// Ordered-subsequence match of `want` against `have`, element by `match`.
template <typename P, typename V, typename F>
bool InOrder(const std::optional<std::vector<P>>& want, const std::vector<V>& have, F&& match) {
  if (!want) return true;
  size_t j = 0;
  for (const P& p : *want) {
    while (j < have.size() && !match(p, have[j])) ++j;
    if (j == have.size()) return false;
    ++j;
  }
  return true;
}

bool MatchException(const ExceptionPattern& p, const xray::RootCauseException& e) {
  return Same(p.name, e.name) && Same(p.message, e.message);
}

bool MatchEntity(const EntityPattern& p, const xray::RootCauseEntity& e) {
  if (p.coverage && (!e.coverage || *e.coverage != *p.coverage)) return false;
  return Same(p.name, e.name) && Same(p.remote, e.remote) &&
         InOrder(p.exceptions, e.exceptions, MatchException);
}

bool MatchService(const ServicePattern& p, const xray::RootCauseService& s) {
  auto eq = [](const std::string& a, const std::string& b) { return a == b; };
  return Same(p.name, s.name) && Same(p.type, s.type) && Same(p.account_id, s.account_id) &&
         Same(p.inferred, s.inferred) && InOrder(p.names, s.names, eq) &&
         InOrder(p.entity_path, s.entity_path, MatchEntity);
}

}  // namespace

Result<std::vector<RootCausePattern>> ParseRootCausePatterns(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  element root;
  if (auto err = parser.parse(padded).get(root)) {
    return Status::InvalidArgument(
        fmt::format("rootcause.json: invalid JSON ({})", simdjson::error_message(err)));
  }
  std::optional<std::vector<RootCausePattern>> out;
  RG_RETURN_IF_ERROR(GetList(root, "#[…]", out, ParseCause));
  return std::move(*out);
}

bool MatchesPattern(const RootCausePattern& pattern, const xray::RootCause& cause) {
  return Same(pattern.client_impacting, cause.client_impacting) &&
         InOrder(pattern.services, cause.services, MatchService);
}

}  // namespace roentgen::filter
