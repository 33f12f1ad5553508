// The Lambda role (LAMBDA_TASK_ROOT set): subsegments begun with no segment
// open join the function's segment named by _X_AMZN_TRACE_ID, which Lambda
// sends, and go out as independent subsegments as soon as they end.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <nlohmann/json.hpp>

#include "roentgen/xray.h"
#include "sdk_internal.h"
#include "test_daemon.h"
#include "validate_document.h"

namespace roentgen::sdk {
namespace {

using nlohmann::json;

constexpr char kRoot[] = "1-5759e988-bd862e3fe1be46a994272793";
constexpr char kFunction[] = "53995c3f42cd8ad8";

using testing::Validate;

class LambdaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    detail::tls_current = {};  // no entity current, as at an invocation's start
    setenv("LAMBDA_TASK_ROOT", "/var/task", 1);
    SetHeader(std::string("Root=") + kRoot + ";Parent=" + kFunction + ";Sampled=1");
  }
  void TearDown() override {
    unsetenv("LAMBDA_TASK_ROOT");
    unsetenv("_X_AMZN_TRACE_ID");
  }
  static void SetHeader(const std::string& h) { setenv("_X_AMZN_TRACE_ID", h.c_str(), 1); }
  RecorderOptions Options() {
    RecorderOptions o;
    o.service_name = "fn";
    o.daemon_address = daemon_.address();
    o.sampling = false;
    o.context_missing = ContextMissing::kRuntimeError;  // a missing context fails the test
    o.log = [this](std::string_view m) { logs_.emplace_back(m); };
    return o;
  }
  std::vector<json> Sent(Recorder& recorder, size_t expected) {
    return testing::Sent(recorder, daemon_, expected);
  }
  testing::FakeDaemon daemon_;
  std::vector<std::string> logs_;
};

TEST_F(LambdaTest, SubsegmentsJoinTheFunctionSegmentOfTheInvocation) {
  Recorder recorder(Options());
  std::string db_id;
  {
    auto work = recorder.BeginSubsegment("work");
    EXPECT_EQ(work.trace_id().ToString(), kRoot);
    work.AddAnnotation("order", 7);
    auto db = recorder.BeginSubsegment("db");  // under work: the current entity
    db_id = db.id().ToString();
    EXPECT_EQ(db.OutgoingHeader().ToString(),
              std::string("Root=") + kRoot + ";Parent=" + db_id + ";Sampled=1");
    db.End();
    auto first = Sent(recorder, 1);  // db at once, though work is open
    ASSERT_EQ(first.size(), 1u);
    EXPECT_EQ(first[0]["name"], "db");
    EXPECT_EQ(first[0]["type"], "subsegment");
    EXPECT_EQ(first[0]["parent_id"], work.id().ToString());
    EXPECT_EQ(first[0]["trace_id"], kRoot);
  }
  auto docs = Sent(recorder, 1);  // work; never a segment
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["name"], "work");
  EXPECT_EQ(docs[0]["type"], "subsegment");
  EXPECT_EQ(docs[0]["parent_id"], kFunction);
  EXPECT_EQ(docs[0]["trace_id"], kRoot);
  EXPECT_EQ(docs[0]["annotations"]["order"], 7);
  EXPECT_FALSE(docs[0].contains("subsegments"));

  // The facade itself records nothing and is never sent.
  Entity function = recorder.Current();
  EXPECT_EQ(function.id().ToString(), kFunction);
  function.AddAnnotation("ignored", 1);
  function.SendInProgress();
  function.End();
  EXPECT_TRUE(Sent(recorder, 0).empty());

  // The next invocation's header is read anew.
  const char* next_root = "1-5759e988-000000000000000000000001";
  SetHeader(std::string("Root=") + next_root + ";Parent=1111111111111111;Sampled=1");
  recorder.BeginSubsegment("second");
  docs = Sent(recorder, 1);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["trace_id"], next_root);
  EXPECT_EQ(docs[0]["parent_id"], "1111111111111111");
}

TEST_F(LambdaTest, AStaleCurrentEntityDoesNotCaptureTheNextInvocation) {
  Recorder recorder(Options());
  {
    auto outer = recorder.BeginSubsegment("outer");
    auto inner = recorder.BeginSubsegment("inner");
    outer.End();  // out of order: inner's end makes the ended outer current
  }
  auto docs = Sent(recorder, 1);  // outer, with inner inside
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["name"], "outer");
  EXPECT_EQ(docs[0]["subsegments"][0]["name"], "inner");
  const char* next_root = "1-5759e988-000000000000000000000002";
  SetHeader(std::string("Root=") + next_root + ";Parent=2222222222222222;Sampled=1");
  recorder.BeginSubsegment("next");
  docs = Sent(recorder, 1);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["name"], "next");
  EXPECT_EQ(docs[0]["trace_id"], next_root);
  EXPECT_EQ(docs[0]["parent_id"], "2222222222222222");
  EXPECT_TRUE(logs_.empty()) << logs_[0];
}

TEST_F(LambdaTest, AnUnsampledInvocationSendsNothingAndPassesTheDecisionOn) {
  SetHeader(std::string("Root=") + kRoot + ";Parent=" + kFunction + ";Sampled=0");
  Recorder recorder(Options());
  {
    auto work = recorder.BeginSubsegment("work");
    EXPECT_FALSE(work.recording());
    EXPECT_EQ(work.OutgoingHeader().ToString(),
              std::string("Root=") + kRoot + ";Parent=" + kFunction + ";Sampled=0");
  }
  EXPECT_TRUE(Sent(recorder, 0).empty());
}

TEST_F(LambdaTest, WithoutAUsableHeaderTheContextIsMissing) {
  SetHeader("Root=" + std::string(kRoot) + ";Sampled=1");  // no Parent
  Recorder recorder(Options());
  EXPECT_THROW(recorder.BeginSubsegment("work"), std::runtime_error);
  ASSERT_FALSE(logs_.empty());
  EXPECT_NE(logs_[0].find("has no Root or Parent"), std::string::npos) << logs_[0];
}

TEST_F(LambdaTest, OutsideLambdaTheHeaderIsNotRead) {
  unsetenv("LAMBDA_TASK_ROOT");
  Recorder recorder(Options());
  EXPECT_THROW(recorder.BeginSubsegment("work"), std::runtime_error);
}

TEST_F(LambdaTest, AnOpenSegmentWinsOverTheFacade) {
  Recorder recorder(Options());
  {
    auto seg = recorder.BeginSegment("local");
    recorder.BeginSubsegment("child");
  }
  auto docs = Sent(recorder, 1);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["name"], "local");
  EXPECT_NE(docs[0]["trace_id"], kRoot);
  EXPECT_EQ(docs[0]["subsegments"][0]["name"], "child");
}

}  // namespace
}  // namespace roentgen::sdk
