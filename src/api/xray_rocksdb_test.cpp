// Integration: the X-Ray API and the ingest pipeline over the real RocksDB
// store — write through PutTraceSegments and UDP, read back with
// BatchGetTraces and GetTraceSummaries, across a close and reopen.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <future>
#include <nlohmann/json.hpp>
#include <set>

#include "api/xray_api.h"
#include "ingest/pipeline.h"
#include "ingest/testing/segments.h"
#include "store/rocksdb_store.h"

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
  explicit Server(const std::string& path) {
    store::RocksDbStoreConfig config;
    config.path = path;
    auto opened = store::OpenRocksDbStore(config);
    EXPECT_TRUE(opened.ok()) << opened.status().ToString();
    store = std::move(*opened);
    pipeline = std::make_unique<ingest::Pipeline>(ingest::PipelineConfig{}, *store, metrics);
    EXPECT_TRUE(pipeline->Start().ok());
    RegisterXRayApi(router, *pipeline, *store, metrics);
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

}  // namespace
}  // namespace roentgen::api
