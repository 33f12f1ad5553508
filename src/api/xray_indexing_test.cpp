// GetIndexingRules / UpdateIndexingRule through the Router, and the rule
// applied for real: traces left out are not found by GetTraceSummaries but are
// by BatchGetTraces.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "api/indexing_rules.h"
#include "api/testing/api_fixture.h"
#include "common/clock.h"
#include "ingest/testing/segments.h"

namespace roentgen::api {
namespace {

using ingest::testing::SegmentIdText;
using ingest::testing::SegmentJson;
using ingest::testing::TraceIdText;
using nlohmann::json;

constexpr int64_t kNow = 1'700'000'000'000'000;

class IndexingTest : public testing::ApiFixture {
 protected:
  // The fixture's pipeline has no policy: this one gets its own router and
  // pipeline with the rules' policy.
  void SetUp() override {
    Result<std::unique_ptr<IndexingRules>> rules = IndexingRules::Open(store_, clock_);
    ASSERT_TRUE(rules.ok()) << rules.status().ToString();
    rules_ = std::move(*rules);
    ingest::PipelineConfig config;
    config.indexing = &rules_->policy();
    pipeline_ = std::make_unique<ingest::Pipeline>(config, store_, metrics_);
    ASSERT_TRUE(pipeline_->Start().ok());
    RegisterXRayApi(router_, *pipeline_, store_, metrics_, query_limits_);
    RegisterIndexingRuleApis(router_, *rules_);
  }

  json Update(double percentage) {
    HttpResponse r = Post("/UpdateIndexingRule",
                          json{{"Name", "Default"},
                               {"Rule", {{"Probabilistic", {{"DesiredSamplingPercentage", percentage}}}}}});
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r);
  }

  size_t Found() {
    HttpResponse r = Post("/TraceSummaries", json{{"StartTime", 1.0}, {"EndTime", 2e9}});
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r)["TraceSummaries"].size();
  }

  FakeClock clock_{kNow};
  std::unique_ptr<IndexingRules> rules_;
};

TEST_F(IndexingTest, TheDefaultRuleIndexesEveryTrace) {
  HttpResponse r = Post("/GetIndexingRules", json::object());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r), (json{{"IndexingRules",
                            {{{"Name", "Default"},
                              {"ModifiedAt", 1'700'000'000.0},
                              {"Rule",
                               {{"Probabilistic",
                                 {{"DesiredSamplingPercentage", 100.0},
                                  {"ActualSamplingPercentage", 100.0}}}}}}}}}));
}

