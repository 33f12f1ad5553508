#include "xray/tag_rules.h"

#include <gtest/gtest.h>

#include <string>

namespace roentgen::xray {
namespace {

void ExpectInvalidTags(const Status& s, const std::string& message) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(s.message(), message);
}

TEST(TagRulesTest, AResourcesTagsFollowXRaysRules) {
  EXPECT_TRUE(ValidateResourceTags(
                  {{"team", "web"}, {std::string(128, 'k'), std::string(256, 'v')}}, "Tags")
                  .ok());
  EXPECT_TRUE(ValidateResourceTags({{"Team", "a"}, {"team", "b"}}, "Tags").ok());  // case-sensitive
  EXPECT_TRUE(ValidateResourceTags({{"a b_.:/=+-@", ""}}, "Tags").ok());
  ExpectInvalidTags(ValidateResourceTags({{"aws:owner", "x"}}, "Tags"),
                    "Tags[0].Key: the aws: prefix is reserved");
  ExpectInvalidTags(ValidateResourceTags({{"AWS:owner", "x"}}, "Tags"),
                    "Tags[0].Key: the aws: prefix is reserved");
  ExpectInvalidTags(ValidateResourceTags({{"a", "b"}, {"", "x"}}, "Tags"),
                    "Tags[1].Key: must be 1 to 128 characters long");
  ExpectInvalidTags(ValidateResourceTags({{"a", std::string(257, 'v')}}, "Tags"),
                    "Tags[0].Value: at most 256 characters long");
  ExpectInvalidTags(ValidateResourceTags({{"a", "1"}, {"a", "2"}}, "Tags"),
                    "Tags[1].Key: the key 'a' appears more than once");
  ExpectInvalidTags(ValidateResourceTags({{"a", "x#y"}}, "Tags"),
                    "Tags[0].Value: the character '#' is not allowed; tags may hold letters, "
                    "digits, white space and _ . : / = + - @");
  ExpectInvalidTags(ValidateResourceTags({{"a\xff", "x"}}, "Tags"),
                    "Tags[0].Key: is not valid UTF-8");
}

TEST(TagRulesTest, LengthsAreInCharacters) {
  std::string key, value;
  for (int i = 0; i < 128; ++i) key += "é";
  for (int i = 0; i < 256; ++i) value += "日";
  EXPECT_TRUE(ValidateResourceTags({{key, value}}, "Tags").ok());
  ExpectInvalidTags(ValidateResourceTags({{key + "é", ""}}, "Tags"),
                    "Tags[0].Key: must be 1 to 128 characters long");
  ExpectInvalidTags(ValidateResourceTags({{"k", value + "日"}}, "Tags"),
                    "Tags[0].Value: at most 256 characters long");
}

TEST(TagRulesTest, AResourceHasAtMostFiftyTags) {
  TagList tags;
  for (int i = 0; i < 50; ++i) tags.emplace_back("k" + std::to_string(i), "v");
  EXPECT_TRUE(ValidateResourceTags(tags, "Tags").ok());
  tags.emplace_back("k50", "v");
  ExpectInvalidTags(ValidateResourceTags(tags, "Tags"),
                    "Tags: a resource may have at most 50 tags, got 51");
}

}  // namespace
}  // namespace roentgen::xray
