#include "store/rocksdb/index_plan.h"

#include <cmath>

namespace roentgen::store {
namespace {

using filter::BoundKind;
using filter::BoundNode;
using filter::CompareOp;
using filter::Field;
using filter::Literal;
using filter::Scope;
using Kind = IndexCondition::Kind;

// Lower is better; 0 = not indexable.
int Rank(const BoundNode& n, IndexCondition& out) {
  if (n.scope != Scope::kTrace) return 0;
  switch (n.kind) {
    case BoundKind::kAnnotation:
      if (n.op != CompareOp::kEq) return 0;
      out.kind = Kind::kAnnotationEquals;
      out.key = n.key;
      if (n.value_kind == Literal::Kind::kString) {
        out.value = n.text;
      } else if (n.value_kind == Literal::Kind::kNumber) {
        out.value = n.number;
      } else {
        out.value = n.boolean;
      }
      return 1;
    case BoundKind::kString:
      if (n.field != Field::kUser || n.op != CompareOp::kEq) return 0;
      out.kind = Kind::kUser;
      out.text = n.text;
      return 2;
    case BoundKind::kService:
      if (n.services.empty() || !n.services[0].name) return 0;
      out.kind = Kind::kServiceName;
      // Name only: the store indexes the summary's ServiceIds, whose types for
      // inferred services need not equal the trace graph's node types.
      out.text = *n.services[0].name;
      return 3;
    case BoundKind::kNumber:
      if (n.field != Field::kHttpStatus || n.op != CompareOp::kEq ||
          n.number != std::floor(n.number) || std::abs(n.number) > 1e6) {
        return 0;
      }
      out.kind = Kind::kHttpStatus;
      out.http_status = static_cast<int>(n.number);
      return 4;
    case BoundKind::kBool:
      if (!n.boolean) return 0;
      if (n.field == Field::kFault) {
        out.kind = Kind::kFault;
      } else if (n.field == Field::kError) {
        out.kind = Kind::kError;
      } else if (n.field == Field::kThrottle) {
        out.kind = Kind::kThrottle;
      } else {
        return 0;
      }
      return 5;
    default:
      return 0;
  }
}

void Visit(const BoundNode& n, int& best_rank, std::optional<IndexCondition>& best) {
  if (n.kind == BoundKind::kAnd) {
    for (const BoundNode& child : n.children) Visit(child, best_rank, best);
    return;
  }
  IndexCondition cond;
  const int rank = Rank(n, cond);
  if (rank != 0 && (best_rank == 0 || rank < best_rank)) {
    best_rank = rank;
    best = std::move(cond);
  }
}

}  // namespace

std::optional<IndexCondition> ChooseIndex(const filter::BoundNode& filter) {
  int best_rank = 0;
  std::optional<IndexCondition> best;
  Visit(filter, best_rank, best);
  return best;
}

}  // namespace roentgen::store
