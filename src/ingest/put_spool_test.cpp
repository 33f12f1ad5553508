#include "ingest/put_spool.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <thread>

#include "ingest/testing/counters.h"
#include "ingest/testing/fake_store.h"
#include "ingest/testing/segments.h"

namespace roentgen::ingest {
namespace {

namespace fs = std::filesystem;
using testing::FakeStore;
using testing::SegmentIdText;
using testing::CounterValue;
using testing::SegmentJson;
using testing::TraceIdText;

struct Answer {
  Status status;
  std::vector<DocumentOutcome> outcomes;
  size_t stored_at_answer = 0;  // documents the store held when the answer came
};

int64_t DiskFull(MetricsRegistry& r) {
  return r.GetGauge("roentgen_disk_full", "", {{"component", "api_spool"}}).Value();
}

// Waits up to 5 s for `done`.
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 2500; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return done();
}

class PutSpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("roentgen-put-spool-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
    fs::remove_all(dir_ + "-copy");
  }
  void TearDown() override {
    fs::remove_all(dir_);
    fs::remove_all(dir_ + "-copy");
  }

  SpoolConfig Config(const std::string& dir) const {
    SpoolConfig c;
    c.name = "api";
    c.dir = dir;
    c.file_bytes = 64 << 10;
    c.max_bytes = 64 << 20;
    c.checkpoint_interval = std::chrono::milliseconds(10);
    c.drain_timeout = std::chrono::milliseconds(2000);
    return c;
  }

  static std::future<Answer> Submit(PutSpool& spool, const FakeStore& store,
                                    std::vector<std::string> documents) {
    auto promise = std::make_shared<std::promise<Answer>>();
    auto future = promise->get_future();
    spool.Submit(
        std::move(documents), [promise, &store](Status s, std::vector<DocumentOutcome> outcomes) {
          promise->set_value(Answer{std::move(s), std::move(outcomes), store.document_count()});
        });
    return future;
  }

  static std::string Doc(uint64_t n) {
    return SegmentJson(TraceIdText(n), SegmentIdText(n), 1.0, 2.0);
  }

  std::string dir_;
  MetricsRegistry metrics_;
};

// The answer comes once the documents are applied (readable), without
// waiting for the store to make them durable; the spool's checkpoint waits
// for that, so a crash at this point replays them.
TEST_F(PutSpoolTest, AnswersOnceAppliedAndReplaysWhatTheStoreHadNotMadeDurable) {
  FakeStore store;
  store.HoldDurability(true);
  Pipeline pipeline(PipelineConfig{}, store, metrics_);
  ASSERT_TRUE(pipeline.Start().ok());
  PutSpool spool(Config(dir_), pipeline, metrics_);
  ASSERT_TRUE(spool.Open().ok());

  std::future<Answer> answer = Submit(spool, store, {Doc(1), "{broken", Doc(2)});
  ASSERT_EQ(answer.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  Answer a = answer.get();
  ASSERT_TRUE(a.status.ok()) << a.status.ToString();
  ASSERT_EQ(a.outcomes.size(), 3u);
  EXPECT_TRUE(a.outcomes[0].accepted);
  EXPECT_EQ(a.outcomes[0].id, SegmentIdText(1));
  EXPECT_FALSE(a.outcomes[1].accepted);
  EXPECT_EQ(a.outcomes[1].error_code, "MalformedJson");
  EXPECT_TRUE(a.outcomes[2].accepted);
  EXPECT_EQ(a.stored_at_answer, 2u) << "answered before the documents were applied";
  Result<std::vector<store::StoredDocument>> read =
      store.GetDocuments(*xray::TraceId::Parse(TraceIdText(2)));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->size(), 1u);
  EXPECT_GT(store.durable_pending(), 0u) << "the store has not made them durable";

  // A crash now: the spool directory as it is on disk.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // checkpoint intervals
  fs::copy(dir_, dir_ + "-copy", fs::copy_options::recursive);
  {
    FakeStore restarted;
    MetricsRegistry metrics;
    Pipeline p(PipelineConfig{}, restarted, metrics);
    ASSERT_TRUE(p.Start().ok());
    PutSpool replay(Config(dir_ + "-copy"), p, metrics);
    ASSERT_TRUE(replay.Open().ok());
    EXPECT_TRUE(Eventually([&] { return restarted.document_count() == 2; }))
        << "the spooled documents were not replayed: " << restarted.document_count();
    replay.Stop();
    p.Stop();
  }

  // Once durable, the checkpoint passes them: nothing is replayed.
  store.HoldDurability(false);
  store.ReleaseDurable();
  spool.Stop();
  pipeline.Stop();
  {
    FakeStore restarted;
    MetricsRegistry metrics;
    Pipeline p(PipelineConfig{}, restarted, metrics);
    ASSERT_TRUE(p.Start().ok());
    PutSpool replay(Config(dir_), p, metrics);
    ASSERT_TRUE(replay.Open().ok());
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    EXPECT_EQ(restarted.document_count(), 0u);
  }
  EXPECT_EQ(CounterValue(metrics_, "roentgen_segments_received_total", {{"transport", "http"}}),
            3u);
  EXPECT_EQ(CounterValue(metrics_, "roentgen_spool_appended_total", {{"spool", "api"}}), 2u);
}

