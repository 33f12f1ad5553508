// The centralized sampling APIs through the Router, on a fake clock.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "api/testing/api_fixture.h"
#include "api/xray_handlers.h"

namespace roentgen::api {
namespace {

using nlohmann::json;

constexpr int64_t kNowS = 1'700'000'000;
const std::string kClientA = "0123456789abcdef01234567";
const std::string kClientB = "fedcba9876543210fedcba98";

json Rule(const std::string& name, int priority, double rate, int reservoir) {
  return {{"RuleName", name},
          {"ResourceARN", "*"},
          {"Priority", priority},
          {"FixedRate", rate},
          {"ReservoirSize", reservoir},
          {"ServiceName", "web-*"},
          {"ServiceType", "*"},
          {"Host", "*"},
          {"HTTPMethod", "GET"},
          {"URLPath", "/api/*"},
          {"Version", 1}};
}

class SamplingApiTest : public testing::ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    RegisterSamplingApis(router_sampling_, std::make_shared<sampling::RuleRegistry>(store_, clock_),
                         clock_);
  }
  HttpResponse Call(const std::string& path, const json& body) {
    return PostTo(router_sampling_, path, body.dump());
  }
  json Ok(const std::string& path, const json& body) {
    HttpResponse r = Call(path, body);
    EXPECT_EQ(r.status, 200) << path << ": " << r.body;
    return Json(r);
  }
  json Stat(const std::string& rule, const std::string& client, int requests = 5) {
    return {{"RuleName", rule},
            {"ClientID", client},
            {"Timestamp", clock_.NowMicros() / 1'000'000},
            {"RequestCount", requests},
            {"SampledCount", 2},
            {"BorrowCount", 1}};
  }

  FakeClock clock_{kNowS * 1'000'000};
  Router router_sampling_;
};

TEST_F(SamplingApiTest, CreateAnswersTheRecord) {
  json rule = Rule("web", 10, 0.5, 3);
  rule["Attributes"] = {{"tier", "gold"}};
  const json r = Ok("/CreateSamplingRule",
                    {{"SamplingRule", rule}, {"Tags", {{{"Key", "team"}, {"Value", "web"}}}}});
  json expected = rule;
  expected["RuleARN"] = "arn:aws:xray:us-east-1:000000000000:sampling-rule/web";
  EXPECT_EQ(r, (json{{"SamplingRuleRecord",
                      {{"SamplingRule", expected}, {"CreatedAt", kNowS}, {"ModifiedAt", kNowS}}}}));
  const json rules = Ok("/GetSamplingRules", json::object());
  ASSERT_EQ(rules["SamplingRuleRecords"].size(), 2u);
  EXPECT_EQ(rules["SamplingRuleRecords"][0]["SamplingRule"], expected);
  EXPECT_FALSE(rules.contains("NextToken"));
  const json d = rules["SamplingRuleRecords"][1];
  EXPECT_EQ(d["SamplingRule"]["RuleName"], "Default");
  EXPECT_EQ(d["SamplingRule"]["Priority"], 10000);
  EXPECT_EQ(d["SamplingRule"]["FixedRate"], 0.05);
  EXPECT_EQ(d["SamplingRule"]["ReservoirSize"], 1);
  EXPECT_EQ(d["SamplingRule"]["Attributes"], json::object());
  EXPECT_EQ(d["CreatedAt"], 0);
}

TEST_F(SamplingApiTest, ValidationErrorsNameTheField) {
  json bad_rate = Rule("web", 10, 1.5, 3);
  ExpectInvalid(Call("/CreateSamplingRule", {{"SamplingRule", bad_rate}}),
                "SamplingRule.FixedRate: must be between 0 and 1");
  json no_priority = Rule("web", 10, 0.5, 3);
  no_priority.erase("Priority");
  ExpectInvalid(Call("/CreateSamplingRule", {{"SamplingRule", no_priority}}),
                "SamplingRule.Priority: required");
  json fractional = Rule("web", 10, 0.5, 3);
  fractional["ReservoirSize"] = 1.5;
  ExpectInvalid(Call("/CreateSamplingRule", {{"SamplingRule", fractional}}),
                "SamplingRule.ReservoirSize: must be an integer");
  json long_name = Rule(std::string(33, 'n'), 10, 0.5, 3);
  ExpectInvalid(Call("/CreateSamplingRule", {{"SamplingRule", long_name}}),
                "SamplingRule.RuleName: must be 1 to 32 characters long");
  json both = Rule("web", 10, 0.5, 3);
  both["RuleARN"] = "arn:aws:xray:us-east-1:000000000000:sampling-rule/other";
  ExpectInvalid(Call("/CreateSamplingRule", {{"SamplingRule", both}}),
                "SamplingRule.RuleName and SamplingRule.RuleARN name different rules; name the "
                "rule by one of them");
  ExpectInvalid(Call("/CreateSamplingRule", {{"SamplingRule", Rule("web", 10, 0.5, 3)},
                                             {"Tags", {{{"Key", "aws:x"}, {"Value", "1"}}}}}),
                "Tags[0].Key: the aws: prefix is reserved");
  ExpectInvalid(Call("/CreateSamplingRule", json::object()), "SamplingRule: required");
  Ok("/CreateSamplingRule", {{"SamplingRule", Rule("web", 10, 0.5, 3)}});
  ExpectInvalid(Call("/CreateSamplingRule", {{"SamplingRule", Rule("web", 11, 0.5, 3)}}),
                "SamplingRule.RuleName: a sampling rule named 'web' already exists");
}

