// X-Ray filter expressions: the public entry point of the filter module.
//
//   auto f = CompileFilter(R"(service("api") { fault } AND annotation.tier = "gold")");
//   if (!f.ok()) → f.status() is InvalidArgument "column N: expected … but found …"
//   f->Matches(rec) → the exact answer for one trace
//   f->bound()      → the bound tree, for planners that map the filter onto
//                     something else (a store engine's indexes, SQL)
//
// The pipeline is lexer → parser → bind → eval (one file each, see the
// headers of those files); docs/filter-expressions.md describes the language.
// A store scan takes a compiled filter and returns only the traces it matches
// (store::ScanOptions::filter); how an engine narrows the scan is its own
// business. A CompiledFilter is immutable after compilation: every method may
// be called from any number of threads at once.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "filter/bind.h"
#include "graph/trace_record.h"

namespace roentgen::filter {

class CompiledFilter {
 public:
  // True when the trace matches. Never allocates.
  bool Matches(const graph::TraceRecord& trace) const;
  // The canonical text of the expression (as parsed; groups not expanded).
  // Compiling it again gives the same filter. "" for the empty expression.
  const std::string& ToString() const { return text_; }
  // True for the empty expression, which matches every trace.
  bool MatchesAll() const { return bound_.kind == BoundKind::kTrue; }
  // False when Matches reads only the trace summary, never the trace graph
  // (no service(…), edge(…) or `inferred`): a scan may then skip decoding
  // graphs.
  bool NeedsGraph() const { return needs_graph_; }
  // The bound expression (filter/bind.h). The empty expression is kTrue.
  const BoundNode& bound() const { return bound_; }

 private:
  friend Result<CompiledFilter> CompileFilter(std::string_view, const GroupResolver*);
  BoundNode bound_;
  std::string text_;
  bool needs_graph_ = true;
};

// Compiles `expr`. `groups` (optional) resolves group.name / group.arn; without
// it those keywords fail to compile. Errors are InvalidArgument with
// "column N: …" (the API returns them as InvalidRequestException).
Result<CompiledFilter> CompileFilter(std::string_view expr, const GroupResolver* groups = nullptr);

}  // namespace roentgen::filter
