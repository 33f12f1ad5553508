// Targets from statistics reports, on a fake clock.
#include "sampling/target_allocator.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace roentgen::sampling {
namespace {

constexpr int64_t kAllocatorT0 = 1'700'000'000'000'000;
const std::string kClientA = "aaaaaaaaaaaaaaaaaaaaaaaa";
const std::string kClientB = "bbbbbbbbbbbbbbbbbbbbbbbb";
const std::string kClientC = "cccccccccccccccccccccccc";

class TargetAllocatorTest : public ::testing::Test {
 protected:
  TargetAllocatorTest() {
    SamplingRule web = DefaultRule();
    web.rule_name = "web";
    web.priority = 1;
    web.fixed_rate = 0.25;
    web.reservoir_size = 3;
    rules_ = {web, DefaultRule()};
  }

  StatisticsDocument Doc(const std::string& rule, const std::string& client,
                         int64_t requests = 10) {
    return StatisticsDocument{rule, client, clock_.NowMicros(), Counts{requests, 2, 1}};
  }
  Target Only(const TargetsResult& r) {
    EXPECT_TRUE(r.unprocessed.empty());
    EXPECT_EQ(r.targets.size(), 1u);
    return r.targets.empty() ? Target{} : r.targets.front();
  }
  Target Report(const std::string& rule, const std::string& client) {
    const std::vector<StatisticsDocument> docs = {Doc(rule, client)};
    return Only(allocator_.Report(docs, rules_));
  }

  FakeClock clock_{kAllocatorT0};
  StatisticsWindows statistics_{clock_};
  TargetAllocator allocator_{clock_, statistics_};
  std::vector<SamplingRule> rules_;
};

TEST_F(TargetAllocatorTest, OneClientGetsTheWholeReservoir) {
  const Target t = Report("web", kClientA);
  EXPECT_EQ(t.rule_name, "web");
  EXPECT_DOUBLE_EQ(t.fixed_rate, 0.25);
  EXPECT_EQ(t.reservoir_quota, 3);
  EXPECT_EQ(t.reservoir_quota_ttl_s, kAllocatorT0 / 1'000'000 + 300);
  EXPECT_EQ(t.interval_s, 10);
  const Target d = Report("Default", kClientA);
  EXPECT_DOUBLE_EQ(d.fixed_rate, 0.05);
  EXPECT_EQ(d.reservoir_quota, 1);
}

TEST_F(TargetAllocatorTest, TwoClientsShareThreeAsTwoPlusOne) {
  EXPECT_EQ(Report("web", kClientA).reservoir_quota, 3);
  clock_.Advance(2'000'000);
  EXPECT_EQ(Report("web", kClientB).reservoir_quota, 1);
  clock_.Advance(8'000'000);
  EXPECT_EQ(Report("web", kClientA).reservoir_quota, 2);
  EXPECT_EQ(allocator_.ActiveClients("web"), 2u);
  // Three clients: one each.
  EXPECT_EQ(Report("web", kClientC).reservoir_quota, 1);
  EXPECT_EQ(Report("web", kClientA).reservoir_quota, 1);
  EXPECT_EQ(Report("web", kClientB).reservoir_quota, 1);
}

TEST_F(TargetAllocatorTest, ClientThatStopsReportingDropsOut) {
  Report("web", kClientA);
  Report("web", kClientB);
  EXPECT_EQ(allocator_.ActiveClients("web"), 2u);
  // B keeps reporting every 10 s; A stops.
  clock_.Advance(10'000'000);
  EXPECT_EQ(Report("web", kClientB).reservoir_quota, 1);  // A still counts: 15 s grace
  clock_.Advance(6'000'000);
  EXPECT_EQ(Report("web", kClientB).reservoir_quota, 3);  // A is gone
  EXPECT_EQ(allocator_.ActiveClients("web"), 1u);
}

TEST_F(TargetAllocatorTest, ReservoirSharedRemainderSumsExactly) {
  rules_[0].reservoir_size = 10;
  const std::vector<std::string> clients = {"000000000000000000000001", "000000000000000000000002",
                                            "000000000000000000000003", "000000000000000000000004"};
  for (const std::string& c : clients) Report("web", c);
  int64_t sum = 0;
  std::vector<int64_t> quotas;
  for (const std::string& c : clients) {
    quotas.push_back(Report("web", c).reservoir_quota);
    sum += quotas.back();
  }
  EXPECT_EQ(sum, 10);
  EXPECT_EQ(quotas, (std::vector<int64_t>{3, 3, 2, 2}));
}

TEST_F(TargetAllocatorTest, UnknownRulesAndMalformedDocuments) {
  std::vector<StatisticsDocument> docs = {Doc("web", kClientA), Doc("gone", kClientA),
                                          Doc("web", "xyz"), Doc("", kClientA)};
  docs.push_back(Doc("Default", kClientA));
  docs.back().timestamp_us = kAllocatorT0 + 3600LL * 1'000'000;  // an hour ahead
  const TargetsResult r = allocator_.Report(docs, rules_);
  ASSERT_EQ(r.targets.size(), 1u);
  EXPECT_EQ(r.targets[0].rule_name, "web");
  ASSERT_EQ(r.unprocessed.size(), 4u);
  EXPECT_EQ(r.unprocessed[0].rule_name, "gone");
  EXPECT_EQ(r.unprocessed[0].error_code, "400");
  EXPECT_EQ(r.unprocessed[0].message,
            "RuleName: no sampling rule named 'gone' (deleted?); fetch the rules again with "
            "GetSamplingRules");
  EXPECT_EQ(r.unprocessed[1].message, "ClientID: must be 24 hexadecimal digits");
  EXPECT_EQ(r.unprocessed[2].message, "RuleName: must be 1 to 32 characters long");
  EXPECT_EQ(r.unprocessed[3].message,
            "Timestamp: more than 300 seconds ahead of the server's clock");
  // Only the accepted report was recorded.
  Result<SummaryPage> page = statistics_.Page("", 100);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->summaries.size(), 1u);
  EXPECT_EQ(page->summaries[0].rule_name, "web");
}

