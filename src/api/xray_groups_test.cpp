// The group APIs through the Router, and group.name / group.arn in
// GetTraceSummaries filters.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "api/testing/api_fixture.h"
#include "ingest/testing/segments.h"

namespace roentgen::api {
namespace {

using ingest::testing::SegmentIdText;
using ingest::testing::SegmentJson;
using ingest::testing::TraceIdText;
using nlohmann::json;

class GroupsTest : public testing::ApiFixture {
 protected:
  json Create(const json& request) {
    HttpResponse r = Post("/CreateGroup", request);
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r)["Group"];
  }
  std::vector<std::string> SummaryIds(const std::string& filter) {
    HttpResponse r = Post(
        "/TraceSummaries",
        json{{"StartTime", 1600000000}, {"EndTime", 1600000100}, {"FilterExpression", filter}});
    EXPECT_EQ(r.status, 200) << r.body;
    const json body = Json(r);
    std::vector<std::string> ids;
    for (const json& s : body["TraceSummaries"]) ids.push_back(s["Id"]);
    std::sort(ids.begin(), ids.end());
    return ids;
  }
};

const json kInsightsOff = {{"InsightsEnabled", false}, {"NotificationsEnabled", false}};

TEST_F(GroupsTest, CreateGetUpdateDelete) {
  const json created = Create({{"GroupName", "slow"},
                               {"FilterExpression", "responsetime > 5"},
                               {"InsightsConfiguration", {{"InsightsEnabled", true}}},
                               {"Tags", {{{"Key", "team"}, {"Value", "web"}}}}});
  EXPECT_EQ(created["GroupName"], "slow");
  EXPECT_EQ(created["FilterExpression"], "responsetime > 5");
  EXPECT_EQ(created["InsightsConfiguration"],
            (json{{"InsightsEnabled", true}, {"NotificationsEnabled", false}}));
  const std::string arn = created["GroupARN"];
  // arn:aws:xray:us-east-1:000000000000:group/slow/ + 26 base32 characters [A-Z2-7].
  // (No std::regex: g++ 12 warns -Wmaybe-uninitialized inside it at -O1.)
  const std::string prefix = "arn:aws:xray:us-east-1:000000000000:group/slow/";
  ASSERT_EQ(arn.size(), prefix.size() + 26) << arn;
  EXPECT_EQ(arn.substr(0, prefix.size()), prefix);
  EXPECT_TRUE(std::all_of(arn.begin() + prefix.size(), arn.end(),
                          [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '2' && c <= '7'); }))
      << arn;
  EXPECT_EQ(created.size(), 4u);

  EXPECT_EQ(Json(Post("/GetGroup", json{{"GroupName", "slow"}}))["Group"], created);
  EXPECT_EQ(Json(Post("/GetGroup", json{{"GroupARN", arn}}))["Group"], created);

  HttpResponse updated =
      Post("/UpdateGroup", json{{"GroupARN", arn}, {"FilterExpression", "responsetime > 9"}});
  ASSERT_EQ(updated.status, 200) << updated.body;
  json expected = created;
  expected["FilterExpression"] = "responsetime > 9";
  EXPECT_EQ(Json(updated)["Group"], expected);
  updated = Post("/UpdateGroup", json{{"GroupName", "slow"},
                                      {"InsightsConfiguration", {{"InsightsEnabled", false}}}});
  expected["InsightsConfiguration"] = kInsightsOff;
  EXPECT_EQ(Json(updated)["Group"], expected);
  EXPECT_EQ(Json(Post("/GetGroup", json{{"GroupName", "slow"}}))["Group"], expected);

  HttpResponse deleted = Post("/DeleteGroup", json{{"GroupName", "slow"}});
  EXPECT_EQ(deleted.status, 200);
  EXPECT_EQ(deleted.body, "{}");
  ExpectInvalid(Post("/GetGroup", json{{"GroupName", "slow"}}), "Group not found: 'slow'");
  ExpectInvalid(Post("/DeleteGroup", json{{"GroupARN", arn}}), "Group not found: 'slow'");
}

TEST_F(GroupsTest, DefaultGroupAlwaysExists) {
  const json default_group = {{"GroupName", "Default"},
                              {"GroupARN", "arn:aws:xray:us-east-1:000000000000:group/Default"},
                              {"InsightsConfiguration", kInsightsOff}};
  EXPECT_EQ(Json(Post("/Groups", json::object())), (json{{"Groups", {default_group}}}));
  EXPECT_EQ(Json(Post("/GetGroup", json{{"GroupName", "Default"}}))["Group"], default_group);
  ExpectInvalid(Post("/CreateGroup", json{{"GroupName", "Default"}}),
                "GroupName: Default is a reserved group name");
  ExpectInvalid(Post("/DeleteGroup", json{{"GroupName", "Default"}}),
                "GroupName: the Default group cannot be deleted");
  ExpectInvalid(Post("/UpdateGroup", json{{"GroupName", "Default"}, {"FilterExpression", "ok"}}),
                "FilterExpression: the Default group matches every trace and takes no filter");
  HttpResponse insights =
      Post("/UpdateGroup",
           json{{"GroupName", "Default"}, {"InsightsConfiguration", {{"InsightsEnabled", true}}}});
  ASSERT_EQ(insights.status, 200) << insights.body;
  json expected = default_group;
  expected["InsightsConfiguration"]["InsightsEnabled"] = true;
  EXPECT_EQ(Json(insights)["Group"], expected);
  EXPECT_EQ(Json(Post("/Groups", json::object())), (json{{"Groups", {expected}}}));
}

