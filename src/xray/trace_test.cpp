// Tests for AssembleTrace, SelectLatestVersions and FindRootSegment.
#include "xray/trace.h"

#include <gtest/gtest.h>

#include <optional>

#include "xray/trace_test_util.h"

namespace roentgen::xray {
namespace {

using namespace roentgen::xray::testing;  // NOLINT
using Ids = std::vector<uint64_t>;

Ids SegmentIds(const EntityList& list) {
  Ids ids;
  for (const Entity& e : list) ids.push_back(e.id.value);
  return ids;
}

TEST(AssembleTraceTest, OrdersSegmentsByStartThenId) {
  std::vector<ReceivedDocument> docs;
  docs.push_back(MakeDoc(MakeSegment(3, "c", 200, 300), 7));
  docs.push_back(MakeDoc(MakeSegment(2, "b", 100, 300), 9));
  docs.push_back(MakeDoc(MakeSegment(1, "a", 100, 300), 8));
  AssembledTrace trace = Assemble(docs);
  EXPECT_EQ(trace.id, TestTraceId());
  EXPECT_EQ(SegmentIds(trace.segments), (Ids{1, 2, 3}));
  EXPECT_TRUE(trace.orphans.empty());
  EXPECT_EQ(trace.document_count, 3u);
  EXPECT_EQ(trace.last_received_us, 9);
}

TEST(AssembleTraceTest, CompletedVersionBeatsNewerInProgressOne) {
  std::vector<ReceivedDocument> docs;
  docs.push_back(MakeDoc(MakeSegment(1, "complete", 100, 500), 10));
  docs.push_back(MakeDoc(MakeSegment(1, "in-progress", 100, std::nullopt), 20));
  AssembledTrace trace = Assemble(docs);
  ASSERT_EQ(trace.segments.size(), 1u);
  EXPECT_EQ(trace.segments[0].name, "complete");
  EXPECT_FALSE(trace.segments[0].in_progress);
  EXPECT_EQ(trace.segments[0].end_time_us, 500);
  EXPECT_EQ(trace.document_count, 2u);
  EXPECT_EQ(trace.last_received_us, 20);
}

TEST(AssembleTraceTest, NewestReceivedWinsAmongEquals) {
  std::vector<ReceivedDocument> docs;
  docs.push_back(MakeDoc(MakeSegment(1, "second", 100, 600), 30));
  docs.push_back(MakeDoc(MakeSegment(1, "first", 100, 500), 10));
  docs.push_back(MakeDoc(MakeSegment(2, "p-new", 100, std::nullopt), 40));
  docs.push_back(MakeDoc(MakeSegment(2, "p-old", 100, std::nullopt), 5));
  AssembledTrace trace = Assemble(docs);
  ASSERT_EQ(trace.segments.size(), 2u);
  EXPECT_EQ(trace.segments[0].name, "second");
  EXPECT_EQ(trace.segments[1].name, "p-new");
}

TEST(AssembleTraceTest, SelectLatestVersionsKeepsFirstSeenOrderAndLaterTie) {
  std::vector<ReceivedDocument> docs;
  docs.push_back(MakeDoc(MakeSegment(2, "x1", 0, 1), 5));
  docs.push_back(MakeDoc(MakeSegment(1, "y", 0, 1), 5));
  docs.push_back(MakeDoc(MakeSegment(2, "x2", 0, 1), 5));
  auto winners = SelectLatestVersions(Pointers(docs));
  ASSERT_EQ(winners.size(), 2u);
  EXPECT_EQ(winners[0]->doc.entity.name, "x2");
  EXPECT_EQ(winners[1]->doc.entity.name, "y");
}

TEST(AssembleTraceTest, SplicesIntoNestedParentAfterOwnSubsegments) {
  Entity segment = MakeSegment(1, "api", 0, 1000);
  Entity handler = MakeSubsegment(10, "handler", 100, 900);
  handler.subsegments.push_back(MakeSubsegment(11, "query", 200, 800));
  segment.subsegments.push_back(handler);
  std::vector<ReceivedDocument> docs;
  docs.push_back(MakeDoc(MakeIndependent(20, 11, "deep", 300, 400)));
  docs.push_back(MakeDoc(MakeIndependent(22, 1, "late", 950, 990)));
  docs.push_back(MakeDoc(MakeIndependent(21, 1, "early", 5, 50)));
  docs.push_back(MakeDoc(segment));
  AssembledTrace trace = Assemble(docs);
  ASSERT_EQ(trace.segments.size(), 1u);
  const Entity& root = trace.segments[0];
  EXPECT_EQ(ChildIds(root), (Ids{10, 21, 22}));  // own first, then spliced by start
  EXPECT_EQ(ChildIds(root.subsegments[0].subsegments[0]), (Ids{20}));
  EXPECT_EQ(root.subsegments[0].subsegments[0].subsegments[0].name, "deep");
  EXPECT_TRUE(trace.orphans.empty());
}

TEST(AssembleTraceTest, FollowsChainsInAnyArrivalOrder) {
  const std::vector<std::vector<int>> orders = {{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}};
  std::vector<ReceivedDocument> all;
  all.push_back(MakeDoc(MakeSegment(1, "api", 0, 1000)));
  all.push_back(MakeDoc(MakeIndependent(10, 1, "a", 10, 900)));
  all.push_back(MakeDoc(MakeIndependent(20, 10, "b", 20, 800)));
  all.push_back(MakeDoc(MakeIndependent(30, 20, "c", 30, 700)));
  for (const auto& order : orders) {
    std::vector<ReceivedDocument> docs;
    for (int i : order) docs.push_back(all[i]);
    AssembledTrace trace = Assemble(docs);
    ASSERT_EQ(trace.segments.size(), 1u);
    const Entity& root = trace.segments[0];
    ASSERT_EQ(ChildIds(root), (Ids{10}));
    ASSERT_EQ(ChildIds(root.subsegments[0]), (Ids{20}));
    ASSERT_EQ(ChildIds(root.subsegments[0].subsegments[0]), (Ids{30}));
    EXPECT_TRUE(trace.orphans.empty());
  }
}

TEST(AssembleTraceTest, UnreachableSubsegmentsBecomeOrphansWithTheirChains) {
  std::vector<ReceivedDocument> docs;
  docs.push_back(MakeDoc(MakeIndependent(41, 40, "child", 60, 70)));
  docs.push_back(MakeDoc(MakeIndependent(40, 99, "orphan-root", 50, 80)));
  docs.push_back(MakeDoc(MakeIndependent(45, 98, "other", 10, 20)));
  AssembledTrace trace = Assemble(docs);
  EXPECT_TRUE(trace.segments.empty());
  EXPECT_EQ(SegmentIds(trace.orphans), (Ids{45, 40}));
  EXPECT_EQ(ChildIds(trace.orphans[1]), (Ids{41}));
}

TEST(AssembleTraceTest, BreaksParentCyclesAtEarliestMember) {
  std::vector<ReceivedDocument> docs;
  docs.push_back(MakeDoc(MakeIndependent(51, 50, "b", 20, 30)));
  docs.push_back(MakeDoc(MakeIndependent(50, 51, "a", 10, 40)));
  AssembledTrace trace = Assemble(docs);
  EXPECT_EQ(SegmentIds(trace.orphans), (Ids{50}));
  EXPECT_EQ(ChildIds(trace.orphans[0]), (Ids{51}));
  EXPECT_TRUE(trace.orphans[0].subsegments[0].subsegments.empty());
}

TEST(AssembleTraceTest, NestedCopyBeatsIndependentDuplicate) {
  Entity segment = MakeSegment(1, "api", 0, 1000);
  segment.subsegments.push_back(MakeSubsegment(10, "nested", 10, 20));
  std::vector<ReceivedDocument> docs;
  docs.push_back(MakeDoc(MakeIndependent(10, 1, "independent", 10, 20)));
  docs.push_back(MakeDoc(segment));
  AssembledTrace trace = Assemble(docs);
  ASSERT_EQ(ChildIds(trace.segments[0]), (Ids{10}));
  EXPECT_EQ(trace.segments[0].subsegments[0].name, "nested");
  EXPECT_TRUE(trace.orphans.empty());
}

TEST(AssembleTraceTest, ViewsTheDocumentsEntitiesWhenNothingIsSpliced) {
  Entity segment = MakeSegment(1, "api", 100, 900);
  segment.subsegments.push_back(MakeSubsegment(10, "query", 200, 800));
  std::vector<ReceivedDocument> docs;
  docs.push_back(MakeDoc(MakeSegment(2, "later", 300, 400)));
  docs.push_back(MakeDoc(segment));
  AssembledTrace trace = Assemble(docs);
  ASSERT_EQ(SegmentIds(trace.segments), (Ids{1, 2}));
  EXPECT_EQ(&trace.segments[0], &docs[1].doc.entity);
  EXPECT_EQ(&trace.segments[1], &docs[0].doc.entity);
  // Moving the trace keeps its views.
  AssembledTrace moved = std::move(trace);
  EXPECT_EQ(&moved.segments[0], &docs[1].doc.entity);
}

TEST(AssembleTraceTest, CopiesOnlyTheSegmentsThatReceiveSubsegments) {
  Entity receiver = MakeSegment(1, "api", 0, 1000);
  receiver.subsegments.push_back(MakeSubsegment(10, "handler", 100, 900));
  std::vector<ReceivedDocument> docs;
  docs.push_back(MakeDoc(MakeSegment(2, "other", 500, 600)));
  docs.push_back(MakeDoc(receiver));
  docs.push_back(MakeDoc(MakeIndependent(20, 10, "call", 200, 300)));
  AssembledTrace trace = Assemble(docs);
  ASSERT_EQ(SegmentIds(trace.segments), (Ids{1, 2}));
  // The receiver is a copy with the call spliced in; its document is as sent.
  EXPECT_NE(&trace.segments[0], &docs[1].doc.entity);
  EXPECT_EQ(ChildIds(trace.segments[0].subsegments[0]), (Ids{20}));
  EXPECT_TRUE(docs[1].doc.entity.subsegments[0].subsegments.empty());
  // The other segment receives nothing and is viewed.
  EXPECT_EQ(&trace.segments[1], &docs[0].doc.entity);
  // Moving keeps the copies where they are.
  const Entity* copy = &trace.segments[0];
  AssembledTrace moved = std::move(trace);
  EXPECT_EQ(&moved.segments[0], copy);
}

TEST(AssembleTraceTest, ACopiedTraceOwnsItsEntities) {
  std::optional<AssembledTrace> copy;
  {
    Entity segment = MakeSegment(1, "api", 0, 1000);
    segment.subsegments.push_back(MakeSubsegment(10, "query", 10, 20));
    std::vector<ReceivedDocument> docs;
    docs.push_back(MakeDoc(segment));
    docs.push_back(MakeDoc(MakeIndependent(30, 99, "lost", 50, 60)));
    const AssembledTrace trace = Assemble(docs);
    copy = trace;
    EXPECT_NE(&copy->segments[0], &trace.segments[0]);
  }
  // The documents are gone; the copy still reads.
  ASSERT_EQ(copy->segments.size(), 1u);
  EXPECT_EQ(copy->segments[0].name, "api");
  EXPECT_EQ(ChildIds(copy->segments[0]), (Ids{10}));
  EXPECT_EQ(SegmentIds(copy->orphans), (Ids{30}));
}

TEST(EntityListTest, MutableCopiesAViewAndLeavesTheDocumentAlone) {
  const Entity sent = MakeSegment(1, "sent", 0, 10);
  EntityList list;
  list.PushView(sent);
  list.push_back(MakeSegment(2, "owned", 0, 10));
  Entity& owned = list.Mutable(1);
  EXPECT_EQ(&owned, &list[1]);
  owned.name = "owned-changed";
  list.Mutable(0).name = "changed";
  EXPECT_EQ(sent.name, "sent");
  EXPECT_EQ(list[0].name, "changed");
  EXPECT_EQ(list[1].name, "owned-changed");
  EXPECT_NE(&list[0], &sent);
}

TEST(EntityListTest, ReadsLikeAVector) {
  EntityList list = {MakeSegment(1, "a", 0, 1), MakeSegment(2, "b", 0, 1),
                     MakeSegment(3, "c", 0, 1)};
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list.front().name, "a");
  EXPECT_EQ(list.back().name, "c");
  EXPECT_EQ(list.end() - list.begin(), 3);
  EXPECT_EQ((list.begin() + 1)->name, "b");
  list.erase(list.begin(), list.begin() + 2);
  EXPECT_EQ(SegmentIds(list), (Ids{3}));
  EXPECT_TRUE(EntityList().empty());
}

TEST(FindRootSegmentTest, EmptyTraceHasNoRoot) {
  AssembledTrace trace = Assemble({});
  EXPECT_EQ(FindRootSegment(trace), nullptr);
}

TEST(FindRootSegmentTest, PrefersSegmentWithoutParentOverEarlierOnes) {
  Entity callee = MakeSegment(2, "callee", 0, 100);
  callee.parent_id = SegmentId{10};
  Entity entry = MakeSegment(1, "entry", 50, 200);
  entry.subsegments.push_back(MakeSubsegment(10, "call", 60, 150));
  std::vector<ReceivedDocument> docs{MakeDoc(callee), MakeDoc(entry)};
  AssembledTrace trace = Assemble(docs);
  const Entity* root = FindRootSegment(trace);
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->name, "entry");
}

