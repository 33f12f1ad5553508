#include "filter/eval.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <new>

#include "filter/filter.h"

// Counts heap allocations so the test can check evaluation never allocates.
// GCC cannot see that these replacements pair malloc with free.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

void* operator new(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
// Every allocation form above uses malloc, so every deallocation form uses free
// (libraries such as simdjson allocate with the nothrow form: a replaced delete
// must not meet the sanitizer's own new).
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace roentgen::filter {
namespace {

graph::TraceRecord SampleTrace() {
  graph::TraceRecord r;
  xray::TraceSummary& s = r.summary;
  s.response_time_us = 2'500'000;
  s.duration_us = 3'000'000;
  s.has_fault = true;
  s.http.url = "https://api.example.com/v2/orders";
  s.http.status = 502;
  s.http.method = "POST";
  s.users.push_back({"alice", {}});
  s.annotations.push_back({"tier", {{std::string("gold"), {}}, {std::string("silver"), {}}}});
  s.annotations.push_back({"n", {{42.0, {}}}});
  graph::Node api;
  api.id.name = "api";
  api.id.names = {"api", "api-alias"};
  api.id.type = "AWS::EC2::Instance";
  api.root = true;
  graph::Observation o;
  o.start_us = 0;
  o.end_us = 2'500'000;
  o.fault = true;
  o.http_status = 502;
  api.observations.push_back(o);
  r.graph.nodes.push_back(api);
  xray::RootCause rc;
  rc.services.push_back({"api",
                         {},
                         "AWS::EC2::Instance",
                         "",
                         {{"handler", {{"Timeout", "db timed out"}}, std::nullopt, false}},
                         false});
  s.fault_root_causes.push_back(rc);
  return r;
}

bool Match(std::string_view expr, const graph::TraceRecord& r) {
  auto f = CompileFilter(expr);
  EXPECT_TRUE(f.ok()) << expr << ": " << f.status().ToString();
  return f.ok() && f->Matches(r);
}

TEST(EvalTest, HandBuiltTrace) {
  const graph::TraceRecord r = SampleTrace();
  EXPECT_TRUE(Match("responsetime = 2.5", r));
  EXPECT_TRUE(Match("responsetime > 2.4999 AND duration <= 3", r));
  EXPECT_FALSE(Match("responsetime > 2.5", r));
  EXPECT_TRUE(Match("fault AND !error AND !ok", r));
  EXPECT_TRUE(Match(R"(annotation.tier = "silver")", r));
  EXPECT_TRUE(Match(R"(annotation.tier != "gold")", r));  // any value: "silver" != "gold"
  EXPECT_FALSE(Match("annotation.tier = 1", r));
  EXPECT_FALSE(Match(R"(annotation.n = "42")", r));
  EXPECT_TRUE(Match("annotation.n >= 42", r));
  EXPECT_TRUE(Match(R"(service("api-alias") { fault AND http.status = 502 AND root })", r));
  EXPECT_TRUE(
      Match(R"(service(id(name: "api", type: "AWS::EC2::Instance")) { responsetime = 2.5 })", r));
  EXPECT_FALSE(Match(R"(service(id(name: "api", account.id: "1")))", r));
  EXPECT_TRUE(Match(
      R"(rootcause.fault.exception { name = "Timeout" AND first AND last AND index = 0 })", r));
  EXPECT_TRUE(Match(
      R"(rootcause.fault.entity { name = "handler" AND !remote AND message ENDSWITH "timed out" })",
      r));
  EXPECT_FALSE(Match(R"(rootcause.fault.entity { coverage > 0 })", r));
  EXPECT_FALSE(Match("rootcause.error.service", r));
  EXPECT_FALSE(Match(R"(http.url CONTAINS "ORDERS")", r));
  EXPECT_TRUE(Match(R"(http.url CONTAINS "orders")", r));
  EXPECT_TRUE(Match("", r));
}

TEST(EvalTest, MissingValuesNeverMatchComparisons) {
  const graph::TraceRecord empty;
  EXPECT_FALSE(Match("responsetime != 1", empty));
  EXPECT_FALSE(Match("http.status != 200", empty));
  EXPECT_FALSE(Match(R"(http.url != "x")", empty));
  EXPECT_FALSE(Match(R"(annotation.k != "x")", empty));
  EXPECT_TRUE(Match("!annotation.k", empty));
  EXPECT_TRUE(Match("ok", empty));
  EXPECT_FALSE(Match("service()", empty));
}

TEST(EvalTest, NeedsGraphOnlyForServiceEdgeAndInferred) {
  auto needs = [](const char* expr) {
    auto f = CompileFilter(expr);
    EXPECT_TRUE(f.ok()) << expr;
    return f.ok() && f->NeedsGraph();
  };
  EXPECT_FALSE(needs("responsetime > 1.5"));
  EXPECT_FALSE(needs(R"(annotation.email = "a@b.c" AND NOT fault)"));
  EXPECT_FALSE(needs(R"(rootcause.fault.service { name = "api" })"));
  EXPECT_FALSE(needs(""));
  EXPECT_TRUE(needs(R"(service("api") { fault })"));
  EXPECT_TRUE(needs(R"(ok OR edge("a", "b"))"));
  EXPECT_TRUE(needs("NOT (error AND inferred)"));
}

TEST(EvalTest, MatchesDoesNotAllocate) {
  const graph::TraceRecord r = SampleTrace();
  auto f = CompileFilter(
      R"(service("api") { fault OR responsetime > 2 } AND annotation.tier = "gold" AND )"
      R"(rootcause.fault.entity { name = "handler" } AND http.url CONTAINS "/v2/" AND )"
      R"(rootcause.json = #[{"Services": [{"Name": "api"}]}] AND user = "alice")");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  const long before = g_allocations.load();
  bool all = true;
  for (int i = 0; i < 1000; ++i) all = all && f->Matches(r);
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_TRUE(all);
}

}  // namespace
}  // namespace roentgen::filter
