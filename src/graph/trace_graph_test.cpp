#include "graph/trace_graph.h"

#include <gtest/gtest.h>

#include "graph/test_traces.h"
#include "graph/trace_record.h"

namespace roentgen::graph {
namespace {

using testing::MakeEntity;
using testing::SeedOptions;
using testing::SeedTrace;
using testing::WithParent;

std::string Describe(const TraceGraph& g, const Edge& e) {
  return g.nodes[e.from].id.type + ":" + g.nodes[e.from].id.name + " -> " + g.nodes[e.to].id.type +
         ":" + g.nodes[e.to].id.name;
}

TEST(TraceGraphTest, SeedTopologyNodes) {
  const TraceGraph g = DeriveTraceGraph(SeedTrace());
  ASSERT_EQ(g.nodes.size(), 6u);
  struct Want {
    std::string name, type, account;
    bool root, inferred, client;
    size_t observations;
  };
  const Want want[] = {
      {"", "client", "", false, false, true, 1},
      {"Web-Application", "", "", true, false, false, 1},
      {"todo-api", "AWS::AppSync::GraphQLAPI", "123456789012", false, false, false, 1},
      {"todo-fn", "AWS::Lambda", "123456789012", false, false, false, 1},
      {"todo-fn", "AWS::Lambda::Function", "123456789012", false, false, false, 1},
      {"Todo-table", "AWS::DynamoDB::Table", "", false, true, false, 1},
  };
  for (size_t i = 0; i < 6; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(g.nodes[i].id.name, want[i].name);
    EXPECT_EQ(g.nodes[i].id.type, want[i].type);
    EXPECT_EQ(g.nodes[i].id.account_id, want[i].account);
    EXPECT_EQ(g.nodes[i].root, want[i].root);
    EXPECT_EQ(g.nodes[i].inferred, want[i].inferred);
    EXPECT_EQ(g.nodes[i].client, want[i].client);
    EXPECT_EQ(g.nodes[i].observations.size(), want[i].observations);
  }
  EXPECT_TRUE(g.nodes[0].id.names.empty());
  EXPECT_EQ(g.nodes[5].id.names, std::vector<std::string>{"Todo-table"});
}

TEST(TraceGraphTest, SeedTopologyEdgesAndObservations) {
  const int64_t t = SeedOptions{}.t0_us;
  const TraceGraph g = DeriveTraceGraph(SeedTrace());
  ASSERT_EQ(g.edges.size(), 5u);
  EXPECT_EQ(Describe(g, g.edges[0]), "client: -> :Web-Application");
  EXPECT_EQ(Describe(g, g.edges[1]), ":Web-Application -> AWS::AppSync::GraphQLAPI:todo-api");
  EXPECT_EQ(Describe(g, g.edges[2]), "AWS::AppSync::GraphQLAPI:todo-api -> AWS::Lambda:todo-fn");
  EXPECT_EQ(Describe(g, g.edges[3]), "AWS::Lambda:todo-fn -> AWS::Lambda::Function:todo-fn");
  EXPECT_EQ(Describe(g, g.edges[4]),
            "AWS::Lambda::Function:todo-fn -> AWS::DynamoDB::Table:Todo-table");
  for (const Edge& e : g.edges) EXPECT_EQ(e.observations.size(), 1u);
  // The browser called AppSync directly from its segment: the callee's view.
  EXPECT_EQ(g.edges[1].observations[0].start_us, t + 5'000);
  EXPECT_EQ(g.edges[1].observations[0].end_us, t + 110'000);
  // AppSync called Lambda through its resolver subsegment: the caller's view.
  EXPECT_EQ(g.edges[2].observations[0].entity_name, "Lambda resolver");
  EXPECT_EQ(g.edges[2].observations[0].start_us, t + 10'000);
  EXPECT_EQ(g.edges[2].observations[0].end_us, t + 100'000);
  // Facade → function: the function segment.
  EXPECT_EQ(g.edges[3].observations[0].start_us, t + 20'000);
  // The inferred table: the DynamoDB subsegment on both node and edge.
  EXPECT_EQ(g.edges[4].observations[0].entity_name, "DynamoDB");
  EXPECT_EQ(g.nodes[5].observations[0].end_us, t + 45'000);
  // The client node sees the root request.
  EXPECT_EQ(g.nodes[0].observations[0].end_us, t + 120'000);
}

TEST(TraceGraphTest, FaultsAndThrottlesAreCarried) {
  SeedOptions opt;
  opt.lambda_fault = true;
  opt.dynamo_throttle = true;
  const TraceGraph g = DeriveTraceGraph(SeedTrace(opt));
  EXPECT_TRUE(g.edges[2].observations[0].fault);
  EXPECT_TRUE(g.nodes[4].observations[0].fault);
  EXPECT_TRUE(g.edges[4].observations[0].throttle);
  EXPECT_TRUE(g.edges[4].observations[0].error);
  EXPECT_EQ(g.edges[4].observations[0].http_status, 429);
  EXPECT_FALSE(g.nodes[1].observations[0].fault);
}

TEST(TraceGraphTest, InProgressSegmentHasNoEnd) {
  SeedOptions opt;
  opt.browser_in_progress = true;
  const TraceGraph g = DeriveTraceGraph(SeedTrace(opt));
  EXPECT_FALSE(g.nodes[1].observations[0].end_us.has_value());
  EXPECT_EQ(g.nodes[1].observations[0].start_us, opt.t0_us);
}

TEST(TraceGraphTest, SameServiceTwiceIsOneNode) {
  xray::AssembledTrace trace;
  trace.segments.push_back(MakeEntity("api", 1, 1'000, 9'000));
  trace.segments.push_back(MakeEntity("api", 2, 2'000, 8'000));
  const TraceGraph g = DeriveTraceGraph(trace);
  ASSERT_EQ(g.nodes.size(), 2u);
  ASSERT_EQ(g.edges.size(), 1u);
  EXPECT_EQ(g.nodes[1].observations.size(), 2u);
  EXPECT_EQ(g.edges[0].observations.size(), 2u);
  EXPECT_EQ(g.nodes[0].observations.size(), 2u);
}

TEST(TraceGraphTest, AccountSplitsNodes) {
  xray::AssembledTrace trace;
  xray::Entity a = MakeEntity("api", 1, 1'000, 9'000);
  a.aws = xray::AwsInfo{};
  a.aws->account_id = "111111111111";
  xray::Entity b = MakeEntity("api", 2, 2'000, 8'000);
  trace.segments = {a, b};
  const TraceGraph g = DeriveTraceGraph(trace);
  ASSERT_EQ(g.nodes.size(), 3u);
  EXPECT_EQ(g.nodes[1].id.account_id, "111111111111");
  EXPECT_EQ(g.nodes[2].id.account_id, "");
}

TEST(TraceGraphTest, ParentNotInTraceMeansClient) {
  xray::AssembledTrace trace;
  trace.segments.push_back(WithParent(MakeEntity("api", 1, 1'000, 9'000), 0x77));
  const TraceGraph g = DeriveTraceGraph(trace);
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_TRUE(g.nodes[0].client);
  EXPECT_TRUE(g.nodes[1].root);
  ASSERT_EQ(g.edges.size(), 1u);
}

TEST(TraceGraphTest, InferredNodeNaming) {
  xray::Entity seg = MakeEntity("svc", 1, 0, 100'000);
  xray::Entity http = MakeEntity("api.example.com", 2, 1'000, 2'000);
  http.namespace_ = "remote";
  xray::Entity sql = MakeEntity("db@pg.local", 3, 3'000, 4'000);
  sql.namespace_ = "remote";
  sql.sql = xray::Sql{};
  xray::Entity s3 = MakeEntity("S3", 4, 5'000, 6'000);
  s3.namespace_ = "aws";
  xray::Entity sqs = MakeEntity("SQS", 5, 7'000, 8'000);
  sqs.namespace_ = "aws";
  sqs.aws = xray::AwsInfo{};
  sqs.aws->queue_url = "https://sqs.us-east-1.amazonaws.com/123456789012/jobs";
  xray::Entity local = MakeEntity("compute", 6, 9'000, 10'000);
  xray::Entity nested = MakeEntity("api.example.com", 7, 9'100, 9'900);
  nested.namespace_ = "remote";
  local.subsegments.push_back(nested);
  seg.subsegments = {http, sql, s3, sqs, local};
  xray::AssembledTrace trace;
  trace.segments.push_back(seg);

  const TraceGraph g = DeriveTraceGraph(trace);
  ASSERT_EQ(g.nodes.size(), 6u);
  EXPECT_EQ(g.nodes[2].id.name, "api.example.com");
  EXPECT_EQ(g.nodes[2].id.type, "remote");
  EXPECT_EQ(g.nodes[2].observations.size(), 2u);  // the nested call too
  EXPECT_EQ(g.nodes[3].id.type, "Database::SQL");
  EXPECT_EQ(g.nodes[4].id.name, "S3");
  EXPECT_EQ(g.nodes[4].id.type, "AWS::S3");
  EXPECT_EQ(g.nodes[5].id.name, "jobs");
  EXPECT_EQ(g.nodes[5].id.type, "AWS::SQS::Queue");
  EXPECT_TRUE(g.nodes[5].inferred);
  EXPECT_EQ(g.edges.size(), 5u);
}

TEST(TraceGraphTest, TracedCalleeIsNotInferred) {
  xray::Entity caller = MakeEntity("front", 1, 0, 100'000);
  xray::Entity call = MakeEntity("back.example.com", 2, 1'000, 50'000);
  call.namespace_ = "remote";
  caller.subsegments.push_back(call);
  xray::AssembledTrace trace;
  trace.segments = {caller, WithParent(MakeEntity("back", 3, 2'000, 40'000), 2)};
  const TraceGraph g = DeriveTraceGraph(trace);
  ASSERT_EQ(g.nodes.size(), 3u);
  EXPECT_EQ(g.nodes[2].id.name, "back");
  EXPECT_FALSE(g.nodes[2].inferred);
  ASSERT_EQ(g.edges.size(), 2u);
  EXPECT_EQ(g.edges[1].from, 1u);
  EXPECT_EQ(g.edges[1].to, 2u);
  EXPECT_EQ(g.edges[1].observations[0].end_us, 50'000);
}

// More segments than the deriver keeps in place: a chain of twelve services,
// each called by the one before through a remote subsegment.
TEST(TraceGraphTest, ALongChainOfSegments) {
  constexpr uint64_t kServices = 12;
  xray::AssembledTrace trace;
  for (uint64_t i = 0; i < kServices; ++i) {
    xray::Entity seg =
        MakeEntity("svc-" + std::to_string(i), 100 + i, static_cast<int64_t>(i) * 1'000, 100'000);
    if (i > 0) seg = WithParent(std::move(seg), 200 + i - 1);
    if (i + 1 < kServices) {
      xray::Entity call = MakeEntity("svc-" + std::to_string(i + 1), 200 + i,
                                     static_cast<int64_t>(i) * 1'000 + 500, 99'000);
      call.namespace_ = "remote";
      seg.subsegments.push_back(call);
    }
    trace.segments.push_back(seg);
  }
  const TraceGraph g = DeriveTraceGraph(trace);
  ASSERT_EQ(g.nodes.size(), 1 + kServices);  // the client, then one per segment
  ASSERT_EQ(g.edges.size(), kServices);
  EXPECT_EQ(Describe(g, g.edges[0]), "client: -> :svc-0");
  for (uint64_t i = 1; i < kServices; ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(g.nodes[1 + i].id.name, "svc-" + std::to_string(i));
    EXPECT_FALSE(g.nodes[1 + i].inferred);
    EXPECT_EQ(Describe(g, g.edges[i]),
              ":svc-" + std::to_string(i - 1) + " -> :svc-" + std::to_string(i));
  }
}

TEST(TraceGraphTest, EmptyTrace) {
  const TraceGraph g = DeriveTraceGraph(xray::AssembledTrace{});
  EXPECT_TRUE(g.nodes.empty());
  EXPECT_TRUE(g.edges.empty());
}

}  // namespace
}  // namespace roentgen::graph

namespace roentgen::graph {
namespace {

TEST(TraceRecordMemoryTest, CountsTheHeapOfEveryStringAndVector) {
  TraceRecord empty;
  EXPECT_EQ(EstimateMemoryBytes(empty), sizeof(TraceRecord));

  TraceRecord short_strings;
  short_strings.summary.root_segment_name = "api";  // inside the string object
  EXPECT_EQ(EstimateMemoryBytes(short_strings), sizeof(TraceRecord));

  TraceRecord r;
  r.summary.root_segment_name = std::string(100, 'n');
  const size_t with_name = EstimateMemoryBytes(r);
  EXPECT_GE(with_name, sizeof(TraceRecord) + 100);

  Node node;
  node.id.name = std::string(40, 's');
  Observation o;
  o.http_url = std::string(200, 'u');
  node.observations.push_back(o);
  r.graph.nodes.push_back(node);
  const size_t with_node = EstimateMemoryBytes(r);
  EXPECT_GE(with_node, with_name + sizeof(Node) + 40 + sizeof(Observation) + 200);

  xray::RootCause cause;
  xray::RootCauseService service;
  xray::RootCauseEntity entity;
  entity.exceptions.push_back({std::string(300, 'e'), std::string(50, 'm')});
  service.entity_path.push_back(entity);
  cause.services.push_back(service);
  r.summary.fault_root_causes.push_back(cause);
  EXPECT_GE(EstimateMemoryBytes(r), with_node + 350 + sizeof(xray::RootCause) +
                                        sizeof(xray::RootCauseService) +
                                        sizeof(xray::RootCauseEntity));
}

}  // namespace
}  // namespace roentgen::graph
