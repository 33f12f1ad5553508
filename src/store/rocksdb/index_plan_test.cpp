#include "store/rocksdb/index_plan.h"

#include <gtest/gtest.h>

#include "filter/filter.h"

namespace roentgen::store {
namespace {

using Kind = IndexCondition::Kind;

std::optional<IndexCondition> Hint(std::string_view expr) {
  auto f = filter::CompileFilter(expr);
  EXPECT_TRUE(f.ok()) << expr << ": " << f.status().ToString();
  return f.ok() ? ChooseIndex(f->bound()) : std::nullopt;
}

TEST(IndexPlanTest, PrefersAnnotationEquality) {
  auto h = Hint(R"(fault AND user = "alice" AND annotation.tier = "gold" AND http.status = 500)");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->kind, Kind::kAnnotationEquals);
  EXPECT_EQ(h->key, "tier");
  EXPECT_EQ(std::get<std::string>(h->value), "gold");

  h = Hint("annotation.n = 5");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(std::get<double>(h->value), 5.0);
  h = Hint("annotation.b = true");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(std::get<bool>(h->value), true);
}

TEST(IndexPlanTest, RanksTheOtherIndexes) {
  auto h = Hint(R"(fault AND http.status = 500 AND service("api") AND user = "bob")");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->kind, Kind::kUser);
  EXPECT_EQ(h->text, "bob");

  h = Hint(
      R"(fault AND http.status = 500 AND service(id(name: "fn", type: "AWS::Lambda::Function")) { fault })");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->kind, Kind::kServiceName);
  EXPECT_EQ(h->text, "fn");

  h = Hint("throttle AND http.status = 429");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->kind, Kind::kHttpStatus);
  EXPECT_EQ(h->http_status, 429);

  h = Hint("responsetime > 1 AND error = true");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->kind, Kind::kError);
  EXPECT_EQ(Hint("fault")->kind, Kind::kFault);
  EXPECT_EQ(Hint("throttle")->kind, Kind::kThrottle);
}

TEST(IndexPlanTest, LooksThroughNestedAndButNotOrOrNot) {
  auto h = Hint(R"(responsetime > 1 AND (partial AND user = "x"))");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->kind, Kind::kUser);
  EXPECT_FALSE(Hint(R"(annotation.a = "x" OR fault)").has_value());
  EXPECT_FALSE(Hint(R"(!annotation.a = "x")").has_value());
  EXPECT_FALSE(Hint(R"(!service("api"))").has_value());
  EXPECT_FALSE(Hint("fault = false").has_value());
  EXPECT_FALSE(Hint("http.status >= 500").has_value());
  EXPECT_FALSE(Hint("http.status = 200.5").has_value());
  EXPECT_FALSE(Hint("service()").has_value());
  EXPECT_FALSE(Hint(R"(service(id(type: "AWS::DynamoDB::Table")))").has_value());
  EXPECT_FALSE(Hint(R"(user != "x")").has_value());
  EXPECT_FALSE(Hint("").has_value());
}

}  // namespace
}  // namespace roentgen::store
