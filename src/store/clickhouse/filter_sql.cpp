#include "store/clickhouse/filter_sql.h"

#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "filter/column_predicates.h"
#include "store/clickhouse/clickhouse_client.h"
#include "store/clickhouse/clickhouse_schema.h"

namespace roentgen::store::clickhouse {
namespace {

using filter::BoundKind;
using filter::BoundNode;
using filter::CompareOp;
using filter::Field;

// Bounds past this are not pushed (the condition would only say "any value").
constexpr double kPushableMagnitude = 1e17;

// `v` (the filter's number: seconds for times) as a condition on the
// column's integer, one unit wider on each side than the exact bound.
std::string NumberCondition(const filter::NumberPredicate& p) {
  const char* column = "http_status";
  const char* presence = "has_http_status";
  double scale = 1;
  if (p.field == Field::kResponseTime) {
    column = "response_time_us";
    presence = "has_response_time";
    scale = 1e6;
  } else if (p.field == Field::kDuration) {
    column = "duration_us";
    presence = "has_duration";
    scale = 1e6;
  }
  std::string out = fmt::format("{} = 1", presence);
  const double bound = p.number * scale;
  if (!std::isfinite(bound) || std::fabs(bound) > kPushableMagnitude) return out;
  const auto low = static_cast<int64_t>(std::floor(bound)) - 1;
  const auto high = static_cast<int64_t>(std::ceil(bound)) + 1;
  switch (p.op) {
    case CompareOp::kEq:
      out += fmt::format(" AND {0} >= {1} AND {0} <= {2}", column, low, high);
      break;
    case CompareOp::kGt:
    case CompareOp::kGe:
      out += fmt::format(" AND {} >= {}", column, low);
      break;
    case CompareOp::kLt:
    case CompareOp::kLe:
      out += fmt::format(" AND {} <= {}", column, high);
      break;
    default:
      break;  // != : only that the value is there
  }
  return out;
}

// The condition `n` implies, "" when none: a conjunction implies what any
// of its parts does, an alternative what all of its branches do together.
std::string NodeCondition(const BoundNode& n) {
  if (n.kind == BoundKind::kAnd) {
    std::string out;
    for (const BoundNode& c : n.children) {
      const std::string part = NodeCondition(c);
      if (part.empty()) continue;
      if (!out.empty()) out += " AND ";
      // A nested AND's parts are parenthesized already: one flat list.
      out += c.kind == BoundKind::kAnd ? part : "(" + part + ")";
    }
    return out;
  }
  if (n.kind == BoundKind::kOr) {
    std::string out;
    for (const BoundNode& c : n.children) {
      const std::string part = NodeCondition(c);
      if (part.empty()) return "";  // that branch may hold anywhere
      if (!out.empty()) out += " OR ";
      out += "(" + part + ")";
    }
    return out;
  }
  if (n.scope != filter::Scope::kTrace) return "";
  switch (n.kind) {
    case BoundKind::kBool: {
      const char* column = nullptr;
      switch (n.field) {
        case Field::kFault:
          column = "fault";
          break;
        case Field::kError:
          column = "error";
          break;
        case Field::kThrottle:
          column = "throttle";
          break;
        case Field::kPartial:
          column = "partial";
          break;
        default:
          return "";
      }
      return fmt::format("{} = {}", column, n.boolean ? 1 : 0);
    }
    case BoundKind::kString:
      if (n.field != Field::kUser || n.op != CompareOp::kEq) return "";
      return fmt::format("has(users, {})", QuoteString(n.text));
    case BoundKind::kAnnotation: {
      if (n.op != CompareOp::kEq) return "";
      if (n.value_kind != filter::Literal::Kind::kString) {
        return fmt::format("has(annotation_keys, {})", QuoteString(n.key));
      }
      std::string pair = n.key;
      pair.push_back('\0');
      pair += n.text;
      return fmt::format("has(annotation_strings, {})", QuoteString(pair));
    }
    case BoundKind::kNumber: {
      // The same predicates the block engine tests (column_predicates.h).
      const std::vector<filter::NumberPredicate> p = filter::RequiredNumberPredicates(n);
      return p.size() == 1 ? NumberCondition(p[0]) : "";
    }
    case BoundKind::kService:
    case BoundKind::kEdge: {
      std::string out;
      for (const std::string& name : filter::RequiredServiceNames(n)) {
        if (!out.empty()) out += " AND ";
        out += fmt::format("has(node_names, {})", QuoteString(name));
      }
      return out;
    }
    default:
      return "";
  }
}

// The `trace_values` value an equality node requires, "" for other nodes.
std::string ValueOfEquality(const BoundNode& n) {
  if (n.scope != filter::Scope::kTrace || n.op != CompareOp::kEq) return "";
  if (n.kind == BoundKind::kString && n.field == Field::kUser) {
    return std::string(kUserValuePrefix) + n.text;
  }
  if (n.kind == BoundKind::kAnnotation && n.value_kind == filter::Literal::Kind::kString) {
    std::string value = std::string(kAnnotationValuePrefix) + n.key;
    value.push_back('\0');
    value += n.text;
    return value;
  }
  return "";
}

}  // namespace

std::string IndexedValue(const filter::BoundNode& filter) {
  if (filter.kind != BoundKind::kAnd) return ValueOfEquality(filter);
  for (const BoundNode& c : filter.children) {
    std::string value = IndexedValue(c);
    if (!value.empty()) return value;
  }
  return "";
}

std::string PushdownCondition(const filter::BoundNode& filter) {
  // At the top, every part in its own parentheses (an AND's are already).
  const std::string c = NodeCondition(filter);
  if (c.empty() || filter.kind == BoundKind::kAnd) return c;
  return "(" + c + ")";
}

}  // namespace roentgen::store::clickhouse
