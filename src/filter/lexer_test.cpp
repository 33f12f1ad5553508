#include "filter/lexer.h"

#include <gtest/gtest.h>

namespace roentgen::filter {
namespace {

std::vector<Token> MustLex(std::string_view in) {
  auto r = Lex(in);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<Token>{};
}

std::string LexError(std::string_view in) {
  auto r = Lex(in);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.status().message();
}

TEST(LexerTest, TokenKindsTextAndColumns) {
  auto t = MustLex(R"(annotation.age >= -2.5e1 AND http.url CONTAINS "a\"b\\c")");
  ASSERT_EQ(t.size(), 8u);
  EXPECT_EQ(t[0].kind, TokenKind::kIdent);
  EXPECT_EQ(t[0].text, "annotation.age");
  EXPECT_EQ(t[0].column, 1);
  EXPECT_EQ(t[1].kind, TokenKind::kGe);
  EXPECT_EQ(t[1].column, 16);
  EXPECT_EQ(t[2].kind, TokenKind::kNumber);
  EXPECT_EQ(t[2].number, -25.0);
  EXPECT_EQ(t[2].column, 19);
  EXPECT_EQ(t[3].text, "AND");
  EXPECT_EQ(t[5].text, "CONTAINS");
  EXPECT_EQ(t[6].kind, TokenKind::kString);
  EXPECT_EQ(t[6].text, "a\"b\\c");
  EXPECT_EQ(t[7].kind, TokenKind::kEnd);
  EXPECT_EQ(t[7].column, 57);
}

TEST(LexerTest, Operators) {
  auto t = MustLex("= != < <= > >= ! ( ) { } , :");
  std::vector<TokenKind> want = {TokenKind::kEq,     TokenKind::kNe,     TokenKind::kLt,
                                 TokenKind::kLe,     TokenKind::kGt,     TokenKind::kGe,
                                 TokenKind::kBang,   TokenKind::kLParen, TokenKind::kRParen,
                                 TokenKind::kLBrace, TokenKind::kRBrace, TokenKind::kComma,
                                 TokenKind::kColon,  TokenKind::kEnd};
  ASSERT_EQ(t.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(t[i].kind, want[i]) << i;
}

TEST(LexerTest, BracketKeyAndJson) {
  auto t = MustLex(
      R"(annotation["a.b c"] annotation[ x.y ] rootcause.json = #[{"Services": [{"Name": "]"}]}])");
  ASSERT_EQ(t.size(), 8u);
  EXPECT_EQ(t[1].kind, TokenKind::kBracketKey);
  EXPECT_EQ(t[1].text, "a.b c");
  EXPECT_EQ(t[3].kind, TokenKind::kBracketKey);
  EXPECT_EQ(t[3].text, "x.y");
  EXPECT_EQ(t[6].kind, TokenKind::kJson);
  EXPECT_EQ(t[6].text, R"([{"Services": [{"Name": "]"}]}])");
}

TEST(LexerTest, ColumnsCountCodePoints) {
  auto t = MustLex("user = \"é\" fault");
  EXPECT_EQ(t[3].column, 12);
}

TEST(LexerTest, Errors) {
  EXPECT_EQ(LexError("user = \"abc"),
            "column 8: string is not closed: expected '\"' before end of expression");
  EXPECT_EQ(LexError(R"(user = "a\nb")"),
            "column 10: unknown escape '\\n' in string (only \\\" and \\\\ are allowed)");
  EXPECT_EQ(LexError("responsetime > 5s"),
            "column 16: malformed number '5s' (string values must be in double quotes)");
  EXPECT_EQ(LexError("fault & error"), "column 7: unexpected character '&'");
  EXPECT_EQ(LexError("annotation[abc"),
            "column 15: expected ']' to close the annotation key opened at column 11");
  EXPECT_EQ(LexError("annotation[]"), "column 11: annotation key in [ ] is empty");
  EXPECT_EQ(LexError("rootcause.json = #[{"),
            "column 18: JSON list after '#' is not closed: expected ']'");
  EXPECT_EQ(LexError("rootcause.json = #{}"), "column 18: expected '#[' to start a JSON list");
  EXPECT_EQ(LexError("duration > 1e999"), "column 12: number '1e999' is out of range");
}

}  // namespace
}  // namespace roentgen::filter
