#include "xray/parse_text.h"

#include <gtest/gtest.h>

#include <string>

namespace roentgen::xray::parse {
namespace {

TEST(ParseTextTest, CountCodePoints) {
  EXPECT_EQ(CountCodePoints(""), 0u);
  EXPECT_EQ(CountCodePoints("abc"), 3u);
  EXPECT_EQ(CountCodePoints("é"), 1u);     // 2 bytes
  EXPECT_EQ(CountCodePoints("支付"), 2u);  // 3 bytes each
  EXPECT_EQ(CountCodePoints("a😀b"), 3u);   // 4-byte code point
}

TEST(ParseTextTest, NamesAcceptLettersDigitsWhitespaceAndTheListedPunctuation) {
  EXPECT_EQ(CheckName("web-app"), "");
  EXPECT_EQ(CheckName("a_b.c:d/e%f&g#h=i+j\\k-l@m n\tz09"), "");
  EXPECT_EQ(CheckName("Überweisung 支付 сервис ٣"), "");
  EXPECT_EQ(CheckName("x\u3000y"), "");  // ideographic space is whitespace
  EXPECT_EQ(CheckName(std::string(200, 'n')), "");
  std::string accented;
  for (int i = 0; i < 200; ++i) accented += "é";
  EXPECT_EQ(CheckName(accented), "");  // 200 characters, 400 bytes
}

TEST(ParseTextTest, NamesRejectOtherCharactersAndLength) {
  const std::string allowed =
      " is not allowed (letters, digits, whitespace and _ . : / % & # = + \\ - @)";
  EXPECT_EQ(CheckName(""), "must not be empty");
  EXPECT_EQ(CheckName("a!b"), "character '!' (U+0021)" + allowed);
  EXPECT_EQ(CheckName("a\"b"), "character '\"' (U+0022)" + allowed);
  EXPECT_EQ(CheckName("(x)"), "character '(' (U+0028)" + allowed);
  EXPECT_EQ(CheckName("a*"), "character '*' (U+002A)" + allowed);
  EXPECT_EQ(CheckName("a\x01"), "character U+0001" + allowed);
  EXPECT_EQ(CheckName("a😀"), "character U+1F600" + allowed);
  EXPECT_EQ(CheckName("a©"), "character U+00A9" + allowed);
  EXPECT_EQ(CheckName("a—b"), "character U+2014" + allowed);            // em dash
  EXPECT_EQ(CheckName("a\xEF\xBC\x81"), "character U+FF01" + allowed);  // full-width !
  EXPECT_EQ(CheckName(std::string(201, 'n')), "is 201 characters, over the 200 limit");
  EXPECT_TRUE(IsNameCodePoint(U'ß'));
  EXPECT_TRUE(IsNameCodePoint(U'Ω'));
  EXPECT_FALSE(IsNameCodePoint(U'×'));
  EXPECT_FALSE(IsNameCodePoint(0xE000));  // private use
}

// Every ASCII character, alone and between letters, takes CheckName's ASCII
// path when allowed: its verdict must be IsNameCodePoint's.
TEST(ParseTextTest, NamesCheckEveryAsciiCharacterAsIsNameCodePoint) {
  for (char32_t c = 1; c < 0x80; ++c) {
    const std::string name = "a" + std::string(1, static_cast<char>(c)) + "b";
    EXPECT_EQ(CheckName(name).empty(), IsNameCodePoint(c)) << "U+" << static_cast<int>(c);
  }
  // An ASCII name with one non-ASCII letter is judged by code points.
  EXPECT_EQ(CheckName(std::string(199, 'n') + "é"), "");
  EXPECT_EQ(CheckName(std::string(200, 'n') + "é"), "is 201 characters, over the 200 limit");
}

TEST(ParseTextTest, AnnotationKeys) {
  EXPECT_EQ(CheckAnnotationKey("user_id"), "");
  EXPECT_EQ(CheckAnnotationKey("http.route"), "");
  EXPECT_EQ(CheckAnnotationKey("A9"), "");
  EXPECT_EQ(CheckAnnotationKey(std::string(500, 'k')), "");
  EXPECT_EQ(CheckAnnotationKey(""), "must not be empty");
  EXPECT_EQ(CheckAnnotationKey("user-id"), "may hold only letters, digits, '_' and '.'");
  EXPECT_EQ(CheckAnnotationKey("naïve"), "may hold only letters, digits, '_' and '.'");
  EXPECT_EQ(CheckAnnotationKey(std::string(501, 'k')), "is 501 characters, over the 500 limit");
}

TEST(ParseTextTest, QuoteForMessage) {
  EXPECT_EQ(QuoteForMessage("abc"), "\"abc\"");
  EXPECT_EQ(QuoteForMessage("a\"b\\c\n"), "\"a\\\"b\\\\c\\u000a\"");
  EXPECT_EQ(QuoteForMessage("héllo", 3), "\"hé...\"");
  EXPECT_EQ(QuoteForMessage("hello", 3), "\"hel...\"");
  EXPECT_EQ(QuoteForMessage(std::string(64, 'x')), "\"" + std::string(64, 'x') + "\"");
}

}  // namespace
}  // namespace roentgen::xray::parse
