#include "filter/parser.h"

#include <gtest/gtest.h>

#include "filter/printer.h"

namespace roentgen::filter {
namespace {

NodePtr MustParse(std::string_view in) {
  auto r = Parse(in);
  EXPECT_TRUE(r.ok()) << in << ": " << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

std::string ParseError(std::string_view in) {
  auto r = Parse(in);
  EXPECT_FALSE(r.ok()) << in;
  return r.ok() ? "" : r.status().message();
}

std::string Canonical(std::string_view in) { return Print(MustParse(in).get()); }

TEST(ParserTest, PrecedenceNotAndOr) {
  NodePtr t = MustParse("!a OR b c AND d");
  ASSERT_NE(t, nullptr);
  ASSERT_EQ(t->kind, NodeKind::kOr);
  ASSERT_EQ(t->children.size(), 2u);
  EXPECT_EQ(t->children[0]->kind, NodeKind::kNot);
  EXPECT_EQ(t->children[0]->children[0]->keyword, "a");
  ASSERT_EQ(t->children[1]->kind, NodeKind::kAnd);
  ASSERT_EQ(t->children[1]->children.size(), 3u);
  EXPECT_EQ(t->children[1]->children[2]->keyword, "d");
}

TEST(ParserTest, PredicateParts) {
  NodePtr t = MustParse(R"(Annotation.Game_ID != "817DL6VO")");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->kind, NodeKind::kPredicate);
  EXPECT_EQ(t->keyword, "annotation");
  EXPECT_EQ(t->key, "Game_ID");
  EXPECT_EQ(t->op, CompareOp::kNe);
  ASSERT_TRUE(t->value.has_value());
  EXPECT_EQ(t->value->kind, Literal::Kind::kString);
  EXPECT_EQ(t->value->text, "817DL6VO");
  EXPECT_EQ(t->value_column, 23);

  t = MustParse("annotation[\"otel.key\"] = TRUE");
  EXPECT_EQ(t->key, "otel.key");
  EXPECT_EQ(t->value->kind, Literal::Kind::kBool);
  EXPECT_TRUE(t->value->boolean);
}

TEST(ParserTest, ServiceEdgeAndId) {
  NodePtr t = MustParse(R"(edge(id(type: "AWS::Lambda", name: "fn"), "db") { error })");
  ASSERT_EQ(t->kind, NodeKind::kEdge);
  ASSERT_EQ(t->refs.size(), 2u);
  EXPECT_TRUE(t->refs[0].is_id);
  EXPECT_EQ(t->refs[0].id_name, "fn");
  EXPECT_EQ(t->refs[0].id_type, "AWS::Lambda");
  EXPECT_FALSE(t->refs[0].id_account.has_value());
  EXPECT_EQ(t->refs[1].name, "db");
  EXPECT_TRUE(t->has_sub_filter);
  EXPECT_EQ(t->children[0]->keyword, "error");

  t = MustParse("service()");
  EXPECT_EQ(t->kind, NodeKind::kService);
  EXPECT_TRUE(t->refs.empty());
  EXPECT_FALSE(t->has_sub_filter);
}

TEST(ParserTest, EmptyExpressionIsNull) {
  EXPECT_EQ(MustParse("   "), nullptr);
  EXPECT_EQ(Print(nullptr), "");
}

TEST(ParserTest, CanonicalPrinting) {
  EXPECT_EQ(Canonical("responseTime > 5 and Fault or !ok"), "responsetime > 5 AND fault OR !ok");
  EXPECT_EQ(Canonical("ok !partial duration < 3"), "ok AND !partial AND duration < 3");
  EXPECT_EQ(Canonical("(a or b) and c"), "(a OR b) AND c");
  EXPECT_EQ(Canonical("(a and b) and c"), "(a AND b) AND c");
  EXPECT_EQ(Canonical("a or (b and c)"), "a OR b AND c");
  EXPECT_EQ(Canonical("NOT (a OR b)"), "!(a OR b)");
  EXPECT_EQ(Canonical("not not a"), "!!a");
  EXPECT_EQ(Canonical("!(a and b)"), "!(a AND b)");
  EXPECT_EQ(Canonical(R"(annotation[weird key] = 1.50)"), R"(annotation["weird key"] = 1.5)");
  EXPECT_EQ(Canonical(R"(user = "say \"hi\" \\o/")"), R"(user = "say \"hi\" \\o/")");
  EXPECT_EQ(Canonical(R"(service(id(account.id: "1", name: "x")){fault=TRUE})"),
            R"(service(id(name: "x", account.id: "1")) { fault = true })");
  EXPECT_EQ(Canonical("http.url contains \"/api\" http.method beginswith \"G\""),
            R"(http.url CONTAINS "/api" AND http.method BEGINSWITH "G")");
  EXPECT_EQ(Canonical("rootcause.json = #[{\"ClientImpacting\":true}]"),
            "rootcause.json = #[{\"ClientImpacting\":true}]");
  EXPECT_EQ(Canonical("duration >= 1e3"), "duration >= 1000");
}

TEST(ParserTest, RoundTripGivesSameTree) {
  for (std::string_view in : {
           "!a OR b c AND d",
           "((a))",
           "(a OR b) AND (c OR !(d AND e)) OR f",
           R"(service("api") { fault = true OR responsetime > 2.5 } AND annotation.foo = "bar")",
           R"(rootcause.fault.entity { last and name = "deserialize" })",
           R"(annotation["a b"] CONTAINS "x\"y" AND annotation.n <= -0.25)",
       }) {
    NodePtr a = MustParse(in);
    const std::string printed = Print(a.get());
    NodePtr b = MustParse(printed);
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_TRUE(*a == *b) << in << " printed as " << printed;
    EXPECT_EQ(Print(b.get()), printed);
  }
}

TEST(ParserTest, Errors) {
  EXPECT_EQ(ParseError("annotation.foo ="),
            "column 17: expected a value after '=' but found end of expression");
  EXPECT_EQ(ParseError("user = alice"),
            "column 8: expected a value after '=' but found 'alice' (string values must be in "
            "double quotes)");
  EXPECT_EQ(ParseError(R"(service("a") { fault)"),
            "column 21: expected '}' to close the sub-filter opened at column 14 but found end of "
            "expression");
  EXPECT_EQ(ParseError("(fault OR error"),
            "column 16: expected ')' to close the '(' at column 1 but found end of expression");
  EXPECT_EQ(ParseError("fault AND"),
            "column 10: expected a condition after 'AND' but found end of expression");
  EXPECT_EQ(ParseError("fault )"), "column 7: expected AND, OR or end of expression but found ')'");
  EXPECT_EQ(ParseError("service"),
            "column 8: expected '(' after 'service' but found end of expression");
  EXPECT_EQ(ParseError("service(api)"),
            "column 9: expected a quoted service name or id(…) after 'service(' but found 'api'");
  EXPECT_EQ(ParseError(R"(edge("a"))"),
            "column 9: expected ',' and the destination service after the source service of "
            "edge(…) but found ')'");
  EXPECT_EQ(ParseError(R"(service(id(name "x")))"),
            "column 17: expected ':' after 'name' but found string \"x\"");
  EXPECT_EQ(ParseError(R"(service(id(name: "x", name: "y")))"),
            "column 23: 'name' is given twice in id(…)");
  EXPECT_EQ(ParseError("annotation = 1"),
            "column 12: expected '.KEY' or '[KEY]' after 'annotation' but found '='");
  EXPECT_EQ(ParseError(R"(service("a") {})"),
            "column 15: expected a sub-filter after '{' but found '}'");
}

TEST(ParserTest, DepthIsLimited) {
  std::string deep(200, '(');
  deep += "fault";
  deep += std::string(200, ')');
  EXPECT_EQ(ParseError(deep), "column 66: expression nests deeper than 64 levels");
}

}  // namespace
}  // namespace roentgen::filter
