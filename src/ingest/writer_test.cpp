#include "ingest/writer.h"

#include <gtest/gtest.h>

#include "graph/rollup_store.h"
#include "graph/test_traces.h"
#include "ingest/testing/fake_store.h"
#include "ingest/testing/segments.h"

namespace roentgen::ingest {
namespace {

using testing::FakeStore;
using testing::SegmentIdText;
using testing::SegmentJson;
using testing::SubsegmentJson;
using testing::TraceIdText;

constexpr int64_t kNow = 1'700'000'000'000'000;

class WriterTest : public ::testing::Test {
 protected:
  WriteItem Item(const std::string& json, std::shared_ptr<SubmitTicket> ticket = nullptr) {
    std::vector<xray::SegmentDocument> docs;
    xray::ParseFailure failure;
    EXPECT_TRUE(parser_.Parse(json, docs, failure)) << failure.message;
    EXPECT_EQ(docs.size(), 1u);
    return WriteItem(std::move(docs.front()), kNow, std::move(ticket));
  }

  std::vector<WriteItem> Batch(std::initializer_list<std::string> jsons) {
    std::vector<WriteItem> batch;
    for (const std::string& j : jsons) batch.push_back(Item(j));
    return batch;
  }

  xray::TraceId Trace(uint64_t n) { return *xray::TraceId::Parse(TraceIdText(n)); }

  std::string RawOf(uint64_t trace, uint64_t segment) {
    auto docs = store_.GetDocuments(Trace(trace));
    for (const store::StoredDocument& d : *docs) {
      if (d.entity_id.value == segment) return d.raw;
    }
    return "";
  }

