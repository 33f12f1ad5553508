// Sampling rule validation, Default's update rules and the stored form.
#include "sampling/sampling_rule.h"

#include <gtest/gtest.h>

#include <string>

namespace roentgen::sampling {
namespace {

SamplingRule ValidRule() {
  SamplingRule r = DefaultRule();
  r.rule_name = "checkout";
  r.priority = 10;
  r.fixed_rate = 0.5;
  r.reservoir_size = 3;
  r.service_name = "checkout-*";
  return r;
}

void ExpectInvalid(const Status& s, const std::string& message) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.ToString();
  EXPECT_EQ(s.message(), message);
}

TEST(SamplingRuleTest, AcceptsXRayLimits) {
  SamplingRule r = ValidRule();
  EXPECT_TRUE(ValidateRule(r, "SamplingRule").ok());
  r.rule_name = std::string(32, 'n');
  r.resource_arn = std::string(500, 'a');
  r.priority = 1;
  r.fixed_rate = 0;
  r.reservoir_size = 0;
  r.service_name = std::string(64, 's');
  r.service_type = std::string(64, 't');
  r.host = std::string(64, 'h');
  r.http_method = std::string(10, 'M');
  r.url_path = std::string(128, '/');
  r.attributes = {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {std::string(32, 'e'), "5"}};
  r.rate_boost = RateBoost{1, 0};
  EXPECT_TRUE(ValidateRule(r, "SamplingRule").ok());
  r.priority = 9999;
  r.fixed_rate = 1;
  r.service_name = "";  // no minimum length, as in X-Ray's model
  EXPECT_TRUE(ValidateRule(r, "SamplingRule").ok());
}

TEST(SamplingRuleTest, RefusesEachFieldBeyondItsLimit) {
  auto check = [](auto mutate, const std::string& message) {
    SamplingRule r = ValidRule();
    mutate(r);
    ExpectInvalid(ValidateRule(r, "SamplingRule"), message);
  };
  check([](SamplingRule& r) { r.rule_name = ""; },
        "SamplingRule.RuleName: must be 1 to 32 characters long");
  check([](SamplingRule& r) { r.rule_name = std::string(33, 'x'); },
        "SamplingRule.RuleName: must be 1 to 32 characters long");
  check([](SamplingRule& r) { r.resource_arn = std::string(501, 'a'); },
        "SamplingRule.ResourceARN: must be at most 500 characters long");
  check([](SamplingRule& r) { r.priority = 0; },
        "SamplingRule.Priority: must be an integer from 1 to 9999");
  check([](SamplingRule& r) { r.priority = 10000; },
        "SamplingRule.Priority: must be an integer from 1 to 9999");
  check([](SamplingRule& r) { r.fixed_rate = 1.01; },
        "SamplingRule.FixedRate: must be between 0 and 1");
  check([](SamplingRule& r) { r.fixed_rate = -0.1; },
        "SamplingRule.FixedRate: must be between 0 and 1");
  check([](SamplingRule& r) { r.reservoir_size = -1; },
        "SamplingRule.ReservoirSize: must be an integer from 0 to 2147483647");
  check([](SamplingRule& r) { r.service_name = std::string(65, 's'); },
        "SamplingRule.ServiceName: must be at most 64 characters long");
  check([](SamplingRule& r) { r.service_type = std::string(65, 't'); },
        "SamplingRule.ServiceType: must be at most 64 characters long");
  check([](SamplingRule& r) { r.host = std::string(65, 'h'); },
        "SamplingRule.Host: must be at most 64 characters long");
  check([](SamplingRule& r) { r.http_method = std::string(11, 'M'); },
        "SamplingRule.HTTPMethod: must be at most 10 characters long");
  check([](SamplingRule& r) { r.url_path = std::string(129, '/'); },
        "SamplingRule.URLPath: must be at most 128 characters long");
  check([](SamplingRule& r) { r.version = 0; },
        "SamplingRule.Version: must be an integer from 1 to 2147483647");
  check(
      [](SamplingRule& r) {
        r.attributes = {{"a", "1"}, {"b", "2"}, {"c", "3"}, {"d", "4"}, {"e", "5"}, {"f", "6"}};
      },
      "SamplingRule.Attributes: at most 5 attributes");
  check(
      [](SamplingRule& r) {
        r.attributes = {{std::string(33, 'k'), "1"}};
      },
      "SamplingRule.Attributes: key \"" + std::string(33, 'k') +
          "\" must be 1 to 32 characters long");
  check(
      [](SamplingRule& r) {
        r.attributes = {{"k", ""}};
      },
      "SamplingRule.Attributes[k]: the value must be 1 to 32 characters long");
  check(
      [](SamplingRule& r) {
        r.rate_boost = RateBoost{1.5, 1};
      },
      "SamplingRule.SamplingRateBoost.MaxRate: must be between 0 and 1");
  check(
      [](SamplingRule& r) {
        r.rate_boost = RateBoost{0.5, -1};
      },
      "SamplingRule.SamplingRateBoost.CooldownWindowMinutes: must be an integer from 0 to "
      "2147483647");
}

TEST(SamplingRuleTest, DefaultRuleIsXRays) {
  const SamplingRule d = DefaultRule();
  EXPECT_EQ(d.rule_name, "Default");
  EXPECT_EQ(d.priority, 10000);
  EXPECT_DOUBLE_EQ(d.fixed_rate, 0.05);
  EXPECT_EQ(d.reservoir_size, 1);
  EXPECT_EQ(d.resource_arn, "*");
  EXPECT_EQ(d.service_name, "*");
  EXPECT_EQ(d.service_type, "*");
  EXPECT_EQ(d.host, "*");
  EXPECT_EQ(d.http_method, "*");
  EXPECT_EQ(d.url_path, "*");
  EXPECT_EQ(d.version, 1);
  EXPECT_TRUE(d.attributes.empty());
}

TEST(SamplingRuleTest, DefaultTakesOnlyRateReservoirAndBoost) {
  RuleUpdate rates;
  rates.fixed_rate = 0.2;
  rates.reservoir_size = 7;
  rates.rate_boost = RateBoost{0.5, 5};
  rates.service_name = "*";  // restating a matcher is no change
  Result<SamplingRule> updated = ApplyUpdate(DefaultRule(), rates);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_DOUBLE_EQ(updated->fixed_rate, 0.2);
  EXPECT_EQ(updated->reservoir_size, 7);
  EXPECT_EQ(updated->priority, 10000);

  RuleUpdate matcher;
  matcher.service_name = "web";
  EXPECT_EQ(ApplyUpdate(DefaultRule(), matcher).status().message(),
            "Invalid update request for default sampling rule");
  RuleUpdate priority;
  priority.priority = 5;
  EXPECT_EQ(ApplyUpdate(DefaultRule(), priority).status().message(),
            "Invalid update request for default sampling rule");
  RuleUpdate attributes;
  attributes.attributes = Attributes{{"a", "b"}};
  EXPECT_EQ(ApplyUpdate(DefaultRule(), attributes).status().message(),
            "Invalid update request for default sampling rule");
  RuleUpdate bad_rate;
  bad_rate.fixed_rate = 2;
  ExpectInvalid(ApplyUpdate(DefaultRule(), bad_rate).status(),
                "SamplingRuleUpdate.FixedRate: must be between 0 and 1");
}

TEST(SamplingRuleTest, UpdateReplacesAttributesAndValidates) {
  SamplingRule r = ValidRule();
  r.attributes = {{"a", "1"}, {"b", "2"}};
  RuleUpdate u;
  u.attributes = Attributes{{"c", "3"}};
  u.url_path = "/api/*";
  Result<SamplingRule> updated = ApplyUpdate(r, u);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->attributes, (Attributes{{"c", "3"}}));
  EXPECT_EQ(updated->url_path, "/api/*");
  EXPECT_EQ(updated->service_name, "checkout-*");
  RuleUpdate bad;
  bad.priority = 0;
  ExpectInvalid(ApplyUpdate(r, bad).status(),
                "SamplingRuleUpdate.Priority: must be an integer from 1 to 9999");
}

TEST(SamplingRuleTest, RecordRoundTrips) {
  RuleRecord record;
  record.rule = ValidRule();
  record.rule.attributes = {{"a", "1"}, {"z", "2"}};
  record.rule.rate_boost = RateBoost{0.25, 3};
  record.created_at_us = 1'700'000'000'123'456;
  record.modified_at_us = 1'700'000'100'000'000;
  record.tags = {{"team", "web"}, {"env", ""}};
  Result<RuleRecord> back = DecodeRecord("checkout", EncodeRecord(record));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->rule, record.rule);
  EXPECT_EQ(back->created_at_us, record.created_at_us);
  EXPECT_EQ(back->modified_at_us, record.modified_at_us);
  EXPECT_EQ(back->tags, record.tags);
  record.rule.rate_boost.reset();
  record.rule.fixed_rate = 1;
  back = DecodeRecord("checkout", EncodeRecord(record));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->rule, record.rule);
  EXPECT_EQ(DecodeRecord("x", "{").status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace roentgen::sampling
