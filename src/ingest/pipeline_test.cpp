#include "ingest/pipeline.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "ingest/testing/counters.h"
#include "ingest/testing/fake_store.h"
#include "ingest/testing/segments.h"

namespace roentgen::ingest {
namespace {

using testing::Datagram;
using testing::FakeStore;
using testing::SegmentIdText;
using testing::CounterValue;
using testing::SegmentJson;
using testing::SubsegmentJson;
using testing::TraceIdText;

// Blocks every store Write until released.
class WriteGate {
 public:
  explicit WriteGate(FakeStore& store) {
    store.SetWriteHook([this] {
      std::unique_lock lock(mu_);
      ++waiting_;
      cv_.notify_all();
      cv_.wait(lock, [this] { return open_; });
    });
  }
  void WaitForWriter() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return waiting_ > 0; });
  }
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int waiting_ = 0;
  bool open_ = false;
};

struct SubmitResult {
  Status status;
  std::vector<DocumentOutcome> outcomes;
  size_t documents_stored_at_callback = 0;
};

class PipelineTest : public ::testing::Test {
 protected:
  std::future<SubmitResult> Submit(Pipeline& p, std::vector<std::string> docs) {
    auto promise = std::make_shared<std::promise<SubmitResult>>();
    auto future = promise->get_future();
    p.Submit(std::move(docs), [this, promise](Status s, std::vector<DocumentOutcome> o) {
      promise->set_value(SubmitResult{std::move(s), std::move(o), store_.document_count()});
    });
    return future;
  }

  FakeStore store_;
  MetricsRegistry registry_;
};

TEST_F(PipelineTest, ConfigValidation) {
  PipelineConfig config;
  EXPECT_TRUE(config.Validate().ok());
  config.queue_capacity = 0;
  EXPECT_EQ(config.Validate().code(), StatusCode::kInvalidArgument);
  Pipeline p(config, store_, registry_);
  EXPECT_EQ(p.Start().code(), StatusCode::kInvalidArgument);
}

TEST_F(PipelineTest, DatagramsAreParsedStoredAndCounted) {
  Pipeline p(PipelineConfig{}, store_, registry_);
  ASSERT_TRUE(p.Start().ok());
  for (uint64_t i = 1; i <= 50; ++i) {
    p.OnDatagram(Datagram(SegmentJson(TraceIdText(i % 7), SegmentIdText(i), 1.0, 2.0)));
  }
  p.OnDatagram("no header here");
  p.OnDatagram(Datagram("{not json"));
  p.OnDatagram(Datagram(R"({"name":"x","id":"0000000000000001"})"));
  p.Stop();
  EXPECT_EQ(store_.document_count(), 50u);
  EXPECT_EQ(store_.Stats().traces, 7u);
  EXPECT_EQ(CounterValue(registry_, "roentgen_segments_received_total", {{"transport", "udp"}}),
            53u);
  EXPECT_EQ(CounterValue(registry_, "roentgen_segments_accepted_total"), 50u);
  EXPECT_EQ(CounterValue(registry_, "roentgen_segments_stored_total"), 50u);
  EXPECT_EQ(CounterValue(registry_, "roentgen_segments_rejected_total",
                         {{"reason", "InvalidDaemonHeader"}}),
            1u);
  EXPECT_EQ(
      CounterValue(registry_, "roentgen_segments_rejected_total", {{"reason", "MalformedJson"}}),
      1u);
  EXPECT_EQ(
      CounterValue(registry_, "roentgen_segments_rejected_total", {{"reason", "MissingField"}}),
      1u);
  EXPECT_EQ(registry_.GetGauge("roentgen_ingest_queue_depth", "").Value(), 0);
}

