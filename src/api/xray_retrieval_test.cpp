// The trace retrieval APIs through the Router, over segments sent with
// PutTraceSegments: the asynchronous job's statuses, both TraceFormats, the
// pages, the graph with its links, cancellation and the errors.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "api/testing/api_fixture.h"
#include "api/trace_retrieval.h"
#include "api/xray_handlers.h"
#include "common/clock.h"
#include "ingest/testing/segments.h"

namespace roentgen::api {
namespace {

using ingest::testing::SegmentIdText;
using ingest::testing::SegmentJson;
using ingest::testing::SubsegmentJson;
using ingest::testing::TraceIdText;
using nlohmann::json;

// TraceIdText's epoch part, 0x5f5e1000 = 1600000000: traces start there.
constexpr double kT0 = 1600000000.0;

class RetrievalTest : public testing::ApiFixture {
 protected:
  void SetUp() override {
    ApiFixture::SetUp();
    retrievals_ = std::make_unique<TraceRetrievals>(store_, clock_);
    RegisterRetrievalApis(router_, *retrievals_, store_,
                          std::make_shared<const ApiLimits>(query_limits_, metrics_));
  }
  void TearDown() override {
    retrievals_.reset();
    ApiFixture::TearDown();
  }

  std::string Start(const std::vector<std::string>& ids, double start = kT0 - 10,
                    double end = kT0 + 1000) {
    HttpResponse r =
        Post("/StartTraceRetrieval", json{{"TraceIds", ids}, {"StartTime", start}, {"EndTime", end}});
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r).value("RetrievalToken", "");
  }

