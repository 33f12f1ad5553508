#include "common/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace roentgen {
namespace {

TEST(MetricsTest, EmptyRegistryRendersNothing) {
  MetricsRegistry registry;
  EXPECT_EQ(registry.RenderText(), "");
}

TEST(MetricsTest, CountersAndGaugesWithLabels) {
  MetricsRegistry registry;
  registry.GetCounter("rg_requests_total", "Requests.", {{"path", "/b"}}).Inc(2);
  registry.GetCounter("rg_requests_total", "ignored", {{"path", "/a"}}).Inc();
  registry.GetCounter("rg_requests_total", "", {{"path", "/b"}}).Inc(3);
  registry.GetGauge("rg_queue_depth", "Queued documents.").Set(-4);
  EXPECT_EQ(registry.RenderText(),
            "# HELP rg_queue_depth Queued documents.\n"
            "# TYPE rg_queue_depth gauge\n"
            "rg_queue_depth -4\n"
            "# HELP rg_requests_total Requests.\n"
            "# TYPE rg_requests_total counter\n"
            "rg_requests_total{path=\"/a\"} 1\n"
            "rg_requests_total{path=\"/b\"} 5\n");
}

TEST(MetricsTest, SameHandleForSameNameAndLabelsInAnyOrder) {
  MetricsRegistry registry;
  Counter& a = registry.GetCounter("c", "h", {{"x", "1"}, {"y", "2"}});
  Counter& b = registry.GetCounter("c", "h", {{"y", "2"}, {"x", "1"}});
  EXPECT_EQ(&a, &b);
  a.Inc();
  EXPECT_EQ(registry.RenderText(), "# HELP c h\n# TYPE c counter\nc{x=\"1\",y=\"2\"} 1\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  registry.GetCounter("c", "line1\nback\\slash \"quoted\"", {{"v", "a\"b\\c\nd"}}).Inc(7);
  EXPECT_EQ(registry.RenderText(),
            "# HELP c line1\\nback\\\\slash \"quoted\"\n"
            "# TYPE c counter\n"
            "c{v=\"a\\\"b\\\\c\\nd\"} 7\n");
}

TEST(MetricsTest, HistogramIsCumulativeWithSumAndCount) {
  MetricsRegistry registry;
  Histogram& h = registry.GetHistogram("lat_seconds", "Latency.", {0.1, 1, 2.5}, {{"path", "/x"}});
  h.Observe(0.05);
  h.Observe(0.1);  // on the bound: le is inclusive
  h.Observe(0.5);
  h.Observe(3);
  EXPECT_EQ(h.BucketCounts(), (std::vector<uint64_t>{2, 1, 0, 1}));
  EXPECT_EQ(h.Count(), 4u);
  EXPECT_DOUBLE_EQ(h.Sum(), 3.65);
  EXPECT_EQ(registry.RenderText(),
            "# HELP lat_seconds Latency.\n"
            "# TYPE lat_seconds histogram\n"
            "lat_seconds_bucket{path=\"/x\",le=\"0.1\"} 2\n"
            "lat_seconds_bucket{path=\"/x\",le=\"1\"} 3\n"
            "lat_seconds_bucket{path=\"/x\",le=\"2.5\"} 3\n"
            "lat_seconds_bucket{path=\"/x\",le=\"+Inf\"} 4\n"
            "lat_seconds_sum{path=\"/x\"} 3.65\n"
            "lat_seconds_count{path=\"/x\"} 4\n");
}

TEST(MetricsTest, HistogramWithoutLabels) {
  MetricsRegistry registry;
  Histogram& h = registry.GetHistogram("h", "H.", {2, 1});  // unsorted bounds are sorted
  h.Observe(1.5);
  EXPECT_EQ(registry.RenderText(),
            "# HELP h H.\n"
            "# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 0\n"
            "h_bucket{le=\"2\"} 1\n"
            "h_bucket{le=\"+Inf\"} 1\n"
            "h_sum 1.5\n"
            "h_count 1\n");
}

TEST(MetricsTest, LatencyBucketsSpan100MicrosecondsTo10Seconds) {
  std::vector<double> b = MetricsRegistry::LatencyBuckets();
  ASSERT_EQ(b.size(), 16u);
  EXPECT_EQ(b.front(), 0.0001);
  EXPECT_EQ(b.back(), 10.0);
  MetricsRegistry registry;
  registry.GetHistogram("l", "L.", b);
  EXPECT_NE(registry.RenderText().find("l_bucket{le=\"0.0001\"} 0\n"), std::string::npos);
}

TEST(MetricsTest, ConcurrentUpdatesAreNotLost) {
  MetricsRegistry registry;
  Counter& c = registry.GetCounter("c", "h");
  Histogram& h = registry.GetHistogram("h", "h", {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) {
        c.Inc();
        h.Observe(0.5);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.Value(), 40000u);
  EXPECT_EQ(h.Count(), 40000u);
  EXPECT_DOUBLE_EQ(h.Sum(), 20000.0);
}

}  // namespace
}  // namespace roentgen
