// GetServiceGraph, GetTraceGraph and GetTimeSeriesServiceStatistics through the
// Router, over segments sent with PutTraceSegments (the pipeline keeps the
// rollups). The documents are the seed scenario's topology.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <ctime>
#include <map>
#include <string>
#include <vector>

#include "api/rollup_rebuild.h"
#include "api/testing/api_fixture.h"
#include "ingest/testing/segments.h"

namespace roentgen::api {
namespace {

using ingest::testing::TraceIdText;
using nlohmann::json;

// Whole seconds, 20 s into a minute, inside the rollups' retention (the writer
// expires rollups by the real clock): every time below is exact.
const double kT0 = static_cast<double>((std::time(nullptr) / 3600) * 3600 - 7200 + 20);

struct SeedOptions {
  double t = kT0;
  bool function_fault = false;
  bool dynamo_throttle = false;
  bool browser_in_progress = false;
};

// browser "Web-Application" → AppSync "todo-api" → Lambda "todo-fn" (facade) →
// function "todo-fn" → DynamoDB table "Todo-table" (an `aws` subsegment).
std::vector<std::string> SeedDocuments(const std::string& trace_id, const SeedOptions& o) {
  const double t = o.t;
  std::vector<std::string> docs;
  docs.push_back(
      o.browser_in_progress
          ? fmt::format(R"({{"name":"Web-Application","id":"00000000000000a1","trace_id":"{}",)"
                        R"("start_time":{:.6f},"in_progress":true}})",
                        trace_id, t)
          : fmt::format(R"({{"name":"Web-Application","id":"00000000000000a1","trace_id":"{}",)"
                        R"("start_time":{:.6f},"end_time":{:.6f}}})",
                        trace_id, t, t + 0.120));
  docs.push_back(fmt::format(
      R"({{"name":"todo-api","id":"00000000000000b1","trace_id":"{}","parent_id":"00000000000000a1",)"
      R"("origin":"AWS::AppSync::GraphQLAPI","aws":{{"account_id":"123456789012"}},)"
      R"("start_time":{:.6f},"end_time":{:.6f},"subsegments":[{{"name":"Lambda resolver",)"
      R"("id":"00000000000000b2","namespace":"aws","start_time":{:.6f},"end_time":{:.6f},)"
      R"("aws":{{"function_name":"todo-fn","operation":"Invoke"}}{}}}]}})",
      trace_id, t + 0.005, t + 0.110, t + 0.010, t + 0.100,
      o.function_fault ? R"(,"fault":true)" : ""));
  docs.push_back(fmt::format(
      R"({{"name":"todo-fn","id":"00000000000000c1","trace_id":"{}","parent_id":"00000000000000b2",)"
      R"("origin":"AWS::Lambda","aws":{{"account_id":"123456789012"}},)"
      R"("start_time":{:.6f},"end_time":{:.6f}{}}})",
      trace_id, t + 0.012, t + 0.098, o.function_fault ? R"(,"fault":true)" : ""));
  docs.push_back(fmt::format(
      R"({{"name":"todo-fn","id":"00000000000000d1","trace_id":"{}","parent_id":"00000000000000c1",)"
      R"("origin":"AWS::Lambda::Function","aws":{{"account_id":"123456789012"}},)"
      R"("start_time":{:.6f},"end_time":{:.6f}{},"subsegments":[{{"name":"DynamoDB",)"
      R"("id":"00000000000000d2","namespace":"aws","start_time":{:.6f},"end_time":{:.6f},)"
      R"("aws":{{"operation":"PutItem","table_name":"Todo-table"}}{}}}]}})",
      trace_id, t + 0.020, t + 0.095, o.function_fault ? R"(,"fault":true)" : "", t + 0.030,
      t + 0.045,
      o.dynamo_throttle ? R"(,"throttle":true,"error":true,"http":{"response":{"status":429}})"
                        : ""));
  return docs;
}

json Stats(int ok, int throttle, int other_error, int fault, double response_time) {
  const int errors = throttle + other_error;
  return {{"OkCount", ok},
          {"ErrorStatistics",
           {{"ThrottleCount", throttle}, {"OtherCount", other_error}, {"TotalCount", errors}}},
          {"FaultStatistics", {{"OtherCount", fault}, {"TotalCount", fault}}},
          {"TotalCount", ok + errors + fault},
          {"TotalResponseTime", response_time}};
}

// "name|type" of a service → the service object.
std::map<std::string, json> ByKey(const json& services) {
  std::map<std::string, json> out;
  for (const json& s : services) {
    out[s.value("Name", "") + "|" + s.value("Type", "")] = s;
  }
  return out;
}

// "caller name|type → callee name|type" of every edge.
std::vector<std::string> EdgeList(const json& services) {
  std::map<int, std::string> key_of;
  for (const json& s : services) {
    key_of[s["ReferenceId"].get<int>()] = s.value("Name", "") + "|" + s.value("Type", "");
  }
  std::vector<std::string> edges;
  for (const json& s : services) {
    for (const json& e : s["Edges"]) {
      edges.push_back(key_of[s["ReferenceId"].get<int>()] + " -> " +
                      key_of[e["ReferenceId"].get<int>()]);
    }
  }
  std::sort(edges.begin(), edges.end());
  return edges;
}

// The trace-level `fault` is the root segment's: these faults are deeper.
constexpr const char* kFnFault = R"(service("todo-fn") { fault })";

class GraphTest : public testing::ApiFixture {
 protected:
  json ServiceGraph(json extra = json::object()) {
    json request = {{"StartTime", kT0 - 60}, {"EndTime", kT0 + 600}};
    request.update(extra);
    HttpResponse r = Post("/ServiceGraph", request);
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r);
  }
};

const std::vector<std::string> kSeedEdges = {
    "Web-Application| -> todo-api|AWS::AppSync::GraphQLAPI",
    "todo-api|AWS::AppSync::GraphQLAPI -> todo-fn|AWS::Lambda",
    "todo-fn|AWS::Lambda -> todo-fn|AWS::Lambda::Function",
    "todo-fn|AWS::Lambda::Function -> Todo-table|AWS::DynamoDB::Table",
    "|client -> Web-Application|",
};

TEST_F(GraphTest, SeedTopologyNodesEdgesAndCounts) {
  PutAll(SeedDocuments(TraceIdText(1), {}));
  PutAll(SeedDocuments(TraceIdText(2), {.t = kT0 + 1}));
  const json body = ServiceGraph();
  EXPECT_EQ(body["StartTime"], kT0 - 60);
  EXPECT_EQ(body["EndTime"], kT0 + 600);
  EXPECT_EQ(body["ContainsOldGroupVersions"], false);
  EXPECT_FALSE(body.contains("NextToken"));
  std::map<std::string, json> services = ByKey(body["Services"]);
  std::vector<std::string> keys;
  for (const auto& [key, s] : services) keys.push_back(key);
  EXPECT_EQ(keys,
            (std::vector<std::string>{"Todo-table|AWS::DynamoDB::Table", "Web-Application|",
                                      "todo-api|AWS::AppSync::GraphQLAPI", "todo-fn|AWS::Lambda",
                                      "todo-fn|AWS::Lambda::Function", "|client"}));
  EXPECT_EQ(EdgeList(body["Services"]), kSeedEdges);
  // Two traces: every node and edge counted twice, response times exact.
  EXPECT_EQ(services["Web-Application|"]["SummaryStatistics"], Stats(2, 0, 0, 0, 0.240));
  EXPECT_EQ(services["todo-api|AWS::AppSync::GraphQLAPI"]["SummaryStatistics"],
            Stats(2, 0, 0, 0, 0.210));
  EXPECT_EQ(services["todo-fn|AWS::Lambda::Function"]["SummaryStatistics"],
            Stats(2, 0, 0, 0, 0.150));
  EXPECT_EQ(services["Todo-table|AWS::DynamoDB::Table"]["SummaryStatistics"],
            Stats(2, 0, 0, 0, 0.030));
  EXPECT_EQ(services["Web-Application|"]["Root"], true);
  EXPECT_EQ(services["todo-api|AWS::AppSync::GraphQLAPI"]["AccountId"], "123456789012");
  // The API → Lambda edge is observed through the resolver subsegment (90 ms).
  const json& api_edges = services["todo-api|AWS::AppSync::GraphQLAPI"]["Edges"];
  ASSERT_EQ(api_edges.size(), 1u);
  EXPECT_EQ(api_edges[0]["SummaryStatistics"], Stats(2, 0, 0, 0, 0.180));
}

TEST_F(GraphTest, FaultsAndThrottlesLandInTheRightStatistics) {
  PutAll(SeedDocuments(TraceIdText(1), {}));
  PutAll(SeedDocuments(TraceIdText(2), {.t = kT0 + 1, .function_fault = true}));
  PutAll(SeedDocuments(TraceIdText(3), {.t = kT0 + 2, .dynamo_throttle = true}));
  std::map<std::string, json> services = ByKey(ServiceGraph()["Services"]);
  EXPECT_EQ(services["todo-fn|AWS::Lambda::Function"]["SummaryStatistics"],
            Stats(2, 0, 0, 1, 0.225));
  EXPECT_EQ(services["todo-fn|AWS::Lambda"]["SummaryStatistics"], Stats(2, 0, 0, 1, 0.258));
  EXPECT_EQ(services["Todo-table|AWS::DynamoDB::Table"]["SummaryStatistics"],
            Stats(2, 1, 0, 0, 0.045));
  EXPECT_EQ(services["Web-Application|"]["SummaryStatistics"], Stats(3, 0, 0, 0, 0.360));
  // The throttle is on the function → table edge, the fault on API → Lambda.
  const json& fn_edges = services["todo-fn|AWS::Lambda::Function"]["Edges"];
  ASSERT_EQ(fn_edges.size(), 1u);
  EXPECT_EQ(fn_edges[0]["SummaryStatistics"], Stats(2, 1, 0, 0, 0.045));
  const json& api_edges = services["todo-api|AWS::AppSync::GraphQLAPI"]["Edges"];
  ASSERT_EQ(api_edges.size(), 1u);
  EXPECT_EQ(api_edges[0]["SummaryStatistics"], Stats(2, 0, 0, 1, 0.270));
}

TEST_F(GraphTest, InProgressSegmentCompletedLaterIsCountedOnce) {
  PutAll(SeedDocuments(TraceIdText(1), {.browser_in_progress = true}));
  std::map<std::string, json> before = ByKey(ServiceGraph()["Services"]);
  EXPECT_EQ(before["Web-Application|"]["SummaryStatistics"], Stats(0, 0, 0, 0, 0));
  PutAll({SeedDocuments(TraceIdText(1), {})[0]});  // the completed browser segment
  std::map<std::string, json> after = ByKey(ServiceGraph()["Services"]);
  EXPECT_EQ(after["Web-Application|"]["SummaryStatistics"], Stats(1, 0, 0, 0, 0.120));
  EXPECT_EQ(after["todo-api|AWS::AppSync::GraphQLAPI"]["SummaryStatistics"],
            Stats(1, 0, 0, 0, 0.105));
  // Resending the same documents changes nothing.
  PutAll(SeedDocuments(TraceIdText(1), {}));
  EXPECT_EQ(ByKey(ServiceGraph()["Services"]), after);
}

TEST_F(GraphTest, OutOfOrderSegmentsGiveTheSameGraph) {
  std::vector<std::string> docs = SeedDocuments(TraceIdText(1), {});
  for (auto it = docs.rbegin(); it != docs.rend(); ++it) PutAll({*it});
  const json reversed = ServiceGraph();
  EXPECT_EQ(EdgeList(reversed["Services"]), kSeedEdges);
  std::map<std::string, json> services = ByKey(reversed["Services"]);
  EXPECT_EQ(services.count("todo-api|AWS::AppSync::GraphQLAPI"), 1u);
  EXPECT_EQ(services["todo-api|AWS::AppSync::GraphQLAPI"]["Root"], false);
  EXPECT_EQ(services["|client"]["Edges"].size(), 1u);
  EXPECT_EQ(services["todo-fn|AWS::Lambda::Function"]["SummaryStatistics"],
            Stats(1, 0, 0, 0, 0.075));
}

TEST_F(GraphTest, WindowSelectsMinutes) {
  PutAll(SeedDocuments(TraceIdText(1), {}));
  PutAll(SeedDocuments(TraceIdText(2), {.t = kT0 + 3600}));
  const json first = ServiceGraph({{"EndTime", kT0 + 60}});
  EXPECT_EQ(ByKey(first["Services"])["|client"]["SummaryStatistics"]["TotalCount"], 1);
  const json both = ServiceGraph({{"EndTime", kT0 + 3700}});
  EXPECT_EQ(ByKey(both["Services"])["|client"]["SummaryStatistics"]["TotalCount"], 2);
  const json none = ServiceGraph({{"StartTime", kT0 + 7200}, {"EndTime", kT0 + 7300}});
  EXPECT_EQ(none["Services"], json::array());
}

TEST_F(GraphTest, GroupScopesTheServiceGraph) {
  PutAll(SeedDocuments(TraceIdText(1), {}));
  PutAll(SeedDocuments(TraceIdText(2), {.t = kT0 + 1, .function_fault = true}));
  ASSERT_EQ(
      Post("/CreateGroup", json{{"GroupName", "faults"}, {"FilterExpression", kFnFault}}).status,
      200);
  ASSERT_EQ(Post("/CreateGroup", json{{"GroupName", "all"}}).status, 200);
  const json faults = ServiceGraph({{"GroupName", "faults"}});
  std::map<std::string, json> services = ByKey(faults["Services"]);
  EXPECT_EQ(EdgeList(faults["Services"]), kSeedEdges);
  EXPECT_EQ(services["todo-fn|AWS::Lambda::Function"]["SummaryStatistics"],
            Stats(0, 0, 0, 1, 0.075));
  EXPECT_EQ(services["|client"]["Edges"][0]["SummaryStatistics"]["TotalCount"], 1);
  EXPECT_EQ(faults["StartTime"], kT0 - 60);
  EXPECT_FALSE(faults.contains("NextToken"));
  // A group without a filter, and the Default group, are the whole map.
  for (const char* group : {"all", "Default"}) {
    const json all = ServiceGraph({{"GroupName", group}});
    EXPECT_EQ(ByKey(all["Services"])["|client"]["Edges"][0]["SummaryStatistics"]["TotalCount"], 2)
        << group;
  }
  // A group that matches nothing, and an unknown group.
  ASSERT_EQ(
      Post("/CreateGroup", json{{"GroupName", "none"}, {"FilterExpression", "throttle"}}).status,
      200);
  EXPECT_EQ(ServiceGraph({{"GroupName", "none"}})["Services"], json::array());
  ExpectInvalid(
      Post("/ServiceGraph", json{{"StartTime", kT0}, {"EndTime", kT0 + 60}, {"GroupName", "nope"}}),
      "Group not found: 'nope'");
}

// After a restart the rollups fill in the background: until then the default
// group is answered from the stored traces, exactly, and then from the rollups.
TEST_F(GraphTest, DefaultGroupIsScannedWhileTheRollupsRebuild) {
  for (int i = 1; i <= 3; ++i) {
    PutAll(SeedDocuments(TraceIdText(i), {.t = kT0 + i, .function_fault = i == 2}));
  }
  const json expected = ServiceGraph();
  const json request = {{"StartTime", kT0 - 60}, {"EndTime", kT0 + 600}};
  const json series_request = {{"StartTime", kT0 - 60}, {"EndTime", kT0 + 600}, {"Period", 300}};
  const json expected_series = Json(Post("/TimeSeriesServiceStatistics", series_request));

  graph::RollupStore restarted;  // a new process: nothing rolled up yet
  restarted.BeginRebuild();
  Router router;
  RegisterServiceMapApis(router, store_, restarted, metrics_, query_limits_);
  HttpResponse during = PostTo(router, "/ServiceGraph", request.dump());
  ASSERT_EQ(during.status, 200) << during.body;
  EXPECT_EQ(Json(during)["Services"], expected["Services"]);
  HttpResponse series = PostTo(router, "/TimeSeriesServiceStatistics", series_request.dump());
  ASSERT_EQ(series.status, 200) << series.body;
  EXPECT_EQ(Json(series), expected_series);
  EXPECT_EQ(restarted.stats().minutes, 0u);  // those answers were not the rollups'

  Result<RebuildStats> rebuilt =
      RebuildRollups(store_, restarted, graph::RollupConfig{}.retention_us,
                     static_cast<int64_t>(std::time(nullptr)) * 1'000'000);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_EQ(rebuilt->traces, 3u);
  EXPECT_FALSE(restarted.rebuilding());
  EXPECT_GT(restarted.stats().minutes, 0u);
  HttpResponse after = PostTo(router, "/ServiceGraph", request.dump());
  EXPECT_EQ(Json(after)["Services"], expected["Services"]);
}

TEST_F(GraphTest, RebuildThatCannotReadTheStoreLeavesTheRollupsIncomplete) {
  PutAll(SeedDocuments(TraceIdText(1), {}));
  graph::RollupStore restarted;
  store_.FailReads(Status::IOError("disk on fire"));
  bool snapshot_called = false;
  Result<RebuildStats> rebuilt =
      RebuildRollups(store_, restarted, graph::RollupConfig{}.retention_us,
                     static_cast<int64_t>(std::time(nullptr)) * 1'000'000, nullptr,
                     [&] { snapshot_called = true; });
  EXPECT_EQ(rebuilt.status(), Status::IOError("disk on fire"));
  EXPECT_TRUE(snapshot_called);         // serve waits for it before starting the pipeline
  EXPECT_TRUE(restarted.rebuilding());  // the service-map APIs keep scanning
  store_.FailReads(Status::Ok());
}

TEST_F(GraphTest, ServiceGraphErrors) {
  ExpectInvalid(Post("/ServiceGraph", json{{"EndTime", kT0}}), "StartTime: required");
  ExpectInvalid(Post("/ServiceGraph", json{{"StartTime", kT0}}), "EndTime: required");
  ExpectInvalid(Post("/ServiceGraph", json{{"StartTime", kT0}, {"EndTime", kT0}}),
                "EndTime: must be after StartTime");
  ExpectInvalid(
      Post("/ServiceGraph", json{{"StartTime", kT0}, {"EndTime", kT0 + 1}, {"NextToken", "x"}}),
      "NextToken: not a token this server issued for this query; start again without it");
}

TEST_F(GraphTest, TraceGraphMergesTheRequestedTraces) {
  PutAll(SeedDocuments(TraceIdText(1), {}));
  PutAll(SeedDocuments(TraceIdText(2), {.t = kT0 + 1, .dynamo_throttle = true}));
  HttpResponse r =
      Post("/TraceGraph", json{{"TraceIds", {TraceIdText(1), TraceIdText(2), TraceIdText(9)}}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json body = Json(r);
  EXPECT_EQ(body.size(), 1u);  // only Services
  EXPECT_EQ(EdgeList(body["Services"]), kSeedEdges);
  std::map<std::string, json> services = ByKey(body["Services"]);
  EXPECT_EQ(services["Todo-table|AWS::DynamoDB::Table"]["SummaryStatistics"],
            Stats(1, 1, 0, 0, 0.030));
  HttpResponse one = Post("/TraceGraph", json{{"TraceIds", {TraceIdText(1)}}});
  EXPECT_EQ(ByKey(Json(one)["Services"])["|client"]["Edges"][0]["SummaryStatistics"],
            Stats(1, 0, 0, 0, 0.120));
  HttpResponse unknown = Post("/TraceGraph", json{{"TraceIds", {TraceIdText(9)}}});
  EXPECT_EQ(unknown.body, R"({"Services":[]})");
  ExpectInvalid(Post("/TraceGraph", json::object()), "TraceIds: required");
  ExpectInvalid(Post("/TraceGraph", json{{"TraceIds", {7}}}), "TraceIds[0]: must be a string");
}

TEST_F(GraphTest, TimeSeriesPerPeriod) {
  PutAll(SeedDocuments(TraceIdText(1), {}));
  PutAll(SeedDocuments(TraceIdText(2), {.t = kT0 + 61, .function_fault = true}));
  PutAll(SeedDocuments(TraceIdText(3), {.t = kT0 + 400}));
  json request = {{"StartTime", kT0 - 200},
                  {"EndTime", kT0 + 600},
                  {"EntitySelectorExpression", R"(service("todo-fn"))"},
                  {"Period", 60},
                  {"ForecastStatistics", true}};
  HttpResponse r = Post("/TimeSeriesServiceStatistics", request);
  ASSERT_EQ(r.status, 200) << r.body;
  json body = Json(r);
  EXPECT_EQ(body["ContainsOldGroupVersions"], false);
  const json& points = body["TimeSeriesServiceStatistics"];
  ASSERT_EQ(points.size(), 3u) << body.dump();
  // kT0 is 20 s into its minute.
  EXPECT_EQ(points[0]["Timestamp"], kT0 - 20);
  EXPECT_EQ(points[1]["Timestamp"], kT0 + 40);
  EXPECT_EQ(points[2]["Timestamp"], kT0 + 400);
  // service("todo-fn") matches the facade and the function; edges into them are
  // the resolver call and the facade → function call.
  EXPECT_EQ(points[0]["ServiceSummaryStatistics"], Stats(2, 0, 0, 0, 0.161));
  EXPECT_EQ(points[0]["EdgeSummaryStatistics"], Stats(2, 0, 0, 0, 0.165));
  EXPECT_EQ(points[1]["ServiceSummaryStatistics"], Stats(0, 0, 0, 2, 0.161));
  EXPECT_FALSE(points[0].contains("ServiceForecastStatistics"));

  request["Period"] = 300;
  request["EntitySelectorExpression"] =
      R"(edge("todo-fn", id(name: "Todo-table", type: "AWS::DynamoDB::Table")))";
  body = Json(Post("/TimeSeriesServiceStatistics", request));
  ASSERT_EQ(body["TimeSeriesServiceStatistics"].size(), 2u) << body.dump();
  EXPECT_EQ(body["TimeSeriesServiceStatistics"][0]["Timestamp"], kT0 - 20);  // on the hour
  EXPECT_EQ(body["TimeSeriesServiceStatistics"][0]["EdgeSummaryStatistics"],
            Stats(2, 0, 0, 0, 0.030));
  EXPECT_FALSE(body["TimeSeriesServiceStatistics"][0].contains("ServiceSummaryStatistics"));

  ASSERT_EQ(
      Post("/CreateGroup", json{{"GroupName", "faults"}, {"FilterExpression", kFnFault}}).status,
      200);
  request["GroupName"] = "faults";
  request["Period"] = 3600;
  request["EntitySelectorExpression"] = R"(service("todo-fn"))";
  body = Json(Post("/TimeSeriesServiceStatistics", request));
  ASSERT_EQ(body["TimeSeriesServiceStatistics"].size(), 1u) << body.dump();
  EXPECT_EQ(body["TimeSeriesServiceStatistics"][0]["ServiceSummaryStatistics"],
            Stats(0, 0, 0, 2, 0.161));

  request.erase("GroupName");
  request["Period"] = 90;
  ExpectInvalid(Post("/TimeSeriesServiceStatistics", request),
                "Period: must be a positive multiple of 60 seconds, got 90");
  request["Period"] = 60;
  request["EntitySelectorExpression"] = "service(";
  HttpResponse bad = Post("/TimeSeriesServiceStatistics", request);
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(Json(bad)["message"].get<std::string>().starts_with("EntitySelectorExpression: "));
}

}  // namespace
}  // namespace roentgen::api