  // Polls ListRetrievedTraces until the retrieval has finished.
  json List(const std::string& token, const json& extra = json::object()) {
    json body = extra;
    body["RetrievalToken"] = token;
    for (int i = 0; i < 500; ++i) {
      HttpResponse r = Post("/ListRetrievedTraces", body);
      EXPECT_EQ(r.status, 200) << r.body;
      json j = Json(r);
      if (j["RetrievalStatus"] != "SCHEDULED" && j["RetrievalStatus"] != "RUNNING") return j;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ADD_FAILURE() << "retrieval did not finish";
    return {};
  }

  FakeClock clock_{static_cast<int64_t>(kT0 * 1e6)};
  std::unique_ptr<TraceRetrievals> retrievals_;
};

TEST_F(RetrievalTest, XRayFormatListsTheFoundTracesSegmentsWithTheirSubsegments) {
  PutAll({SegmentJson(TraceIdText(1), SegmentIdText(1), kT0 + 1, kT0 + 3.5),
          SubsegmentJson(TraceIdText(1), SegmentIdText(2), SegmentIdText(1), kT0 + 1.5, kT0 + 2),
          SegmentJson(TraceIdText(2), SegmentIdText(3), kT0 + 5, kT0 + 6)});
  const json page = List(Start({TraceIdText(1), TraceIdText(9), TraceIdText(2)}));
  EXPECT_EQ(page["RetrievalStatus"], "COMPLETE");
  EXPECT_EQ(page["TraceFormat"], "XRAY");
  EXPECT_FALSE(page.contains("NextToken"));
  ASSERT_EQ(page["Traces"].size(), 2u);  // the unknown id is not there
  const json& first = page["Traces"][0];
  EXPECT_EQ(first["Id"], TraceIdText(1));
  EXPECT_EQ(first["Duration"], 2.5);
  ASSERT_EQ(first["Spans"].size(), 1u);
  EXPECT_EQ(first["Spans"][0]["Id"], SegmentIdText(1));
  const json doc = json::parse(first["Spans"][0]["Document"].get<std::string>());
  ASSERT_EQ(doc["subsegments"].size(), 1u);
  EXPECT_EQ(doc["subsegments"][0]["id"], SegmentIdText(2));
  EXPECT_EQ(page["Traces"][1]["Id"], TraceIdText(2));
}

TEST_F(RetrievalTest, OtelFormatListsEveryEntityAsAnOtlpJsonSpan) {
  PutAll({SegmentJson(TraceIdText(1), SegmentIdText(1), kT0 + 1, kT0 + 3.5),
          SubsegmentJson(TraceIdText(1), SegmentIdText(2), SegmentIdText(1), kT0 + 1.5, kT0 + 2)});
  const json page = List(Start({TraceIdText(1)}), {{"TraceFormat", "OTEL"}});
  EXPECT_EQ(page["TraceFormat"], "OTEL");
  ASSERT_EQ(page["Traces"].size(), 1u);
  const json& spans = page["Traces"][0]["Spans"];
  ASSERT_EQ(spans.size(), 2u);
  EXPECT_EQ(spans[1]["Id"], SegmentIdText(2));
  const json span = json::parse(spans[1]["Document"].get<std::string>())["resourceSpans"][0]
                                                                          ["scopeSpans"][0]["spans"][0];
  EXPECT_EQ(span["traceId"], xray::TraceId::Parse(TraceIdText(1))->ToW3C());
  EXPECT_EQ(span["parentSpanId"], SegmentIdText(1));
}

TEST_F(RetrievalTest, TracesOutsideTheTimeRangeAreNotRetrieved) {
  PutAll({SegmentJson(TraceIdText(1), SegmentIdText(1), kT0 + 1, kT0 + 2),
          SegmentJson(TraceIdText(2), SegmentIdText(2), kT0 + 100, kT0 + 101)});
  // The range's ends are inclusive: trace 1 ends exactly at its start.
  const json page = List(Start({TraceIdText(1), TraceIdText(2)}, kT0 + 2, kT0 + 50));
  ASSERT_EQ(page["Traces"].size(), 1u);
  EXPECT_EQ(page["Traces"][0]["Id"], TraceIdText(1));
}

TEST_F(RetrievalTest, PagesHoldFiveEntriesOfAtMostOneHundredSpans) {
  // Trace 1: a segment with 150 nested subsegments (151 OTEL spans); traces 2–6: one each.
  std::string subsegments;
  for (int i = 0; i < 150; ++i) {
    subsegments += fmt::format(R"({}{{"name":"s","id":"{:016x}","start_time":{:.6f},"end_time":{:.6f}}})",
                               i == 0 ? "" : ",", 0x1000 + i, kT0 + 1, kT0 + 1.5);
  }
  std::vector<std::string> docs = {SegmentJson(TraceIdText(1), SegmentIdText(1), kT0 + 1, kT0 + 2,
                                                ",\"subsegments\":[" + subsegments + "]")};
  std::vector<std::string> ids = {TraceIdText(1)};
  for (int t = 2; t <= 6; ++t) {
    docs.push_back(SegmentJson(TraceIdText(t), SegmentIdText(t), kT0 + t, kT0 + t + 1));
    ids.push_back(TraceIdText(t));
  }
  PutAll(docs);
  const std::string token = Start(ids);
  json page = List(token, {{"TraceFormat", "OTEL"}});
  ASSERT_EQ(page["Traces"].size(), 5u);
  EXPECT_EQ(page["Traces"][0]["Id"], TraceIdText(1));
  EXPECT_EQ(page["Traces"][0]["Spans"].size(), 100u);
  EXPECT_EQ(page["Traces"][1]["Id"], TraceIdText(1));  // the rest of trace 1
  EXPECT_EQ(page["Traces"][1]["Spans"].size(), 51u);
  EXPECT_EQ(page["Traces"][4]["Id"], TraceIdText(4));
  ASSERT_TRUE(page.contains("NextToken"));
  page = List(token, {{"TraceFormat", "OTEL"}, {"NextToken", page["NextToken"]}});
  ASSERT_EQ(page["Traces"].size(), 2u);
  EXPECT_EQ(page["Traces"][0]["Id"], TraceIdText(5));
  EXPECT_EQ(page["Traces"][1]["Id"], TraceIdText(6));
  EXPECT_FALSE(page.contains("NextToken"));
}

TEST_F(RetrievalTest, GraphHasTheRetrievedTracesServicesAndTheirLinks) {
  PutAll({SegmentJson(TraceIdText(1), SegmentIdText(1), kT0 + 1, kT0 + 2,
                      fmt::format(R"(,"links":[{{"trace_id":"{}","id":"{}",)"
                                  R"("attributes":{{"aws.xray.reserved.reference_type":"child"}}}}])",
                                  TraceIdText(2), SegmentIdText(2)),
                      "producer"),
          SegmentJson(TraceIdText(2), SegmentIdText(2), kT0 + 3, kT0 + 4, "", "consumer")});
  const std::string token = Start({TraceIdText(1), TraceIdText(2)});
  List(token);
  HttpResponse r = Post("/GetRetrievedTracesGraph", json{{"RetrievalToken", token}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json graph = Json(r);
  EXPECT_EQ(graph["RetrievalStatus"], "COMPLETE");
  // producer, consumer and the client node of the root segment.
  ASSERT_EQ(graph["Services"].size(), 3u);
  bool producer_seen = false;
  for (const json& s : graph["Services"]) {
    if (s["Service"].value("Name", "") != "producer") {  // the client node has no name
      EXPECT_TRUE(s["Links"].empty());
      continue;
    }
    producer_seen = true;
    ASSERT_EQ(s["Links"].size(), 1u);
    EXPECT_EQ(s["Links"][0]["ReferenceType"], "child");
    EXPECT_EQ(s["Links"][0]["SourceTraceId"], TraceIdText(1));
    EXPECT_EQ(s["Links"][0]["DestinationTraceIds"], json({TraceIdText(2)}));
  }
  EXPECT_TRUE(producer_seen);
}

TEST_F(RetrievalTest, CancelStopsAWaitingRetrievalAndLeavesAFinishedOne) {
  PutAll({SegmentJson(TraceIdText(1), SegmentIdText(1), kT0 + 1, kT0 + 2)});
  const std::string done = Start({TraceIdText(1)});
  EXPECT_EQ(List(done)["RetrievalStatus"], "COMPLETE");
  EXPECT_EQ(Post("/CancelTraceRetrieval", json{{"RetrievalToken", done}}).status, 200);
  EXPECT_EQ(List(done)["RetrievalStatus"], "COMPLETE");
  // Directly on the jobs: cancel one before the worker can have finished it
  // is racy through the API, but a cancelled status must stick either way.
  Result<std::string> token = retrievals_->Start({*xray::TraceId::Parse(TraceIdText(1))}, 0,
                                                 static_cast<int64_t>(kT0 * 2e6));
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(retrievals_->Cancel(*token).ok());
  const json after = List(*token);
  EXPECT_TRUE(after["RetrievalStatus"] == "CANCELLED" || after["RetrievalStatus"] == "COMPLETE");
  EXPECT_NE(Json(Post("/GetRetrievedTracesGraph", json{{"RetrievalToken", *token}}))["RetrievalStatus"],
            "RUNNING");
}

// Waits until the retrieval `token` of `jobs` has finished.
RetrievalState Finished(const TraceRetrievals& jobs, const std::string& token) {
  for (int i = 0; i < 500; ++i) {
    Result<RetrievalState> s = jobs.Get(token);
    if (!s.ok()) return {};
    if (s->status != RetrievalStatus::kScheduled && s->status != RetrievalStatus::kRunning) {
      return *s;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ADD_FAILURE() << "retrieval did not finish";
  return {};
}

TEST_F(RetrievalTest, AStoreErrorFailsTheRetrievalWithItsReason) {
  store_.FailReads(Status::IOError("disk unplugged"));
  FakeClock clock(0);
  TraceRetrievals jobs(store_, clock);
  Result<std::string> token = jobs.Start({*xray::TraceId::Parse(TraceIdText(1))}, 0, 1);
  ASSERT_TRUE(token.ok());
  const RetrievalState state = Finished(jobs, *token);
  EXPECT_EQ(state.status, RetrievalStatus::kFailed);
  EXPECT_NE(state.failure.find("disk unplugged"), std::string::npos) << state.failure;
}

// A clock that moves one second each time it is read.
class RunawayClock final : public Clock {
 public:
  int64_t NowMicros() const override { return now_us_.fetch_add(1'000'000); }

 private:
  mutable std::atomic<int64_t> now_us_{0};
};

TEST(TraceRetrievalsTest, ARetrievalPastItsTimeoutEndsTimedOut) {
  ingest::testing::FakeStore store;
  RunawayClock clock;
  TraceRetrievalConfig config;
  config.timeout_us = 500'000;
  TraceRetrievals jobs(store, clock, config);
  Result<std::string> token = jobs.Start({*xray::TraceId::Parse(TraceIdText(1))}, 0, 1);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(Finished(jobs, *token).status, RetrievalStatus::kTimeout);
}

TEST(TraceRetrievalsTest, FinishedRetrievalsAreForgottenToMakeRoom) {
  ingest::testing::FakeStore store;
  FakeClock clock(0);
  TraceRetrievalConfig config;
  config.max_retrievals = 1;
  TraceRetrievals jobs(store, clock, config);
  Result<std::string> first = jobs.Start({}, 0, 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(Finished(jobs, *first).status, RetrievalStatus::kComplete);
  Result<std::string> second = jobs.Start({}, 0, 1);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(jobs.Get(*first).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Finished(jobs, *second).status, RetrievalStatus::kComplete);
}

TEST(TraceRetrievalsTest, FinishedRetrievalsAreForgottenAfterKeep) {
  ingest::testing::FakeStore store;
  FakeClock clock(0);
  TraceRetrievalConfig config;
  config.keep_us = 1000;
  TraceRetrievals jobs(store, clock, config);
  Result<std::string> first = jobs.Start({}, 0, 1);
  ASSERT_TRUE(first.ok());
  Finished(jobs, *first);
  clock.Advance(2000);
  ASSERT_TRUE(jobs.Start({}, 0, 1).ok());  // forgetting happens on Start
  EXPECT_EQ(jobs.Get(*first).status().code(), StatusCode::kNotFound);
}

TEST_F(RetrievalTest, Errors) {
  ExpectInvalid(Post("/StartTraceRetrieval", json{{"StartTime", kT0}, {"EndTime", kT0}}),
                "TraceIds: required");
  ExpectInvalid(Post("/StartTraceRetrieval", json{{"TraceIds", {TraceIdText(1)}}, {"EndTime", kT0}}),
                "StartTime: required");
  ExpectInvalid(Post("/StartTraceRetrieval",
                     json{{"TraceIds", {TraceIdText(1)}}, {"StartTime", kT0 + 1}, {"EndTime", kT0}}),
                "StartTime: after EndTime");
  ExpectInvalid(Post("/ListRetrievedTraces", json::object()), "RetrievalToken: required");
  HttpResponse unknown = Post("/ListRetrievedTraces", json{{"RetrievalToken", "nope"}});
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Json(unknown)["__type"], "ResourceNotFoundException");
  EXPECT_EQ(Post("/CancelTraceRetrieval", json{{"RetrievalToken", "nope"}}).status, 404);
  EXPECT_EQ(Post("/GetRetrievedTracesGraph", json{{"RetrievalToken", "nope"}}).status, 404);
  const std::string token = Start({});
  ExpectInvalid(Post("/ListRetrievedTraces", json{{"RetrievalToken", token}, {"TraceFormat", "CSV"}}),
                "TraceFormat: \"CSV\" is not XRAY or OTEL");
  ExpectInvalid(Post("/ListRetrievedTraces", json{{"RetrievalToken", token}, {"NextToken", "x"}}),
                "NextToken: \"x\" is not a token this server issued");
}

}  // namespace
}  // namespace roentgen::api