TEST(FindRootSegmentTest, FallsBackToEarliestSegmentWithAbsentParent) {
  Entity downstream = MakeSegment(2, "downstream", 10, 100);
  downstream.parent_id = SegmentId{10};  // a subsegment of "upstream"
  Entity upstream = MakeSegment(1, "upstream", 20, 200);
  upstream.parent_id = SegmentId{777};  // its caller sent nothing
  upstream.subsegments.push_back(MakeSubsegment(10, "call", 30, 150));
  Entity later = MakeSegment(3, "later", 30, 40);
  later.parent_id = SegmentId{888};
  std::vector<ReceivedDocument> docs{MakeDoc(later), MakeDoc(downstream), MakeDoc(upstream)};
  AssembledTrace trace = Assemble(docs);
  const Entity* root = FindRootSegment(trace);
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->name, "upstream");
}

TEST(FindRootSegmentTest, CycleOfParentsFallsBackToEarliestSegment) {
  Entity a = MakeSegment(1, "a", 10, 100);
  a.parent_id = SegmentId{2};
  Entity b = MakeSegment(2, "b", 5, 100);
  b.parent_id = SegmentId{1};
  std::vector<ReceivedDocument> docs{MakeDoc(a), MakeDoc(b)};
  AssembledTrace trace = Assemble(docs);
  const Entity* root = FindRootSegment(trace);
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->name, "b");
}

}  // namespace
}  // namespace roentgen::xray
