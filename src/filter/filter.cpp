#include "filter/filter.h"

#include "filter/eval.h"
#include "filter/parser.h"
#include "filter/plan.h"
#include "filter/printer.h"

namespace roentgen::filter {

bool CompiledFilter::Matches(const store::TraceRecord& trace) const {
  return Evaluate(bound_, trace);
}

Result<CompiledFilter> CompileFilter(std::string_view expr, const GroupResolver* groups) {
  auto tree = Parse(expr);
  if (!tree.ok()) return tree.status();
  auto bound = Bind(tree->get(), groups);
  if (!bound.ok()) return bound.status();
  CompiledFilter f;
  f.bound_ = std::move(bound).value();
  f.index_hint_ = ChooseIndex(f.bound_);
  f.text_ = Print(tree->get());
  return f;
}

}  // namespace roentgen::filter
