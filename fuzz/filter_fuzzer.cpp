// Fuzzes X-Ray filter expressions (src/filter): the parser, the printer, and
// CompileFilter (bind, plan) with group.name / group.arn resolved, then
// evaluates every compiled filter on traces built from golden segment
// documents (tests/testdata/segments/valid). The same text goes to the
// EntitySelectorExpression parser of GetTimeSeriesServiceStatistics, which
// reads the service(…) / edge(…) part of the language.
//
// Invariants: Parse(Print(tree)) == tree and printing is stable; a compiled
// filter's canonical text compiles again to the same text.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "filter/filter.h"
#include "filter/parser.h"
#include "filter/printer.h"
#include "fuzz_check.h"
#include "graph/entity_selector.h"
#include "graph/trace_graph.h"
#include "xray/segment_parser.h"
#include "xray/trace.h"

using namespace roentgen;

namespace {

// The groups of tests/testdata/filter/corpus.txt, including one whose filter
// does not compile and one that names itself.
class Groups : public filter::GroupResolver {
 public:
  Result<std::string> GroupFilter(std::string_view name, bool by_arn) const override {
    static const std::map<std::string, std::string, std::less<>> kByName = {
        {"high_response_time", "responsetime > 5"},
        {"everything", ""},
        {"broken", "fault AND"},
        {"loop", R"(group.name = "loop")"},
    };
    if (by_arn) {
      if (name == "arn:aws:xray:us-east-1:123456789012:group/high_response_time/ABCDEF") {
        return kByName.at("high_response_time");
      }
      return Status::NotFound("no such group");
    }
    auto it = kByName.find(name);
    if (it == kByName.end()) return Status::NotFound("no such group");
    return it->second;
  }
};

graph::TraceRecord TraceFromFile(const std::string& name) {
  std::ifstream in(std::string(ROENTGEN_TESTDATA) + "/segments/valid/" + name);
  std::stringstream text;
  text << in.rdbuf();
  xray::SegmentParser parser;
  std::vector<xray::SegmentDocument> docs;
  xray::ParseFailure failure;
  if (!parser.Parse(text.str(), docs, failure)) {
    std::fprintf(stderr, "%s: %s\n", name.c_str(), failure.message.c_str());
    std::abort();
  }
  std::vector<xray::ReceivedDocument> received;
  for (xray::SegmentDocument& d : docs) received.push_back({std::move(d), 1});
  std::vector<const xray::ReceivedDocument*> pointers;
  for (const xray::ReceivedDocument& r : received) pointers.push_back(&r);
  const xray::AssembledTrace trace = xray::AssembleTrace(*received[0].doc.entity.trace_id, pointers);
  return graph::TraceRecord{xray::Summarize(trace), graph::DeriveTraceGraph(trace)};
}

const std::vector<graph::TraceRecord>& Traces() {
  static const std::vector<graph::TraceRecord> traces = {
      TraceFromFile("aws-guide-full-segment.json"),
      TraceFromFile("sdk-fault-exception-1.json"),
      TraceFromFile("lambda-invoke-subsegment.json"),
      TraceFromFile("cause-full.json"),
  };
  return traces;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Groups groups;
  const std::string_view expr(reinterpret_cast<const char*>(data), size);

  Result<graph::EntitySelector> selector = graph::ParseEntitySelector(expr);
  if (!selector.ok()) FUZZ_CHECK(!selector.status().message().empty());

  Result<filter::NodePtr> tree = filter::Parse(expr);
  if (tree.ok()) {
    const std::string printed = filter::Print(tree->get());
    Result<filter::NodePtr> again = filter::Parse(printed);
    FUZZ_CHECK(again.ok());
    FUZZ_CHECK((tree->get() == nullptr) == (again->get() == nullptr));
    if (tree->get() != nullptr) FUZZ_CHECK(**tree == **again);
    FUZZ_CHECK(filter::Print(again->get()) == printed);
  }

  Result<filter::CompiledFilter> compiled = filter::CompileFilter(expr, &groups);
  if (!compiled.ok()) {
    FUZZ_CHECK(!compiled.status().message().empty());
    return 0;
  }
  FUZZ_CHECK(tree.ok());
  Result<filter::CompiledFilter> recompiled = filter::CompileFilter(compiled->ToString(), &groups);
  FUZZ_CHECK(recompiled.ok());
  FUZZ_CHECK(recompiled->ToString() == compiled->ToString());
  for (const graph::TraceRecord& trace : Traces()) {
    FUZZ_CHECK(compiled->Matches(trace) == recompiled->Matches(trace));
  }
  return 0;
}