TEST_F(PutSpoolTest, ARequestWithNoValidDocumentIsAnsweredAtOnce) {
  FakeStore store;
  Pipeline pipeline(PipelineConfig{}, store, metrics_);
  ASSERT_TRUE(pipeline.Start().ok());
  PutSpool spool(Config(dir_), pipeline, metrics_);
  ASSERT_TRUE(spool.Open().ok());
  Answer a = Submit(spool, store, {"{broken", R"({"id":"x"})"}).get();
  ASSERT_TRUE(a.status.ok());
  ASSERT_EQ(a.outcomes.size(), 2u);
  EXPECT_FALSE(a.outcomes[0].accepted);
  EXPECT_FALSE(a.outcomes[1].accepted);
  EXPECT_EQ(CounterValue(metrics_, "roentgen_spool_appended_total", {{"spool", "api"}}), 0u);
}

TEST_F(PutSpoolTest, AFullSpoolRefusesTheRequestAndCountsIt) {
  FakeStore store;
  Pipeline pipeline(PipelineConfig{}, store, metrics_);
  ASSERT_TRUE(pipeline.Start().ok());
  SpoolConfig config = Config(dir_);
  config.max_bytes = 4096;
  config.file_bytes = 4096;
  PutSpool spool(config, pipeline, metrics_);
  ASSERT_TRUE(spool.Open().ok());
  std::vector<std::string> documents;
  for (uint64_t i = 1; i <= 100; ++i) documents.push_back(Doc(i));  // ~10 KB
  Answer a = Submit(spool, store, documents).get();
  EXPECT_EQ(a.status.code(), StatusCode::kResourceExhausted) << a.status.ToString();
  EXPECT_NE(a.status.message().find("api spool is full"), std::string::npos);
  EXPECT_EQ(CounterValue(metrics_, "roentgen_segments_dropped_total", {{"reason", "spool_full"}}),
            100u);
  // A request that fits is still taken.
  Answer small = Submit(spool, store, {Doc(1)}).get();
  EXPECT_TRUE(small.status.ok()) << small.status.ToString();
  EXPECT_EQ(store.document_count(), 1u);
}

// A spool that cannot sync (a full disk) answers Unavailable (503): nothing
// was acknowledged.
TEST_F(PutSpoolTest, ASpoolThatCannotSyncAnswersUnavailable) {
  FakeStore store;
  Pipeline pipeline(PipelineConfig{}, store, metrics_);
  ASSERT_TRUE(pipeline.Start().ok());
  SpoolConfig config = Config(dir_);
  config.before_sync = [](uint64_t) {
    return Status::ResourceExhausted("No space left on device");
  };
  PutSpool spool(config, pipeline, metrics_);
  ASSERT_TRUE(spool.Open().ok());
  Answer a = Submit(spool, store, {Doc(1)}).get();
  EXPECT_EQ(a.status.code(), StatusCode::kUnavailable) << a.status.ToString();
  EXPECT_EQ(DiskFull(metrics_), 1);
}

