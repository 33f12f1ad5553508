// Subsegment streaming by count (RecorderOptions::streaming_threshold): which
// subtrees go out early as independent subsegment documents, what stays in
// the segment, and that the segment's memory stays bounded.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "roentgen/xray.h"
#include "sdk_internal.h"
#include "test_daemon.h"
#include "validate_document.h"

namespace roentgen::sdk {
namespace {

using nlohmann::json;

using testing::Validate;

// The subsegments a segment still holds, and the node slots it has.
struct Held {
  uint32_t subsegments;
  size_t slots;
};
Held HeldBy(const Entity& e) {
  detail::SegmentState* s = detail::Access::state(e.context());
  std::lock_guard lock(s->mu);
  return {s->subsegments, s->nodes.size()};
}

class StreamingTest : public ::testing::Test {
 protected:
  // Entities ended out of order leave this thread's current entity at an
  // ended one (as documented); the next test must not begin under it.
  void TearDown() override { detail::tls_current = {}; }
  RecorderOptions Options(size_t threshold) {
    RecorderOptions o;
    o.service_name = "sdk-test";
    o.daemon_address = daemon_.address();
    o.sampling = false;
    o.streaming_threshold = threshold;
    o.log = [this](std::string_view m) { logs_.emplace_back(m); };
    return o;
  }
  std::vector<json> Sent(Recorder& recorder, size_t expected) {
    return testing::Sent(recorder, daemon_, expected);
  }
  testing::FakeDaemon daemon_;
  std::vector<std::string> logs_;
};

TEST_F(StreamingTest, DefaultThresholdKeepsOneHundredSubsegmentsInTheSegment) {
  RecorderOptions o = Options(0);
  o.streaming_threshold = RecorderOptions{}.streaming_threshold;
  ASSERT_EQ(o.streaming_threshold, 100u);
  Recorder recorder(o);
  {
    auto seg = recorder.BeginSegment("hundred");
    for (int i = 0; i < 100; ++i) seg.BeginSubsegment("step");
    EXPECT_EQ(HeldBy(seg).subsegments, 100u);
  }
  auto docs = Sent(recorder, 1);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["subsegments"].size(), 100u);
  EXPECT_EQ(recorder.stats().streamed_subsegments, 0u);
}

TEST_F(StreamingTest, TheSubsegmentBeyondTheThresholdStreamsEveryEndedOne) {
  Recorder recorder(Options(100));
  std::string seg_id, trace_id;
  {
    auto seg = recorder.BeginSegment("many");
    seg_id = seg.id().ToString();
    trace_id = seg.trace_id().ToString();
    for (int i = 0; i < 100; ++i) seg.BeginSubsegment("step").AddAnnotation("i", i);
    EXPECT_TRUE(Sent(recorder, 0).empty());  // 100 held: not more than the threshold
    seg.BeginSubsegment("step").AddAnnotation("i", 100);  // the 101st, ended at once
    EXPECT_EQ(HeldBy(seg).subsegments, 0u);
    auto streamed = Sent(recorder, 101);
    std::set<int64_t> seen;
    for (const json& d : streamed) {
      EXPECT_EQ(d["type"], "subsegment");
      EXPECT_EQ(d["trace_id"], trace_id);
      EXPECT_EQ(d["parent_id"], seg_id);
      EXPECT_TRUE(d.contains("end_time"));
      seen.insert(d["annotations"]["i"].get<int64_t>());
    }
    EXPECT_EQ(seen.size(), 101u);
  }
  auto last = Sent(recorder, 1);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0]["id"], seg_id);
  EXPECT_FALSE(last[0].contains("subsegments"));
  EXPECT_EQ(recorder.stats().streamed_subsegments, 101u);
}

