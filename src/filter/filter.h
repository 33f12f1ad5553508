// X-Ray filter expressions: the public entry point of the filter module.
//
//   auto f = CompileFilter(R"(service("api") { fault } AND annotation.tier = "gold")");
//   if (!f.ok()) → f.status() is InvalidArgument "column N: expected … but found …"
//   f->IndexHint()  → a condition the store can use to narrow a scan (or none)
//   f->Matches(rec) → the exact answer for one trace (always re-check store output)
//
// The pipeline is lexer → parser → bind → plan → eval (one file each, see the
// headers of those files); docs/filter-expressions.md describes the language.
// A CompiledFilter is immutable after compilation: Matches, IndexHint and
// ToString may be called from any number of threads at once.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "filter/bind.h"
#include "store/store.h"

namespace roentgen::filter {

class CompiledFilter {
 public:
  // True when the trace matches. Never allocates.
  bool Matches(const store::TraceRecord& trace) const;
  // One condition every matching trace satisfies, for the store's indexes.
  const std::optional<store::IndexCondition>& IndexHint() const { return index_hint_; }
  // The canonical text of the expression (as parsed; groups not expanded).
  // Compiling it again gives the same filter. "" for the empty expression.
  const std::string& ToString() const { return text_; }
  // True for the empty expression, which matches every trace.
  bool MatchesAll() const { return bound_.kind == BoundKind::kTrue; }
  // False when Matches reads only the trace summary, never the trace graph
  // (no service(…), edge(…) or `inferred`): a scan may then skip decoding
  // graphs (store::ScanOptions::decode_graph).
  bool NeedsGraph() const { return needs_graph_; }

 private:
  friend Result<CompiledFilter> CompileFilter(std::string_view, const GroupResolver*);
  BoundNode bound_;
  std::optional<store::IndexCondition> index_hint_;
  std::string text_;
  bool needs_graph_ = true;
};

// Compiles `expr`. `groups` (optional) resolves group.name / group.arn; without
// it those keywords fail to compile. Errors are InvalidArgument with
// "column N: …" (the API returns them as InvalidRequestException).
Result<CompiledFilter> CompileFilter(std::string_view expr, const GroupResolver* groups = nullptr);

}  // namespace roentgen::filter