// A store that refuses writes (its disk is full) fails the request as the
// direct path does; the documents stay in the spool and are stored once the
// store takes writes again.
TEST_F(PutSpoolTest, AStoreFailureFailsTheRequestAndTheSpoolRetries) {
  FakeStore store;
  store.FailWrites(Status::Unavailable("the store's disk is full"));
  Pipeline pipeline(PipelineConfig{}, store, metrics_);
  ASSERT_TRUE(pipeline.Start().ok());
  SpoolConfig config = Config(dir_);
  config.retry_interval = std::chrono::milliseconds(10);
  PutSpool spool(config, pipeline, metrics_);
  ASSERT_TRUE(spool.Open().ok());
  Answer a = Submit(spool, store, {Doc(1), Doc(2)}).get();
  EXPECT_EQ(a.status.code(), StatusCode::kUnavailable) << a.status.ToString();
  EXPECT_EQ(store.document_count(), 0u);
  store.FailWrites(Status::Ok());
  EXPECT_TRUE(Eventually([&] { return store.document_count() == 2; }));
}

// Requests whose documents straddle the spool's batches, one of whose
// writes the store refuses (the spool delivers from its first record not
// stored again): each stored document is the one its request sent.
TEST_F(PutSpoolTest, DocumentsAreStoredAsSentAcrossBatchesAndRetries) {
  FakeStore store;
  std::atomic<int> writes{0};
  store.SetWriteHook([&] {
    // The third write is refused (a full disk for a moment); the spool
    // delivers from its first record again.
    const int n = ++writes;
    store.FailWrites(n == 3 ? Status::Unavailable("the store's disk is full") : Status::Ok());
  });
  PipelineConfig pipeline_config;
  pipeline_config.max_batch_documents = 5;  // many writes
  Pipeline pipeline(pipeline_config, store, metrics_);
  ASSERT_TRUE(pipeline.Start().ok());
  SpoolConfig config = Config(dir_);
  config.read_batch = 7;    // requests straddle batches
  config.compress = false;  // batches of exactly read_batch records
  config.retry_interval = std::chrono::milliseconds(10);
  PutSpool spool(config, pipeline, metrics_);
  ASSERT_TRUE(spool.Open().ok());
  std::vector<std::future<Answer>> answers;
  std::vector<std::string> sent;
  for (int request = 0; request < 4; ++request) {
    std::vector<std::string> documents;
    for (int i = 0; i < 25; ++i) {
      const uint64_t n = 1000 + request * 100 + i;
      // Each document's own duration: a document stored in another's
      // place would show it.
      documents.push_back(SegmentJson(TraceIdText(n), SegmentIdText(n), 1.0, 2.0 + i));
      sent.push_back(documents.back());
    }
    documents.push_back("{broken");
    answers.push_back(Submit(spool, store, std::move(documents)));
  }
  size_t refused = 0;
  for (std::future<Answer>& answer : answers) {
    ASSERT_EQ(answer.wait_for(std::chrono::seconds(10)), std::future_status::ready);
    const Answer a = answer.get();
    if (!a.status.ok()) ++refused;
    ASSERT_EQ(a.outcomes.size(), 26u);
    EXPECT_FALSE(a.outcomes.back().accepted);
  }
  EXPECT_GE(refused, 1u);
  ASSERT_TRUE(Eventually([&] { return store.document_count() == sent.size(); }))
      << store.document_count();
  for (int request = 0; request < 4; ++request) {
    for (int i = 0; i < 25; ++i) {
      const uint64_t n = 1000 + request * 100 + i;
      Result<std::vector<store::StoredDocument>> read =
          store.GetDocuments(*xray::TraceId::Parse(TraceIdText(n)));
      ASSERT_TRUE(read.ok());
      ASSERT_EQ(read->size(), 1u) << n;
      EXPECT_EQ((*read)[0].raw, sent[static_cast<size_t>(request * 25 + i)]) << n;
    }
  }
}

TEST_F(PutSpoolTest, StopAnswersTheWaitingRequests) {
  FakeStore store;
  Pipeline pipeline(PipelineConfig{}, store, metrics_);
  ASSERT_TRUE(pipeline.Start().ok());
  PutSpool spool(Config(dir_), pipeline, metrics_);
  ASSERT_TRUE(spool.Open().ok());
  spool.Stop();
  Answer a = Submit(spool, store, {Doc(1)}).get();
  EXPECT_EQ(a.status.code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace roentgen::ingest