TEST_F(PipelineTest, QueueOverflowIsDroppedAndCountedWithoutBlocking) {
  WriteGate gate(store_);
  PipelineConfig config;
  config.queue_capacity = 4;
  config.max_batch_documents = 1;
  Pipeline p(config, store_, registry_);
  ASSERT_TRUE(p.Start().ok());
  p.OnDatagram(Datagram(SegmentJson(TraceIdText(1), SegmentIdText(1), 1.0, 2.0)));
  gate.WaitForWriter();  // the writer is now stuck in Write
  constexpr uint64_t kSent = 200;
  for (uint64_t i = 2; i <= kSent; ++i) {
    p.OnDatagram(Datagram(SegmentJson(TraceIdText(1), SegmentIdText(i), 1.0, 2.0)));
  }
  const uint64_t dropped =
      CounterValue(registry_, "roentgen_segments_dropped_total", {{"reason", "queue_full"}});
  // Kept at most: 1 in the writer, 4 in the write queue, 4 held by the parse
  // stage while it waits for room, 4 in the raw queue.
  EXPECT_GE(dropped, kSent - 13);
  gate.Open();
  p.Stop();
  EXPECT_EQ(store_.document_count() + dropped, kSent);
  EXPECT_EQ(CounterValue(registry_, "roentgen_segments_stored_total") + dropped, kSent);
  EXPECT_EQ(registry_.GetGauge("roentgen_ingest_queue_depth", "").Value(), 0);
}

TEST_F(PipelineTest, SubmitReportsEachDocumentAndCallsBackOnlyWhenDurable) {
  Pipeline p(PipelineConfig{}, store_, registry_);
  ASSERT_TRUE(p.Start().ok());
  auto result = Submit(p, {SegmentJson(TraceIdText(1), SegmentIdText(1), 1.0, 2.0), "{\"broken\"",
                           SegmentJson(TraceIdText(1), SegmentIdText(2), 1.5, 2.0),
                           R"({"name":"web","id":"0000000000000009","trace_id":"nope",)"
                           R"("start_time":1,"end_time":2})"})
                    .get();
  ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  ASSERT_EQ(result.outcomes.size(), 4u);
  EXPECT_TRUE(result.outcomes[0].accepted);
  EXPECT_EQ(result.outcomes[0].id, SegmentIdText(1));
  EXPECT_FALSE(result.outcomes[1].accepted);
  EXPECT_EQ(result.outcomes[1].error_code, "MalformedJson");
  EXPECT_TRUE(result.outcomes[2].accepted);
  EXPECT_FALSE(result.outcomes[3].accepted);
  EXPECT_EQ(result.outcomes[3].error_code, "InvalidId");
  EXPECT_EQ(result.outcomes[3].id, "0000000000000009");
  EXPECT_EQ(result.documents_stored_at_callback, 2u);
  EXPECT_EQ(CounterValue(registry_, "roentgen_segments_received_total", {{"transport", "http"}}),
            4u);
  p.Stop();
}

TEST_F(PipelineTest, SubmitWithOnlyBadDocumentsAnswersAtOnce) {
  Pipeline p(PipelineConfig{}, store_, registry_);
  ASSERT_TRUE(p.Start().ok());
  auto result = Submit(p, {"[]x"}).get();
  EXPECT_TRUE(result.status.ok());
  ASSERT_EQ(result.outcomes.size(), 1u);
  EXPECT_FALSE(result.outcomes[0].accepted);
  EXPECT_EQ(store_.write_calls(), 0u);
}

TEST_F(PipelineTest, SubmitGetsTheStoreError) {
  store_.FailWrites(Status::IOError("disk gone"));
  Pipeline p(PipelineConfig{}, store_, registry_);
  ASSERT_TRUE(p.Start().ok());
  auto result = Submit(p, {SegmentJson(TraceIdText(1), SegmentIdText(1), 1.0, 2.0)}).get();
  EXPECT_EQ(result.status, Status::IOError("disk gone"));
  EXPECT_EQ(result.documents_stored_at_callback, 0u);
  p.Stop();
}

