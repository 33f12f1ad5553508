#include "graph/rollup_store.h"

#include <gtest/gtest.h>

#include <limits>
#include <vector>

#include "graph/service_graph_json.h"
#include "graph/test_traces.h"

namespace roentgen::graph {
namespace {

using testing::SeedOptions;
using testing::SeedTrace;

constexpr int64_t kT0 = 1'700'000'000'000'000;  // 20 s past a minute, 200 s past 5 minutes
constexpr int64_t kMin = kMinuteUs;

TraceGraph SeedAt(int64_t t0_us, bool fault = false) {
  SeedOptions opt;
  opt.t0_us = t0_us;
  opt.lambda_fault = fault;
  return DeriveTraceGraph(SeedTrace(opt));
}

TEST(RollupStoreTest, MatchesDirectAggregation) {
  RollupStore store;
  store.Replace(nullptr, SeedAt(kT0));
  store.Replace(nullptr, SeedAt(kT0 + 1'000'000, true));
  const ServiceGraphResult rolled = store.QueryServiceGraph(kT0 - kMin, kT0 + kMin);
  const ServiceGraphResult direct =
      BuildTraceGraphResult({SeedAt(kT0), SeedAt(kT0 + 1'000'000, true)});
  EXPECT_EQ(ToJson(rolled)["Services"], ToJson(direct)["Services"]);
}

TEST(RollupStoreTest, InProgressCompletedLaterIsCountedOnce) {
  SeedOptions partial;
  partial.t0_us = kT0;
  partial.browser_in_progress = true;
  const TraceGraph v1 = DeriveTraceGraph(SeedTrace(partial));
  const TraceGraph v2 = SeedAt(kT0);
  RollupStore store;
  store.Replace(nullptr, v1);
  store.Replace(&v1, v2);
  RollupStore fresh;
  fresh.Replace(nullptr, v2);
  const nlohmann::json got = ToJson(store.QueryServiceGraph(kT0, kT0 + kMin));
  EXPECT_EQ(got, ToJson(fresh.QueryServiceGraph(kT0, kT0 + kMin)));
  EXPECT_EQ(got["Services"][2]["Name"], "Web-Application");
  EXPECT_EQ(got["Services"][2]["SummaryStatistics"]["TotalCount"], 1);
}

TEST(RollupStoreTest, OutOfOrderSegmentsCountedOnce) {
  // The function's segment and its DynamoDB call arrive first; their parents
  // are not in the trace yet, so the function looks like an entry point.
  xray::AssembledTrace early = SeedTrace();
  early.segments.erase(early.segments.begin(), early.segments.begin() + 3);
  const TraceGraph v1 = DeriveTraceGraph(early);
  ASSERT_EQ(v1.nodes.size(), 3u);
  EXPECT_TRUE(v1.nodes[1].root);
  const TraceGraph v2 = SeedAt(kT0);
  RollupStore store;
  store.Replace(nullptr, v1);
  store.Replace(&v1, v2);
  RollupStore fresh;
  fresh.Replace(nullptr, v2);
  EXPECT_EQ(ToJson(store.QueryServiceGraph(kT0, kT0 + kMin)),
            ToJson(fresh.QueryServiceGraph(kT0, kT0 + kMin)));
}

// The ingest writer keeps RollupCopyOf a written graph to subtract it when
// the trace changes: the copy must count exactly as the graph does.
TEST(RollupStoreTest, RollupCopyCountsAsTheWholeGraph) {
  SeedOptions partial;
  partial.t0_us = kT0;
  partial.browser_in_progress = true;
  const TraceGraph v1 = DeriveTraceGraph(SeedTrace(partial));
  const TraceGraph v2 = SeedAt(kT0 + 1'000'000, /*fault=*/true);
  const TraceGraph v1_copy = RollupCopyOf(v1);
  // The strings the rollups do not read are gone.
  bool full_has_strings = false;
  for (const Node& n : v1.nodes) {
    for (const Observation& o : n.observations) full_has_strings |= !o.entity_name.empty();
  }
  EXPECT_TRUE(full_has_strings);
  ASSERT_EQ(v1_copy.nodes.size(), v1.nodes.size());
  ASSERT_EQ(v1_copy.edges.size(), v1.edges.size());
  for (const Node& n : v1_copy.nodes) {
    for (const Observation& o : n.observations) {
      EXPECT_TRUE(o.entity_name.empty() && o.http_url.empty() && o.user.empty());
    }
  }

  RollupStore whole;
  whole.Replace(nullptr, v1);
  whole.Replace(&v1, v2);
  RollupStore copied;
  copied.Replace(nullptr, RollupCopyOf(v1));
  copied.Replace(&v1_copy, RollupCopyOf(v2));
  EXPECT_EQ(ToJson(copied.QueryServiceGraph(kT0 - kMin, kT0 + kMin)),
            ToJson(whole.QueryServiceGraph(kT0 - kMin, kT0 + kMin)));

  // Subtracting the copy of a graph added whole leaves nothing.
  RollupStore mixed;
  mixed.Add(v2, +1);
  mixed.Add(RollupCopyOf(v2), -1);
  EXPECT_TRUE(mixed.QueryServiceGraph(kT0 - kMin, kT0 + kMin).services.empty());
}

TEST(RollupStoreTest, WindowSelectsMinutes) {
  RollupStore store;
  store.Add(SeedAt(kT0), +1);
  store.Add(SeedAt(kT0 + 10 * kMin, true), +1);
  EXPECT_EQ(store.stats().minutes, 2u);
  const ServiceGraphResult first = store.QueryServiceGraph(kT0, kT0 + 5 * kMin);
  ASSERT_EQ(first.services.size(), 6u);
  EXPECT_EQ(first.services[5].summary_statistics.total_count, 1);
  EXPECT_EQ(first.services[5].summary_statistics.fault_statistics.total_count, 0);
  const ServiceGraphResult both = store.QueryServiceGraph(kT0, kT0 + 11 * kMin);
  EXPECT_EQ(both.services[5].summary_statistics.total_count, 2);
  EXPECT_EQ(both.services[5].summary_statistics.fault_statistics.total_count, 1);
  EXPECT_TRUE(store.QueryServiceGraph(kT0 + kMin, kT0 + 9 * kMin).services.empty());
  EXPECT_TRUE(store.QueryServiceGraph(kT0, kT0).services.empty());
}

TEST(RollupStoreTest, ExpireDropsOldMinutesAndLateData) {
  RollupConfig config;
  config.retention_us = 60 * kMin;
  ASSERT_TRUE(config.Validate().ok());
  RollupStore store(config);
  store.Add(SeedAt(kT0), +1);
  store.Add(SeedAt(kT0 + 30 * kMin), +1);
  store.Expire(kT0 + 61 * kMin);
  EXPECT_EQ(store.stats().minutes, 1u);
  store.Add(SeedAt(kT0), +1);  // too late: its minute is gone
  EXPECT_EQ(store.stats().minutes, 1u);
  EXPECT_EQ(store.stats().skipped_observations, 11u);  // 6 node + 5 edge observations
  store.Expire(kT0 + 200 * kMin);
  EXPECT_EQ(store.stats().minutes, 0u);
  EXPECT_EQ(store.stats().bytes, 0u);
}

// Each minute with services of its own: folding minutes into hours saves
// little, so the cap evicts the oldest hours once every minute left is in
// the newest one.
TEST(RollupStoreTest, MemoryCapEvictsOldestPeriodsWhenFoldingIsNotEnough) {
  RollupConfig config;
  config.max_bytes = size_t{1} << 20;
  RollupStore store(config);
  RollupStore newest;
  const int last = 399;
  for (int m = 0; m <= last; ++m) {
    SeedOptions opt;
    opt.t0_us = kT0 + m * kMin;
    opt.table = "table-with-a-long-enough-name-" + std::to_string(m);
    for (int i = 0; i < 20; ++i) {
      xray::AssembledTrace trace = SeedTrace(opt);
      trace.segments.Mutable(0).name = "Web-Application-" + std::to_string(i);
      store.Add(DeriveTraceGraph(trace), +1);
      if (m == last) newest.Add(DeriveTraceGraph(trace), +1);
    }
  }
  const RollupStats stats = store.stats();
  EXPECT_LE(stats.bytes, config.max_bytes);
  EXPECT_GT(stats.folded_minutes, 0u);
  EXPECT_GT(stats.evicted_minutes, 0u);
  EXPECT_GE(stats.minutes, 1u);
  // The newest minute is still kept per minute, whole.
  const int64_t newest_start = kT0 + last * kMin;
  EXPECT_EQ(testing::RollupCounts(store, newest_start, newest_start + 1),
            testing::RollupCounts(newest, newest_start, newest_start + 1));
  store.Add(SeedAt(kT0), +1);  // in an evicted period: skipped
  EXPECT_EQ(store.stats().skipped_observations, stats.skipped_observations + 11);
  RollupConfig bad;
  bad.max_bytes = 10;
  EXPECT_EQ(bad.Validate().code(), StatusCode::kInvalidArgument);
}

// Traces over five hours, one a minute, with outcomes and durations that
// differ by minute.
void AddFiveHours(RollupStore& store, std::vector<TraceGraph>* graphs = nullptr) {
  for (int m = 0; m < 300; ++m) {
    SeedOptions opt;
    opt.t0_us = kT0 + m * kMin + (m % 7) * 1'000'000;
    opt.lambda_fault = m % 3 == 0;
    opt.dynamo_throttle = m % 4 == 0;
    opt.table = m % 2 == 0 ? "Todo-table" : "Audit-table";
    TraceGraph g = DeriveTraceGraph(SeedTrace(opt));
    store.Add(g, +1);
    if (graphs != nullptr) graphs->push_back(std::move(g));
  }
}

// The first minute of the hour that holds `us`, in microseconds.
int64_t HourStartUs(int64_t us) { return RollupHourStart(RollupMinuteOf(us)) * kMin; }

TEST(RollupStoreTest, MinutesPastTheWindowAreFoldedIntoHoursWithExactCounts) {
  RollupConfig config;
  config.minute_window_us = 2 * 60 * kMin;
  RollupStore store(config);
  RollupStore exact;  // never expired: every minute kept
  std::vector<TraceGraph> graphs;
  AddFiveHours(store, &graphs);
  AddFiveHours(exact);
  EXPECT_EQ(store.hourly_before_us(), std::numeric_limits<int64_t>::min());
  const int64_t now = kT0 + 300 * kMin;
  store.Expire(now);
  // kT0 is 13 minutes past an hour: the 47 minutes of its hour and the two
  // hours after it are folded; the minutes from the hour of now − 2 h on stay.
  const int64_t floor = HourStartUs(now - 2 * 60 * kMin);
  EXPECT_EQ(store.hourly_before_us(), floor);
  EXPECT_EQ(floor, HourStartUs(kT0) + 3 * 60 * kMin);
  RollupStats stats = store.stats();
  EXPECT_EQ(stats.hours, 3u);
  EXPECT_EQ(stats.folded_minutes, 47u + 120u);
  EXPECT_EQ(stats.minutes, 300u - 167u);
  EXPECT_EQ(stats.evicted_minutes, 0u);
  EXPECT_LT(stats.bytes, exact.stats().bytes);

  auto same = [&](int64_t start, int64_t end, int64_t exact_start, int64_t exact_end) {
    EXPECT_EQ(testing::RollupCounts(store, start, end),
              testing::RollupCounts(exact, exact_start, exact_end))
        << "window [" << start << ", " << end << ")";
  };
  const int64_t h0 = HourStartUs(kT0);
  // The whole range, hours, minutes after the floor: exact.
  same(kT0 - kMin, now + kMin, kT0 - kMin, now + kMin);
  for (int64_t h = h0; h < h0 + 6 * 60 * kMin; h += 60 * kMin)
    same(h, h + 60 * kMin, h, h + 60 * kMin);
  for (int64_t m = floor; m < now; m += kMin) same(m, m + kMin, m, m + kMin);
  // Part of an hour kept whole: the whole hour.
  same(h0 + 60 * kMin + 30 * kMin, h0 + 60 * kMin + 31 * kMin, h0 + 60 * kMin, h0 + 120 * kMin);
  same(h0 + 90 * kMin, floor + 10 * kMin, h0 + 60 * kMin, floor + 10 * kMin);

  // A period of an hour kept whole counts at the hour's start.
  auto sel = ParseEntitySelector(R"(service(id(name: "todo-fn", type: "AWS::Lambda::Function")))");
  ASSERT_TRUE(sel.ok());
  auto hourly = store.QueryTimeSeries(*sel, h0, floor + 60 * kMin, 3600);
  auto hourly_exact = exact.QueryTimeSeries(*sel, h0, floor + 60 * kMin, 3600);
  ASSERT_TRUE(hourly.ok() && hourly_exact.ok());
  EXPECT_EQ(ToJson(*hourly), ToJson(*hourly_exact));
  auto per_minute = store.QueryTimeSeries(*sel, h0 + 60 * kMin, h0 + 120 * kMin, 60);
  ASSERT_TRUE(per_minute.ok());
  ASSERT_EQ(per_minute->size(), 1u);
  EXPECT_EQ((*per_minute)[0].timestamp_us, h0 + 60 * kMin);
  EXPECT_EQ((*per_minute)[0].service_summary->total_count, 60);

  // Changes to traces in folded hours land in their hour, still exactly.
  const TraceGraph late = SeedAt(kT0 + 70 * kMin, true);
  store.Replace(&graphs[5], late);
  exact.Replace(&graphs[5], late);
  store.Add(graphs[100], -1);
  exact.Add(graphs[100], -1);
  store.Add(SeedAt(kT0 + 150 * kMin), +1);
  exact.Add(SeedAt(kT0 + 150 * kMin), +1);
  same(kT0 - kMin, now + kMin, kT0 - kMin, now + kMin);
  for (int64_t h = h0; h < h0 + 6 * 60 * kMin; h += 60 * kMin)
    same(h, h + 60 * kMin, h, h + 60 * kMin);
  EXPECT_EQ(store.stats().hours, 3u);
  EXPECT_EQ(store.stats().skipped_observations, 0u);

  // Later, the window moves on; the floor never moves back.
  store.Expire(now + 61 * kMin);
  EXPECT_EQ(store.hourly_before_us(), floor + 60 * kMin);
  EXPECT_EQ(store.stats().hours, 4u);
  store.Expire(now);
  EXPECT_EQ(store.hourly_before_us(), floor + 60 * kMin);
  same(kT0 - kMin, now + kMin, kT0 - kMin, now + kMin);

  RollupConfig negative;
  negative.minute_window_us = -1;
  EXPECT_EQ(negative.Validate().code(), StatusCode::kInvalidArgument);
}

// Hours expire once all of their minutes are past the retention.
TEST(RollupStoreTest, HoursExpireWhole) {
  RollupConfig config;
  config.minute_window_us = 60 * kMin;
  config.retention_us = 120 * kMin;
  RollupStore store(config);
  AddFiveHours(store);
  const int64_t h0 = HourStartUs(kT0);
  store.Expire(h0 + 5 * 60 * kMin);  // keeps from h0 + 3 h; hours before h0 + 4 h
  EXPECT_EQ(store.stats().hours, 1u);
  store.Expire(h0 + 5 * 60 * kMin + 30 * kMin);  // keeps from the middle of that hour
  EXPECT_EQ(store.stats().hours, 1u);
  store.Expire(h0 + 6 * 60 * kMin);
  EXPECT_EQ(store.stats().hours, 1u);  // the next hour, folded now
  EXPECT_TRUE(store.QueryServiceGraph(h0, h0 + 4 * 60 * kMin).services.empty());
  EXPECT_FALSE(store.QueryServiceGraph(h0 + 4 * 60 * kMin, h0 + 5 * 60 * kMin).services.empty());
}

// Over the cap, minutes are folded into hours before anything is evicted.
TEST(RollupStoreTest, MemoryCapFoldsMinutesBeforeEvicting) {
  RollupConfig config;
  config.max_bytes = size_t{1} << 20;
  RollupStore store(config);
  RollupStore exact;
  for (int m = 0; m < 2000; ++m) {
    SeedOptions opt;
    opt.t0_us = kT0 + m * kMin + (m % 50) * 1'000;
    opt.lambda_fault = m % 3 == 0;
    store.Add(DeriveTraceGraph(SeedTrace(opt)), +1);
    exact.Add(DeriveTraceGraph(SeedTrace(opt)), +1);
  }
  ASSERT_GT(exact.stats().bytes, config.max_bytes);
  const RollupStats stats = store.stats();
  EXPECT_LE(stats.bytes, config.max_bytes);
  EXPECT_GT(stats.folded_minutes, 0u);
  EXPECT_GT(stats.hours, 0u);
  EXPECT_EQ(stats.evicted_minutes, 0u);
  EXPECT_EQ(stats.skipped_observations, 0u);
  EXPECT_EQ(testing::RollupCounts(store, kT0 - kMin, kT0 + 2001 * kMin),
            testing::RollupCounts(exact, kT0 - kMin, kT0 + 2001 * kMin));
  EXPECT_GT(store.hourly_before_us(), kT0);
}

// Persisted minutes loaded already folded below the floor (as the block
// engine sums them: FoldRollupMinutes) give what loading them per minute does.
TEST(RollupStoreTest, LoadTakesFoldedHours) {
  RollupMinutes minutes;
  for (int m = 0; m < 300; ++m) {
    SeedOptions opt;
    opt.t0_us = kT0 + m * kMin;
    opt.lambda_fault = m % 3 == 0;
    AddToRollupMinutes(minutes, DeriveTraceGraph(SeedTrace(opt)), +1);
  }
  ASSERT_EQ(minutes.size(), 300u);
  RollupConfig config;
  config.minute_window_us = 2 * 60 * kMin;
  const int64_t now = kT0 + 300 * kMin;
  RollupStore per_minute(config), folded(config);
  per_minute.Expire(now);
  folded.Expire(now);
  RollupMinutes copy = minutes;
  const int64_t below = RollupMinuteOf(folded.hourly_before_us());
  EXPECT_EQ(FoldRollupMinutes(copy, below), 167u);
  EXPECT_EQ(copy.size(), 3u + 133u);
  for (const auto& [minute, agg] : copy) {
    if (minute < below) {
      EXPECT_EQ(minute, RollupHourStart(minute));
    }
  }
  EXPECT_EQ(FoldRollupMinutes(copy, below), 3u);  // folding again changes nothing
  EXPECT_EQ(copy.size(), 136u);
  per_minute.Load(minutes);
  folded.Load(copy);
  EXPECT_EQ(folded.stats().hours, 3u);
  EXPECT_EQ(per_minute.stats().hours, 3u);
  EXPECT_EQ(folded.stats().minutes, per_minute.stats().minutes);
  const int64_t h0 = HourStartUs(kT0);
  for (int64_t h = h0; h < h0 + 6 * 60 * kMin; h += 60 * kMin) {
    EXPECT_EQ(testing::RollupCounts(folded, h, h + 60 * kMin),
              testing::RollupCounts(per_minute, h, h + 60 * kMin));
  }

  // Folded further than the rollups' own floor (the store's budget): the
  // rollups take that floor, and their own minutes before it join their hours.
  RollupStore later;
  later.Add(SeedAt(kT0 + 30 * kMin), +1);  // a minute of the first hour, per minute so far
  RollupMinutes again = minutes;
  FoldRollupMinutes(again, below);
  later.Load(std::move(again), below * kMin);
  EXPECT_EQ(later.hourly_before_us(), below * kMin);
  EXPECT_EQ(later.stats().hours, 3u);
  EXPECT_EQ(later.stats().minutes, 133u);
  per_minute.Add(SeedAt(kT0 + 30 * kMin), +1);
  for (int64_t h = h0; h < h0 + 6 * 60 * kMin; h += 60 * kMin) {
    EXPECT_EQ(testing::RollupCounts(later, h, h + 60 * kMin),
              testing::RollupCounts(per_minute, h, h + 60 * kMin));
  }
}

TEST(RollupStoreTest, TimeSeries) {
  RollupStore store;
  store.Add(SeedAt(kT0), +1);
  store.Add(SeedAt(kT0 + kMin, true), +1);
  store.Add(SeedAt(kT0 + 6 * kMin), +1);
  auto sel = ParseEntitySelector(R"(service(id(name: "todo-fn", type: "AWS::Lambda::Function")))");
  ASSERT_TRUE(sel.ok());
  auto points = store.QueryTimeSeries(*sel, kT0, kT0 + 10 * kMin, 300);
  ASSERT_TRUE(points.ok()) << points.status().ToString();
  ASSERT_EQ(points->size(), 2u);
  EXPECT_EQ((*points)[0].timestamp_us, kT0 - 200'000'000);
  EXPECT_EQ((*points)[1].timestamp_us, kT0 + 100'000'000);
  ASSERT_TRUE((*points)[0].service_summary.has_value());
  EXPECT_EQ((*points)[0].service_summary->total_count, 2);
  EXPECT_EQ((*points)[0].service_summary->fault_statistics.total_count, 1);
  EXPECT_DOUBLE_EQ((*points)[0].service_summary->total_response_time, 0.15);
  ASSERT_TRUE((*points)[0].edge_summary.has_value());
  EXPECT_EQ((*points)[0].edge_summary->total_count, 2);
  EXPECT_EQ((*points)[0].response_time_histogram, (std::vector<HistogramEntry>{{0.075, 2}}));
  EXPECT_EQ((*points)[1].service_summary->total_count, 1);

  auto edge = ParseEntitySelector(R"(edge("todo-fn", "Todo-table"))");
  ASSERT_TRUE(edge.ok());
  auto edge_points = store.QueryTimeSeries(*edge, kT0, kT0 + 10 * kMin, 60);
  ASSERT_TRUE(edge_points.ok());
  ASSERT_EQ(edge_points->size(), 3u);
  EXPECT_FALSE((*edge_points)[0].service_summary.has_value());
  EXPECT_EQ((*edge_points)[0].edge_summary->ok_count, 1);
  const nlohmann::json j = ToJson(*edge_points);
  EXPECT_EQ(j["TimeSeriesServiceStatistics"].size(), 3u);
  EXPECT_EQ(j["TimeSeriesServiceStatistics"][0]["EdgeSummaryStatistics"]["OkCount"], 1);

  EXPECT_EQ(store.QueryTimeSeries(*sel, kT0, kT0 + kMin, 90).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(store.QueryTimeSeries(*sel, kT0, kT0, 60).status().code(),
            StatusCode::kInvalidArgument);
}

// The start-up rebuild runs while the writer changes traces: whichever comes
// first, every trace ends up counted once, with its latest graph.
TEST(RollupStoreTest, RebuildInterleavedWithTheWriterCountsEveryTraceOnce) {
  auto id = [](uint8_t n) {
    xray::TraceId t;
    t.bytes[0] = 0x5f;
    t.bytes[15] = n;
    return t;
  };
  const xray::TraceId a = id(1), b = id(2), c = id(3), d = id(4), n = id(5);
  const int64_t ta = kT0, tb = kT0 + kMin, tc = kT0 + 2 * kMin, td = kT0 + 3 * kMin;
  // Stored before the restart: A, B, C, D (the scan's order).
  const TraceGraph a0 = SeedAt(ta), b0 = SeedAt(tb), c0 = SeedAt(tc), d0 = SeedAt(td);
  const TraceGraph a1 = SeedAt(ta, true), b1 = SeedAt(tb, true), b2 = SeedAt(tb + 5'000'000);
  const TraceGraph c1 = SeedAt(ta + 30'000'000, true);  // an earlier segment moved C's start
  const TraceGraph n0 = SeedAt(tb + 1'000'000), n1 = SeedAt(tb + 1'000'000, true);

  RollupStore store;
  store.BeginRebuild();
  EXPECT_TRUE(store.rebuilding());
  store.Replace(n, nullptr, 0, n0);  // a new trace, before the scan starts
  store.Replace(b, &b0, tb, b1);     // B changes before the scan reaches it
  store.AddRebuilt(a0, ta, a);
  store.AddRebuilt(b1, tb, b);    // the scan's snapshot already holds B's change: skipped
  store.Replace(a, &a0, ta, a1);  // A changes after the scan added it
  store.Replace(b, &b1, tb, b2);  // B's second change
  store.Replace(c, &c0, tc, c1);  // C changes before the scan reaches it
  store.AddRebuilt(c0, tc, c);    // an older snapshot: C's stored record, skipped
  store.AddRebuilt(d0, td, d);
  store.Replace(n, &n0, tb + 1'000'000, n1);
  EXPECT_EQ(store.stats().rebuilt_traces, 2u);  // A and D
  store.EndRebuild();
  EXPECT_FALSE(store.rebuilding());

  RollupStore fresh;
  for (const TraceGraph* g : {&a1, &b2, &c1, &d0, &n1}) fresh.Add(*g, +1);
  for (int64_t start = kT0 - kMin; start < kT0 + 5 * kMin; start += kMin) {
    EXPECT_EQ(testing::RollupCounts(store, start, start + kMin),
              testing::RollupCounts(fresh, start, start + kMin))
        << "minute starting " << start;
  }
  EXPECT_EQ(store.stats().minutes, fresh.stats().minutes);
}

// A failed scan abandons the rebuild: the rollups stay marked incomplete, and
// the writer's changes are counted as usual again (nothing noted any more).
TEST(RollupStoreTest, AbandonedRebuildStopsTheBookkeeping) {
  xray::TraceId id;
  id.bytes[15] = 7;
  const TraceGraph v0 = SeedAt(kT0), v1 = SeedAt(kT0, true), v2 = SeedAt(kT0 + 1'000'000);
  RollupStore store;
  store.BeginRebuild();
  store.Replace(id, nullptr, 0, v0);  // a new trace, noted
  store.AbandonRebuild();
  EXPECT_TRUE(store.rebuilding());
  EXPECT_TRUE(store.stats().rebuilding);
  store.Replace(id, &v0, kT0, v1);  // subtracts v0 as usual
  store.Replace(id, &v1, kT0, v2);
  RollupStore fresh;
  fresh.Add(v2, +1);
  EXPECT_EQ(testing::RollupCounts(store, kT0 - kMin, kT0 + kMin),
            testing::RollupCounts(fresh, kT0 - kMin, kT0 + kMin));
  // A new rebuild starts afresh; beginning a running one changes nothing.
  store.BeginRebuild();
  store.AddRebuilt(v0, kT0, id);
  store.BeginRebuild();
  EXPECT_EQ(store.stats().rebuilt_traces, 1u);
  store.EndRebuild();
  EXPECT_FALSE(store.rebuilding());
}

}  // namespace
}  // namespace roentgen::graph
