// Integration: the X-Ray API and the ingest pipeline over the real RocksDB
// store — write through PutTraceSegments and UDP, read back with
// BatchGetTraces and GetTraceSummaries, across a close and reopen.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <future>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "api/rollup_rebuild.h"
#include "api/xray_api.h"
#include "graph/test_traces.h"
#include "ingest/pipeline.h"
#include "ingest/testing/segments.h"
#include "store/rocksdb/rocksdb_store.h"

namespace roentgen::api {
namespace {

using ingest::testing::Datagram;
using ingest::testing::SegmentIdText;
using ingest::testing::SegmentJson;
using ingest::testing::SubsegmentJson;
using ingest::testing::TraceIdText;
using nlohmann::json;

// A store, a running pipeline and a router: one "server" over a directory.
struct Server {
  // `before_pipeline`, if set, runs between opening the store and starting
  // the pipeline.
  explicit Server(const std::string& path, graph::RollupStore* rollups = nullptr,
                  const std::function<void(store::Store&)>& before_pipeline = {}) {
    store::RocksDbStoreConfig config;
    config.path = path;
    auto opened = store::OpenRocksDbStore(config);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    store = std::move(*opened);
    if (before_pipeline) before_pipeline(*store);
    ingest::PipelineConfig pipeline_config;
    pipeline_config.rollups = rollups;
    pipeline = std::make_unique<ingest::Pipeline>(pipeline_config, *store, metrics);
    EXPECT_TRUE(pipeline->Start().ok());
    RegisterXRayApi(router, *pipeline, *store, metrics, QueryLimits{});
  }
  ~Server() { pipeline->Stop(); }

  json Post(const std::string& path, const json& body, int expected_status = 200) {
    HttpRequest request;
    request.method = "POST";
    request.path = path;
    request.target = path;
    request.body = body.dump();
    std::promise<HttpResponse> promise;
    router.Dispatch(request, [&promise](HttpResponse r) { promise.set_value(std::move(r)); });
    HttpResponse response = promise.get_future().get();
    EXPECT_EQ(response.status, expected_status) << response.body;
    return json::parse(response.body);
  }

  MetricsRegistry metrics;
  std::unique_ptr<store::Store> store;
  std::unique_ptr<ingest::Pipeline> pipeline;
  Router router;
};

class XRayRocksDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "roentgen-xray-rocksdb-XXXXXX").string();
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
};

TEST_F(XRayRocksDbTest, WrittenTracesSurviveReopenAndKeepGrowing) {
  {
    Server server(dir_);
    json put = server.Post(
        "/TraceSegments",
        {{"TraceSegmentDocuments",
          {SegmentJson(TraceIdText(1), SegmentIdText(1), 1000.0, 1003.0,
                       R"(,"annotations":{"tier":"gold"})", "api"),
           SubsegmentJson(TraceIdText(1), SegmentIdText(2), SegmentIdText(1), 1000.5, 1001.0),
           "{\"name\":"}}});
    ASSERT_EQ(put["UnprocessedTraceSegments"].size(), 1u);
    EXPECT_EQ(put["UnprocessedTraceSegments"][0]["ErrorCode"], "MalformedJson");
    server.pipeline->OnDatagram(
        Datagram(SegmentJson(TraceIdText(2), SegmentIdText(3), 1001.0, 1001.5)));
    server.pipeline->Stop();  // drains the UDP document
  }
  Server server(dir_);
  json traces = server.Post("/Traces", {{"TraceIds", {TraceIdText(1), TraceIdText(2)}}});
  ASSERT_EQ(traces["Traces"].size(), 2u);
  EXPECT_EQ(traces["UnprocessedTraceIds"], json::array());
  std::map<std::string, json> by_id;
  for (const json& t : traces["Traces"]) by_id[t["Id"]] = t;
  EXPECT_EQ(by_id[TraceIdText(1)]["Duration"], 3.0);
  const json doc = json::parse(by_id[TraceIdText(1)]["Segments"][0]["Document"].get<std::string>());
  EXPECT_EQ(doc["subsegments"][0]["id"], SegmentIdText(2));
  EXPECT_EQ(by_id[TraceIdText(2)]["Duration"], 0.5);

  // A new segment of a trace written before the restart: reloaded from disk.
  server.Post("/TraceSegments",
              {{"TraceSegmentDocuments",
                {SegmentJson(TraceIdText(1), SegmentIdText(4), 1002.0, 1006.0, "", "worker")}}});
  json gold = server.Post(
      "/TraceSummaries",
      {{"StartTime", 999}, {"EndTime", 1100}, {"FilterExpression", R"(annotation.tier = "gold")"}});
  ASSERT_EQ(gold["TraceSummaries"].size(), 1u);
  const json& summary = gold["TraceSummaries"][0];
  EXPECT_EQ(summary["Id"], TraceIdText(1));
  EXPECT_EQ(summary["Revision"], 2);
  EXPECT_EQ(summary["Duration"], 6.0);
  EXPECT_EQ(summary["ResponseTime"], 3.0);
}

