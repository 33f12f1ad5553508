#include "graph/service_graph.h"

#include <gtest/gtest.h>

#include <random>
#include <utility>

#include "graph/service_graph_json.h"
#include "graph/test_traces.h"

namespace roentgen::graph {
namespace {

using testing::SeedOptions;
using testing::SeedTrace;

const Service& Find(const ServiceGraphResult& r, const std::string& name, const std::string& type) {
  for (const Service& s : r.services) {
    if (s.name == name && s.type == type) return s;
  }
  ADD_FAILURE() << "no service " << name << " / " << type;
  static const Service kNone;
  return kNone;
}

const ServiceEdge& EdgeTo(const ServiceGraphResult& r, const Service& from, const Service& to) {
  for (const ServiceEdge& e : from.edges) {
    if (e.reference_id == to.reference_id) return e;
  }
  ADD_FAILURE() << "no edge " << from.name << " -> " << to.name;
  static const ServiceEdge kNone;
  (void)r;
  return kNone;
}

SummaryStatistics Stats(int64_t ok, int64_t throttle, int64_t error_other, int64_t fault,
                        double response) {
  SummaryStatistics s;
  s.ok_count = ok;
  s.error_statistics = {throttle, error_other, throttle + error_other};
  s.fault_statistics = {fault, fault};
  s.total_count = ok + throttle + error_other + fault;
  s.total_response_time = response;
  return s;
}

// Three seed traces a second apart: a healthy one, one where the Lambda
// function faults, one where DynamoDB throttles, plus one whose browser
// segment records a 4xx error.
std::vector<TraceGraph> SeedGraphs() {
  const int64_t t0 = SeedOptions{}.t0_us;
  SeedOptions healthy, fault, throttle, error;
  fault.t0_us = t0 + 1'000'000;
  fault.lambda_fault = true;
  throttle.t0_us = t0 + 2'000'000;
  throttle.dynamo_throttle = true;
  error.t0_us = t0 + 3'000'000;
  xray::AssembledTrace with_error = SeedTrace(error);
  with_error.segments.Mutable(0).error = true;
  return {DeriveTraceGraph(SeedTrace(healthy)), DeriveTraceGraph(SeedTrace(fault)),
          DeriveTraceGraph(SeedTrace(throttle)), DeriveTraceGraph(with_error)};
}

// The aggregates look keys up borrowed (ServiceKeyRef): the borrowed order
// must be ServiceKey's own, or a lookup would miss a cell that is there.
TEST(ServiceKeyLessTest, OrdersBorrowedKeysAsServiceKeyDoes) {
  const std::vector<ServiceKey> keys = {
      {"", "client", ""},
      {"api", "AWS::ECS::Container", "123456789012"},
      {"api", "AWS::ECS::Container", "223456789012"},
      {"api", "AWS::Lambda::Function", ""},
      {"api", "AWS::Lambda", "123456789012"},
      {"ap", "AWS::ECS::Container", "123456789012"},
      {"api-gateway-with-a-long-name", "", ""},
      {"\xc3\xa9t\xc3\xa9", "remote", ""},
      {"a", "", "b"},
  };
  const ServiceKeyLess less;
  for (const ServiceKey& a : keys) {
    for (const ServiceKey& b : keys) {
      const bool expected = a < b;
      EXPECT_EQ(less(a, b), expected) << a.name << "/" << a.type << " vs " << b.name;
      EXPECT_EQ(less(RefOf(a), b), expected);
      EXPECT_EQ(less(a, RefOf(b)), expected);
      EXPECT_EQ(less(RefOf(a), RefOf(b)), expected);
    }
  }
  // Every key is found borrowed in a map keyed by owned keys, edges too.
  GraphAggregate::NodeMap nodes;
  GraphAggregate::EdgeMap edges;
  for (const ServiceKey& k : keys) nodes.emplace(k, NodeCell{});
  for (const ServiceKey& a : keys) {
    for (const ServiceKey& b : keys) edges.emplace(GraphAggregate::EdgeKey{a, b}, Cell{});
  }
  for (const ServiceKey& a : keys) {
    auto it = nodes.find(RefOf(a));
    ASSERT_NE(it, nodes.end());
    EXPECT_EQ(it->first, a);
    for (const ServiceKey& b : keys) {
      auto e = edges.find(std::pair<ServiceKeyRef, ServiceKeyRef>(RefOf(a), RefOf(b)));
      ASSERT_NE(e, edges.end());
      EXPECT_EQ(e->first.first, a);
      EXPECT_EQ(e->first.second, b);
    }
  }
  EXPECT_EQ(nodes.find(ServiceKeyRef{"api", "AWS::ECS::Container", ""}), nodes.end());
  // Edges in the order of their key pairs, owned or borrowed.
  const EdgeKeyLess edge_less;
  for (const ServiceKey& a : keys) {
    for (const ServiceKey& b : keys) {
      for (const ServiceKey& c : keys) {
        for (const ServiceKey& d : keys) {
          const GraphAggregate::EdgeKey x{a, b};
          const GraphAggregate::EdgeKey y{c, d};
          const std::pair<ServiceKeyRef, ServiceKeyRef> y_ref(RefOf(c), RefOf(d));
          ASSERT_EQ(edge_less(x, y), x < y)
              << a.name << ">" << b.name << " vs " << c.name << ">" << d.name;
          ASSERT_EQ(edge_less(x, y_ref), x < y);
          ASSERT_EQ(edge_less(y_ref, x), y < x);
        }
      }
    }
  }
}

TEST(ServiceGraphTest, SeedTopologyServicesAndEdges) {
  const ServiceGraphResult r = BuildTraceGraphResult({DeriveTraceGraph(SeedTrace())});
  ASSERT_EQ(r.services.size(), 6u);
  // Ordered by (name, type, account): the client's empty name first.
  EXPECT_EQ(r.services[0].type, "client");
  EXPECT_EQ(r.services[1].name, "Todo-table");
  EXPECT_EQ(r.services[2].name, "Web-Application");
  EXPECT_EQ(r.services[3].name, "todo-api");
  EXPECT_EQ(r.services[4].type, "AWS::Lambda");
  EXPECT_EQ(r.services[5].type, "AWS::Lambda::Function");

  const Service& client = r.services[0];
  const Service& web = Find(r, "Web-Application", "");
  const Service& api = Find(r, "todo-api", "AWS::AppSync::GraphQLAPI");
  const Service& facade = Find(r, "todo-fn", "AWS::Lambda");
  const Service& fn = Find(r, "todo-fn", "AWS::Lambda::Function");
  const Service& table = Find(r, "Todo-table", "AWS::DynamoDB::Table");

  EXPECT_TRUE(web.root);
  EXPECT_FALSE(client.root);
  EXPECT_FALSE(api.root);
  EXPECT_EQ(client.state, "unknown");
  EXPECT_EQ(table.state, "unknown");
  EXPECT_EQ(web.state, "active");
  EXPECT_EQ(fn.state, "active");
  EXPECT_EQ(fn.account_id, "123456789012");
  EXPECT_EQ(table.names, std::vector<std::string>{"Todo-table"});

  EXPECT_EQ(client.edges.size(), 1u);
  EXPECT_EQ(web.edges.size(), 1u);
  EXPECT_EQ(api.edges.size(), 1u);
  EXPECT_EQ(facade.edges.size(), 1u);
  EXPECT_EQ(fn.edges.size(), 1u);
  EXPECT_EQ(table.edges.size(), 0u);
  EXPECT_EQ(EdgeTo(r, client, web).summary_statistics, Stats(1, 0, 0, 0, 0.12));
  EXPECT_EQ(EdgeTo(r, web, api).summary_statistics, Stats(1, 0, 0, 0, 0.105));
  EXPECT_EQ(EdgeTo(r, api, facade).summary_statistics, Stats(1, 0, 0, 0, 0.09));
  EXPECT_EQ(EdgeTo(r, facade, fn).summary_statistics, Stats(1, 0, 0, 0, 0.075));
  EXPECT_EQ(EdgeTo(r, fn, table).summary_statistics, Stats(1, 0, 0, 0, 0.015));

  EXPECT_EQ(api.summary_statistics, Stats(1, 0, 0, 0, 0.105));
  EXPECT_EQ(api.response_time_histogram, (std::vector<HistogramEntry>{{0.105, 1}}));
  EXPECT_EQ(api.duration_histogram, (std::vector<HistogramEntry>{{0.12, 1}}));
  EXPECT_EQ(EdgeTo(r, api, facade).response_time_histogram,
            (std::vector<HistogramEntry>{{0.09, 1}}));
  const int64_t t0 = SeedOptions{}.t0_us;
  EXPECT_EQ(api.start_us, t0 + 5'000);
  EXPECT_EQ(api.end_us, t0 + 110'000);
  EXPECT_EQ(r.start_us, t0);
  EXPECT_EQ(r.end_us, t0 + 120'000);
}

TEST(ServiceGraphTest, FaultsThrottlesAndErrorsLandInTheRightStatistics) {
  const ServiceGraphResult r = BuildTraceGraphResult(SeedGraphs());
  ASSERT_EQ(r.services.size(), 6u);
  const Service& client = r.services[0];
  const Service& web = Find(r, "Web-Application", "");
  const Service& api = Find(r, "todo-api", "AWS::AppSync::GraphQLAPI");
  const Service& facade = Find(r, "todo-fn", "AWS::Lambda");
  const Service& fn = Find(r, "todo-fn", "AWS::Lambda::Function");
  const Service& table = Find(r, "Todo-table", "AWS::DynamoDB::Table");

  EXPECT_EQ(web.summary_statistics, Stats(3, 0, 1, 0, 0.48));
  EXPECT_EQ(EdgeTo(r, client, web).summary_statistics, Stats(3, 0, 1, 0, 0.48));
  EXPECT_EQ(api.summary_statistics, Stats(4, 0, 0, 0, 0.42));
  EXPECT_EQ(facade.summary_statistics, Stats(3, 0, 0, 1, 0.344));
  EXPECT_EQ(fn.summary_statistics, Stats(3, 0, 0, 1, 0.3));
  EXPECT_EQ(EdgeTo(r, api, facade).summary_statistics, Stats(3, 0, 0, 1, 0.36));
  EXPECT_EQ(EdgeTo(r, facade, fn).summary_statistics, Stats(3, 0, 0, 1, 0.3));
  EXPECT_EQ(table.summary_statistics, Stats(3, 1, 0, 0, 0.06));
  EXPECT_EQ(EdgeTo(r, fn, table).summary_statistics, Stats(3, 1, 0, 0, 0.06));
  EXPECT_EQ(table.response_time_histogram, (std::vector<HistogramEntry>{{0.015, 4}}));
}

TEST(ServiceGraphTest, ReferenceIdsAreStableAndUnique) {
  const ServiceGraphResult one = BuildTraceGraphResult({DeriveTraceGraph(SeedTrace())});
  const ServiceGraphResult all = BuildTraceGraphResult(SeedGraphs());
  ASSERT_EQ(one.services.size(), all.services.size());
  for (size_t i = 0; i < one.services.size(); ++i) {
    EXPECT_EQ(one.services[i].reference_id, all.services[i].reference_id);
    EXPECT_EQ(one.services[i].reference_id,
              StableReferenceId(
                  {one.services[i].name, one.services[i].type, one.services[i].account_id}));
    EXPECT_GE(one.services[i].reference_id, 0);
    for (size_t j = 0; j < i; ++j) {
      EXPECT_NE(one.services[i].reference_id, one.services[j].reference_id);
    }
  }
  EXPECT_NE(StableReferenceId({"ab", "c", ""}), StableReferenceId({"a", "bc", ""}));
}

TEST(ServiceGraphTest, InProgressObservationsAreNotCounted) {
  SeedOptions opt;
  opt.browser_in_progress = true;
  const ServiceGraphResult r = BuildTraceGraphResult({DeriveTraceGraph(SeedTrace(opt))});
  const Service& web = Find(r, "Web-Application", "");
  EXPECT_EQ(web.summary_statistics, Stats(0, 0, 0, 0, 0));
  EXPECT_TRUE(web.response_time_histogram.empty());
  EXPECT_FALSE(web.end_us.has_value());
  // The trace's duration comes from what has ended: 110 ms − 0.
  const Service& api = Find(r, "todo-api", "AWS::AppSync::GraphQLAPI");
  EXPECT_EQ(api.duration_histogram, (std::vector<HistogramEntry>{{0.11, 1}}));
}

TEST(ServiceGraphTest, SubtractingRestoresEmpty) {
  GraphAggregate agg;
  const TraceGraph g = DeriveTraceGraph(SeedTrace());
  agg.AddTraceGraph(g, +1);
  EXPECT_GT(agg.MemoryBytes(), 0u);
  agg.AddTraceGraph(g, -1);
  EXPECT_TRUE(agg.empty());
  EXPECT_EQ(agg.MemoryBytes(), 0u);
  agg.AddTraceGraph(g, -1);  // never added: nothing to take back
  EXPECT_TRUE(agg.empty());
}

// The aggregates remember where they found a cell (CellHints): adds and
// removals that erase cells and make them again, through copies and moves,
// must give what lookups in the maps alone give (a copy starts without
// hints, so `fresh` finds every cell in its maps).
TEST(ServiceGraphTest, HintedLookupsGiveWhatTheMapsGive) {
  const std::vector<TraceGraph> graphs = SeedGraphs();
  std::mt19937_64 rng(11);
  GraphAggregate hinted;
  GraphAggregate fresh;
  for (int step = 0; step < 400; ++step) {
    const TraceGraph& g = graphs[rng() % graphs.size()];
    const int64_t sign = rng() % 3 == 0 ? -1 : 1;
    hinted.AddTraceGraph(g, sign);
    fresh = GraphAggregate(fresh);
    fresh.AddTraceGraph(g, sign);
    if (step % 7 == 0) {
      GraphAggregate moved(std::move(hinted));
      hinted = std::move(moved);
    }
    if (step % 11 == 0) hinted = GraphAggregate(hinted);
    ASSERT_EQ(ToJson(hinted.Build(0, 1)), ToJson(fresh.Build(0, 1))) << "step " << step;
    ASSERT_EQ(hinted.MemoryBytes(), fresh.MemoryBytes()) << "step " << step;
  }
  // Every cell erased, then made again where the erased ones were found.
  for (const TraceGraph& g : graphs) {
    hinted.AddTraceGraph(g, +1);
    hinted.AddTraceGraph(g, -1);
    hinted.AddTraceGraph(g, +1);
    fresh.AddTraceGraph(g, +1);
  }
  EXPECT_EQ(ToJson(hinted.Build(0, 1)), ToJson(fresh.Build(0, 1)));
  EXPECT_EQ(hinted.MemoryBytes(), fresh.MemoryBytes());
}

TEST(ServiceGraphTest, SumEqualsPairwiseMerge) {
  const std::vector<TraceGraph> graphs = SeedGraphs();
  std::vector<GraphAggregate> parts(graphs.size());
  GraphAggregate merged;
  std::vector<const GraphAggregate*> pointers;
  for (size_t i = 0; i < graphs.size(); ++i) {
    parts[i].AddTraceGraph(graphs[i]);
    merged.Merge(parts[i]);
    pointers.push_back(&parts[i]);
  }
  const GraphAggregate summed = GraphAggregate::Sum(pointers);
  EXPECT_EQ(ToJson(summed.Build(0, 1)), ToJson(merged.Build(0, 1)));
  EXPECT_EQ(summed.Build(0, 1).services.size(), 6u);
  EXPECT_EQ(summed.MemoryBytes(), merged.MemoryBytes());
}

TEST(ServiceGraphJsonTest, ServiceShape) {
  const ServiceGraphResult r = BuildTraceGraphResult({DeriveTraceGraph(SeedTrace())});
  const nlohmann::json j = ToJson(r);
  ASSERT_EQ(j["Services"].size(), 6u);
  EXPECT_EQ(j["StartTime"], 1700000000.0);
  EXPECT_EQ(j["EndTime"], 1700000000.12);
  EXPECT_EQ(j["ContainsOldGroupVersions"], false);
  const nlohmann::json& client = j["Services"][0];
  EXPECT_FALSE(client.contains("Name"));
  EXPECT_EQ(client["Type"], "client");
  EXPECT_EQ(client["Names"], nlohmann::json::array());
  const nlohmann::json& table = j["Services"][1];
  const nlohmann::json want_table = {
      {"ReferenceId", r.services[1].reference_id},
      {"Name", "Todo-table"},
      {"Names", {"Todo-table"}},
      {"Root", false},
      {"Type", "AWS::DynamoDB::Table"},
      {"State", "unknown"},
      {"StartTime", 1700000000.03},
      {"EndTime", 1700000000.045},
      {"Edges", nlohmann::json::array()},
      {"SummaryStatistics",
       {{"OkCount", 1},
        {"ErrorStatistics", {{"ThrottleCount", 0}, {"OtherCount", 0}, {"TotalCount", 0}}},
        {"FaultStatistics", {{"OtherCount", 0}, {"TotalCount", 0}}},
        {"TotalCount", 1},
        {"TotalResponseTime", 0.015}}},
      {"DurationHistogram", {{{"Value", 0.12}, {"Count", 1}}}},
      {"ResponseTimeHistogram", {{{"Value", 0.015}, {"Count", 1}}}},
  };
  EXPECT_EQ(table, want_table) << table.dump(2);
  const nlohmann::json& web = j["Services"][2];
  EXPECT_FALSE(web.contains("Type"));
  EXPECT_EQ(web["Root"], true);
  ASSERT_EQ(web["Edges"].size(), 1u);
  EXPECT_EQ(web["Edges"][0]["ReferenceId"], r.services[3].reference_id);
  EXPECT_EQ(web["Edges"][0]["Aliases"], nlohmann::json::array());
  EXPECT_EQ(TraceGraphToJson(r).size(), 1u);
}

}  // namespace
}  // namespace roentgen::graph