TEST_F(SamplingApiTest, CreateByArnAlone) {
  json rule = Rule("x", 10, 0.5, 3);
  rule.erase("RuleName");
  rule["RuleARN"] = "arn:aws:xray:us-east-1:000000000000:sampling-rule/by-arn";
  const json r = Ok("/CreateSamplingRule", {{"SamplingRule", rule}});
  EXPECT_EQ(r["SamplingRuleRecord"]["SamplingRule"]["RuleName"], "by-arn");
}

TEST_F(SamplingApiTest, UpdateAndDelete) {
  json rule = Rule("web", 10, 0.5, 3);
  rule["Attributes"] = {{"a", "1"}, {"b", "2"}};
  Ok("/CreateSamplingRule", {{"SamplingRule", rule}});
  clock_.Advance(30'000'000);
  const json updated = Ok("/UpdateSamplingRule",
                          {{"SamplingRuleUpdate",
                            {{"RuleARN", "arn:aws:xray:us-east-1:000000000000:sampling-rule/web"},
                             {"FixedRate", 1},
                             {"Attributes", {{"c", "3"}}}}}})["SamplingRuleRecord"];
  EXPECT_EQ(updated["SamplingRule"]["FixedRate"], 1.0);
  EXPECT_EQ(updated["SamplingRule"]["Attributes"], (json{{"c", "3"}}));
  EXPECT_EQ(updated["SamplingRule"]["ReservoirSize"], 3);
  EXPECT_EQ(updated["CreatedAt"], kNowS);
  EXPECT_EQ(updated["ModifiedAt"], kNowS + 30);
  ExpectInvalid(
      Call("/UpdateSamplingRule", {{"SamplingRuleUpdate", {{"RuleName", "web"}, {"Priority", 0}}}}),
      "SamplingRuleUpdate.Priority: must be an integer from 1 to 9999");
  ExpectInvalid(Call("/UpdateSamplingRule", {{"SamplingRuleUpdate", {{"FixedRate", 1}}}}),
                "SamplingRuleUpdate.RuleName or SamplingRuleUpdate.RuleARN: one is required");
  ExpectInvalid(Call("/UpdateSamplingRule",
                     {{"SamplingRuleUpdate", {{"RuleName", "ghost"}, {"FixedRate", 1}}}}),
                "RuleName: no sampling rule named 'ghost'");

  // Default: rates only.
  const json d = Ok("/UpdateSamplingRule",
                    {{"SamplingRuleUpdate",
                      {{"RuleName", "Default"}, {"FixedRate", 0.2}, {"ReservoirSize", 4}}}});
  EXPECT_EQ(d["SamplingRuleRecord"]["SamplingRule"]["FixedRate"], 0.2);
  EXPECT_EQ(d["SamplingRuleRecord"]["SamplingRule"]["ReservoirSize"], 4);
  EXPECT_EQ(d["SamplingRuleRecord"]["CreatedAt"], 0);
  ExpectInvalid(Call("/UpdateSamplingRule",
                     {{"SamplingRuleUpdate", {{"RuleName", "Default"}, {"Host", "a.example"}}}}),
                "Invalid update request for default sampling rule");

  const json deleted = Ok("/DeleteSamplingRule", {{"RuleName", "web"}});
  EXPECT_EQ(deleted["SamplingRuleRecord"]["SamplingRule"]["FixedRate"], 1.0);
  ExpectInvalid(Call("/DeleteSamplingRule", {{"RuleName", "web"}}),
                "RuleName: no sampling rule named 'web'");
  ExpectInvalid(Call("/DeleteSamplingRule", {{"RuleName", "Default"}}),
                "RuleName: the Default sampling rule cannot be deleted");
  ExpectInvalid(Call("/DeleteSamplingRule", json::object()),
                "RuleName or RuleARN: one is required");
  ExpectInvalid(Call("/DeleteSamplingRule", {{"RuleARN", "arn:aws:s3:::bucket"}}),
                "RuleARN: 'arn:aws:s3:::bucket' is not a sampling rule ARN of this server "
                "(arn:aws:xray:us-east-1:000000000000:sampling-rule/<name>)");
}