// Tags, the encryption configuration, the segment destination and resource
// policies are kept in the store's config space: a restart finds them.
TEST_F(XRayRocksDbTest, ConfigurationSurvivesReopen) {
  const std::string policy =
      R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"xray:*","Resource":"*"}})";
  std::string arn;
  {
    Server server(dir_);
    arn = server.Post("/CreateGroup",
                      {{"GroupName", "web"},
                       {"Tags", {{{"Key", "team"}, {"Value", "web"}}}}})["Group"]["GroupARN"];
    server.Post("/TagResource",
                {{"ResourceARN", arn}, {"Tags", {{{"Key", "Équipe"}, {"Value", "ops"}}}}});
    server.Post("/PutEncryptionConfig", {{"Type", "NONE"}});
    server.Post("/UpdateTraceSegmentDestination", {{"Destination", "XRay"}});
    server.Post("/PutResourcePolicy", {{"PolicyName", "all"}, {"PolicyDocument", policy}});
  }
  Server server(dir_);
  EXPECT_EQ(server.Post("/ListTagsForResource", {{"ResourceARN", arn}})["Tags"],
            (json{{{"Key", "team"}, {"Value", "web"}}, {{"Key", "Équipe"}, {"Value", "ops"}}}));
  EXPECT_EQ(server.Post("/EncryptionConfig", json::object()),
            (json{{"EncryptionConfig", {{"Status", "ACTIVE"}, {"Type", "NONE"}}}}));
  EXPECT_EQ(server.Post("/GetTraceSegmentDestination", json::object()),
            (json{{"Destination", "XRay"}, {"Status", "ACTIVE"}}));
  const json policies = server.Post("/ListResourcePolicies", json::object())["ResourcePolicies"];
  ASSERT_EQ(policies.size(), 1u);
  EXPECT_EQ(policies[0]["PolicyName"], "all");
  EXPECT_EQ(policies[0]["PolicyDocument"], policy);
  EXPECT_EQ(policies[0]["PolicyRevisionId"], "1");
  // The revisions go on from where they were.
  EXPECT_EQ(server.Post("/PutResourcePolicy",
                        {{"PolicyName", "all"},
                         {"PolicyDocument", policy},
                         {"PolicyRevisionId", "1"}})["ResourcePolicy"]["PolicyRevisionId"],
            "2");
}

TEST_F(XRayRocksDbTest, PagingOverRocksDbReturnsEveryTraceOnce) {
  Server server(dir_);
  std::vector<std::string> docs;
  constexpr int kTraces = 230;
  for (int i = 0; i < kTraces; ++i) {
    docs.push_back(SegmentJson(TraceIdText(i + 1), SegmentIdText(i + 1), 2000.0 + i, 2000.5 + i));
  }
  json put = server.Post("/TraceSegments", {{"TraceSegmentDocuments", docs}});
  EXPECT_EQ(put["UnprocessedTraceSegments"], json::array());
  std::vector<std::string> seen;
  json request = {{"StartTime", 2000}, {"EndTime", 3000}};
  for (int page = 0; page < 10; ++page) {
    json body = server.Post("/TraceSummaries", request);
    for (const json& s : body["TraceSummaries"]) seen.push_back(s["Id"]);
    if (!body.contains("NextToken")) break;
    request["NextToken"] = body["NextToken"];
  }
  ASSERT_EQ(seen.size(), static_cast<size_t>(kTraces));
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), static_cast<size_t>(kTraces));
  for (int i = 0; i < kTraces; ++i) EXPECT_EQ(seen[i], TraceIdText(kTraces - i));
}

