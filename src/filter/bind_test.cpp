#include "filter/bind.h"

#include <gtest/gtest.h>

#include <map>

#include "filter/filter.h"
#include "filter/parser.h"

namespace roentgen::filter {
namespace {

class MapGroups : public GroupResolver {
 public:
  std::map<std::string, std::string> by_name;
  Result<std::string> GroupFilter(std::string_view name_or_arn, bool by_arn) const override {
    const std::string key = (by_arn ? "arn:" : "") + std::string(name_or_arn);
    auto it = by_name.find(key);
    if (it == by_name.end()) return Status::NotFound("no group");
    return it->second;
  }
};

Result<BoundNode> BindText(std::string_view text, const GroupResolver* groups = nullptr) {
  auto tree = Parse(text);
  if (!tree.ok()) return tree.status();
  return Bind(tree->get(), groups);
}

std::string BindError(std::string_view text, const GroupResolver* groups = nullptr) {
  auto r = BindText(text, groups);
  EXPECT_FALSE(r.ok()) << text;
  return r.ok() ? "" : r.status().message();
}

TEST(BindTest, BoolKeywordsNormalizeToExpectedValue) {
  auto r = BindText("fault != false");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, BoundKind::kBool);
  EXPECT_EQ(r->field, Field::kFault);
  EXPECT_TRUE(r->boolean);
  r = BindText(R"(error = "false")");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->boolean);
}

TEST(BindTest, ScopesAndRootCauseLevels) {
  auto r = BindText(R"(rootcause.responsetime.entity { coverage > 0.5 and remote })");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->kind, BoundKind::kRootCause);
  EXPECT_EQ(r->rc_list, RootCauseList::kResponseTime);
  EXPECT_EQ(r->scope, Scope::kRcEntity);
  ASSERT_EQ(r->children.size(), 1u);
  EXPECT_EQ(r->children[0].children[0].scope, Scope::kRcEntity);
  EXPECT_EQ(r->children[0].children[0].field, Field::kCoverage);

  r = BindText(R"(edge("a", id(type: "AWS::DynamoDB::Table")) { root })");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->services.size(), 2u);
  EXPECT_EQ(r->services[0].name, "a");
  EXPECT_FALSE(r->services[1].name.has_value());
  EXPECT_EQ(r->services[1].type, "AWS::DynamoDB::Table");
  EXPECT_EQ(r->children[0].scope, Scope::kEdge);
}

TEST(BindTest, Errors) {
  EXPECT_EQ(BindError("foo = 1"), "column 1: unknown keyword 'foo'");
  EXPECT_EQ(BindError(R"(responsetime = "5")"),
            "column 16: 'responsetime' is compared with numbers, found string \"5\"");
  EXPECT_EQ(
      BindError("responsetime"),
      "column 1: 'responsetime' needs an operator and a number, for example responsetime > 1");
  EXPECT_EQ(BindError(R"(duration CONTAINS "1")"),
            "column 1: operator CONTAINS needs a string keyword; 'duration' is a number keyword");
  EXPECT_EQ(BindError("http.url > 5"),
            "column 1: operator > is not available for string keyword 'http.url' (use =, !=, "
            "CONTAINS, BEGINSWITH, ENDSWITH)");
  EXPECT_EQ(BindError("user = 5"),
            "column 8: 'user' is compared with quoted strings, found number 5");
  EXPECT_EQ(BindError("fault = 1"),
            "column 9: 'fault' is compared with true or false, found number 1");
  EXPECT_EQ(BindError("fault > true"),
            "column 1: 'fault' is a boolean keyword: use it bare, with '!', or with = / != true or "
            "false, not >");
  EXPECT_EQ(BindError(R"(annotation.x CONTAINS 5)"),
            "column 23: operator CONTAINS needs a string value, found number 5");
  EXPECT_EQ(BindError(R"(annotation.x < "a")"),
            "column 16: operator < needs a number value, found string \"a\"");
  EXPECT_EQ(BindError("root"),
            "column 1: 'root' cannot be used at the top level; it is valid inside service(…) { }, "
            "inside edge(…) { }");
  EXPECT_EQ(BindError(R"(service("a") { annotation.k })"),
            "column 16: annotation can only be used at the top level, not inside service(…) { }");
  EXPECT_EQ(BindError(R"(service("a") { service("b") })"),
            "column 16: service(…) can only be used at the top level, not inside service(…) { }");
  EXPECT_EQ(BindError("rootcause.responsetime.exception { name }"),
            "column 1: unknown root-cause keyword 'rootcause.responsetime.exception' (expected "
            "rootcause.fault|error|responsetime.service|entity, rootcause.fault|error.exception or "
            "rootcause.json)");
  EXPECT_EQ(BindError(R"(rootcause.json = #[{"Bogus": 1}])"),
            "column 18: rootcause.json: unknown field 'Bogus' (expected one of Services, "
            "ClientImpacting)");
  EXPECT_EQ(BindError(R"(rootcause.json = "x")"),
            "column 1: rootcause.json is used as rootcause.json = #[{ … }]");
}

TEST(BindTest, GroupsExpandAndDetectCycles) {
  MapGroups groups;
  groups.by_name["slow"] = "responsetime > 2";
  groups.by_name["arn:arn:aws:xray:us-east-1:1:group/slow/X"] = "responsetime > 2";
  groups.by_name["all"] = "";
  groups.by_name["loop"] = R"(fault AND group.name = "loop2")";
  groups.by_name["loop2"] = R"(group.name = "loop")";
  groups.by_name["broken"] = "fault AND";

  auto r = BindText(R"(group.name = "slow" AND user = "alice")", &groups);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->children[0].kind, BoundKind::kNumber);
  EXPECT_EQ(r->children[0].number, 2);
  r = BindText(R"(group.arn = "arn:aws:xray:us-east-1:1:group/slow/X")", &groups);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->field, Field::kResponseTime);
  r = BindText(R"(group.name = "all")", &groups);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->kind, BoundKind::kTrue);

  EXPECT_EQ(BindError(R"(group.name = "nope")", &groups),
            "column 14: group \"nope\" does not exist");
  EXPECT_EQ(BindError(R"(group.name = "slow")"), "column 14: group \"slow\" does not exist");
  EXPECT_EQ(BindError(R"(group.name = "broken")", &groups),
            "column 14: the filter expression of group \"broken\" is invalid: column 10: expected "
            "a condition after 'AND' but found end of expression");
  EXPECT_EQ(BindError(R"(group.name = "loop")", &groups),
            "column 14: the filter expression of group \"loop\" is invalid: column 24: the filter "
            "expression of group \"loop2\" is invalid: column 14: group \"loop\" refers to itself");
  EXPECT_EQ(BindError(R"(group.name != "slow")", &groups),
            "column 1: 'group.name' is used as group.name = \"…\"");
}

}  // namespace
}  // namespace roentgen::filter