TEST_F(PipelineTest, SubmitLargerThanTheFreeQueueIsRefused) {
  WriteGate gate(store_);
  PipelineConfig config;
  config.queue_capacity = 2;
  config.max_batch_documents = 1;
  Pipeline p(config, store_, registry_);
  ASSERT_TRUE(p.Start().ok());
  auto first = Submit(p, {SegmentJson(TraceIdText(1), SegmentIdText(1), 1.0, 2.0)});
  gate.WaitForWriter();
  auto refused = Submit(p, {SegmentJson(TraceIdText(2), SegmentIdText(2), 1.0, 2.0),
                            SegmentJson(TraceIdText(2), SegmentIdText(3), 1.0, 2.0),
                            SegmentJson(TraceIdText(2), SegmentIdText(4), 1.0, 2.0)})
                     .get();
  EXPECT_EQ(refused.status.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(CounterValue(registry_, "roentgen_segments_dropped_total", {{"reason", "queue_full"}}),
            3u);
  gate.Open();
  EXPECT_TRUE(first.get().status.ok());
  p.Stop();
  EXPECT_EQ(store_.document_count(), 1u);
}

// The spool's path: parsed on the caller's thread, answered once stored.
TEST_F(PipelineTest, SpooledDatagramsAreAnsweredOnceEveryDocumentIsStored) {
  PipelineConfig config;
  config.max_batch_documents = 8;  // several writes per call, over both writers
  Pipeline p(config, store_, registry_);
  ASSERT_TRUE(p.Start().ok());
  std::vector<std::string> datagrams;
  for (uint64_t i = 1; i <= 40; ++i) {
    datagrams.push_back(Datagram(SegmentJson(TraceIdText(i % 9), SegmentIdText(i), 1.0, 2.0)));
  }
  datagrams.push_back("no header here");
  datagrams.push_back(Datagram("{not json"));
  std::vector<std::string_view> views(datagrams.begin(), datagrams.end());
  std::promise<std::pair<SpoolBatch, size_t>> answered;
  p.SubmitSpooled(views, Pipeline::SpooledRecord::kDaemonDatagram, [&](SpoolBatch outcome) {
    answered.set_value({outcome, store_.document_count()});
  });
  auto [outcome, stored_at_answer] = answered.get_future().get();
  EXPECT_EQ(outcome, SpoolBatch::kDone);
  EXPECT_EQ(stored_at_answer, 40u);
  EXPECT_EQ(CounterValue(registry_, "roentgen_segments_received_total", {{"transport", "udp"}}),
            42u);
  EXPECT_EQ(CounterValue(registry_, "roentgen_segments_rejected_total",
                         {{"reason", "InvalidDaemonHeader"}}),
            1u);

  // Only rejects: answered at once.
  std::promise<SpoolBatch> rejects_only;
  p.SubmitSpooled({"no header"}, Pipeline::SpooledRecord::kDaemonDatagram,
                  [&](SpoolBatch o) { rejects_only.set_value(o); });
  EXPECT_EQ(rejects_only.get_future().get(), SpoolBatch::kDone);

  // After Stop nothing is taken: the spool keeps the datagrams.
  p.Stop();
  std::promise<SpoolBatch> late;
  p.SubmitSpooled(views, Pipeline::SpooledRecord::kDaemonDatagram,
                  [&](SpoolBatch o) { late.set_value(o); });
  EXPECT_EQ(late.get_future().get(), SpoolBatch::kNotTaken);
  EXPECT_EQ(store_.document_count(), 40u);
}

// Each entity is parsed straight into its write item: an array of
// subsegments stores one document an element, and one rejected whole (an
// element is invalid) leaves nothing of it behind, wherever it is in the batch.
TEST_F(PipelineTest, SpooledArraysStoreEveryElementOrNone) {
  Pipeline p(PipelineConfig{}, store_, registry_);
  ASSERT_TRUE(p.Start().ok());
  const std::string trace = TraceIdText(7);
  const std::string good_array =
      "[" + SubsegmentJson(trace, SegmentIdText(11), SegmentIdText(1), 1.0, 1.5) + "," +
      SubsegmentJson(trace, SegmentIdText(12), SegmentIdText(1), 1.2, 1.8) + "]";
  const std::string bad_array =
      "[" + SubsegmentJson(trace, SegmentIdText(13), SegmentIdText(1), 1.0, 1.5) +
      R"(,{"name":"no-id","type":"subsegment"}])";
  std::vector<std::string> datagrams = {
      Datagram(SegmentJson(trace, SegmentIdText(1), 1.0, 2.0)), Datagram(bad_array),
      Datagram(good_array), Datagram(bad_array),
      Datagram(SegmentJson(TraceIdText(8), SegmentIdText(2), 1.0, 2.0))};
  std::vector<std::string_view> views(datagrams.begin(), datagrams.end());
  std::promise<SpoolBatch> answered;
  p.SubmitSpooled(views, Pipeline::SpooledRecord::kDaemonDatagram,
                  [&](SpoolBatch o) { answered.set_value(o); });
  EXPECT_EQ(answered.get_future().get(), SpoolBatch::kDone);
  EXPECT_EQ(store_.document_count(), 4u);
  EXPECT_EQ(CounterValue(registry_, "roentgen_segments_accepted_total", {}), 3u);
  EXPECT_EQ(
      CounterValue(registry_, "roentgen_segments_rejected_total", {{"reason", "MissingField"}}),
      2u);
  p.Stop();
}

// A spool's checkpoint may pass a batch only once the store has made it
// durable, which an engine committing in the background does after Write.
TEST_F(PipelineTest, SpooledBatchesAreDoneOnlyOnceDurable) {
  store_.HoldDurability(true);
  Pipeline p(PipelineConfig{}, store_, registry_);
  ASSERT_TRUE(p.Start().ok());
  std::vector<std::string> datagrams;
  for (uint64_t i = 1; i <= 10; ++i) {
    datagrams.push_back(Datagram(SegmentJson(TraceIdText(i), SegmentIdText(i), 1.0, 2.0)));
  }
  std::vector<std::string_view> views(datagrams.begin(), datagrams.end());
  std::promise<SpoolBatch> answered;
  auto answer = answered.get_future();
  p.SubmitSpooled(views, Pipeline::SpooledRecord::kDaemonDatagram,
                  [&](SpoolBatch outcome) { answered.set_value(outcome); });
  for (int i = 0; i < 500 && store_.document_count() < 10; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_EQ(store_.document_count(), 10u) << "stored and visible";
  EXPECT_EQ(answer.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout)
      << "done before durable";
  // The last write may still be between applying and holding its callback.
  for (int i = 0; i < 500 && answer.wait_for(std::chrono::milliseconds(10)) !=
                                 std::future_status::ready;
       ++i) {
    store_.ReleaseDurable();
  }
  EXPECT_EQ(answer.get(), SpoolBatch::kDone);
  p.Stop();
}

TEST_F(PipelineTest, SpooledDocumentsAreCountedAsHttpAndStored) {
  Pipeline p(PipelineConfig{}, store_, registry_);
  ASSERT_TRUE(p.Start().ok());
  std::vector<std::string> documents = {SegmentJson(TraceIdText(1), SegmentIdText(1), 1.0, 2.0),
                                        "{broken",
                                        SegmentJson(TraceIdText(2), SegmentIdText(2), 1.0, 2.0)};
  std::vector<std::string_view> views(documents.begin(), documents.end());
  std::promise<SpoolBatch> answered;
  p.SubmitSpooled(views, Pipeline::SpooledRecord::kDocument,
                  [&](SpoolBatch o) { answered.set_value(o); });
  EXPECT_EQ(answered.get_future().get(), SpoolBatch::kDone);
  EXPECT_EQ(store_.document_count(), 2u);
  EXPECT_EQ(CounterValue(registry_, "roentgen_segments_received_total", {{"transport", "http"}}),
            3u);
  EXPECT_EQ(
      CounterValue(registry_, "roentgen_segments_rejected_total", {{"reason", "MalformedJson"}}),
      1u);
  p.Stop();
}

// A store that refuses writes for now (its disk is full: Unavailable) or
// fails them with an I/O error: the spool is told to deliver the batch again,
// and nothing is counted as dropped. A failure that will not clear (here
// Corruption) is counted and the spool moves on.
TEST_F(PipelineTest, SpooledBatchesTheStoreCannotTakeNowAreToBeDeliveredAgain) {
  Pipeline p(PipelineConfig{}, store_, registry_);
  ASSERT_TRUE(p.Start().ok());
  std::vector<std::string> datagrams;
  for (uint64_t i = 1; i <= 10; ++i) {
    datagrams.push_back(Datagram(SegmentJson(TraceIdText(i), SegmentIdText(i), 1.0, 2.0)));
  }
  std::vector<std::string_view> views(datagrams.begin(), datagrams.end());
  auto submit = [&] {
    std::promise<SpoolBatch> answered;
    p.SubmitSpooled(views, Pipeline::SpooledRecord::kDaemonDatagram,
                    [&](SpoolBatch o) { answered.set_value(o); });
    return answered.get_future().get();
  };
  auto dropped = [&](const char* reason) {
    return CounterValue(registry_, "roentgen_segments_dropped_total", {{"reason", reason}});
  };
  store_.FailWrites(Status::Unavailable("the server's disk is full"));
  EXPECT_EQ(submit(), SpoolBatch::kRetryLater);
  store_.FailWrites(Status::IOError("an I/O error"));
  EXPECT_EQ(submit(), SpoolBatch::kRetryLater);
  EXPECT_EQ(dropped("disk_full") + dropped("store_error"), 0u);
  EXPECT_EQ(store_.document_count(), 0u);

  store_.FailWrites(Status::Corruption("a damaged record"));
  EXPECT_EQ(submit(), SpoolBatch::kDone);
  EXPECT_EQ(dropped("store_error"), 10u);

  store_.FailWrites(Status::Ok());
  EXPECT_EQ(submit(), SpoolBatch::kDone);
  EXPECT_EQ(store_.document_count(), 10u);
  p.Stop();
}

// Without a spool: PutTraceSegments gets the store's refusal (a 503), and
// datagrams are dropped and counted as disk_full.
TEST_F(PipelineTest, AFullDiskIsAnsweredAndCounted) {
  store_.FailWrites(Status::Unavailable("the server's disk is full"));
  Pipeline p(PipelineConfig{}, store_, registry_);
  ASSERT_TRUE(p.Start().ok());
  auto result = Submit(p, {SegmentJson(TraceIdText(1), SegmentIdText(1), 1.0, 2.0)}).get();
  EXPECT_EQ(result.status.code(), StatusCode::kUnavailable);
  for (uint64_t i = 1; i <= 5; ++i) {
    p.OnDatagram(Datagram(SegmentJson(TraceIdText(i), SegmentIdText(i), 1.0, 2.0)));
  }
  p.Stop();
  EXPECT_EQ(CounterValue(registry_, "roentgen_segments_dropped_total", {{"reason", "disk_full"}}),
            5u);
  EXPECT_EQ(CounterValue(registry_, "roentgen_segments_dropped_total", {{"reason", "store_error"}}),
            0u);
}

TEST_F(PipelineTest, StopDrainsEverythingQueuedAndThenRefuses) {
  PipelineConfig config;
  config.max_batch_documents = 16;
  Pipeline p(config, store_, registry_);
  ASSERT_TRUE(p.Start().ok());
  constexpr uint64_t kSent = 2000;
  for (uint64_t i = 1; i <= kSent; ++i) {
    p.OnDatagram(Datagram(SegmentJson(TraceIdText(i % 100), SegmentIdText(i), 1.0, 2.0)));
  }
  p.Stop();
  EXPECT_EQ(store_.document_count(), kSent);
  size_t batched = 0;
  for (size_t n : store_.batch_sizes()) {
    EXPECT_LE(n, 16u);
    batched += n;
  }
  EXPECT_EQ(batched, kSent);
  p.OnDatagram(Datagram(SegmentJson(TraceIdText(1), SegmentIdText(9999), 1.0, 2.0)));
  EXPECT_EQ(CounterValue(registry_, "roentgen_segments_dropped_total", {{"reason", "not_running"}}),
            1u);
  auto late = Submit(p, {SegmentJson(TraceIdText(1), SegmentIdText(9998), 1.0, 2.0)}).get();
  EXPECT_EQ(late.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(store_.document_count(), kSent);
  p.Stop();  // idempotent
}

// With low_priority_writers, a shard's writes of PutTraceSegments documents
// run at the process's priority while the writer keeps up, at the lowest once
// half its queue or more waits (a backlog), and at the process's again once
// the backlog is written; datagrams are always written at the lowest.
TEST_F(PipelineTest, LowPriorityWritersAreLowOnlyWhileABacklogWaits) {
  const int normal = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
  if (normal >= 19) GTEST_SKIP() << "the test already runs at the lowest priority";
  std::mutex mu;
  std::condition_variable cv;
  bool first_write = false;
  bool open = false;
  std::vector<int> nice_of_writes;
  store_.SetWriteHook([&] {
    std::unique_lock lock(mu);
    nice_of_writes.push_back(::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid())));
    first_write = true;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  });
  PipelineConfig config;
  config.writer_threads = 1;
  config.max_batch_documents = 8;
  config.queue_capacity = 16;  // the shard's queue holds 16: a backlog is 8
  config.low_priority_writers = true;
  Pipeline p(config, store_, registry_);
  ASSERT_TRUE(p.Start().ok());
  auto first = Submit(p, {SegmentJson(TraceIdText(1), SegmentIdText(1), 1.0, 2.0)});
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return first_write; });
  }
  // While that write waits, 16 documents queue up.
  std::vector<std::future<SubmitResult>> backlog;
  for (uint64_t r = 0; r < 4; ++r) {
    std::vector<std::string> docs;
    for (uint64_t d = 0; d < 4; ++d) {
      const uint64_t n = 10 + r * 4 + d;
      docs.push_back(SegmentJson(TraceIdText(n), SegmentIdText(n), 1.0, 2.0));
    }
    backlog.push_back(Submit(p, std::move(docs)));
  }
  {
    std::lock_guard lock(mu);
    open = true;
  }
  cv.notify_all();
  EXPECT_TRUE(first.get().status.ok());
  for (auto& f : backlog) EXPECT_TRUE(f.get().status.ok());
  EXPECT_TRUE(
      Submit(p, {SegmentJson(TraceIdText(2), SegmentIdText(2), 1.0, 2.0)}).get().status.ok());
  // Nobody waits for a datagram: it is written at the lowest priority.
  p.OnDatagram(Datagram(SegmentJson(TraceIdText(3), SegmentIdText(3), 1.0, 2.0)));
  p.Stop();  // drains the queues
  EXPECT_EQ(store_.document_count(), 19u);
  std::lock_guard lock(mu);
  // The first write, the backlog in two batches of 8, the last request, the datagram.
  EXPECT_EQ(nice_of_writes, (std::vector<int>{normal, 19, 19, normal, 19}));
}