TEST_F(SamplingApiTest, RuleLimitExceeded) {
  for (int i = 0; i < 25; ++i) {
    Ok("/CreateSamplingRule", {{"SamplingRule", Rule("r" + std::to_string(i), 1 + i, 0.1, 1)}});
  }
  HttpResponse r = Call("/CreateSamplingRule", {{"SamplingRule", Rule("one-more", 99, 0.1, 1)}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(Json(r)["__type"], "RuleLimitExceededException");
  // One page holds them all.
  EXPECT_EQ(Ok("/GetSamplingRules", json::object())["SamplingRuleRecords"].size(), 26u);
}

TEST_F(SamplingApiTest, TargetsShareTheReservoir) {
  Ok("/CreateSamplingRule", {{"SamplingRule", Rule("web", 10, 0.5, 3)}});
  const json first =
      Ok("/SamplingTargets", {{"SamplingStatisticsDocuments", {Stat("web", kClientA)}}});
  EXPECT_EQ(first, (json{{"SamplingTargetDocuments",
                          {{{"RuleName", "web"},
                            {"FixedRate", 0.5},
                            {"ReservoirQuota", 3},
                            {"ReservoirQuotaTTL", kNowS + 300},
                            {"Interval", 10}}}},
                         {"LastRuleModification", kNowS},
                         {"UnprocessedStatistics", json::array()},
                         {"UnprocessedBoostStatistics", json::array()}}));
  clock_.Advance(1'000'000);
  const json second =
      Ok("/SamplingTargets", {{"SamplingStatisticsDocuments", {Stat("web", kClientB)}}});
  EXPECT_EQ(second["SamplingTargetDocuments"][0]["ReservoirQuota"], 1);
  const json again =
      Ok("/SamplingTargets", {{"SamplingStatisticsDocuments", {Stat("web", kClientA)}}});
  EXPECT_EQ(again["SamplingTargetDocuments"][0]["ReservoirQuota"], 2);
}

TEST_F(SamplingApiTest, UnprocessedStatistics) {
  json missing = Stat("Default", kClientA);
  missing.erase("RequestCount");
  const json r =
      Ok("/SamplingTargets", {{"SamplingStatisticsDocuments",
                               {Stat("Default", kClientA), Stat("gone", kClientA), missing, 42}},
                              {"SamplingBoostStatisticsDocuments",
                               {{{"RuleName", "gone"},
                                 {"ServiceName", "web"},
                                 {"Timestamp", kNowS},
                                 {"AnomalyCount", 1},
                                 {"TotalCount", 10},
                                 {"SampledAnomalyCount", 1}},
                                {{"RuleName", "Default"}, {"ServiceName", "web"}}}}});
  ASSERT_EQ(r["SamplingTargetDocuments"].size(), 1u);
  EXPECT_EQ(r["SamplingTargetDocuments"][0]["RuleName"], "Default");
  EXPECT_EQ(r["SamplingTargetDocuments"][0]["ReservoirQuota"], 1);
  EXPECT_EQ(r["LastRuleModification"], 0);
  EXPECT_EQ(r["UnprocessedStatistics"],
            (json{{{"RuleName", "Default"},
                   {"ErrorCode", "400"},
                   {"Message", "SamplingStatisticsDocuments[2].RequestCount: required"}},
                  {{"RuleName", ""},
                   {"ErrorCode", "400"},
                   {"Message", "SamplingStatisticsDocuments[3]: must be an object"}},
                  {{"RuleName", "gone"},
                   {"ErrorCode", "400"},
                   {"Message",
                    "RuleName: no sampling rule named 'gone' (deleted?); fetch the "
                    "rules again with GetSamplingRules"}}}));
  EXPECT_EQ(r["UnprocessedBoostStatistics"],
            (json{{{"RuleName", "gone"},
                   {"ErrorCode", "400"},
                   {"Message", "RuleName: no sampling rule named 'gone'"}},
                  {{"RuleName", "Default"},
                   {"ErrorCode", "400"},
                   {"Message", "SamplingBoostStatisticsDocuments[1].Timestamp: required"}}}));
  json many = json::array();
  for (int i = 0; i < 26; ++i) many.push_back(Stat("Default", kClientA));
  ExpectInvalid(Call("/SamplingTargets", {{"SamplingStatisticsDocuments", many}}),
                "SamplingStatisticsDocuments: at most 25 documents");
  ExpectInvalid(Call("/SamplingTargets", json::object()), "SamplingStatisticsDocuments: required");
}

TEST_F(SamplingApiTest, StatisticSummariesPerWindow) {
  Ok("/SamplingTargets", {{"SamplingStatisticsDocuments", {Stat("Default", kClientA, 5)}}});
  Ok("/SamplingTargets", {{"SamplingStatisticsDocuments", {Stat("Default", kClientB, 7)}}});
  clock_.Advance(10'000'000);
  Ok("/SamplingTargets", {{"SamplingStatisticsDocuments", {Stat("Default", kClientA, 1)}}});
  const json r = Ok("/SamplingStatisticSummaries", json::object());
  EXPECT_EQ(r, (json{{"SamplingStatisticSummaries",
                      {{{"RuleName", "Default"},
                        {"Timestamp", kNowS},
                        {"RequestCount", 12},
                        {"BorrowCount", 2},
                        {"SampledCount", 4}},
                       {{"RuleName", "Default"},
                        {"Timestamp", kNowS + 10},
                        {"RequestCount", 1},
                        {"BorrowCount", 1},
                        {"SampledCount", 2}}}}}));
  ExpectInvalid(Call("/SamplingStatisticSummaries", {{"NextToken", "x"}}),
                "NextToken: not a token this server issued");
}

TEST_F(SamplingApiTest, DeletionMovesLastRuleModification) {
  Ok("/CreateSamplingRule", {{"SamplingRule", Rule("web", 10, 0.5, 3)}});
  clock_.Advance(20'000'000);
  Ok("/DeleteSamplingRule", {{"RuleName", "web"}});
  const json r = Ok("/SamplingTargets", {{"SamplingStatisticsDocuments", {Stat("web", kClientA)}}});
  EXPECT_EQ(r["LastRuleModification"], kNowS + 20);
  EXPECT_EQ(r["UnprocessedStatistics"].size(), 1u);
}

// Two servers over one store that says it is shared (Store::DerivesRecords):
// RegisterSamplingApis picks the shared mode, so the quotas of clients split
// between the servers add up to the ReservoirSize and either server's
// summaries count both servers' reports.
TEST_F(SamplingApiTest, TwoServersOverASharedStoreAnswerAsOne) {
  store_.SetDerivesRecords(true);
  Router server1, server2;
  RegisterSamplingApis(server1, std::make_shared<sampling::RuleRegistry>(store_, clock_), store_,
                       clock_);
  RegisterSamplingApis(server2, std::make_shared<sampling::RuleRegistry>(store_, clock_), store_,
                       clock_);
  auto call = [&](Router& r, const std::string& path, const json& body) {
    HttpResponse response = PostTo(r, path, body.dump());
    EXPECT_EQ(response.status, 200) << path << ": " << response.body;
    return Json(response);
  };
  call(server1, "/CreateSamplingRule", {{"SamplingRule", Rule("web", 1, 0.1, 3)}});
  auto quota = [&](Router& r, const std::string& client) {
    json out = call(r, "/SamplingTargets", {{"SamplingStatisticsDocuments", {Stat("web", client)}}});
    return out["SamplingTargetDocuments"].at(0).value("ReservoirQuota", -1);
  };
  quota(server1, kClientA);
  quota(server2, kClientB);
  clock_.Advance(1'000'000);  // every server has read the other's clients
  const int a = quota(server1, kClientA);
  const int b = quota(server2, kClientB);
  EXPECT_EQ(a, 2);  // kClientA sorts first
  EXPECT_EQ(b, 1);
  json summaries = call(server2, "/SamplingStatisticSummaries", json::object());
  ASSERT_EQ(summaries["SamplingStatisticSummaries"].size(), 1u) << summaries.dump();
  EXPECT_EQ(summaries["SamplingStatisticSummaries"][0].value("RequestCount", 0), 20);
  // The one-server routes of this fixture keep their state in memory.
  json alone = Ok("/SamplingStatisticSummaries", json::object());
  EXPECT_TRUE(alone["SamplingStatisticSummaries"].empty());
}

}  // namespace
}  // namespace roentgen::api
