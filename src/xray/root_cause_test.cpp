// Tests for the fault, error and response-time root causes of Summarize.
#include <gtest/gtest.h>

#include "xray/trace.h"
#include "xray/trace_test_util.h"

namespace roentgen::xray {
namespace {

using namespace roentgen::xray::testing;  // NOLINT

std::vector<std::string> PathNames(const RootCauseService& service) {
  std::vector<std::string> names;
  for (const RootCauseEntity& e : service.entity_path) names.push_back(e.name);
  return names;
}

using Names = std::vector<std::string>;

Entity WithException(Entity e, std::string type, std::string message, bool remote) {
  Cause cause;
  ExceptionInfo ex;
  ex.id = "0123456789abcdef";
  ex.type = std::move(type);
  ex.message = std::move(message);
  ex.remote = remote;
  cause.exceptions.push_back(ex);
  e.cause = cause;
  return e;
}

TEST(RootCauseTest, FaultPathEndsAtDeepestFaultWithInferredService) {
  Entity root = MakeSegment(1, "api", 0, 1000);
  root.origin = "AWS::EC2::Instance";
  root.aws = AwsInfo{};
  root.aws->account_id = "123456789012";
  root.fault = true;
  Entity handler = MakeSubsegment(10, "handler", 10, 900);
  handler.fault = true;
  Entity quick = MakeSubsegment(11, "validate", 5, 8);
  quick.fault = true;  // a faulting leaf, shallower than the handler → DynamoDB chain
  Entity ddb = WithException(MakeSubsegment(12, "DynamoDB", 30, 60), "ResourceNotFoundException",
                             "no table", true);
  ddb.namespace_ = "aws";
  ddb.fault = true;
  ddb.aws = AwsInfo{};
  ddb.aws->table_name = "scores";
  Entity fine = MakeSubsegment(13, "render", 70, 80);
  handler.subsegments = {ddb, fine};
  root.subsegments = {quick, handler};
  TraceSummary s = SummarizeDocs({root});

  ASSERT_EQ(s.fault_root_causes.size(), 1u);
  const RootCause& cause = s.fault_root_causes[0];
  EXPECT_TRUE(cause.client_impacting);
  ASSERT_EQ(cause.services.size(), 2u);
  const RootCauseService& api = cause.services[0];
  EXPECT_EQ(api.name, "api");
  EXPECT_EQ(api.names, (Names{"api"}));
  EXPECT_EQ(api.type, "AWS::EC2::Instance");
  EXPECT_EQ(api.account_id, "123456789012");
  EXPECT_FALSE(api.inferred);
  EXPECT_EQ(PathNames(api), (Names{"api", "handler", "DynamoDB"}));
  EXPECT_TRUE(api.entity_path[0].exceptions.empty());
  EXPECT_TRUE(api.entity_path[1].exceptions.empty());
  ASSERT_EQ(api.entity_path[2].exceptions.size(), 1u);
  EXPECT_EQ(api.entity_path[2].exceptions[0].name, "ResourceNotFoundException");
  EXPECT_EQ(api.entity_path[2].exceptions[0].message, "no table");
  EXPECT_TRUE(api.entity_path[2].remote);
  EXPECT_FALSE(api.entity_path[1].remote);
  EXPECT_EQ(api.entity_path[2].coverage, std::nullopt);
  const RootCauseService& table = cause.services[1];
  EXPECT_EQ(table.name, "scores");
  EXPECT_EQ(table.type, "AWS::DynamoDB::Table");
  EXPECT_TRUE(table.inferred);
  EXPECT_EQ(PathNames(table), (Names{"scores"}));
  EXPECT_TRUE(table.entity_path[0].remote);
  EXPECT_TRUE(s.error_root_causes.empty());
}

TEST(RootCauseTest, FaultBelowANonFaultingRootCrossesServices) {
  Entity root = MakeSegment(1, "front", 0, 1000);
  Entity call = MakeSubsegment(10, "backend", 100, 900);
  call.namespace_ = "remote";
  call.fault = true;
  root.subsegments = {call};
  Entity backend = MakeSegment(2, "backend", 150, 850);
  backend.parent_id = SegmentId{10};
  backend.fault = true;
  backend.subsegments = {
      WithException(MakeSubsegment(20, "query", 200, 300), "SQLException", "deadlock", false)};
  backend.subsegments[0].fault = true;
  TraceSummary s = SummarizeDocs({backend, root});

  EXPECT_FALSE(s.has_fault);
  ASSERT_EQ(s.fault_root_causes.size(), 1u);
  const RootCause& cause = s.fault_root_causes[0];
  EXPECT_FALSE(cause.client_impacting);
  ASSERT_EQ(cause.services.size(), 2u);
  EXPECT_EQ(cause.services[0].name, "front");
  EXPECT_EQ(PathNames(cause.services[0]), (Names{"front", "backend"}));
  EXPECT_TRUE(cause.services[0].entity_path[1].remote);  // namespace remote
  EXPECT_EQ(cause.services[1].name, "backend");
  EXPECT_FALSE(cause.services[1].inferred);
  EXPECT_EQ(PathNames(cause.services[1]), (Names{"backend", "query"}));
  ASSERT_EQ(cause.services[1].entity_path[1].exceptions.size(), 1u);
  EXPECT_EQ(cause.services[1].entity_path[1].exceptions[0].name, "SQLException");
  EXPECT_EQ(cause.services[1].entity_path[1].exceptions[0].message, "deadlock");
  EXPECT_FALSE(cause.services[1].entity_path[1].remote);
}

TEST(RootCauseTest, ErrorRootCauseFollowsErrorFlag) {
  Entity root = MakeSegment(1, "api", 0, 100);
  root.error = true;
  Entity auth = WithException(MakeSubsegment(10, "auth", 10, 20), "Forbidden", "no token", false);
  auth.error = true;
  Entity faulty = MakeSubsegment(11, "faulty", 30, 40);
  faulty.fault = true;
  root.subsegments = {auth, faulty};
  TraceSummary s = SummarizeDocs({root});
  ASSERT_EQ(s.error_root_causes.size(), 1u);
  EXPECT_TRUE(s.error_root_causes[0].client_impacting);
  ASSERT_EQ(s.error_root_causes[0].services.size(), 1u);
  EXPECT_EQ(PathNames(s.error_root_causes[0].services[0]), (Names{"api", "auth"}));
  EXPECT_EQ(s.error_root_causes[0].services[0].entity_path[1].exceptions[0].name, "Forbidden");
  ASSERT_EQ(s.fault_root_causes.size(), 1u);
  EXPECT_FALSE(s.fault_root_causes[0].client_impacting);
  EXPECT_EQ(PathNames(s.fault_root_causes[0].services[0]), (Names{"api", "faulty"}));
}

TEST(RootCauseTest, NoFlagsNoFaultOrErrorRootCauses) {
  Entity root = MakeSegment(1, "api", 0, 100);
  root.subsegments = {MakeSubsegment(10, "x", 10, 20)};
  TraceSummary s = SummarizeDocs({root});
  EXPECT_TRUE(s.fault_root_causes.empty());
  EXPECT_TRUE(s.error_root_causes.empty());
}

TEST(RootCauseTest, ResponseTimeFollowsTheSlowestChildWithCoverage) {
  Entity root = MakeSegment(1, "api", 0, 10000);
  Entity fast = MakeSubsegment(10, "fast", 0, 1000);
  Entity slow = MakeSubsegment(11, "slow", 1000, 9000);
  Entity inner = MakeSubsegment(12, "api.example.com", 2000, 8000);
  inner.namespace_ = "remote";
  Entity unfinished = MakeSubsegment(13, "pending", 1500, std::nullopt);
  slow.subsegments = {unfinished, inner};
  root.subsegments = {fast, slow};
  TraceSummary s = SummarizeDocs({root});

  ASSERT_EQ(s.response_time_root_causes.size(), 1u);
  const RootCause& cause = s.response_time_root_causes[0];
  EXPECT_TRUE(cause.client_impacting);
  ASSERT_EQ(cause.services.size(), 2u);
  const RootCauseService& api = cause.services[0];
  EXPECT_EQ(PathNames(api), (Names{"api", "slow", "api.example.com"}));
  EXPECT_EQ(api.entity_path[0].coverage, 1.0);
  EXPECT_EQ(api.entity_path[1].coverage, 0.8);
  EXPECT_EQ(api.entity_path[2].coverage, 0.6);
  EXPECT_TRUE(api.entity_path[2].remote);
  EXPECT_TRUE(api.entity_path[2].exceptions.empty());
  const RootCauseService& remote = cause.services[1];
  EXPECT_EQ(remote.name, "api.example.com");
  EXPECT_EQ(remote.type, "remote");
  EXPECT_TRUE(remote.inferred);
  EXPECT_EQ(PathNames(remote), (Names{"api.example.com"}));
  EXPECT_EQ(remote.entity_path[0].coverage, 0.6);
}

// A path longer than the few entities a path usually has (kept in place
// while short) comes out whole and in order.
TEST(RootCauseTest, ResponseTimePathOfManyNestedSubsegments) {
  Entity root = MakeSegment(1, "api", 0, 100000);
  Names expected{"api"};
  std::vector<Entity> chain;
  for (int depth = 0; depth < 20; ++depth) {
    const std::string name = "level-" + std::to_string(depth);
    chain.push_back(
        MakeSubsegment(static_cast<uint64_t>(100 + depth), name, depth * 100, 90000 - depth * 100));
    expected.push_back(name);
  }
  for (size_t i = chain.size() - 1; i > 0; --i) {
    // A shorter sibling at each level, which the path must not take.
    const int64_t start = chain[i - 1].start_time_us;
    chain[i - 1].subsegments = {MakeSubsegment(500 + i, "short", start, start + 1), chain[i]};
  }
  root.subsegments = {chain[0]};
  const TraceSummary s = SummarizeDocs({root});
  ASSERT_EQ(s.response_time_root_causes.size(), 1u);
  ASSERT_EQ(s.response_time_root_causes[0].services.size(), 1u);
  EXPECT_EQ(PathNames(s.response_time_root_causes[0].services[0]), expected);
}

TEST(RootCauseTest, ResponseTimePathEntersTheSlowestCalledService) {
  Entity root = MakeSegment(1, "api", 0, 4000);
  Entity call = MakeSubsegment(10, "backend", 500, 3500);
  call.namespace_ = "remote";
  root.subsegments = {MakeSubsegment(11, "local", 0, 400), call};
  Entity backend = MakeSegment(2, "backend", 600, 3400);
  backend.parent_id = SegmentId{10};
  backend.subsegments = {MakeSubsegment(20, "compute", 700, 1700)};
  TraceSummary s = SummarizeDocs({root, backend});
  ASSERT_EQ(s.response_time_root_causes.size(), 1u);
  const RootCause& cause = s.response_time_root_causes[0];
  ASSERT_EQ(cause.services.size(), 2u);  // no inferred node: the callee sent a segment
  EXPECT_EQ(PathNames(cause.services[0]), (Names{"api", "backend"}));
  EXPECT_EQ(PathNames(cause.services[1]), (Names{"backend", "compute"}));
  EXPECT_FALSE(cause.services[1].inferred);
  EXPECT_EQ(cause.services[1].entity_path[0].coverage, 0.7);
  EXPECT_EQ(cause.services[1].entity_path[1].coverage, 0.25);
}

// Ties on duration: the earliest start wins, then the lower id, then the
// child listed first (a nested subsegment before a called segment), whatever
// order the document lists them in.
TEST(RootCauseTest, ResponseTimeTiesGoToTheEarliestStartThenIdThenListing) {
  Entity root = MakeSegment(1, "api", 0, 10000);
  root.subsegments = {
      MakeSubsegment(30, "late", 300, 1300), MakeSubsegment(31, "higher-id", 200, 1200),
      MakeSubsegment(20, "lower-id", 200, 1200), MakeSubsegment(40, "short", 0, 500)};
  EXPECT_EQ(PathNames(SummarizeDocs({root}).response_time_root_causes[0].services[0]),
            (Names{"api", "lower-id"}));

  // A called segment with the same start and id as a nested subsegment (and as
  // long): the subsegment, listed first, wins.
  Entity caller = MakeSegment(1, "api", 0, 10000);
  caller.subsegments = {MakeSubsegment(50, "nested", 100, 2100)};
  Entity callee = MakeSegment(50, "callee", 100, 2100);
  callee.parent_id = SegmentId{1};
  const TraceSummary s = SummarizeDocs({caller, callee});
  ASSERT_EQ(s.response_time_root_causes.size(), 1u);
  EXPECT_EQ(PathNames(s.response_time_root_causes[0].services[0]), (Names{"api", "nested"}));

  // Unfinished children count as shortest: a finished one wins over them.
  Entity waiting = MakeSegment(1, "api", 0, 10000);
  waiting.subsegments = {MakeSubsegment(60, "pending", 0, std::nullopt),
                         MakeSubsegment(61, "done", 50, 60)};
  EXPECT_EQ(PathNames(SummarizeDocs({waiting}).response_time_root_causes[0].services[0]),
            (Names{"api", "done"}));
}

}  // namespace
}  // namespace roentgen::xray
