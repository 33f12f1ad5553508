#include "api/content_negotiation.h"

#include <gtest/gtest.h>

namespace roentgen::api {
namespace {

struct Codings {
  bool brotli;
  bool gzip;
};

Codings Parse(std::string_view header) {
  AcceptedCodings a = ParseAcceptEncoding(header);
  return {a.brotli, a.gzip};
}

#define EXPECT_CODINGS(header, br, gz)               \
  do {                                               \
    Codings c = Parse(header);                       \
    EXPECT_EQ(c.brotli, br) << "'" << header << "'"; \
    EXPECT_EQ(c.gzip, gz) << "'" << header << "'";   \
  } while (0)

TEST(AcceptEncodingTest, ListedCodingsAreAccepted) {
  EXPECT_CODINGS("gzip, deflate, br", true, true);
  EXPECT_CODINGS("gzip", false, true);
  EXPECT_CODINGS("br", true, false);
  EXPECT_CODINGS("deflate", false, false);
  EXPECT_CODINGS("", false, false);
  EXPECT_CODINGS("identity", false, false);
  EXPECT_CODINGS("x-gzip", false, true);
}

TEST(AcceptEncodingTest, TokensAndParametersAreCaseInsensitive) {
  EXPECT_CODINGS("BR, GZip", true, true);
  EXPECT_CODINGS("Br;Q=0, GZIP", false, true);
}

TEST(AcceptEncodingTest, QZeroRefusesACoding) {
  EXPECT_CODINGS("br;q=0, gzip", false, true);
  EXPECT_CODINGS("br;q=0.0, gzip;q=0.000", false, false);
  EXPECT_CODINGS("br ; q=0 , gzip ; q=0.5", false, true);
  EXPECT_CODINGS("gzip;q=1.0, br;q=0.001", true, true);
  EXPECT_CODINGS("br;level=5;q=0", false, false);  // other parameters are skipped
}

TEST(AcceptEncodingTest, WildcardCoversUnlistedCodings) {
  EXPECT_CODINGS("*", true, true);
  EXPECT_CODINGS("*;q=0", false, false);
  EXPECT_CODINGS("br;q=0, *", false, true);
  EXPECT_CODINGS("*;q=0, gzip", false, true);
}

TEST(AcceptEncodingTest, MalformedElementsAreIgnored) {
  EXPECT_CODINGS("br;q=abc, gzip", false, true);
  EXPECT_CODINGS("br;q=2", false, false);
  EXPECT_CODINGS(",,; ,gzip", false, true);
  EXPECT_CODINGS("br;q=", false, false);
}

TEST(IfNoneMatchTest, MatchesTheSameTag) {
  EXPECT_TRUE(IfNoneMatchMatches("\"abc\"", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"abd\"", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("abc", "\"abc\""));  // unquoted: not an entity tag
}

TEST(IfNoneMatchTest, ListsWeakTagsAndStar) {
  EXPECT_TRUE(IfNoneMatchMatches("\"x\", \"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("\"x\",W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches("W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(IfNoneMatchMatches(" * ", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"x\", \"y\"", "\"abc\""));
  // A comma inside a tag is part of the tag, not a separator.
  EXPECT_TRUE(IfNoneMatchMatches("\"a,b\"", "\"a,b\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"a,b\"", "\"a\""));
  // Garbage between tags is skipped; a tag without its closing quote is not one.
  EXPECT_TRUE(IfNoneMatchMatches("junk, \"abc\"", "\"abc\""));
  EXPECT_FALSE(IfNoneMatchMatches("\"abc", "\"abc\""));
}

}  // namespace
}  // namespace roentgen::api
