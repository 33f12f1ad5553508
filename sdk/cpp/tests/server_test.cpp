// The SDK against a real Roentgen server (in process, on loopback): segments
// sent over UDP come back from BatchGetTraces, a segment streamed as
// hundreds of independent subsegments comes back whole; centralized sampling follows a
// rule made with CreateSamplingRule and its updates, and the SDK's
// statistics reach GetSamplingStatisticSummaries.
#include "cli/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "http_client.h"
#include "roentgen/xray.h"
#include "sampling.h"

namespace roentgen::sdk {
namespace {

using nlohmann::json;

uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

class SdkServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "roentgen_sdk_server_test_" + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
    cli::ServeConfig config;
    config.port = FreePort();
    config.data_dir = dir_ + "/data";
    config.log_level = "off";
    config.otlp_grpc_listen = "off";
    spdlog::set_level(spdlog::level::off);
    auto server = cli::Server::Start(config);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    server_->SetReady();
    port_ = server_->port();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  json Post(std::string_view path, const json& body) {
    auto r = detail::HttpPost("127.0.0.1", port_, path, body.dump());
    EXPECT_EQ(r.status, 200) << path << ": " << r.error << r.body;
    return json::parse(r.body, nullptr, false);
  }

  std::string dir_;
  std::unique_ptr<cli::Server> server_;
  uint16_t port_ = 0;
};

TEST_F(SdkServerTest, SegmentsSentOverUdpAreStoredAndRead) {
  RecorderOptions o;
  o.service_name = "notes-function";
  o.daemon_address = "127.0.0.1:" + std::to_string(port_);
  o.sampling = false;
  Recorder recorder(o);
  std::string trace_id;
  {
    SegmentOptions so;
    so.origin = "AWS::Lambda::Function";
    auto seg = recorder.BeginSegment("notes-function", so);
    trace_id = seg.trace_id().ToString();
    seg.AddAnnotation("email", "alice@example.com");
    auto db = seg.BeginSubsegment("notes.sqlite");
    db.SetNamespace(Namespace::kRemote);
    Sql sql;
    sql.url = "sqlite:///notes.db";
    sql.sanitized_query = "INSERT INTO notes(text) VALUES (?)";
    db.SetSql(sql);
    try {
      throw std::runtime_error("boom");
    } catch (const std::exception& e) {
      db.AddException(e);
    }
  }
  ASSERT_TRUE(recorder.Flush());
  json doc;
  for (int i = 0; i < 100 && doc.is_null(); ++i) {
    json r = Post("/Traces", {{"TraceIds", {trace_id}}});
    if (r.contains("Traces") && !r["Traces"].empty()) {
      doc = json::parse(r["Traces"][0]["Segments"][0]["Document"].get<std::string>());
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  ASSERT_FALSE(doc.is_null()) << "trace " << trace_id << " not found";
  EXPECT_EQ(doc["origin"], "AWS::Lambda::Function");
  EXPECT_EQ(doc["annotations"]["email"], "alice@example.com");
  EXPECT_EQ(doc["subsegments"][0]["sql"]["sanitized_query"], "INSERT INTO notes(text) VALUES (?)");
  EXPECT_EQ(doc["subsegments"][0]["fault"], true);
  EXPECT_EQ(doc["subsegments"][0]["cause"]["exceptions"][0]["message"], "boom");
  // And the filter expression finds it by the annotation.
  auto now = static_cast<double>(time(nullptr));
  json summaries =
      Post("/TraceSummaries", {{"StartTime", now - 600},
                               {"EndTime", now + 60},
                               {"FilterExpression", "annotation.email = \"alice@example.com\""}});
  ASSERT_EQ(summaries["TraceSummaries"].size(), 1u) << summaries.dump();
  EXPECT_EQ(summaries["TraceSummaries"][0]["Id"], trace_id);
  EXPECT_EQ(summaries["TraceSummaries"][0]["HasFault"], false);  // the fault is the subsegment's
}

TEST_F(SdkServerTest, AStreamedSegmentComesBackWithAllItsSubsegments) {
  RecorderOptions o;
  o.service_name = "batch-job";
  o.daemon_address = "127.0.0.1:" + std::to_string(port_);
  o.sampling = false;  // streaming_threshold: the default, 100
  Recorder recorder(o);
  constexpr int kSubsegments = 350;
  std::string trace_id, seg_id;
  {
    auto seg = recorder.BeginSegment("batch-job");
    trace_id = seg.trace_id().ToString();
    seg_id = seg.id().ToString();
    for (int i = 0; i < kSubsegments; ++i) {
      auto step = seg.BeginSubsegment("step");
      step.AddAnnotation("i", i);
      if (i % 50 == 0) step.BeginSubsegment("inner");  // a nested one now and then
    }
  }
  ASSERT_TRUE(recorder.Flush());
  EXPECT_GE(recorder.stats().streamed_subsegments, static_cast<uint64_t>(kSubsegments - 100));
  EXPECT_EQ(recorder.stats().documents_dropped, 0u);
  // BatchGetTraces gives the segment's document with every streamed
  // subsegment spliced back under it.
  json doc;
  for (int i = 0; i < 100; ++i) {
    json r = Post("/Traces", {{"TraceIds", {trace_id}}});
    if (r.contains("Traces") && r["Traces"].size() == 1 && r["Traces"][0]["Segments"].size() == 1) {
      doc = json::parse(r["Traces"][0]["Segments"][0]["Document"].get<std::string>());
      if (doc.value("subsegments", json::array()).size() == kSubsegments) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(doc.is_null()) << "trace " << trace_id << " not found";
  EXPECT_EQ(doc["id"], seg_id);
  ASSERT_EQ(doc.value("subsegments", json::array()).size(), static_cast<size_t>(kSubsegments));
  std::vector<int> seen(kSubsegments, 0);
  int inner = 0;
  for (const json& sub : doc["subsegments"]) {
    EXPECT_EQ(sub["name"], "step");
    int i = sub["annotations"]["i"].get<int>();
    ASSERT_GE(i, 0);
    ASSERT_LT(i, kSubsegments);
    ++seen[static_cast<size_t>(i)];
    if (sub.contains("subsegments")) {
      EXPECT_EQ(i % 50, 0) << sub.dump();
      EXPECT_EQ(sub["subsegments"][0]["name"], "inner");
      ++inner;
    }
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), kSubsegments);
  EXPECT_EQ(inner, kSubsegments / 50);
}

TEST_F(SdkServerTest, CentralizedSamplingFollowsTheServersRules) {
  json rule = {{"RuleName", "cpp-sdk"},   {"ResourceARN", "*"}, {"Priority", 1},
               {"FixedRate", 0},          {"ReservoirSize", 0}, {"ServiceName", "cpp-svc"},
               {"ServiceType", "*"},      {"Host", "*"},        {"HTTPMethod", "*"},
               {"URLPath", "/sampled/*"}, {"Version", 1}};
  Post("/CreateSamplingRule", {{"SamplingRule", rule}});

  RecorderOptions o;
  o.service_name = "cpp-svc";
  o.daemon_address = "127.0.0.1:" + std::to_string(port_);
  o.centralized_sampling = true;
  o.rules_interval = std::chrono::milliseconds(60'000);
  o.targets_interval = std::chrono::milliseconds(300);
  o.sampling_rules_json =
      R"({"version":2,"default":{"fixed_target":0,"rate":1}})";  // until fetched
  Recorder recorder(o);
  for (int i = 0; i < 100 && recorder.stats().sampling_rule_fetches == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_GE(recorder.stats().sampling_rule_fetches, 1u);

  SamplingRequest req{"notes.example", "GET", "/sampled/1", ""};
  SamplingRequest other{"notes.example", "GET", "/other", ""};
  // Before the first target reply: one borrowed request a second, then
  // FixedRate 0.
  int sampled = 0;
  for (int i = 0; i < 20; ++i) sampled += recorder.ShouldSample(req, "cpp-svc");
  EXPECT_GE(sampled, 1);
  EXPECT_LE(sampled, 2);
  // After a target reply: quota 0 until its TTL, FixedRate 0: nothing.
  auto fetches = recorder.stats().sampling_target_fetches;
  for (int i = 0; i < 100 && recorder.stats().sampling_target_fetches < fetches + 1; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  sampled = 0;
  for (int i = 0; i < 50; ++i) sampled += recorder.ShouldSample(req, "cpp-svc");
  EXPECT_EQ(sampled, 0);
  // Requests the rule does not match fall to Default (reservoir 1, 5%).
  recorder.ShouldSample(other, "cpp-svc");

  // An update reaches the SDK with the next target reply (not the rules poll).
  Post("/UpdateSamplingRule",
       {{"SamplingRuleUpdate", {{"RuleName", "cpp-sdk"}, {"FixedRate", 1}}}});
  fetches = recorder.stats().sampling_target_fetches;
  for (int i = 0; i < 100 && recorder.stats().sampling_target_fetches < fetches + 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  sampled = 0;
  for (int i = 0; i < 50; ++i) sampled += recorder.ShouldSample(req, "cpp-svc");
  EXPECT_EQ(sampled, 50);
  // ... and a segment begun for that request is recorded.
  SegmentOptions so;
  so.request = req;
  EXPECT_TRUE(recorder.BeginSegment("cpp-svc", so).recording());

  // The SDK's statistics reached the server.
  json stats;
  int64_t requests = 0;
  for (int i = 0; i < 100 && requests < 121; ++i) {
    stats = Post("/SamplingStatisticSummaries", json::object());
    requests = 0;
    for (const auto& s : stats["SamplingStatisticSummaries"])
      if (s["RuleName"] == "cpp-sdk") requests += s["RequestCount"].get<int64_t>();
    if (requests < 121) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(requests, 121) << stats.dump();  // 20 + 50 + 50 + 1 segment

  // A rule created now reaches the SDK long before its 60-s rules poll: the
  // next target reply's LastRuleModification is later than its last fetch.
  json added = rule;
  added["RuleName"] = "cpp-new";
  added["URLPath"] = "/new/*";
  added["FixedRate"] = 1;
  Post("/CreateSamplingRule", {{"SamplingRule", added}});
  SamplingRequest fresh{"notes.example", "GET", "/new/1", ""};
  auto rule_fetches = recorder.stats().sampling_rule_fetches;
  for (int i = 0; i < 100 && recorder.stats().sampling_rule_fetches == rule_fetches; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_GT(recorder.stats().sampling_rule_fetches, rule_fetches);
  sampled = 0;
  for (int i = 0; i < 50; ++i) sampled += recorder.ShouldSample(fresh, "cpp-svc");
  EXPECT_EQ(sampled, 50);  // Default (1 a second, then 5%) would sample a few
}

}  // namespace
}  // namespace roentgen::sdk