// TraceAnalytics over RocksDB: the plain time scan, an indexed filter (the
// secondary index narrows the candidates), a filter on the trace graph, and a
// scan stopped by MaxTraces.
TEST_F(XRayRocksDbTest, TraceAnalyticsOverRocksDb) {
  Server server(dir_);
  constexpr int kTraces = 300;
  std::vector<std::string> docs;
  int gold = 0, faults = 0, api_faults = 0;
  for (int i = 0; i < kTraces; ++i) {
    const double start = 3000.0 + i;
    const bool is_gold = i % 3 == 0;
    const bool fault = i % 10 == 0;
    gold += is_gold;
    faults += fault;
    docs.push_back(
        SegmentJson(TraceIdText(i + 1), SegmentIdText(i + 1), start, start + 0.1 + (i % 5) * 0.2,
                    fmt::format(R"(,"user":"user-{}","annotations":{{"tier":"{}"}}{})", i % 4,
                                is_gold ? "gold" : "silver", fault ? R"(,"fault":true)" : ""),
                    "web"));
    if (i % 2 == 0) {  // web calls api
      const bool api_fault = i % 4 == 0;
      api_faults += api_fault;
      docs.push_back(SegmentJson(TraceIdText(i + 1), SegmentIdText(10'000 + i), start + 0.01,
                                 start + 0.05,
                                 fmt::format(R"(,"parent_id":"{}"{})", SegmentIdText(i + 1),
                                             api_fault ? R"(,"fault":true)" : ""),
                                 "api"));
    }
  }
  json put = server.Post("/TraceSegments", {{"TraceSegmentDocuments", docs}});
  ASSERT_EQ(put["UnprocessedTraceSegments"], json::array());
  const json range = {{"StartTime", 3000}, {"EndTime", 3000 + kTraces}};

  json all = server.Post("/roentgen/TraceAnalytics", range);
  EXPECT_EQ(all["TraceCount"], kTraces);
  EXPECT_EQ(all["TracesProcessedCount"], kTraces);
  EXPECT_EQ(all["Complete"], true);
  EXPECT_EQ(all["ScannedFrom"], 3000.0);
  EXPECT_EQ(all["Status"]["Fault"], faults);
  EXPECT_EQ(all["Status"]["Ok"], kTraces - faults);
  ASSERT_EQ(all["Users"].size(), 4u);
  EXPECT_EQ(all["Users"][0], (json{{"Value", "user-0"}, {"TraceCount", kTraces / 4}}));
  EXPECT_EQ(all["Services"], (json::array({{{"Name", "web"}, {"TraceCount", kTraces}},
                                           {{"Name", "api"}, {"TraceCount", kTraces / 2}}})));
  int64_t histogram_total = 0;
  for (const json& bucket : all["ResponseTimeHistogram"])
    histogram_total += bucket["Count"].get<int64_t>();
  EXPECT_EQ(histogram_total, kTraces);
  EXPECT_EQ(all["TimeSeries"]["Period"], 60);
  EXPECT_EQ(all["TimeSeries"]["Points"].size(), 5u);  // 3000..3299 in 60 s periods from 2940

  json indexed = server.Post("/roentgen/TraceAnalytics",
                             {{"StartTime", 3000},
                              {"EndTime", 3000 + kTraces},
                              {"FilterExpression", R"(annotation.tier = "gold")"}});
  EXPECT_EQ(indexed["TraceCount"], gold);
  EXPECT_EQ(indexed["TracesProcessedCount"], gold);  // only the index's entries were read
  EXPECT_EQ(indexed["Annotations"][0]["Values"],
            (json::array({{{"Value", {{"StringValue", "gold"}}}, {"TraceCount", gold}}})));

  json graph = server.Post("/roentgen/TraceAnalytics",
                           {{"StartTime", 3000},
                            {"EndTime", 3000 + kTraces},
                            {"FilterExpression", R"(service("api") { fault })"}});
  EXPECT_EQ(graph["TraceCount"], api_faults);

  json cut = server.Post("/roentgen/TraceAnalytics",
                         {{"StartTime", 3000}, {"EndTime", 3000 + kTraces}, {"MaxTraces", 100}});
  EXPECT_EQ(cut["TraceCount"], 100);
  EXPECT_EQ(cut["Complete"], false);
  EXPECT_EQ(cut["ScannedFrom"], 3000.0 + kTraces - 100);  // the 100 most recent starts
}

// A restart: the rollups are rebuilt from the stored traces on a thread while
// the pipeline already writes new traces and late segments of stored ones.
// Afterwards they equal a rebuild from scratch: every trace counted once.
TEST_F(XRayRocksDbTest, RollupsRebuiltWhileIngestRunsCountEveryTraceOnce) {
  constexpr int kStored = 3000;
  const double t0 = static_cast<double>(time(nullptr) - 1800);
  auto web = [&](int n, bool done) {
    return SegmentJson(TraceIdText(n), SegmentIdText(n), t0 + n * 0.01,
                       done ? std::optional<double>(t0 + n * 0.01 + 0.5) : std::nullopt);
  };
  // A late "api" segment called by trace n's web segment (a new edge).
  auto api = [&](int n) {
    return SegmentJson(TraceIdText(n), SegmentIdText(1'000'000 + n), t0 + n * 0.01 + 0.1,
                       t0 + n * 0.01 + 0.3, fmt::format(R"(,"parent_id":"{}")", SegmentIdText(n)),
                       "api");
  };
  auto put = [](Server& server, std::vector<std::string>& docs) {
    server.Post("/TraceSegments", {{"TraceSegmentDocuments", docs}});
    docs.clear();
  };
  {
    graph::RollupStore rollups;
    Server server(dir_, &rollups);
    std::vector<std::string> docs;
    for (int n = 1; n <= kStored; ++n) {
      docs.push_back(web(n, n % 2 == 0));  // odd traces still in progress
      if (docs.size() == 250) put(server, docs);
    }
  }

  // As serve does: the rebuild's scan fixes its snapshot, then the pipeline
  // starts. The scan is held after its snapshot until the first changes are
  // durable, so that they come before it reaches their traces.
  graph::RollupStore rollups;
  rollups.BeginRebuild();
  std::promise<void> snapshot_taken, first_changes_done;
  Result<RebuildStats> rebuilt = Status::Unavailable("not run");
  std::thread rebuild;
  Server server(dir_, &rollups, [&](store::Store& store) {
    rebuild = std::thread([&] {
      rebuilt = RebuildRollups(store, rollups, graph::RollupConfig{}.retention_us,
                               static_cast<int64_t>(time(nullptr)) * 1'000'000, nullptr, [&] {
                                 snapshot_taken.set_value();
                                 first_changes_done.get_future().wait();
                               });
    });
    snapshot_taken.get_future().wait();
  });
  // Changes to stored traces and new traces for n in [first, last), by 3.
  auto changes = [&](int first, int last) {
    std::vector<std::string> docs;
    for (int n = first; n < last; n += 3) {
      docs.push_back(n % 2 == 1 ? web(n, true) : api(n));
      docs.push_back(web(kStored + n, true));
      if (docs.size() == 40) put(server, docs);
    }
    if (!docs.empty()) put(server, docs);
  };
  changes(1, 301);  // before the scan reaches them
  first_changes_done.set_value();
  changes(301, 2101);  // while it runs
  rebuild.join();
  changes(2101, kStored + 1);  // after it
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
  EXPECT_GT(rebuilt->traces, 0u);
  EXPECT_FALSE(rollups.rebuilding());

  graph::RollupStore fresh;
  ASSERT_TRUE(RebuildRollups(*server.store, fresh, graph::RollupConfig{}.retention_us,
                             static_cast<int64_t>(time(nullptr)) * 1'000'000)
                  .ok());
  const int64_t from = static_cast<int64_t>(t0 - 60) * 1'000'000;
  const int64_t to = from + 3600LL * 1'000'000;
  const json counted = graph::testing::RollupCounts(rollups, from, to);
  EXPECT_EQ(counted, graph::testing::RollupCounts(fresh, from, to));
  ASSERT_EQ(counted.size(), 3u);  // client, web, api
}

}  // namespace
}  // namespace roentgen::api
