// The documents the recorder sends, read back from a fake daemon and
// validated by Roentgen's own segment parser (src/xray/segment_parser.h).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

#include "roentgen/xray.h"
#include "sdk_internal.h"
#include "test_daemon.h"
#include "validate_document.h"

namespace roentgen::sdk {
namespace {

using nlohmann::json;

using testing::Validate;

class DocumentTest : public ::testing::Test {
 protected:
  // Entities ended out of order leave this thread's current entity at an
  // ended one (as documented); the next test must not begin under it.
  void TearDown() override { detail::tls_current = {}; }
  RecorderOptions Options() {
    RecorderOptions o;
    o.service_name = "sdk-test";
    o.daemon_address = daemon_.address();
    o.sampling = false;  // every segment sampled
    o.log = [this](std::string_view m) { logs_.emplace_back(m); };
    return o;
  }
  testing::FakeDaemon daemon_;
  std::vector<std::string> logs_;
};

TEST_F(DocumentTest, SegmentWithEveryBlockPassesRoentgensParser) {
  Recorder recorder(Options());
  std::string trace_id, db_id;
  {
    SegmentOptions so;
    so.origin = "AWS::Lambda::Function";
    auto seg = recorder.BeginSegment("orders", so);
    trace_id = seg.trace_id().ToString();
    seg.SetUser("alice");
    seg.AddAnnotation("email", "alice@example.com");
    seg.AddAnnotation("items", 3);
    seg.AddAnnotation("total", 12.5);
    seg.AddAnnotation("vip", true);
    seg.AddAnnotation("email", "alice@example.org");  // replaces
    seg.AddAnnotation("bad-key", "dropped");
    seg.AddAnnotation("", "dropped");
    seg.AddMetadata("note", "text \"quoted\"\n");
    seg.AddMetadataJson("order", R"({"lines":[1,2,3]})", "shop");
    seg.AddMetadataJson("broken", "{nope", "shop");
    seg.AddMetadata("reserved", "x", "AWS.xray");
    HttpRequest req;
    req.method = "POST";
    req.url = "https://api.example.com/orders";
    req.client_ip = "10.0.0.1";
    seg.SetHttpRequest(req);
    seg.SetHttpResponse({201, 17});
    seg.SetAws("function_arn", "arn:aws:lambda:us-east-1:000000000000:function:orders");
    {
      auto db = seg.BeginSubsegment("orders.db");
      db_id = db.id().ToString();
      db.SetNamespace(Namespace::kRemote);
      Sql sql;
      sql.url = "sqlite:///tmp/orders.db";
      sql.sanitized_query = "INSERT INTO orders VALUES (?)";
      sql.database_type = "SQLite";
      db.SetSql(sql);
      auto nested = recorder.BeginSubsegment("prepare");  // the current entity is db
      nested.AddAnnotation("step", "prepare");
    }
    {
      auto call = seg.BeginSubsegment("payments");
      call.SetNamespace(Namespace::kRemote);
      HttpRequest out;
      out.method = "GET";
      out.url = "http://payments/charge";
      out.traced = true;
      call.SetHttpRequest(out);
      call.SetHttpResponse({429, -1});
    }
    {
      auto s3 = seg.BeginSubsegment("S3");
      s3.SetNamespace(Namespace::kAws);
      s3.SetAws("operation", "PutObject");
      try {
        throw std::invalid_argument("bucket missing");
      } catch (const std::exception& e) {
        s3.AddException(e);
      }
    }
  }
  auto datagrams = daemon_.Receive(1);
  ASSERT_EQ(datagrams.size(), 1u);
  json d = Validate(datagrams[0]);
  EXPECT_EQ(d["trace_id"], trace_id);
  EXPECT_EQ(d["name"], "orders");
  EXPECT_EQ(d["origin"], "AWS::Lambda::Function");
  EXPECT_EQ(d["user"], "alice");
  EXPECT_EQ(d["annotations"],
            json::parse(R"({"email":"alice@example.org","items":3,"total":12.5,"vip":true})"));
  EXPECT_EQ(d["metadata"]["default"]["note"], "text \"quoted\"\n");
  EXPECT_EQ(d["metadata"]["shop"], json::parse(R"({"order":{"lines":[1,2,3]}})"));
  EXPECT_EQ(d["http"]["request"]["method"], "POST");
  EXPECT_EQ(d["http"]["response"]["status"], 201);
  EXPECT_EQ(d["http"]["response"]["content_length"], 17);
  EXPECT_EQ(d["aws"]["function_arn"], "arn:aws:lambda:us-east-1:000000000000:function:orders");
  EXPECT_FALSE(d.contains("fault"));
  EXPECT_LE(d["start_time"].get<double>(), d["end_time"].get<double>());
  EXPECT_NEAR(d["start_time"].get<double>(), static_cast<double>(time(nullptr)), 5);
  EXPECT_NE(datagrams[0].find("\"start_time\":1"), std::string::npos);  // seconds, not micros
  ASSERT_EQ(d["subsegments"].size(), 3u);
  const json& db = d["subsegments"][0];
  EXPECT_EQ(db["id"], db_id);
  EXPECT_EQ(db["namespace"], "remote");
  EXPECT_EQ(db["sql"]["sanitized_query"], "INSERT INTO orders VALUES (?)");
  EXPECT_EQ(db["subsegments"][0]["name"], "prepare");
  EXPECT_EQ(db["subsegments"][0]["annotations"]["step"], "prepare");
  const json& pay = d["subsegments"][1];
  EXPECT_EQ(pay["throttle"], true);
  EXPECT_EQ(pay["error"], true);
  EXPECT_EQ(pay["http"]["request"]["traced"], true);
  const json& s3 = d["subsegments"][2];
  EXPECT_EQ(s3["namespace"], "aws");
  EXPECT_EQ(s3["fault"], true);
  const json& ex = s3["cause"]["exceptions"][0];
  EXPECT_EQ(ex["type"], "std::invalid_argument");
  EXPECT_EQ(ex["message"], "bucket missing");
  EXPECT_EQ(ex["id"].get<std::string>().size(), 16u);
  ASSERT_GT(ex["stack"].size(), 0u);
  // The stack starts at the caller (this test's body, internal linkage so
  // an offset), below it gtest; none of the SDK's own frames.
  std::string stack = ex["stack"].dump();
  EXPECT_EQ(stack.find("roentgen::sdk"), std::string::npos) << stack;
  EXPECT_EQ(ex["stack"][0]["path"].get<std::string>(), program_invocation_name) << stack;
  EXPECT_NE(ex["stack"][1]["label"].get<std::string>().find("HandleExceptionsInMethodIfSupported"),
            std::string::npos)
      << stack;
  EXPECT_FALSE(s3["cause"]["working_directory"].get<std::string>().empty());
  // Two bad annotation keys, bad JSON metadata and an AWS. namespace:
  // dropped, counted, logged.
  EXPECT_EQ(recorder.stats().annotations_dropped, 4u);
  EXPECT_GE(logs_.size(), 4u);
  EXPECT_NE(logs_[0].find("bad-key"), std::string::npos);
}

TEST_F(DocumentTest, SegmentIsSentWhenItsLastSubsegmentEnds) {
  Recorder recorder(Options());
  auto seg = recorder.BeginSegment("async");
  auto sub = seg.BeginSubsegment("slow");
  Subsegment moved = std::move(sub);  // handed to async code
  seg.End();
  EXPECT_TRUE(daemon_.Receive(1, std::chrono::milliseconds(200)).empty());
  moved.SetHttpResponse({503, -1});
  moved.End();
  auto datagrams = daemon_.Receive(1);
  ASSERT_EQ(datagrams.size(), 1u);
  json d = Validate(datagrams[0]);
  EXPECT_EQ(d["subsegments"][0]["fault"], true);
  EXPECT_GE(d["subsegments"][0]["end_time"].get<double>(), d["end_time"].get<double>());
}

TEST_F(DocumentTest, IncomingHeaderIsContinued) {
  Recorder recorder(Options());
  auto in = TraceHeader::Parse(
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:"
      "1");
  SegmentOptions so;
  so.incoming = *in;
  TraceHeader out;
  {
    auto seg = recorder.BeginSegment("api", so);
    auto call = seg.BeginSubsegment("downstream");
    out = call.OutgoingHeader();
    EXPECT_EQ(out.parent, call.id());
  }
  EXPECT_EQ(out.root->ToString(), "1-5759e988-bd862e3fe1be46a994272793");
  EXPECT_EQ(out.sampled, Sampled::kYes);
  EXPECT_EQ(out.lineage, "a87bd80c:1");
  json d = Validate(daemon_.Receive(1).at(0));
  EXPECT_EQ(d["trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
  EXPECT_EQ(d["parent_id"], "53995c3f42cd8ad8");
}

TEST_F(DocumentTest, UnsampledTracesSendNothingButPropagate) {
  Recorder recorder(Options());
  SegmentOptions so;
  so.incoming = TraceHeader::Parse("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0");
  {
    auto seg = recorder.BeginSegment("api", so);
    EXPECT_FALSE(seg.recording());
    auto sub = recorder.BeginSubsegment("db");
    sub.AddAnnotation("k", "v");
    EXPECT_EQ(sub.OutgoingHeader().ToString().substr(0, 41),
              "Root=1-5759e988-bd862e3fe1be46a994272793;");
    EXPECT_EQ(sub.OutgoingHeader().sampled, Sampled::kNo);
    EXPECT_TRUE(sub.OutgoingHeader().parent);
  }
  EXPECT_TRUE(daemon_.Receive(1, std::chrono::milliseconds(300)).empty());
  EXPECT_FALSE(recorder.Current().context().valid());
}

TEST_F(DocumentTest, ContextCrossesThreads) {
  Recorder recorder(Options());
  {
    auto seg = recorder.BeginSegment("fanout");
    std::vector<std::thread> workers;
    for (int i = 0; i < 4; ++i) {
      workers.emplace_back([&recorder, ctx = seg.context(), i] {
        auto scope = recorder.Activate(ctx);
        auto sub = recorder.BeginSubsegment("worker");
        sub.AddAnnotation("index", i);
      });
    }
    for (auto& t : workers) t.join();
    EXPECT_EQ(recorder.Current().id(), seg.id());  // this thread's current is untouched
  }
  json d = Validate(daemon_.Receive(1).at(0));
  ASSERT_EQ(d["subsegments"].size(), 4u);
  EXPECT_FALSE(recorder.Current().context().valid());
}

TEST_F(DocumentTest, ContextMissing) {
  RecorderOptions o = Options();
  o.context_missing = ContextMissing::kRuntimeError;
  {
    Recorder recorder(o);
    EXPECT_THROW(recorder.BeginSubsegment("orphan"), std::runtime_error);
  }
  o.context_missing = ContextMissing::kLogError;
  {
    Recorder recorder(o);
    auto sub = recorder.BeginSubsegment("orphan");
    EXPECT_FALSE(sub.recording());
    sub.AddAnnotation("k", "v");  // inert, harmless
    ASSERT_FALSE(logs_.empty());
    EXPECT_NE(logs_.back().find("no segment is open"), std::string::npos);
  }
  o.context_missing = ContextMissing::kIgnoreError;
  logs_.clear();
  {
    Recorder recorder(o);
    auto sub = recorder.BeginSubsegment("orphan");
    EXPECT_TRUE(logs_.empty());
  }
}

TEST_F(DocumentTest, TheEnvironmentConfiguresTheRecorder) {
  setenv("AWS_XRAY_CONTEXT_MISSING", "RUNTIME_ERROR", 1);
  setenv("AWS_XRAY_TRACING_NAME", "from-env", 1);
  setenv("AWS_XRAY_DAEMON_ADDRESS", ("tcp:127.0.0.1:1 udp:" + daemon_.address()).c_str(), 1);
  {
    RecorderOptions o = Options();
    o.daemon_address.clear();  // the environment's
    Recorder recorder(o);
    EXPECT_EQ(recorder.service_name(), "from-env");
    EXPECT_THROW(recorder.BeginSubsegment("orphan"), std::runtime_error);
    recorder.BeginSegment();  // named after the service, sent to the env's UDP address
    json d = Validate(daemon_.Receive(1).at(0));
    EXPECT_EQ(d["name"], "from-env");
  }
  unsetenv("AWS_XRAY_CONTEXT_MISSING");
  unsetenv("AWS_XRAY_TRACING_NAME");
  unsetenv("AWS_XRAY_DAEMON_ADDRESS");
}

TEST_F(DocumentTest, InProgressThenCompleted) {
  Recorder recorder(Options());
  auto seg = recorder.BeginSegment("long");
  auto sub = seg.BeginSubsegment("step");
  seg.SendInProgress();
  json p = Validate(daemon_.Receive(1).at(0));
  EXPECT_EQ(p["in_progress"], true);
  EXPECT_FALSE(p.contains("end_time"));
  EXPECT_EQ(p["subsegments"][0]["in_progress"], true);
  sub.End();
  seg.End();
  json d = Validate(daemon_.Receive(1).at(0));
  EXPECT_FALSE(d.contains("in_progress"));
  EXPECT_EQ(d["id"], p["id"]);
}

TEST_F(DocumentTest, LargeSegmentsAreStreamedAsIndependentSubsegments) {
  Recorder recorder(Options());
  std::string big(3000, 'x');
  std::string trace_id, seg_id;
  {
    auto seg = recorder.BeginSegment("big");
    trace_id = seg.trace_id().ToString();
    seg_id = seg.id().ToString();
    for (int i = 0; i < 40; ++i) {  // ~120 KB in all
      auto sub = seg.BeginSubsegment("part");
      sub.AddMetadata("blob", big);
      auto child = sub.BeginSubsegment("child");
    }
  }
  auto datagrams = daemon_.Receive(41);
  ASSERT_EQ(datagrams.size(), 41u);
  int independent = 0;
  for (const auto& dg : datagrams) {
    ASSERT_LE(dg.size(), 64u * 1024);
    json d = Validate(dg);
    EXPECT_EQ(d["trace_id"], trace_id);
    if (d.value("type", "") == "subsegment") {
      ++independent;
      EXPECT_EQ(d["parent_id"], seg_id);
      EXPECT_EQ(d["subsegments"][0]["name"], "child");
    } else {
      EXPECT_EQ(d["id"], seg_id);
      EXPECT_FALSE(d.contains("subsegments"));
    }
  }
  EXPECT_EQ(independent, 40);
  EXPECT_EQ(recorder.stats().streamed_subsegments, 40u);
}

TEST_F(DocumentTest, QueueFullDropsAndCounts) {
  RecorderOptions o = Options();
  o.queue_capacity = 1;
  Recorder recorder(o);
  for (int i = 0; i < 200; ++i) recorder.BeginSegment("burst");
  recorder.Flush();
  RecorderStats st = recorder.stats();
  EXPECT_EQ(st.segments_sent + st.documents_dropped, 200u);
  EXPECT_GT(st.segments_sent, 0u);
}

}  // namespace
}  // namespace roentgen::sdk
