// A Router with the X-Ray API (and the service-map APIs over rollups the
// pipeline keeps) registered over a running Pipeline and an in-memory store,
// for the handler tests.
#pragma once

#include <gtest/gtest.h>

#include <future>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/http.h"
#include "api/xray_api.h"
#include "ingest/pipeline.h"
#include "ingest/testing/fake_store.h"

namespace roentgen::api::testing {

class ApiFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ingest::PipelineConfig config;
    config.rollups = &rollups_;
    pipeline_ = std::make_unique<ingest::Pipeline>(config, store_, metrics_);
    ASSERT_TRUE(pipeline_->Start().ok());
    RegisterXRayApi(router_, *pipeline_, store_, metrics_, query_limits_);
    RegisterServiceMapApis(router_, store_, rollups_, metrics_, query_limits_);
  }
  void TearDown() override { pipeline_->Stop(); }

  // Dispatches a POST and waits for the (possibly asynchronous) response.
  HttpResponse Post(const std::string& path, const std::string& body) {
    return PostTo(router_, path, body);
  }

  HttpResponse PostTo(Router& router, const std::string& path, const std::string& body) {
    HttpRequest request;
    request.method = "POST";
    request.path = path;
    request.target = path;
    request.body = body;
    auto promise = std::make_shared<std::promise<HttpResponse>>();
    auto future = promise->get_future();
    router.Dispatch(request, [promise](HttpResponse r) { promise->set_value(std::move(r)); });
    return future.get();
  }

  HttpResponse Post(const std::string& path, const nlohmann::json& body) {
    return Post(path, body.dump());
  }

  // PutTraceSegments of `documents`; expects every one to be accepted.
  void PutAll(const std::vector<std::string>& documents) {
    HttpResponse r = Post("/TraceSegments", nlohmann::json{{"TraceSegmentDocuments", documents}});
    ASSERT_EQ(r.status, 200) << r.body;
    ASSERT_EQ(r.body, R"({"UnprocessedTraceSegments":[]})");
  }

  static nlohmann::json Json(const HttpResponse& r) { return nlohmann::json::parse(r.body); }

  // A 400 InvalidRequestException carrying exactly `message`.
  static void ExpectInvalid(const HttpResponse& r, const std::string& message) {
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(Json(r),
              (nlohmann::json{{"__type", "InvalidRequestException"}, {"message", message}}));
  }

  // Ranges of any length (to year 9999) unless a test's constructor sets them.
  QueryLimits query_limits_{.max_range_us = int64_t{253'402'300'800} * 1'000'000};
  ingest::testing::FakeStore store_;
  graph::RollupStore rollups_;
  MetricsRegistry metrics_;
  std::unique_ptr<ingest::Pipeline> pipeline_;
  Router router_;
};

}  // namespace roentgen::api::testing
