// The data set of the query benchmark (bench/query_bench.cpp): N traces over a
// time window, each a realistic three-service request
//   web-app (EC2) → api (ECS) → function (Lambda) → DynamoDB (inferred)
// sent as three segment documents. Every document goes through the real path:
// xray::SegmentParser, xray::AssembleTrace, xray::Summarize and
// graph::DeriveTraceGraph, then Store::Write in batches.
//
// Mix (per trace, independent draws from a seeded generator):
//  - response time log-normal, median 0.3 s, about 10% over 1.5 s;
//  - 3% a fault deep in api (a local subsegment throws; api answers 500); half
//    of those propagate to a root fault (web-app answers 502);
//  - 3% root error (404), 1% root throttle (429);
//  - annotations: email (kUsers distinct, high cardinality), tenant (20
//    values), plan (3 values), items and cart_value (numbers) on web-app;
//    tenant and region on api.
// Not thread-safe; one call at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "common/status.h"
#include "store/store.h"

namespace roentgen::bench {

inline constexpr size_t kUsers = 50'000;

struct QueryDataset {
  int64_t start_us = 0;  // the window [start_us, end_us) holds every trace start
  int64_t end_us = 0;
  size_t traces = 0;
  double load_seconds = 0;  // wall time of generation + parsing + Write
};

// The email annotation value of user `n` (0 <= n < kUsers).
std::string UserEmail(size_t n);

// Generates `traces` traces whose starts are spread evenly over
// [end_us - window_us, end_us) and writes them to `store` in batches of
// `batch` traces. Progress goes to stderr.
Result<QueryDataset> LoadQueryDataset(store::Store& store, size_t traces, int64_t end_us,
                                      int64_t window_us, size_t batch, uint64_t seed);

// The dataset description kept beside the store (dir/dataset.json), so a
// later run reuses the store. NotFound when absent or incomplete.
Status SaveDatasetInfo(const std::string& dir, const QueryDataset& info);
Result<QueryDataset> LoadDatasetInfo(const std::string& dir);

}  // namespace roentgen::bench
