#include "auth/amz_time.h"

#include <gtest/gtest.h>

namespace roentgen::auth {
namespace {

constexpr int64_t kAws20150830T123600Z = 1440938160;

TEST(AmzTimeTest, FormatsAndParsesTheThreeForms) {
  EXPECT_EQ(FormatAmzDate(kAws20150830T123600Z), "20150830T123600Z");
  EXPECT_EQ(ParseAmzDate("20150830T123600Z"), kAws20150830T123600Z);
  EXPECT_EQ(ParseHttpDate("Sun, 30 Aug 2015 12:36:00 GMT"), kAws20150830T123600Z);
  EXPECT_EQ(FormatIso8601(kAws20150830T123600Z), "2015-08-30T12:36:00Z");
  EXPECT_EQ(ParseIso8601("2015-08-30T12:36:00Z"), kAws20150830T123600Z);
}

TEST(AmzTimeTest, RejectsMalformedAndImpossibleDates) {
  for (const char* bad :
       {"", "20150830T123600", "20150830 123600Z", "2015083OT123600Z", "20150230T123600Z",
        "20151330T123600Z", "20150830T246000Z", "2015-08-30T12:36:00Z"}) {
    EXPECT_FALSE(ParseAmzDate(bad).has_value()) << bad;
  }
  EXPECT_FALSE(ParseHttpDate("Sun, 30 Foo 2015 12:36:00 GMT").has_value());
  EXPECT_FALSE(ParseHttpDate("Sun, 30 Aug 2015 12:36:00 UTC").has_value());
  EXPECT_FALSE(ParseIso8601("2015-02-29T00:00:00Z").has_value());
  EXPECT_FALSE(ParseIso8601("2015-08-30 12:36:00Z").has_value());
}

}  // namespace
}  // namespace roentgen::auth
