#include "filter/column_predicates.h"

#include <gtest/gtest.h>

#include <random>

#include "filter/filter.h"

namespace roentgen::filter {
namespace {

std::vector<NumberPredicate> Of(std::string_view expr) {
  auto f = CompileFilter(expr);
  EXPECT_TRUE(f.ok()) << expr << ": " << f.status().ToString();
  return f.ok() ? RequiredNumberPredicates(f->bound()) : std::vector<NumberPredicate>{};
}

TEST(ColumnPredicatesTest, TakesTopLevelNumericConjunctsOnly) {
  auto p = Of("responsetime > 1.5");
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].field, Field::kResponseTime);
  EXPECT_EQ(p[0].op, CompareOp::kGt);
  EXPECT_EQ(p[0].number, 1.5);

  p = Of(R"(duration <= 2 AND annotation.x = "y" AND (http.status = 500 AND fault))");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].field, Field::kDuration);
  EXPECT_EQ(p[1].field, Field::kHttpStatus);
  EXPECT_EQ(p[1].number, 500);

  // Not required by every match: under OR, NOT, or a service's scope.
  EXPECT_TRUE(Of("responsetime > 1 OR fault").empty());
  EXPECT_TRUE(Of("NOT responsetime > 1").empty());
  EXPECT_TRUE(Of(R"(service("api") { responsetime > 1 })").empty());
  EXPECT_TRUE(Of("").empty());
  EXPECT_TRUE(Of(R"(annotation.x = "y")").empty());
}

TEST(ColumnPredicatesTest, MatchesAgreeWithTheFilterOnEveryValue) {
  // The predicate must never reject a trace the filter matches (and, being
  // the same comparison, agrees with it both ways).
  const char* exprs[] = {"responsetime > 1.5", "responsetime >= 0.25", "duration < 0.000001",
                         "duration != 3",      "http.status = 404",    "http.status <= 299",
                         "responsetime = 1.5"};
  std::mt19937_64 rng(5);
  for (const char* expr : exprs) {
    auto f = CompileFilter(expr);
    ASSERT_TRUE(f.ok());
    const auto preds = RequiredNumberPredicates(f->bound());
    ASSERT_EQ(preds.size(), 1u) << expr;
    for (int i = 0; i < 2000; ++i) {
      graph::TraceRecord r;
      std::optional<int64_t> v;
      if (i % 10 != 0) {
        v = i < 20 ? int64_t{1'500'000} + (i % 3) - 1 : static_cast<int64_t>(rng() % 4'000'000);
      }
      if (preds[0].field == Field::kHttpStatus) {
        if (v) r.summary.http.status = static_cast<int>(*v % 600);
        v = r.summary.http.status ? std::optional<int64_t>(*r.summary.http.status) : std::nullopt;
      } else if (preds[0].field == Field::kDuration) {
        r.summary.duration_us = v;
      } else {
        r.summary.response_time_us = v;
      }
      EXPECT_EQ(preds[0].Matches(v), f->Matches(r)) << expr << " value " << (v ? *v : -1);
    }
  }
}

}  // namespace
}  // namespace roentgen::filter

namespace roentgen::filter {
namespace {

std::vector<std::string> NamesOf(std::string_view expr) {
  auto f = CompileFilter(expr);
  EXPECT_TRUE(f.ok()) << expr << ": " << f.status().ToString();
  return f.ok() ? RequiredServiceNames(f->bound()) : std::vector<std::string>{};
}

TEST(ColumnPredicatesTest, ServiceNamesAreTheNamedServicesAndEdgesOfTheConjuncts) {
  using V = std::vector<std::string>;
  EXPECT_EQ(NamesOf(R"(service("billing") { fault })"), V{"billing"});
  EXPECT_EQ(NamesOf(R"(edge("api", "db"))"), (V{"api", "db"}));
  EXPECT_EQ(NamesOf(R"(service("api") AND responsetime > 1 AND (edge("api", "cache") AND fault))"),
            (V{"api", "cache"}));
  EXPECT_EQ(NamesOf(R"(service(id(name: "api", type: "AWS::EC2::Instance")))"), V{"api"});
  // Not required by every match: under OR or NOT, or no name at all.
  EXPECT_TRUE(NamesOf(R"(service("api") OR fault)").empty());
  EXPECT_TRUE(NamesOf(R"(NOT service("api"))").empty());
  EXPECT_TRUE(NamesOf(R"(service(id(type: "AWS::EC2::Instance")))").empty());
  EXPECT_TRUE(NamesOf("responsetime > 1").empty());
}

}  // namespace
}  // namespace roentgen::filter

namespace roentgen::filter {
namespace {

std::vector<Field> FlagsOf(std::string_view expr) {
  auto f = CompileFilter(expr);
  EXPECT_TRUE(f.ok()) << expr << ": " << f.status().ToString();
  return f.ok() ? RequiredNodeFlags(f->bound()) : std::vector<Field>{};
}

TEST(ColumnPredicatesTest, NodeFlagsAreWhatAServiceScopeRequiresOfItsObservations) {
  using V = std::vector<Field>;
  EXPECT_EQ(FlagsOf(R"(service("billing") { fault })"), V{Field::kFault});
  EXPECT_EQ(FlagsOf(R"(service("a") { error AND responsetime > 1 } AND service("b") { throttle })"),
            (V{Field::kError, Field::kThrottle}));
  EXPECT_EQ(FlagsOf(R"(service() { fault AND fault })"), V{Field::kFault});
  // Not required: under OR or NOT, false, an edge's observations, ok, the trace's own flag.
  EXPECT_TRUE(FlagsOf(R"(service("a") { fault OR error })").empty());
  EXPECT_TRUE(FlagsOf(R"(service("a") { NOT fault })").empty());
  EXPECT_TRUE(FlagsOf(R"(service("a") { fault = false })").empty());
  EXPECT_TRUE(FlagsOf(R"(edge("a", "b") { fault })").empty());
  EXPECT_TRUE(FlagsOf(R"(service("a") { ok })").empty());
  EXPECT_TRUE(FlagsOf(R"(fault AND service("a"))").empty());
  EXPECT_TRUE(FlagsOf(R"(service("a") { fault } OR fault)").empty());
}

}  // namespace
}  // namespace roentgen::filter