  FakeStore store_;
  MetricsRegistry registry_;
  IngestMetrics metrics_{registry_};
  FakeClock clock_{kNow};
  xray::SegmentParser parser_;
};

TEST_F(WriterTest, OneWritePerBatchWithOneRecordPerTrace) {
  Writer writer(store_, metrics_, clock_, 100, size_t{1} << 30);
  auto batch =
      Batch({SegmentJson(TraceIdText(1), SegmentIdText(1), 100.0, 101.5),
             SegmentJson(TraceIdText(2), SegmentIdText(2), 200.0, 200.25),
             SubsegmentJson(TraceIdText(1), SegmentIdText(3), SegmentIdText(1), 100.5, 101.0)});
  ASSERT_TRUE(writer.ProcessBatch(batch).ok());
  EXPECT_EQ(store_.write_calls(), 1u);
  EXPECT_EQ(store_.batch_sizes(), (std::vector<size_t>{3}));
  auto one = store_.GetTrace(Trace(1));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->summary.id, Trace(1));
  EXPECT_EQ(one->summary.revision, 1u);
  EXPECT_EQ(one->summary.updated_us, kNow);
  EXPECT_EQ(one->summary.start_time_us, 100'000'000);
  EXPECT_EQ(one->summary.duration_us, std::optional<int64_t>(1'500'000));
  auto two = store_.GetTrace(Trace(2));
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->summary.duration_us, std::optional<int64_t>(250'000));
  EXPECT_EQ(metrics_.stored.Value(), 3u);
  EXPECT_EQ(metrics_.traces_updated.Value(), 2u);
  EXPECT_EQ(metrics_.commit_seconds.Count(), 1u);
}

TEST_F(WriterTest, CachedTraceIsNotReloadedAndRevisionGrows) {
  Writer writer(store_, metrics_, clock_, 100, size_t{1} << 30);
  auto first = Batch({SegmentJson(TraceIdText(1), SegmentIdText(1), 100.0, 101.0)});
  ASSERT_TRUE(writer.ProcessBatch(first).ok());
  // A new trace: its missing record says it has no documents to list.
  EXPECT_EQ(store_.get_trace_calls(), 1u);
  EXPECT_EQ(store_.get_documents_calls(), 0u);
  clock_.Advance(5);
  auto second =
      Batch({SubsegmentJson(TraceIdText(1), SegmentIdText(2), SegmentIdText(1), 100.1, 103.0)});
  ASSERT_TRUE(writer.ProcessBatch(second).ok());
  EXPECT_EQ(store_.get_trace_calls(), 1u);
  EXPECT_EQ(store_.get_documents_calls(), 0u);
  auto record = store_.GetTrace(Trace(1));
  EXPECT_EQ(record->summary.revision, 2u);
  EXPECT_EQ(record->summary.updated_us, kNow + 5);
  EXPECT_EQ(record->summary.duration_us, std::optional<int64_t>(3'000'000));
  EXPECT_EQ(store_.batch_sizes(), (std::vector<size_t>{1, 1}));  // only the new document
}

TEST_F(WriterTest, EvictedTraceIsReloadedFromTheStore) {
  Writer writer(store_, metrics_, clock_, 1, size_t{1} << 30);
  auto a = Batch({SegmentJson(TraceIdText(1), SegmentIdText(1), 100.0, 101.0)});
  auto b = Batch({SegmentJson(TraceIdText(2), SegmentIdText(2), 100.0, 101.0)});
  auto a2 =
      Batch({SubsegmentJson(TraceIdText(1), SegmentIdText(3), SegmentIdText(1), 100.0, 104.0)});
  ASSERT_TRUE(writer.ProcessBatch(a).ok());
  ASSERT_TRUE(writer.ProcessBatch(b).ok());
  EXPECT_EQ(writer.cache().size(), 1u);
  ASSERT_TRUE(writer.ProcessBatch(a2).ok());
  EXPECT_EQ(store_.get_trace_calls(), 3u);
  EXPECT_EQ(store_.get_documents_calls(), 1u);  // only trace 1's reload
  auto record = store_.GetTrace(Trace(1));
  EXPECT_EQ(record->summary.revision, 2u);
  // The reloaded segment still counts: the duration spans both documents.
  EXPECT_EQ(record->summary.duration_us, std::optional<int64_t>(4'000'000));
}

// A store shared by several processes derives each record from every
// document it holds (Store::DerivesRecords): the writer reads nothing back
// (what it could read may already be stale) and keeps no trace after its
// batch, so a later batch of the same trace carries only its own documents.
TEST_F(WriterTest, AStoreThatDerivesRecordsIsNeverReadAndNothingIsCached) {
  store_.SetDerivesRecords(true);
  Writer writer(store_, metrics_, clock_, 100, size_t{1} << 30);
  auto first = Batch({SegmentJson(TraceIdText(1), SegmentIdText(1), 100.0, 101.0),
                      SegmentJson(TraceIdText(2), SegmentIdText(2), 100.0, 101.0)});
  ASSERT_TRUE(writer.ProcessBatch(first).ok());
  EXPECT_EQ(writer.cache().size(), 0u);
  auto second =
      Batch({SubsegmentJson(TraceIdText(1), SegmentIdText(3), SegmentIdText(1), 100.0, 104.0)});
  ASSERT_TRUE(writer.ProcessBatch(second).ok());
  EXPECT_EQ(store_.get_trace_calls(), 0u);
  EXPECT_EQ(store_.get_documents_calls(), 0u);
  EXPECT_EQ(store_.batch_sizes(), (std::vector<size_t>{2, 1}));
  EXPECT_EQ(writer.cache().size(), 0u);
  // Both of trace 1's documents are stored; deriving its record from them
  // is the store's work.
  EXPECT_EQ(store_.GetDocuments(Trace(1))->size(), 2u);
}

// The indexing rule decides when a trace is first stored; later segments
// (also after the trace left the cache) keep that decision, whatever the
// percentage is by then.
TEST_F(WriterTest, TheIndexingDecisionIsTakenOnceAndKept) {
  IndexingPolicy policy(0);
  Writer writer(store_, metrics_, clock_, 1, size_t{1} << 30, nullptr, &policy);
  auto a = Batch({SegmentJson(TraceIdText(1), SegmentIdText(1), 100.0, 101.0)});
  ASSERT_TRUE(writer.ProcessBatch(a).ok());
  EXPECT_FALSE(store_.GetTrace(Trace(1))->summary.indexed);
  policy.SetPercentage(100);
  auto b = Batch({SegmentJson(TraceIdText(2), SegmentIdText(2), 100.0, 101.0)});
  ASSERT_TRUE(writer.ProcessBatch(b).ok());  // evicts trace 1 from the cache
  EXPECT_TRUE(store_.GetTrace(Trace(2))->summary.indexed);
  auto a2 =
      Batch({SubsegmentJson(TraceIdText(1), SegmentIdText(3), SegmentIdText(1), 100.0, 104.0)});
  ASSERT_TRUE(writer.ProcessBatch(a2).ok());
  EXPECT_FALSE(store_.GetTrace(Trace(1))->summary.indexed);
  EXPECT_EQ(policy.decided(), 2u);
  EXPECT_EQ(policy.indexed(), 1u);
}

TEST_F(WriterTest, CompletedSegmentReplacesInProgressButNotTheReverse) {
  Writer writer(store_, metrics_, clock_, 100, size_t{1} << 30);
  const std::string in_progress = SegmentJson(TraceIdText(1), SegmentIdText(1), 100.0, {});
  const std::string complete = SegmentJson(TraceIdText(1), SegmentIdText(1), 100.0, 102.0);
  auto b1 = Batch({in_progress});
  ASSERT_TRUE(writer.ProcessBatch(b1).ok());
  EXPECT_TRUE(store_.GetTrace(Trace(1))->summary.is_partial);
  auto b2 = Batch({complete});
  ASSERT_TRUE(writer.ProcessBatch(b2).ok());
  EXPECT_EQ(RawOf(1, 1), complete);
  EXPECT_FALSE(store_.GetTrace(Trace(1))->summary.is_partial);
  EXPECT_EQ(store_.GetTrace(Trace(1))->summary.revision, 2u);
  // A late in-progress copy (UDP reordering) is ignored: nothing is written.
  auto b3 = Batch({in_progress});
  ASSERT_TRUE(writer.ProcessBatch(b3).ok());
  EXPECT_EQ(store_.write_calls(), 2u);
  EXPECT_EQ(RawOf(1, 1), complete);
  EXPECT_EQ(store_.GetTrace(Trace(1))->summary.revision, 2u);
}

TEST_F(WriterTest, DuplicateEntityInOneBatchIsWrittenOnce) {
  Writer writer(store_, metrics_, clock_, 100, size_t{1} << 30);
  const std::string complete = SegmentJson(TraceIdText(1), SegmentIdText(1), 100.0, 102.0);
  auto batch = Batch({SegmentJson(TraceIdText(1), SegmentIdText(1), 100.0, {}), complete});
  ASSERT_TRUE(writer.ProcessBatch(batch).ok());
  EXPECT_EQ(store_.batch_sizes(), (std::vector<size_t>{1}));
  EXPECT_EQ(RawOf(1, 1), complete);
  EXPECT_EQ(store_.GetTrace(Trace(1))->summary.revision, 1u);
}

TEST_F(WriterTest, TicketCompletesAfterItsLastDocumentIsDurable) {
  Writer writer(store_, metrics_, clock_, 100, size_t{1} << 30);
  auto ticket = std::make_shared<SubmitTicket>();
  int calls = 0;
  size_t stored_at_callback = 0;
  ticket->remaining = 2;
  ticket->outcomes = {DocumentOutcome{true, SegmentIdText(1), "", ""},
                      DocumentOutcome{false, "", "MalformedJson", "bad"}};
  ticket->done = [&](Status s, std::vector<DocumentOutcome> outcomes) {
    ++calls;
    EXPECT_TRUE(s.ok());
    ASSERT_EQ(outcomes.size(), 2u);
    EXPECT_EQ(outcomes[1].error_code, "MalformedJson");
    stored_at_callback = store_.document_count();
  };
  std::vector<WriteItem> b1;
  b1.push_back(Item(SegmentJson(TraceIdText(1), SegmentIdText(1), 1.0, 2.0), ticket));
  ASSERT_TRUE(writer.ProcessBatch(b1).ok());
  EXPECT_EQ(calls, 0);
  std::vector<WriteItem> b2;
  b2.push_back(Item(SegmentJson(TraceIdText(2), SegmentIdText(2), 1.0, 2.0), ticket));
  ASSERT_TRUE(writer.ProcessBatch(b2).ok());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(stored_at_callback, 2u);
}

// An engine that makes writes durable after Write returns (the block engine):
// the documents are visible at once, the ticket completes when they are durable.
TEST_F(WriterTest, TicketWaitsForAWriteMadeDurableLater) {
  Writer writer(store_, metrics_, clock_, 100, size_t{1} << 30);
  store_.HoldDurability(true);
  auto ticket = std::make_shared<SubmitTicket>();
  int calls = 0;
  Status got = Status::Internal("not called");
  ticket->remaining = 3;
  ticket->outcomes.resize(3);
  ticket->done = [&](Status s, std::vector<DocumentOutcome>) {
    ++calls;
    got = s;
  };
  std::vector<WriteItem> b1;
  b1.push_back(Item(SegmentJson(TraceIdText(1), SegmentIdText(1), 1.0, 2.0), ticket));
  b1.push_back(Item(SegmentJson(TraceIdText(2), SegmentIdText(2), 1.0, 2.0), ticket));
  ASSERT_TRUE(writer.ProcessBatch(b1).ok());
  std::vector<WriteItem> b2;
  b2.push_back(Item(SegmentJson(TraceIdText(3), SegmentIdText(3), 1.0, 2.0), ticket));
  ASSERT_TRUE(writer.ProcessBatch(b2).ok());
  EXPECT_EQ(store_.document_count(), 3u) << "visible before durable";
  EXPECT_EQ(calls, 0) << "not answered before durable";
  EXPECT_EQ(store_.durable_pending(), 2u);
  store_.ReleaseDurable();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(got.ok()) << got.ToString();

  // A failed write settles at once: it will never be durable.
  auto failing = std::make_shared<SubmitTicket>();
  failing->remaining = 1;
  failing->outcomes.resize(1);
  Status failed_with;
  failing->done = [&](Status s, std::vector<DocumentOutcome>) { failed_with = s; };
  store_.FailWrites(Status::Unavailable("disk full"));
  std::vector<WriteItem> b3;
  b3.push_back(Item(SegmentJson(TraceIdText(4), SegmentIdText(4), 1.0, 2.0), failing));
  EXPECT_FALSE(writer.ProcessBatch(b3).ok());
  EXPECT_EQ(failed_with, Status::Unavailable("disk full"));
  EXPECT_EQ(store_.durable_pending(), 0u);
}

TEST_F(WriterTest, StoreFailureFailsTicketsCountsDropsAndForgetsCache) {
  Writer writer(store_, metrics_, clock_, 100, size_t{1} << 30);
  auto ok = Batch({SegmentJson(TraceIdText(1), SegmentIdText(1), 1.0, 2.0)});
  ASSERT_TRUE(writer.ProcessBatch(ok).ok());
  store_.FailWrites(Status::IOError("disk full"));
  auto ticket = std::make_shared<SubmitTicket>();
  Status got;
  ticket->remaining = 1;
  ticket->outcomes.resize(1);
  ticket->done = [&](Status s, std::vector<DocumentOutcome>) { got = s; };
  std::vector<WriteItem> failing;
  failing.push_back(Item(SegmentJson(TraceIdText(1), SegmentIdText(2), 1.0, 3.0), ticket));
  failing.push_back(Item(SegmentJson(TraceIdText(3), SegmentIdText(3), 1.0, 3.0)));
  EXPECT_EQ(writer.ProcessBatch(failing), Status::IOError("disk full"));
  EXPECT_EQ(got, Status::IOError("disk full"));
  EXPECT_EQ(metrics_.dropped_store_error.Value(), 1u);  // the UDP document
  EXPECT_EQ(writer.cache().size(), 0u);
  // After recovery the trace is reloaded from what the store really holds.
  store_.FailWrites(Status::Ok());
  auto retry = Batch({SegmentJson(TraceIdText(1), SegmentIdText(4), 1.0, 2.5)});
  ASSERT_TRUE(writer.ProcessBatch(retry).ok());
  auto record = store_.GetTrace(Trace(1));
  EXPECT_EQ(record->summary.revision, 2u);
  EXPECT_EQ(store_.GetDocuments(Trace(1))->size(), 2u);
  EXPECT_EQ(record->summary.duration_us, std::optional<int64_t>(1'500'000));
}

TEST_F(WriterTest, LoadFailureFailsOnlyThatTrace) {
  Writer writer(store_, metrics_, clock_, 100, size_t{1} << 30);
  store_.FailReads(Status::IOError("read error"));
  auto batch = Batch({SegmentJson(TraceIdText(1), SegmentIdText(1), 1.0, 2.0)});
  EXPECT_TRUE(writer.ProcessBatch(batch).ok());
  EXPECT_EQ(store_.write_calls(), 0u);
  EXPECT_EQ(metrics_.dropped_store_error.Value(), 1u);
}

// The rollups must always hold exactly the graphs of the traces the store
// holds now: what adding every stored record's graph to empty rollups gives.
class WriterRollupsTest : public WriterTest {
 protected:
  static constexpr double kT = 1'699'999'900.0;  // seconds, within the rollups' retention

