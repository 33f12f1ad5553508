#include "filter/column_predicates.h"

#include <algorithm>

namespace roentgen::filter {
namespace {

void Collect(const BoundNode& n, std::vector<NumberPredicate>& out) {
  if (n.kind == BoundKind::kAnd) {
    for (const BoundNode& c : n.children) Collect(c, out);
    return;
  }
  if (n.kind != BoundKind::kNumber || n.scope != Scope::kTrace) return;
  if (n.field != Field::kResponseTime && n.field != Field::kDuration &&
      n.field != Field::kHttpStatus) {
    return;
  }
  switch (n.op) {
    case CompareOp::kEq:
    case CompareOp::kNe:
    case CompareOp::kLt:
    case CompareOp::kLe:
    case CompareOp::kGt:
    case CompareOp::kGe:
      out.push_back(NumberPredicate{n.field, n.op, n.number});
      return;
    default:
      return;  // an operator the evaluator never satisfies on numbers: left to it
  }
}

void CollectServiceNames(const BoundNode& n, std::vector<std::string>& out) {
  if (n.kind == BoundKind::kAnd) {
    for (const BoundNode& c : n.children) CollectServiceNames(c, out);
    return;
  }
  if (n.scope != Scope::kTrace) return;
  if (n.kind != BoundKind::kService && n.kind != BoundKind::kEdge) return;
  // service(…) tests services[0] against one node; edge(…) services[0]
  // against the caller and services[1] against the callee: each named
  // matcher needs a node of that name.
  const size_t sides = n.kind == BoundKind::kEdge ? 2 : 1;
  for (size_t i = 0; i < sides && i < n.services.size(); ++i) {
    const std::optional<std::string>& name = n.services[i].name;
    if (name && std::find(out.begin(), out.end(), *name) == out.end()) out.push_back(*name);
  }
}

// `n`, inside a service's scope: the flags every observation it accepts has.
void CollectScopeFlags(const BoundNode& n, std::vector<Field>& out) {
  if (n.kind == BoundKind::kAnd) {
    for (const BoundNode& c : n.children) CollectScopeFlags(c, out);
    return;
  }
  if (n.kind != BoundKind::kBool || n.scope != Scope::kService || !n.boolean) return;
  if (n.field != Field::kFault && n.field != Field::kError && n.field != Field::kThrottle) return;
  if (std::find(out.begin(), out.end(), n.field) == out.end()) out.push_back(n.field);
}

void CollectNodeFlags(const BoundNode& n, std::vector<Field>& out) {
  if (n.kind == BoundKind::kAnd) {
    for (const BoundNode& c : n.children) CollectNodeFlags(c, out);
    return;
  }
  if (n.scope != Scope::kTrace || n.kind != BoundKind::kService || n.children.empty()) return;
  CollectScopeFlags(n.children[0], out);
}

}  // namespace

std::vector<Field> RequiredNodeFlags(const BoundNode& filter) {
  std::vector<Field> out;
  CollectNodeFlags(filter, out);
  return out;
}

std::vector<std::string> RequiredServiceNames(const BoundNode& filter) {
  std::vector<std::string> out;
  CollectServiceNames(filter, out);
  return out;
}

bool NumberPredicate::Matches(std::optional<int64_t> value) const {
  if (!value) return false;
  // The same conversion as the evaluator's (eval.cpp), so the answers agree.
  const double v =
      field == Field::kHttpStatus ? static_cast<double>(*value) : static_cast<double>(*value) / 1e6;
  switch (op) {
    case CompareOp::kEq:
      return v == number;
    case CompareOp::kNe:
      return v != number;
    case CompareOp::kLt:
      return v < number;
    case CompareOp::kLe:
      return v <= number;
    case CompareOp::kGt:
      return v > number;
    case CompareOp::kGe:
      return v >= number;
    default:
      return false;
  }
}

std::vector<NumberPredicate> RequiredNumberPredicates(const BoundNode& filter) {
  std::vector<NumberPredicate> out;
  Collect(filter, out);
  return out;
}

}  // namespace roentgen::filter