TEST_F(IndexingTest, TracesLeftOutAreNotSearchableButRetrievableById) {
  clock_.Advance(5'000'000);
  const json updated = Update(0);
  EXPECT_EQ(updated["IndexingRule"]["ModifiedAt"], 1'700'000'005.0);
  EXPECT_EQ(updated["IndexingRule"]["Rule"]["Probabilistic"]["DesiredSamplingPercentage"], 0.0);
  PutAll({SegmentJson(TraceIdText(1), SegmentIdText(1), 100.0, 101.0)});
  EXPECT_EQ(Found(), 0u);
  HttpResponse batch = Post("/Traces", json{{"TraceIds", {TraceIdText(1)}}});
  ASSERT_EQ(batch.status, 200);
  EXPECT_EQ(Json(batch)["Traces"].size(), 1u);
  // A later change of the rule leaves the stored trace as it was decided,
  // and applies to new traces.
  Update(100);
  PutAll({SegmentJson(TraceIdText(2), SegmentIdText(2), 100.0, 101.0)});
  EXPECT_EQ(Found(), 1u);
  const json rules = Json(Post("/GetIndexingRules", json::object()));
  EXPECT_EQ(rules["IndexingRules"][0]["Rule"]["Probabilistic"]["ActualSamplingPercentage"], 50.0);
}

TEST_F(IndexingTest, TheRuleIsPersisted) {
  Update(12.5);
  Result<std::unique_ptr<IndexingRules>> reopened = IndexingRules::Open(store_, clock_);
  ASSERT_TRUE(reopened.ok());
  EXPECT_EQ((*reopened)->policy().percentage(), 12.5);
  EXPECT_EQ((*reopened)->List()[0].modified_us, kNow);
}

// Servers sharing a store (Store::DerivesRecords): a rule one of them
// changes is what the other lists, and what its ingest applies once it
// refreshes.
TEST(SharedIndexingRulesTest, AnUpdateOnOneServerReachesTheOther) {
  ingest::testing::FakeStore shared;
  shared.SetDerivesRecords(true);
  FakeClock clock(kNow);
  Result<std::unique_ptr<IndexingRules>> a = IndexingRules::Open(shared, clock);
  Result<std::unique_ptr<IndexingRules>> b = IndexingRules::Open(shared, clock);
  ASSERT_TRUE(a.ok() && b.ok());
  clock.Advance(1'000'000);
  ASSERT_TRUE((*a)->Update("Default", 25).ok());
  const std::vector<IndexingRule> listed = (*b)->List();
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].desired_percentage, 25.0);
  EXPECT_EQ(listed[0].modified_us, kNow + 1'000'000);
  EXPECT_EQ((*b)->policy().percentage(), 25.0);
  ASSERT_TRUE((*a)->Update("Default", 75).ok());
  ASSERT_TRUE((*b)->Refresh().ok());
  EXPECT_EQ((*b)->policy().percentage(), 75.0);
  // A stored rule that cannot be read leaves the rule last read.
  ASSERT_TRUE(shared.PutConfig(kIndexingRuleNamespace, kDefaultIndexingRule, "{").ok());
  EXPECT_EQ((*b)->Refresh().code(), StatusCode::kCorruption);
  EXPECT_EQ((*b)->List()[0].desired_percentage, 75.0);
}

// A server with a store of its own never reads the rule back.
TEST(SharedIndexingRulesTest, AStoreOfItsOwnIsNotReadAgain) {
  ingest::testing::FakeStore own;
  FakeClock clock(kNow);
  Result<std::unique_ptr<IndexingRules>> rules = IndexingRules::Open(own, clock);
  ASSERT_TRUE(rules.ok());
  ASSERT_TRUE(own.PutConfig(kIndexingRuleNamespace, kDefaultIndexingRule,
                            R"({"DesiredSamplingPercentage":5,"ModifiedAt":1})")
                  .ok());
  EXPECT_EQ((*rules)->List()[0].desired_percentage, 100.0);
}

TEST_F(IndexingTest, Errors) {
  HttpResponse unknown = Post(
      "/UpdateIndexingRule",
      json{{"Name", "Other"}, {"Rule", {{"Probabilistic", {{"DesiredSamplingPercentage", 5}}}}}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Json(unknown)["__type"], "ResourceNotFoundException");
  ExpectInvalid(Post("/UpdateIndexingRule",
                     json{{"Name", "Default"},
                          {"Rule", {{"Probabilistic", {{"DesiredSamplingPercentage", 101}}}}}}),
                "Rule.Probabilistic.DesiredSamplingPercentage: 101 is not between 0 and 100");
  ExpectInvalid(Post("/UpdateIndexingRule", json{{"Name", "Default"}}), "Rule: required");
  ExpectInvalid(Post("/UpdateIndexingRule", json{{"Name", "Default"}, {"Rule", json::object()}}),
                "Rule.Probabilistic: required (the only kind of indexing rule)");
  ExpectInvalid(Post("/UpdateIndexingRule", json::object()), "Name: required");
  ExpectInvalid(Post("/GetIndexingRules", json{{"NextToken", "x"}}),
                "NextToken: this server has one indexing rule and never issues one");
}

}  // namespace
}  // namespace roentgen::api