  nlohmann::json Rolled() const { return graph::testing::RollupCounts(rollups_, kStartUs, kEndUs); }
  nlohmann::json FromStore(std::initializer_list<uint64_t> traces) {
    graph::RollupStore expected;
    for (uint64_t n : traces) {
      Result<store::TraceRecord> record = store_.GetTrace(Trace(n));
      if (record.ok()) expected.Add(record->graph, +1);
    }
    return graph::testing::RollupCounts(expected, kStartUs, kEndUs);
  }
  // A segment of service `name` called from segment `parent` (0: a root).
  std::string Seg(uint64_t trace, uint64_t id, double start, std::optional<double> end,
                  const std::string& name, uint64_t parent = 0) {
    return SegmentJson(
        TraceIdText(trace), SegmentIdText(id), kT + start,
        end ? std::optional<double>(kT + *end) : std::nullopt,
        parent == 0 ? "" : fmt::format(R"(,"parent_id":"{}")", SegmentIdText(parent)), name);
  }

  static constexpr int64_t kStartUs = 1'699'990'000'000'000;
  static constexpr int64_t kEndUs = 1'700'010'000'000'000;
  graph::RollupStore rollups_;
};

TEST_F(WriterRollupsTest, ATraceWrittenInSeveralBatchesIsCountedOnceAsItIsNow) {
  Writer writer(store_, metrics_, clock_, 100, size_t{1} << 30, &rollups_);
  // Trace 1's root in progress; trace 2's called segment before its caller's.
  auto first = Batch({Seg(1, 1, 0.0, std::nullopt, "web"), Seg(2, 5, 1.2, 1.8, "api", 2)});
  ASSERT_TRUE(writer.ProcessBatch(first).ok());
  EXPECT_EQ(Rolled(), FromStore({1, 2}));
  // The root completes and a callee arrives: the graph gains a node and an
  // edge; trace 2's caller arrives.
  auto second = Batch(
      {Seg(1, 1, 0.0, 3.0, "web"), Seg(1, 3, 0.5, 2.5, "api", 1), Seg(2, 2, 1.0, 2.0, "web")});
  ASSERT_TRUE(writer.ProcessBatch(second).ok());
  EXPECT_EQ(Rolled(), FromStore({1, 2}));
  // A third write of the trace, and a late in-progress copy that is ignored.
  auto third = Batch({Seg(1, 4, 1.0, 2.0, "db", 3), Seg(1, 1, 0.0, std::nullopt, "web")});
  ASSERT_TRUE(writer.ProcessBatch(third).ok());
  EXPECT_EQ(store_.GetTrace(Trace(1))->summary.revision, 3u);
  const nlohmann::json now = FromStore({1, 2});
  EXPECT_EQ(Rolled(), now);
  EXPECT_EQ(now.size(), 4u);  // client, web, api, db
}

TEST_F(WriterRollupsTest, AFailedWriteLeavesTheRollupsAsTheStoreIs) {
  Writer writer(store_, metrics_, clock_, 100, size_t{1} << 30, &rollups_);
  auto ok = Batch({Seg(1, 1, 0.0, 3.0, "web")});
  ASSERT_TRUE(writer.ProcessBatch(ok).ok());
  auto update = Batch({Seg(1, 2, 0.5, 2.5, "api", 1)});
  ASSERT_TRUE(writer.ProcessBatch(update).ok());  // the cache derives the stored graph now
  const nlohmann::json before = Rolled();
  ASSERT_EQ(before, FromStore({1}));

  store_.FailWrites(Status::IOError("disk full"));
  // An update of a cached trace and a new trace, both refused.
  auto failing = Batch({Seg(1, 3, 1.0, 2.0, "db", 2), Seg(3, 4, 0.0, 1.0, "queue")});
  EXPECT_EQ(writer.ProcessBatch(failing), Status::IOError("disk full"));
  EXPECT_EQ(Rolled(), before);
  EXPECT_EQ(Rolled(), FromStore({1, 3}));

  // The trace is reloaded (its record's graph is what is taken out next).
  store_.FailWrites(Status::Ok());
  auto retry = Batch({Seg(1, 3, 1.0, 2.0, "db", 2), Seg(3, 4, 0.0, 1.0, "queue")});
  ASSERT_TRUE(writer.ProcessBatch(retry).ok());
  EXPECT_EQ(Rolled(), FromStore({1, 3}));
  EXPECT_NE(Rolled(), before);
  // A failure right after a reload from the store: the loaded graph goes back.
  Writer fresh(store_, metrics_, clock_, 100, size_t{1} << 30, &rollups_);
  store_.FailWrites(Status::IOError("disk full"));
  auto failing_again = Batch({Seg(1, 5, 1.5, 2.0, "cache", 1)});
  EXPECT_FALSE(fresh.ProcessBatch(failing_again).ok());
  EXPECT_EQ(Rolled(), FromStore({1, 3}));
}

// A failed write while the rollups are rebuilt from the store: the trace's
// stored graph is counted once, by the writer's undo or by the scan.
TEST_F(WriterRollupsTest, AFailedWriteDuringARebuildCountsTheStoredTraceOnce) {
  {
    graph::RollupStore before_restart;
    Writer writer(store_, metrics_, clock_, 100, size_t{1} << 30, &before_restart);
    auto stored = Batch({Seg(1, 1, 0.0, 3.0, "web"), Seg(2, 2, 0.0, 1.0, "web")});
    ASSERT_TRUE(writer.ProcessBatch(stored).ok());
  }
  rollups_.BeginRebuild();
  Writer writer(store_, metrics_, clock_, 100, size_t{1} << 30, &rollups_);
  store_.FailWrites(Status::IOError("disk full"));
  auto failing = Batch({Seg(1, 3, 0.5, 2.5, "api", 1)});
  EXPECT_FALSE(writer.ProcessBatch(failing).ok());
  for (uint64_t n : {1, 2}) {  // the scan, in (start, id) order
    Result<store::TraceRecord> record = store_.GetTrace(Trace(n));
    ASSERT_TRUE(record.ok());
    rollups_.AddRebuilt(record->graph, record->summary.start_time_us, Trace(n));
  }
  rollups_.EndRebuild();
  EXPECT_EQ(Rolled(), FromStore({1, 2}));
  store_.FailWrites(Status::Ok());
  auto retry = Batch({Seg(1, 3, 0.5, 2.5, "api", 1)});
  ASSERT_TRUE(writer.ProcessBatch(retry).ok());
  EXPECT_EQ(Rolled(), FromStore({1, 2}));
}

TEST_F(WriterRollupsTest, AnEvictedTraceUpdatedLaterIsReplacedNotAddedAgain) {
  Writer writer(store_, metrics_, clock_, 1, size_t{1} << 30, &rollups_);
  auto a = Batch({Seg(1, 1, 0.0, 3.0, "web")});
  auto b = Batch({Seg(2, 2, 0.0, 1.0, "web")});
  ASSERT_TRUE(writer.ProcessBatch(a).ok());
  ASSERT_TRUE(writer.ProcessBatch(b).ok());  // evicts trace 1
  ASSERT_EQ(writer.cache().size(), 1u);
  auto late = Batch({Seg(1, 3, 0.5, 2.5, "api", 1)});
  ASSERT_TRUE(writer.ProcessBatch(late).ok());
  EXPECT_EQ(store_.get_documents_calls(), 1u);  // reloaded from the store
  EXPECT_EQ(Rolled(), FromStore({1, 2}));
  // Cached again after that write: a later segment takes its graph from the cache.
  auto later = Batch({Seg(1, 4, 1.0, 2.0, "db", 3)});
  ASSERT_TRUE(writer.ProcessBatch(later).ok());
  EXPECT_EQ(store_.get_documents_calls(), 1u);
  EXPECT_EQ(Rolled(), FromStore({1, 2}));
}

// The failure a ticket reports is the first one, unless one that may clear
// comes after: that one decides whether its documents are sent again.
TEST(SubmitTicketTest, AFailureThatMayClearWinsAndFailuresAreCounted) {
  Status reported;
  int calls = 0;
  SubmitTicket ticket;
  ticket.remaining = 6;
  ticket.done = [&](Status s, std::vector<DocumentOutcome>) {
    reported = std::move(s);
    ++calls;
  };
  ticket.Settle(1, Status::Ok());
  ticket.Settle(2, Status::Corruption("damaged"));
  ticket.Settle(1, Status::Unavailable("disk full"));
  ticket.Settle(2, Status::IOError("later"));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(reported, Status::Unavailable("disk full"));
  EXPECT_EQ(ticket.failed(), 5u);
  EXPECT_TRUE(StoreErrorMayClear(Status::IOError("x")));
  EXPECT_FALSE(StoreErrorMayClear(Status::Corruption("x")));
  EXPECT_FALSE(StoreErrorMayClear(Status::Ok()));
}

}  // namespace
}  // namespace roentgen::ingest