TEST_F(GroupsTest, GetGroupsListsDefaultFirstThenByName) {
  const json b = Create({{"GroupName", "b-group"}, {"FilterExpression", "fault"}});
  const json a = Create({{"GroupName", "a.group"}});
  const json groups = Json(Post("/Groups", json::object()))["Groups"];
  ASSERT_EQ(groups.size(), 3u);
  EXPECT_EQ(groups[0]["GroupName"], "Default");
  EXPECT_EQ(groups[1], a);
  EXPECT_FALSE(groups[1].contains("FilterExpression"));
  EXPECT_EQ(groups[2], b);
}

TEST_F(GroupsTest, Errors) {
  ExpectInvalid(Post("/CreateGroup", json::object()), "GroupName: required");
  ExpectInvalid(Post("/CreateGroup", json{{"GroupName", ""}}),
                "GroupName: must be 1 to 32 characters long");
  ExpectInvalid(Post("/CreateGroup", json{{"GroupName", std::string(33, 'a')}}),
                "GroupName: must be 1 to 32 characters long");
  ExpectInvalid(Post("/CreateGroup", json{{"GroupName", "a/b"}}),
                "GroupName: may contain only letters, digits, '.', '_' and '-'");
  ExpectInvalid(Post("/CreateGroup", json{{"GroupName", "x"}, {"FilterExpression", "fault AND"}}),
                "FilterExpression: column 10: expected a condition after 'AND' but found end of "
                "expression");
  ExpectInvalid(
      Post("/CreateGroup",
           json{{"GroupName", "x"}, {"InsightsConfiguration", {{"NotificationsEnabled", true}}}}),
      "InsightsConfiguration: NotificationsEnabled requires InsightsEnabled");
  ExpectInvalid(Post("/CreateGroup",
                     json{{"GroupName", "x"}, {"Tags", {{{"Key", "aws:x"}, {"Value", "y"}}}}}),
                "Tags[0].Key: the aws: prefix is reserved");
  Create({{"GroupName", "x"}});
  ExpectInvalid(Post("/CreateGroup", json{{"GroupName", "x"}}), "Group already exists: 'x'");
  ExpectInvalid(Post("/GetGroup", json::object()), "GroupName or GroupARN: one is required");
  ExpectInvalid(
      Post("/GetGroup", json{{"GroupARN", "arn:aws:xray:us-east-1:000000000000:group/x"}}),
      "GroupARN: no group has the ARN 'arn:aws:xray:us-east-1:000000000000:group/x'");
  ExpectInvalid(Post("/UpdateGroup", json{{"GroupName", "nope"}}), "Group not found: 'nope'");
  // A filter naming an unknown group does not compile.
  ExpectInvalid(
      Post("/CreateGroup", json{{"GroupName", "y"}, {"FilterExpression", "group.name = \"zz\""}}),
      Json(Post("/TraceSummaries", json{{"StartTime", 1},
                                        {"EndTime", 2},
                                        {"FilterExpression", "group.name = \"zz\""}}))["message"]);
}

TEST_F(GroupsTest, GroupNameAndArnInTraceSummaryFilters) {
  PutAll({SegmentJson(TraceIdText(1), SegmentIdText(1), 1600000010.0, 1600000011.0,
                      R"(,"fault":true)"),
          SegmentJson(TraceIdText(2), SegmentIdText(2), 1600000020.0, 1600000020.5),
          SegmentJson(TraceIdText(3), SegmentIdText(3), 1600000030.0, 1600000037.0)});
  const json faults = Create({{"GroupName", "faults"}, {"FilterExpression", "fault"}});
  Create({{"GroupName", "slow-or-faults"},
          {"FilterExpression", "group.name = \"faults\" OR responsetime > 5"}});
  EXPECT_EQ(SummaryIds("group.name = \"faults\""), std::vector<std::string>{TraceIdText(1)});
  EXPECT_EQ(SummaryIds("group.arn = \"" + faults["GroupARN"].get<std::string>() + "\""),
            std::vector<std::string>{TraceIdText(1)});
  EXPECT_EQ(SummaryIds("group.name = \"slow-or-faults\""),
            (std::vector<std::string>{TraceIdText(1), TraceIdText(3)}));
  EXPECT_EQ(SummaryIds("group.name = \"Default\""),
            (std::vector<std::string>{TraceIdText(1), TraceIdText(2), TraceIdText(3)}));
  // Updating a group changes what it selects.
  ASSERT_EQ(Post("/UpdateGroup", json{{"GroupName", "faults"}, {"FilterExpression", "ok"}}).status,
            200);
  EXPECT_EQ(SummaryIds("group.name = \"faults\""),
            (std::vector<std::string>{TraceIdText(2), TraceIdText(3)}));
  HttpResponse unknown = Post("/TraceSummaries", json{{"StartTime", 1600000000},
                                                      {"EndTime", 1600000100},
                                                      {"FilterExpression", "group.name = \"zz\""}});
  EXPECT_EQ(unknown.status, 400) << unknown.body;
}

}  // namespace
}  // namespace roentgen::api
