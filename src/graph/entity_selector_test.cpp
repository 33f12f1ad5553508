#include "graph/entity_selector.h"

#include <gtest/gtest.h>

namespace roentgen::graph {
namespace {

TEST(EntitySelectorTest, Service) {
  auto sel = ParseEntitySelector(R"(service("todo-api"))");
  ASSERT_TRUE(sel.ok()) << sel.status().ToString();
  EXPECT_EQ(sel->kind, EntitySelector::Kind::kService);
  EXPECT_EQ(sel->service.name, "todo-api");
  EXPECT_FALSE(sel->service.type.has_value());
  EXPECT_TRUE(sel->service.Matches({"todo-api", "AWS::AppSync::GraphQLAPI", "1"}));
  EXPECT_FALSE(sel->service.Matches({"todo", "", ""}));
}

TEST(EntitySelectorTest, ServiceById) {
  auto sel = ParseEntitySelector(
      R"( SERVICE( id(name: "todo-fn", type: "AWS::Lambda::Function", account.id: "123") ) )");
  ASSERT_TRUE(sel.ok()) << sel.status().ToString();
  EXPECT_EQ(sel->service.name, "todo-fn");
  EXPECT_EQ(sel->service.type, "AWS::Lambda::Function");
  EXPECT_EQ(sel->service.account_id, "123");
  EXPECT_TRUE(sel->service.Matches({"todo-fn", "AWS::Lambda::Function", "123"}));
  EXPECT_FALSE(sel->service.Matches({"todo-fn", "AWS::Lambda", "123"}));
}

TEST(EntitySelectorTest, Edge) {
  auto sel = ParseEntitySelector(R"(edge("a", id(type: "remote")))");
  ASSERT_TRUE(sel.ok()) << sel.status().ToString();
  EXPECT_EQ(sel->kind, EntitySelector::Kind::kEdge);
  EXPECT_EQ(sel->service.name, "a");
  EXPECT_EQ(sel->destination.type, "remote");
  EXPECT_FALSE(sel->destination.name.has_value());
}

TEST(EntitySelectorTest, Errors) {
  EXPECT_EQ(ParseEntitySelector("").status().message(),
            "EntitySelectorExpression: expected service(...) or edge(...) at offset 0");
  EXPECT_EQ(ParseEntitySelector(R"(service(todo))").status().message(),
            "EntitySelectorExpression: expected a double-quoted string at offset 8");
  EXPECT_EQ(ParseEntitySelector(R"(service("a") x)").status().message(),
            "EntitySelectorExpression: unexpected text after the selector at offset 13");
  EXPECT_EQ(ParseEntitySelector(R"(edge("a"))").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseEntitySelector(R"(service("a)").status().message(),
            "EntitySelectorExpression: unterminated string at offset 10");
}

}  // namespace
}  // namespace roentgen::graph