TEST_F(PipelineTest, EachTraceHasOneWriterAcrossShards) {
  PipelineConfig config;
  config.writer_threads = 3;
  config.max_batch_documents = 4;  // many small batches: traces span batches
  Pipeline p(config, store_, registry_);
  ASSERT_TRUE(p.Start().ok());
  constexpr uint64_t kTraces = 40;
  constexpr uint64_t kSegmentsPerTrace = 5;
  for (uint64_t s = 0; s < kSegmentsPerTrace; ++s) {
    for (uint64_t t = 1; t <= kTraces; ++t) {
      p.OnDatagram(
          Datagram(SegmentJson(TraceIdText(t), SegmentIdText(t * 100 + s), 1.0 + s, 2.0 + s)));
    }
  }
  p.Stop();
  EXPECT_EQ(store_.document_count(), kTraces * kSegmentsPerTrace);
  for (uint64_t t = 1; t <= kTraces; ++t) {
    auto id = xray::TraceId::Parse(TraceIdText(t));
    ASSERT_TRUE(id.ok());
    auto record = store_.GetTrace(*id);
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    // Every segment is in the final record: no shard assembled the trace
    // without the documents another shard had written.
    EXPECT_EQ(record->summary.segment_count, kSegmentsPerTrace) << TraceIdText(t);
    EXPECT_EQ(record->summary.start_time_us, 1'000'000) << TraceIdText(t);
  }
}

