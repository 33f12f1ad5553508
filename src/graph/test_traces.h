// Test-only builders for assembled traces (no parser or assembler needed).
//
// SeedTrace() is the reference topology of the seed scenario: the browser
// segment "Web-Application" → the AppSync GraphQL API → the Lambda service's
// facade segment (AWS::Lambda) → the function's segment (AWS::Lambda::Function)
// → a DynamoDB table called through an `aws` subsegment. Times are chosen so
// every duration is an exact number of milliseconds.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "graph/rollup_store.h"
#include "graph/service_graph_json.h"
#include "xray/trace.h"

namespace roentgen::graph::testing {

// The services of the rollups' graph over [start_us, end_us) as JSON, with
// their counts, histograms and edges but not their first and last times,
// which replacing a trace's graph widens but never narrows (true of any
// RollupStore::Replace): what must equal a rebuild from scratch.
inline nlohmann::json RollupCounts(const RollupStore& rollups, int64_t start_us, int64_t end_us) {
  nlohmann::json services = ToJson(rollups.QueryServiceGraph(start_us, end_us))["Services"];
  for (auto& service : services) {
    service.erase("StartTime");
    service.erase("EndTime");
    for (auto& edge : service["Edges"]) {
      edge.erase("StartTime");
      edge.erase("EndTime");
    }
  }
  return services;
}

inline xray::Entity MakeEntity(const std::string& name, uint64_t id, int64_t start_us,
                               std::optional<int64_t> end_us) {
  xray::Entity e;
  e.name = name;
  e.id.value = id;
  e.start_time_us = start_us;
  e.end_time_us = end_us;
  e.in_progress = !end_us.has_value();
  return e;
}

inline xray::Entity WithParent(xray::Entity e, uint64_t parent) {
  e.parent_id = xray::SegmentId{parent};
  return e;
}

struct SeedOptions {
  int64_t t0_us = 1'700'000'000'000'000;  // 2023-11-14T22:13:20Z
  bool lambda_fault = false;              // the function fails with a 5xx
  bool dynamo_throttle = false;           // DynamoDB answers 429
  bool browser_in_progress = false;
  std::string table = "Todo-table";
};

// Ids: browser 0xa1, AppSync 0xb1 (its Lambda resolver subsegment 0xb2),
// Lambda facade 0xc1, function 0xd1 (its DynamoDB subsegment 0xd2).
inline xray::AssembledTrace SeedTrace(const SeedOptions& opt = {}) {
  const int64_t t = opt.t0_us;
  xray::AssembledTrace trace;
  trace.id.bytes[0] = 0x65;

  xray::Entity browser =
      MakeEntity("Web-Application", 0xa1, t,
                 opt.browser_in_progress ? std::nullopt : std::optional<int64_t>(t + 120'000));
  browser.annotations.push_back({"email", std::string("alice@example.com")});

  xray::Entity appsync = WithParent(MakeEntity("todo-api", 0xb1, t + 5'000, t + 110'000), 0xa1);
  appsync.origin = "AWS::AppSync::GraphQLAPI";
  appsync.aws = xray::AwsInfo{};
  appsync.aws->account_id = "123456789012";
  xray::Entity resolver = MakeEntity("Lambda resolver", 0xb2, t + 10'000, t + 100'000);
  resolver.namespace_ = "aws";
  resolver.aws = xray::AwsInfo{};
  resolver.aws->function_name = "todo-fn";
  resolver.aws->operation = "Invoke";
  resolver.fault = opt.lambda_fault;
  appsync.subsegments.push_back(resolver);

  xray::Entity facade = WithParent(MakeEntity("todo-fn", 0xc1, t + 12'000, t + 98'000), 0xb2);
  facade.origin = "AWS::Lambda";
  facade.aws = xray::AwsInfo{};
  facade.aws->account_id = "123456789012";
  facade.fault = opt.lambda_fault;

  xray::Entity function = WithParent(MakeEntity("todo-fn", 0xd1, t + 20'000, t + 95'000), 0xc1);
  function.origin = "AWS::Lambda::Function";
  function.aws = xray::AwsInfo{};
  function.aws->account_id = "123456789012";
  function.fault = opt.lambda_fault;
  xray::Entity dynamo = MakeEntity("DynamoDB", 0xd2, t + 30'000, t + 45'000);
  dynamo.namespace_ = "aws";
  dynamo.aws = xray::AwsInfo{};
  dynamo.aws->operation = "PutItem";
  dynamo.aws->table_name = opt.table;
  dynamo.throttle = opt.dynamo_throttle;
  dynamo.error = opt.dynamo_throttle;
  if (opt.dynamo_throttle) dynamo.http = xray::Http{std::nullopt, xray::HttpResponse{429, {}}};
  function.subsegments.push_back(dynamo);

  // Assembled order: by start time.
  trace.segments = {browser, appsync, facade, function};
  trace.document_count = 4;
  return trace;
}

}  // namespace roentgen::graph::testing