TEST_F(StreamingTest, AnEndedSubtreeStreamsWholeAndOpenOnesStay) {
  Recorder recorder(Options(2));
  auto seg = recorder.BeginSegment("nested");
  auto a = seg.BeginSubsegment("a");
  a.BeginSubsegment("b").End();  // a's child ended: 2 held, not more than 2
  auto c = seg.BeginSubsegment("c");
  std::string a_id = a.id().ToString();
  // b has ended but its parent is open and 3 are held only now: b goes out
  // when the next subsegment ends, under a.
  auto d = c.BeginSubsegment("d");
  EXPECT_EQ(HeldBy(seg).subsegments, 4u);
  d.End();
  auto first = Sent(recorder, 2);
  ASSERT_EQ(first.size(), 2u);
  std::set<std::string> names;
  for (const json& doc : first) names.insert(doc["name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"b", "d"}));
  for (const json& doc : first) {
    EXPECT_EQ(doc["parent_id"], doc["name"] == "b" ? a_id : c.id().ToString());
  }
  EXPECT_EQ(HeldBy(seg).subsegments, 2u);  // a and c, both open
  // a ended with no children left, c open: 2 held, nothing streams.
  a.End();
  EXPECT_TRUE(Sent(recorder, 0).empty());
  // A third subsegment with a child, ended child first: e's subtree goes
  // out as one document, with f inside, once e ends (4 held > 2).
  auto e = seg.BeginSubsegment("e");
  e.BeginSubsegment("f").End();  // 4 held; f's parent e is open: f streams alone
  auto f_doc = Sent(recorder, 2);  // a (ended, no children) and f
  ASSERT_EQ(f_doc.size(), 2u);
  names.clear();
  for (const json& doc : f_doc) names.insert(doc["name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"a", "f"}));
  EXPECT_EQ(HeldBy(seg).subsegments, 2u);  // c and e
  c.End();
  e.End();
  seg.End();
  auto last = Sent(recorder, 1);
  ASSERT_EQ(last.size(), 1u);
  ASSERT_EQ(last[0]["subsegments"].size(), 2u);  // c and e, which never exceeded it again
  EXPECT_EQ(last[0]["subsegments"][0]["name"], "c");
  EXPECT_FALSE(last[0]["subsegments"][0].contains("subsegments"));  // d went out
  EXPECT_EQ(last[0]["subsegments"][1]["name"], "e");
  EXPECT_FALSE(last[0]["subsegments"][1].contains("subsegments"));  // f went out
}

TEST_F(StreamingTest, EndedChildrenOfAnOpenSubsegmentStreamUnderIt) {
  Recorder recorder(Options(2));
  auto seg = recorder.BeginSegment("whole");
  auto open = seg.BeginSubsegment("open");
  {
    auto p = seg.BeginSubsegment("p");
    p.BeginSubsegment("q");  // ended at once: 3 held, q's parent open, q streams
  }
  auto q_doc = Sent(recorder, 1);
  ASSERT_EQ(q_doc.size(), 1u);
  EXPECT_EQ(q_doc[0]["name"], "q");
  // p ended with 2 held: kept (an ended subsegment waits for a count over
  // the threshold).
  auto r = seg.BeginSubsegment("r");  // 3 held
  auto r_child = r.BeginSubsegment("r1");
  EXPECT_TRUE(Sent(recorder, 0).empty());
  r_child.End();  // 4 held: p streams; r is open, so r1 streams under it
  r.End();        // 2 held (open, r): kept
  auto docs = Sent(recorder, 2);
  ASSERT_EQ(docs.size(), 2u);
  std::set<std::string> names;
  for (const json& d : docs) names.insert(d["name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"p", "r1"}));
  auto s = seg.BeginSubsegment("s");
  auto t = s.BeginSubsegment("t");  // 4 held
  t.End();                          // s open: t streams alone; r (ended) streams
  s.End();
  docs = Sent(recorder, 2);
  names.clear();
  for (const json& d : docs) names.insert(d["name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"r", "t"}));
  open.End();
  seg.End();
  auto last = Sent(recorder, 1);
  ASSERT_EQ(last.size(), 1u);
  ASSERT_EQ(last[0]["subsegments"].size(), 2u);
  EXPECT_EQ(last[0]["subsegments"][0]["name"], "open");
  EXPECT_EQ(last[0]["subsegments"][1]["name"], "s");
}

TEST_F(StreamingTest, AWholeEndedSubtreeGoesOutAsOneDocument) {
  Recorder recorder(Options(3));
  auto seg = recorder.BeginSegment("tree");
  auto keep = seg.BeginSubsegment("keep");
  {
    auto p = seg.BeginSubsegment("p");
    auto q = p.BeginSubsegment("q");
    q.BeginSubsegment("r");  // 4 held, r ended under open q: r streams
  }
  // q ended (q's parent p open, 3 held: kept), then p (3 held: kept).
  auto r_doc = Sent(recorder, 1);
  ASSERT_EQ(r_doc.size(), 1u);
  EXPECT_EQ(r_doc[0]["name"], "r");
  EXPECT_EQ(HeldBy(seg).subsegments, 3u);  // keep, p, q
  seg.BeginSubsegment("x");  // 4 held: p's subtree (p, q) is one document; x alone
  auto docs = Sent(recorder, 2);
  ASSERT_EQ(docs.size(), 2u);
  const json& p_doc = docs[0]["name"] == "p" ? docs[0] : docs[1];
  EXPECT_EQ(p_doc["name"], "p");
  EXPECT_EQ(p_doc["parent_id"], seg.id().ToString());
  ASSERT_EQ(p_doc["subsegments"].size(), 1u);
  EXPECT_EQ(p_doc["subsegments"][0]["name"], "q");
  EXPECT_FALSE(p_doc["subsegments"][0].contains("subsegments"));  // r went out before
  EXPECT_EQ(HeldBy(seg).subsegments, 1u);  // keep, open: never streamed
  keep.End();
  seg.End();
  auto last = Sent(recorder, 1);
  ASSERT_EQ(last.size(), 1u);
  ASSERT_EQ(last[0]["subsegments"].size(), 1u);
  EXPECT_EQ(last[0]["subsegments"][0]["name"], "keep");
}

TEST_F(StreamingTest, ThresholdZeroSendsEachSubsegmentWhenItEnds) {
  Recorder recorder(Options(0));
  auto seg = recorder.BeginSegment("zero");
  auto a = seg.BeginSubsegment("a");
  EXPECT_EQ(HeldBy(seg).subsegments, 1u);  // open: not streamed
  a.End();
  EXPECT_EQ(HeldBy(seg).subsegments, 0u);
  auto docs = Sent(recorder, 1);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0]["name"], "a");
  seg.End();
  docs = Sent(recorder, 1);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_FALSE(docs[0].contains("subsegments"));
}

TEST_F(StreamingTest, HandlesToStreamedSubsegmentsTouchNothingElse) {
  Recorder recorder(Options(0));
  auto seg = recorder.BeginSegment("reuse");
  Entity gone;
  SegmentId gone_id;
  {
    auto a = seg.BeginSubsegment("a");
    gone = a;
    gone_id = a.id();
  }  // a streamed and its slot freed
  auto b = seg.BeginSubsegment("b");  // takes a's slot
  EXPECT_EQ(HeldBy(seg).slots, 2u);
  EXPECT_EQ(gone.id(), gone_id);  // still its own id
  gone.AddAnnotation("stale", 1);
  gone.SetFault();
  gone.End();
  {
    auto under_gone = gone.BeginSubsegment("orphan");
    EXPECT_FALSE(under_gone.id() == b.id());
  }
  EXPECT_EQ(HeldBy(seg).subsegments, 1u);
  b.End();
  seg.End();
  auto docs = Sent(recorder, 3);  // a, b, the segment
  ASSERT_EQ(docs.size(), 3u);
  const json& b_doc = docs[1];
  EXPECT_EQ(b_doc["name"], "b");
  EXPECT_FALSE(b_doc.contains("annotations"));
  EXPECT_FALSE(b_doc.contains("fault"));
  EXPECT_FALSE(docs[2].contains("subsegments"));
  ASSERT_FALSE(logs_.empty());
  EXPECT_NE(logs_.back().find("'orphan' begun after its parent was sent"), std::string::npos)
      << logs_.back();
}

TEST_F(StreamingTest, ALongSegmentKeepsFewNodes) {
  RecorderOptions o = Options(100);
  o.queue_capacity = 1 << 16;
  Recorder recorder(o);
  constexpr int kSubsegments = 5000;
  auto seg = recorder.BeginSegment("long");
  auto open = seg.BeginSubsegment("open");  // held throughout
  size_t max_slots = 0;
  for (int i = 0; i < kSubsegments; ++i) {
    auto sub = seg.BeginSubsegment("step");
    sub.AddMetadata("payload", std::string(200, 'x'));
    sub.BeginSubsegment("inner");
    max_slots = std::max(max_slots, HeldBy(seg).slots);
  }
  // The segment, the 100 the threshold allows, and a step with its inner
  // subsegment, whose end takes the count over it.
  EXPECT_LE(max_slots, 1u + 100 + 2);
  EXPECT_LE(HeldBy(seg).subsegments, 101u);
  open.End();
  seg.End();
  recorder.Flush(std::chrono::milliseconds(10'000));
  RecorderStats st = recorder.stats();
  // Subtrees stream whole (step with inner inside); only the last few
  // remain in the segment's document.
  EXPECT_GE(st.streamed_subsegments, static_cast<uint64_t>(kSubsegments - 100));
  EXPECT_EQ(st.documents_dropped, 0u);
}

}  // namespace
}  // namespace roentgen::sdk