TEST_F(PipelineTest, SubmitAcrossShardsCallsBackOnceWhenAllAreDurable) {
  PipelineConfig config;
  config.writer_threads = 4;
  Pipeline p(config, store_, registry_);
  ASSERT_TRUE(p.Start().ok());
  std::vector<std::string> docs;
  for (uint64_t t = 1; t <= 64; ++t) {
    docs.push_back(SegmentJson(TraceIdText(t), SegmentIdText(t), 1.0, 2.0));
  }
  std::atomic<int> calls{0};
  std::promise<SubmitResult> promise;
  p.Submit(docs, [&](Status s, std::vector<DocumentOutcome> o) {
    if (calls.fetch_add(1) == 0) {
      promise.set_value(SubmitResult{std::move(s), std::move(o), store_.document_count()});
    }
  });
  SubmitResult result = promise.get_future().get();
  p.Stop();
  EXPECT_EQ(calls.load(), 1);
  ASSERT_TRUE(result.status.ok()) << result.status.ToString();
  ASSERT_EQ(result.outcomes.size(), 64u);
  for (const auto& o : result.outcomes) EXPECT_TRUE(o.accepted);
  EXPECT_EQ(result.documents_stored_at_callback, 64u);
}

TEST_F(PipelineTest, WriterThreadsMustBeSensible) {
  PipelineConfig config;
  config.writer_threads = 0;
  EXPECT_EQ(config.Validate().code(), StatusCode::kInvalidArgument);
  config.writer_threads = 65;
  EXPECT_EQ(config.Validate().code(), StatusCode::kInvalidArgument);
  // Refused at Start, not by a crash while constructing.
  config.writer_threads = 0;
  Pipeline p(config, store_, registry_);
  EXPECT_EQ(p.Start().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace roentgen::ingest