TEST_F(TargetAllocatorTest, DeletedRuleForgetsItsClients) {
  Report("web", kClientA);
  Report("web", kClientB);
  std::vector<SamplingRule> without_web = {DefaultRule()};
  const std::vector<StatisticsDocument> docs = {Doc("web", kClientA)};
  const TargetsResult r = allocator_.Report(docs, without_web);
  EXPECT_TRUE(r.targets.empty());
  ASSERT_EQ(r.unprocessed.size(), 1u);
  EXPECT_EQ(allocator_.ActiveClients("web"), 0u);
  // Created again: it starts with no clients.
  EXPECT_EQ(Report("web", kClientB).reservoir_quota, 3);
}

TEST_F(TargetAllocatorTest, FollowsTheRulesFixedRateAndReservoir) {
  EXPECT_DOUBLE_EQ(Report("web", kClientA).fixed_rate, 0.25);
  rules_[0].fixed_rate = 1;
  rules_[0].reservoir_size = 0;
  const Target t = Report("web", kClientA);
  EXPECT_DOUBLE_EQ(t.fixed_rate, 1);
  EXPECT_EQ(t.reservoir_quota, 0);
}

TEST(StatisticsWindowsTest, WindowsRetentionAndPages) {
  FakeClock clock(kAllocatorT0);
  StatisticsWindows windows(clock);
  // kAllocatorT0 is a multiple of 10 s.
  ASSERT_TRUE(windows.Add("web", kAllocatorT0 + 1'000'000, Counts{5, 2, 1}).ok());
  ASSERT_TRUE(windows.Add("web", kAllocatorT0 + 9'999'999, Counts{1, 1, 0}).ok());
  ASSERT_TRUE(windows.Add("web", kAllocatorT0 + 10'000'000, Counts{7, 0, 0}).ok());
  ASSERT_TRUE(windows.Add("api", kAllocatorT0 + 3'000'000, Counts{4, 4, 0}).ok());
  Result<SummaryPage> all = windows.Page("", 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->summaries.size(), 3u);
  EXPECT_EQ(all->summaries[0].rule_name, "api");
  EXPECT_EQ(all->summaries[0].window_start_us, kAllocatorT0);
  EXPECT_EQ(all->summaries[1].rule_name, "web");
  EXPECT_EQ(all->summaries[1].window_start_us, kAllocatorT0);
  EXPECT_EQ(all->summaries[1].counts.request_count, 6);
  EXPECT_EQ(all->summaries[1].counts.sampled_count, 3);
  EXPECT_EQ(all->summaries[1].counts.borrow_count, 1);
  EXPECT_EQ(all->summaries[2].window_start_us, kAllocatorT0 + 10'000'000);
  EXPECT_FALSE(all->next_token.has_value());

  Result<SummaryPage> first = windows.Page("", 2);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->summaries.size(), 2u);
  ASSERT_TRUE(first->next_token.has_value());
  Result<SummaryPage> second = windows.Page(*first->next_token, 2);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->summaries.size(), 1u);
  EXPECT_EQ(second->summaries[0].window_start_us, kAllocatorT0 + 10'000'000);
  EXPECT_EQ(windows.Page("nonsense", 2).status().code(), StatusCode::kInvalidArgument);

  // An hour later the first windows are gone, and reports that old are refused.
  clock.Advance(kStatisticsRetentionUs + 5'000'000);
  EXPECT_EQ(windows.Page("", 100)->summaries.size(), 1u);
  EXPECT_EQ(windows.Add("web", kAllocatorT0, Counts{1, 1, 1}).code(), StatusCode::kInvalidArgument);
  clock.Advance(10'000'000);
  EXPECT_EQ(windows.size(), 0u);
}

}  // namespace
}  // namespace roentgen::sampling
