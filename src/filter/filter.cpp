#include "filter/filter.h"

#include "filter/eval.h"
#include "filter/parser.h"
#include "filter/printer.h"

namespace roentgen::filter {
namespace {

// Whether evaluating `n` may read the trace graph (eval.cpp: service and edge
// nodes, and the `inferred` keyword).
bool ReadsGraph(const BoundNode& n) {
  if (n.kind == BoundKind::kService || n.kind == BoundKind::kEdge) return true;
  if (n.field == Field::kInferred) return true;
  for (const BoundNode& c : n.children) {
    if (ReadsGraph(c)) return true;
  }
  return false;
}

}  // namespace

bool CompiledFilter::Matches(const graph::TraceRecord& trace) const {
  return Evaluate(bound_, trace);
}

Result<CompiledFilter> CompileFilter(std::string_view expr, const GroupResolver* groups) {
  auto tree = Parse(expr);
  if (!tree.ok()) return tree.status();
  auto bound = Bind(tree->get(), groups);
  if (!bound.ok()) return bound.status();
  CompiledFilter f;
  f.bound_ = std::move(bound).value();
  f.needs_graph_ = ReadsGraph(f.bound_);
  f.text_ = Print(tree->get());
  return f;
}

}  // namespace roentgen::filter
