// Local sampling rules and the matcher (centralized sampling: server_test.cpp).
#include "sampling.h"

#include <gtest/gtest.h>

#include "roentgen/xray.h"
#include "test_daemon.h"

namespace roentgen::sdk::detail {
namespace {

TEST(SdkGlobTest, XRayWildcards) {
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("*", "anything"));
  EXPECT_TRUE(GlobMatch("/api/*", "/api/notes/1"));
  EXPECT_FALSE(GlobMatch("/api/*", "/web"));
  EXPECT_TRUE(GlobMatch("GET", "get"));
  EXPECT_TRUE(GlobMatch("?ET", "PET"));
  EXPECT_FALSE(GlobMatch("?ET", "ET"));
  EXPECT_TRUE(GlobMatch("*.example.com", "api.example.com"));
  EXPECT_TRUE(GlobMatch("a*b*c", "axxbyyc"));
  EXPECT_FALSE(GlobMatch("a*b*c", "axxbyy"));
}

TEST(SdkLocalRulesTest, ParsesVersion2AndVersion1) {
  std::vector<SamplingRule> rules;
  SamplingRule fallback;
  std::string error;
  ASSERT_TRUE(ParseLocalRules(
      R"({"version":2,"rules":[{"description":"health","host":"*","http_method":"GET",
      "url_path":"/healthz","fixed_target":0,"rate":0}],"default":{"fixed_target":1,"rate":0.1}})",
      rules, fallback, error))
      << error;
  ASSERT_EQ(rules.size(), 1u);
  EXPECT_EQ(rules[0].name, "health");
  EXPECT_EQ(rules[0].http_method, "GET");
  EXPECT_EQ(fallback.reservoir_size, 1);
  EXPECT_DOUBLE_EQ(fallback.fixed_rate, 0.1);
  ASSERT_TRUE(ParseLocalRules(
      R"({"version":1,"rules":[{"service_name":"api","http_method":"*","url_path":"*",
      "fixed_target":5,"rate":0.5}],"default":{"fixed_target":1,"rate":0.05}})",
      rules, fallback, error));
  EXPECT_EQ(rules[0].service_name, "api");
}

TEST(SdkLocalRulesTest, RejectsWhatTheSdksReject) {
  std::vector<SamplingRule> rules;
  SamplingRule fallback;
  std::string error;
  EXPECT_FALSE(ParseLocalRules("[]", rules, fallback, error));
  EXPECT_FALSE(ParseLocalRules(R"({"version":3,"default":{"fixed_target":1,"rate":0.1}})", rules,
                               fallback, error));
  EXPECT_EQ(error, "version: must be 1 or 2");
  EXPECT_FALSE(ParseLocalRules(R"({"version":2})", rules, fallback, error));
  EXPECT_EQ(error, "default: required");
  EXPECT_FALSE(ParseLocalRules(R"({"version":2,"default":{"fixed_target":1,"rate":1.5}})", rules,
                               fallback, error));
  EXPECT_EQ(error, "default.rate: must be a number in [0, 1]");
  EXPECT_FALSE(ParseLocalRules(
      R"({"version":2,"rules":[{"rate":0.1}],"default":{"fixed_target":1,"rate":0.1}})", rules,
      fallback, error));
  EXPECT_EQ(error, "rules[0].fixed_target: must be an integer >= 0");
}

TEST(SdkLocalRulesTest, ReservoirThenRate) {
  RecorderOptions o;
  o.sampling_rules_json = R"({"version":2,"rules":[
      {"description":"never","host":"*","http_method":"*","url_path":"/healthz","fixed_target":0,"rate":0},
      {"description":"all","host":"*","http_method":"POST","url_path":"*","fixed_target":0,"rate":1}],
      "default":{"fixed_target":3,"rate":0}})";
  std::vector<std::string> warnings;
  Sampler sampler(o, "127.0.0.1", 1, [&](std::string_view w) { warnings.emplace_back(w); });
  EXPECT_TRUE(warnings.empty());
  SamplingRequest health{"h", "GET", "/healthz", ""};
  SamplingRequest post{"h", "POST", "/notes", ""};
  SamplingRequest get{"h", "GET", "/notes", ""};
  for (int i = 0; i < 50; ++i) {
    EXPECT_FALSE(sampler.Decide(health, "svc"));
    EXPECT_TRUE(sampler.Decide(post, "svc"));
  }
  int sampled = 0;
  for (int i = 0; i < 100; ++i) sampled += sampler.Decide(get, "svc");
  // 3 a second; the loop may straddle a second boundary.
  EXPECT_GE(sampled, 3);
  EXPECT_LE(sampled, 6);
}

TEST(SdkLocalRulesTest, BadRulesFallBackToTheDefaultWithAWarning) {
  RecorderOptions o;
  o.sampling_rules_file = "/nonexistent/rules.json";
  std::vector<std::string> warnings;
  Sampler sampler(o, "127.0.0.1", 1, [&](std::string_view w) { warnings.emplace_back(w); });
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("cannot read /nonexistent/rules.json"), std::string::npos);
  EXPECT_TRUE(sampler.Decide({}, "svc"));  // the default's reservoir: 1 a second
}

TEST(SdkLocalRulesTest, RecorderUsesTheRules) {
  testing::FakeDaemon daemon;
  RecorderOptions o;
  o.daemon_address = daemon.address();
  o.sampling_rules_json = R"({"version":2,"rules":[],"default":{"fixed_target":0,"rate":0}})";
  Recorder recorder(o);
  SegmentOptions so;
  so.request.url_path = "/x";
  EXPECT_FALSE(recorder.BeginSegment("svc", so).recording());
  so.incoming = TraceHeader::Parse("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1");
  EXPECT_TRUE(recorder.BeginSegment("svc", so).recording());  // the caller decided
}

}  // namespace
}  // namespace roentgen::sdk::detail
