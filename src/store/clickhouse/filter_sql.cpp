#include "store/clickhouse/filter_sql.h"

#include <fmt/format.h>

#include <cmath>
#include <vector>

#include "filter/column_predicates.h"
#include "store/clickhouse/clickhouse_client.h"

namespace roentgen::store::clickhouse {
namespace {

using filter::BoundKind;
using filter::BoundNode;
using filter::CompareOp;
using filter::Field;

// Bounds past this are not pushed (the condition would only say "any value").
constexpr double kPushableMagnitude = 1e17;

void CollectFlagsUsersAnnotations(const BoundNode& n, std::string_view prefix,
                                  std::vector<std::string>& out) {
  if (n.kind == BoundKind::kAnd) {
    for (const BoundNode& c : n.children) CollectFlagsUsersAnnotations(c, prefix, out);
    return;
  }
  if (n.scope != filter::Scope::kTrace) return;
  if (n.kind == BoundKind::kBool) {
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
        return;
    }
    out.push_back(fmt::format("{}{} = {}", prefix, column, n.boolean ? 1 : 0));
    return;
  }
  if (n.kind == BoundKind::kString && n.field == Field::kUser && n.op == CompareOp::kEq) {
    out.push_back(fmt::format("has({}users, {})", prefix, QuoteString(n.text)));
    return;
  }
  if (n.kind == BoundKind::kAnnotation && n.op == CompareOp::kEq) {
    if (n.value_kind == filter::Literal::Kind::kString) {
      std::string pair = n.key;
      pair.push_back('\0');
      pair += n.text;
      out.push_back(fmt::format("has({}annotation_strings, {})", prefix, QuoteString(pair)));
    } else {
      out.push_back(fmt::format("has({}annotation_keys, {})", prefix, QuoteString(n.key)));
    }
  }
}

// `v` (the filter's number: seconds for times) as a condition on the
// column's integer, one unit wider on each side than the exact bound.
std::string NumberCondition(const filter::NumberPredicate& p, std::string_view prefix) {
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
  std::string out = fmt::format("{}{} = 1", prefix, presence);
  const double bound = p.number * scale;
  if (!std::isfinite(bound) || std::fabs(bound) > kPushableMagnitude) return out;
  const auto low = static_cast<int64_t>(std::floor(bound)) - 1;
  const auto high = static_cast<int64_t>(std::ceil(bound)) + 1;
  switch (p.op) {
    case CompareOp::kEq:
      out += fmt::format(" AND {0}{1} >= {2} AND {0}{1} <= {3}", prefix, column, low, high);
      break;
    case CompareOp::kGt:
    case CompareOp::kGe:
      out += fmt::format(" AND {}{} >= {}", prefix, column, low);
      break;
    case CompareOp::kLt:
    case CompareOp::kLe:
      out += fmt::format(" AND {}{} <= {}", prefix, column, high);
      break;
    default:
      break;  // != : only that the value is there
  }
  return out;
}

}  // namespace

std::string PushdownCondition(const filter::BoundNode& filter, std::string_view prefix) {
  std::vector<std::string> parts;
  CollectFlagsUsersAnnotations(filter, prefix, parts);
  for (const filter::NumberPredicate& p : filter::RequiredNumberPredicates(filter)) {
    parts.push_back(NumberCondition(p, prefix));
  }
  for (const std::string& name : filter::RequiredServiceNames(filter)) {
    parts.push_back(fmt::format("has({}node_names, {})", prefix, QuoteString(name)));
  }
  std::string out;
  for (const std::string& part : parts) {
    if (!out.empty()) out += " AND ";
    out += "(" + part + ")";
  }
  return out;
}

}  // namespace roentgen::store::clickhouse
