#include "ingest/spool.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace roentgen::ingest {
namespace {

namespace fs = std::filesystem;

const Labels kUdp = {{"spool", "udp"}};

uint64_t CounterValue(MetricsRegistry& r, std::string_view name, const Labels& labels = {}) {
  return r.GetCounter(name, "", labels).Value();
}

// A record whose bytes say which one it is, of varying size (empty included).
std::string Record(int i) {
  std::string r = "record-" + std::to_string(i) + ":";
  r.append(static_cast<size_t>((i * 37) % 1500), static_cast<char>('a' + i % 26));
  return i % 97 == 0 ? std::string() : r;
}

// Collects delivered records; answers each batch with `stored`.
class Collector {
 public:
  explicit Collector(bool stored = true) : stored_(stored) {}
  SpoolConsumer Consumer() {
    return [this](const std::vector<std::string_view>& records, SpoolDone done) {
      {
        std::lock_guard lock(mu_);
        for (std::string_view r : records) records_.emplace_back(r);
        ++batches_;
      }
      cv_.notify_all();
      done(stored_);
    };
  }
  bool WaitFor(size_t n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return records_.size() >= n; });
  }
  std::vector<std::string> records() {
    std::lock_guard lock(mu_);
    return records_;
  }

 private:
  const bool stored_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> records_;
  size_t batches_ = 0;
};

// A slow store: holds each batch's answer until the test gives it.
class HeldBatches {
 public:
  SpoolConsumer Consumer() {
    return [this](const std::vector<std::string_view>&, SpoolDone done) {
      std::lock_guard lock(mu_);
      held_.push_back(std::move(done));
    };
  }
  // Answers every batch held so far as stored.
  void AnswerAll() {
    std::vector<SpoolDone> done;
    {
      std::lock_guard lock(mu_);
      done.swap(held_);
    }
    for (SpoolDone& d : done) d(true);
  }
  // Stops `spool`, answering what it delivers meanwhile (Stop waits for it).
  void StopAnswering(Spool& spool) {
    std::atomic<bool> stopped{false};
    std::thread answer([&] {
      while (!stopped.load()) {
        AnswerAll();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    });
    spool.Stop();
    stopped = true;
    answer.join();
  }

 private:
  std::mutex mu_;
  std::vector<SpoolDone> held_;
};

std::vector<std::string> Records(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back(Record(i));
  return out;
}

std::vector<fs::path> SpoolFiles(const std::string& dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".spool") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            ("roentgen-spool-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  SpoolConfig Config() const {
    SpoolConfig c;
    c.dir = dir_;
    c.file_bytes = 64 << 10;  // several files per test
    c.max_bytes = 64 << 20;
    c.checkpoint_interval = std::chrono::milliseconds(10);
    return c;
  }
  // Opens a spool, appends `records` (waiting until they are durable), and
  // stops it with nothing stored: a consumer that refuses every batch.
  void SpoolWithoutStoring(const std::vector<std::string>& records) {
    MetricsRegistry metrics;
    Collector refuse(false);
    Spool spool(Config(), refuse.Consumer(), metrics);
    ASSERT_TRUE(spool.Open().ok());
    for (const std::string& r : records) ASSERT_TRUE(spool.Append(r));
    spool.Stop();
  }
  // Opens the spool again with a consumer that stores every batch, appends
  // `then` (if given), waits until `count` records have been delivered, stops
  // it, and returns what was delivered, in order.
  std::vector<std::string> Reopen(MetricsRegistry& metrics, size_t count,
                                  std::optional<std::string> then = std::nullopt) {
    Collector collector;
    Spool spool(Config(), collector.Consumer(), metrics);
    EXPECT_TRUE(spool.Open().ok());
    if (then) {
      EXPECT_TRUE(spool.Append(*then));
    }
    EXPECT_TRUE(collector.WaitFor(count)) << "fewer than " << count << " records delivered";
    spool.Stop();
    return collector.records();
  }

  std::string dir_;
};

TEST_F(SpoolTest, ConfigValidation) {
  SpoolConfig c = Config();
  EXPECT_TRUE(c.Validate().ok());
  c.dir.clear();
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
  c = Config();
  c.max_bytes = c.file_bytes - 1;
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
  c = Config();
  c.max_unwritten_bytes = 1000;
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
  c = Config();
  c.read_batch = 0;
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);
}

TEST_F(SpoolTest, DeliversEveryRecordInOrderAcrossFilesAndDeletesStoredFiles) {
  MetricsRegistry metrics;
  Collector collector;
  std::vector<std::string> expected = Records(0, 3000);
  expected.push_back(std::string(64 << 10, 'x'));  // the largest datagram
  {
    Spool spool(Config(), collector.Consumer(), metrics);
    ASSERT_TRUE(spool.Open().ok());
    for (const std::string& r : expected) ASSERT_TRUE(spool.Append(r));
    ASSERT_TRUE(collector.WaitFor(expected.size()));
    spool.Stop();
    EXPECT_EQ(spool.durable_records(), expected.size());
  }
  EXPECT_EQ(collector.records(), expected);
  EXPECT_EQ(CounterValue(metrics, "roentgen_spool_appended_total", kUdp), expected.size());
  EXPECT_EQ(metrics.GetGauge("roentgen_spool_backlog_bytes", "", kUdp).Value(), 0);
  // ~2.4 MB in 64 KB files: every file but the last is stored and deleted.
  EXPECT_LE(SpoolFiles(dir_).size(), 1u);
  EXPECT_TRUE(fs::exists(fs::path(dir_) / "checkpoint"));

  // Stored records are not delivered again.
  MetricsRegistry metrics2;
  Collector again;
  Spool spool(Config(), again.Consumer(), metrics2);
  ASSERT_TRUE(spool.Open().ok());
  ASSERT_TRUE(spool.Append("after"));
  ASSERT_TRUE(again.WaitFor(1));
  spool.Stop();
  EXPECT_EQ(again.records(), std::vector<std::string>{"after"});
}

TEST_F(SpoolTest, RecordsNotTakenAreDeliveredByTheNextOpen) {
  const std::vector<std::string> expected = Records(0, 500);
  SpoolWithoutStoring(expected);
  MetricsRegistry metrics;
  std::vector<std::string> all = expected;
  all.push_back("new");
  EXPECT_EQ(Reopen(metrics, all.size(), "new"), all);
}

// The process dies with records durable but not stored (as kill -9 would
// leave it): the next Open delivers all of them.
TEST_F(SpoolTest, DurableRecordsSurviveTheProcessDying) {
  const std::vector<std::string> expected = Records(0, 2000);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    MetricsRegistry metrics;
    // Never answers: nothing is stored, so the checkpoint never moves.
    Spool* spool = new Spool(
        Config(), [](const std::vector<std::string_view>&, SpoolDone) {}, metrics);
    if (!spool->Open().ok()) ::_exit(2);
    for (const std::string& r : expected) {
      if (!spool->Append(r)) ::_exit(3);
    }
    while (spool->durable_records() < expected.size()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ::_exit(0);  // no destructor, no Stop: only what is on disk remains
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);

  MetricsRegistry metrics;
  EXPECT_EQ(Reopen(metrics, expected.size()), expected);
  EXPECT_EQ(CounterValue(metrics, "roentgen_spool_discarded_bytes_total", kUdp), 0u);
}

TEST_F(SpoolTest, ATornTailIsSkippedAndCounted) {
  const std::vector<std::string> expected = Records(1, 11);
  SpoolWithoutStoring(expected);
  std::vector<fs::path> files = SpoolFiles(dir_);
  ASSERT_EQ(files.size(), 1u);
  {
    // A record header promising 1000 bytes, then only 10 of them.
    std::ofstream out(files.back(), std::ios::binary | std::ios::app);
    const char torn[18] = {static_cast<char>(0xe8), 0x03, 0, 0, 1, 2, 3, 4};
    out.write(torn, sizeof(torn));
  }
  MetricsRegistry metrics;
  std::vector<std::string> all = expected;
  all.push_back("next");
  EXPECT_EQ(Reopen(metrics, all.size(), "next"), all);
  EXPECT_EQ(CounterValue(metrics, "roentgen_spool_discarded_bytes_total", kUdp), 18u);
  EXPECT_EQ(metrics.GetGauge("roentgen_spool_backlog_bytes", "", kUdp).Value(), 0);
}

TEST_F(SpoolTest, ARecordFailingItsChecksumEndsItsFile) {
  const std::vector<std::string> expected = {"first", "second", "third", "fourth"};
  SpoolWithoutStoring(expected);
  std::vector<fs::path> files = SpoolFiles(dir_);
  ASSERT_EQ(files.size(), 1u);
  {
    // Flip a byte of "third": 8 (magic) + 13 + 14 bytes in, then its 8-byte header.
    std::fstream f(files.back(), std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(8 + 13 + 14 + 8);
    f.put('T');
  }
  MetricsRegistry metrics;
  EXPECT_EQ(Reopen(metrics, 3, "next"), (std::vector<std::string>{"first", "second", "next"}));
  EXPECT_EQ(CounterValue(metrics, "roentgen_spool_discarded_bytes_total", kUdp), 13u + 14u);
}

TEST_F(SpoolTest, ADamagedCheckpointReplaysEverySpooledRecord) {
  const std::vector<std::string> expected = Records(0, 50);
  SpoolWithoutStoring(expected);
  std::ofstream(fs::path(dir_) / "checkpoint", std::ios::binary | std::ios::trunc) << "garbage";
  MetricsRegistry metrics;
  EXPECT_EQ(Reopen(metrics, expected.size()), expected);
}

TEST_F(SpoolTest, AFullSpoolDropsAndCountsWithoutBlocking) {
  SpoolConfig config = Config();
  config.file_bytes = 4096;
  config.max_bytes = 16 << 10;
  MetricsRegistry metrics;
  HeldBatches held;  // the store is "slow": nothing is stored yet
  Spool spool(config, held.Consumer(), metrics);
  ASSERT_TRUE(spool.Open().ok());
  const std::string record(1000, 'r');
  size_t accepted = 0;
  for (int i = 0; i < 100; ++i) accepted += spool.Append(record) ? 1 : 0;
  EXPECT_GT(accepted, 10u);
  EXPECT_LT(accepted, 17u);  // 16 KB of 1008-byte framed records
  EXPECT_EQ(CounterValue(metrics, "roentgen_segments_dropped_total", {{"reason", "spool_full"}}),
            100u - accepted);
  // Once stored, the space is free again.
  while (spool.durable_records() < accepted)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  for (int tries = 0; tries < 2000; ++tries) {
    held.AnswerAll();
    if (metrics.GetGauge("roentgen_spool_backlog_bytes", "", kUdp).Value() == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(metrics.GetGauge("roentgen_spool_backlog_bytes", "", kUdp).Value(), 0);
  EXPECT_TRUE(spool.Append(record));
  held.StopAnswering(spool);  // Stop waits for the last record's batch
  EXPECT_EQ(spool.durable_records(), accepted + 1);
}

TEST_F(SpoolTest, StopDrainsForDrainTimeoutAtMostAndKeepsTheRest) {
  const std::vector<std::string> expected = Records(0, 400);
  std::vector<std::string> first_run;
  {
    SpoolConfig config = Config();
    config.read_batch = 10;
    config.drain_timeout = std::chrono::milliseconds(0);
    MetricsRegistry metrics;
    std::mutex mu;
    Spool spool(
        config,
        [&](const std::vector<std::string_view>& records, SpoolDone done) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));  // a slow store
          std::lock_guard lock(mu);
          for (std::string_view r : records) first_run.emplace_back(r);
          done(true);
        },
        metrics);
    ASSERT_TRUE(spool.Open().ok());
    for (const std::string& r : expected) ASSERT_TRUE(spool.Append(r));
    while (spool.durable_records() < expected.size()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const auto t0 = std::chrono::steady_clock::now();
    spool.Stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(150));
  }
  ASSERT_LT(first_run.size(), expected.size());
  MetricsRegistry metrics;
  std::vector<std::string> all = first_run;
  for (std::string& r : Reopen(metrics, expected.size() - first_run.size())) {
    all.push_back(std::move(r));
  }
  EXPECT_EQ(all, expected);  // each record once, in order
}

TEST_F(SpoolTest, AppendDurableAnswersOnceDurableAndDeliversInOrder) {
  MetricsRegistry metrics;
  Collector collector;
  Spool spool(Config(), collector.Consumer(), metrics);
  ASSERT_TRUE(spool.Open().ok());
  ASSERT_TRUE(spool.Append("datagram"));
  std::promise<std::pair<Status, uint64_t>> durable;
  ASSERT_TRUE(spool
                  .AppendDurable({"doc-1", "doc-2", ""},
                                 [&](Status s) {
                                   durable.set_value({s, spool.durable_records()});
                                 })
                  .ok());
  auto [status, durable_at_answer] = durable.get_future().get();
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(durable_at_answer, 4u);  // answered after the fdatasync, not before
  ASSERT_TRUE(collector.WaitFor(4));
  spool.Stop();
  EXPECT_EQ(collector.records(), (std::vector<std::string>{"datagram", "doc-1", "doc-2", ""}));
}

TEST_F(SpoolTest, AppendDurableRefusesWhenFullOrStoppedWithoutAnswering) {
  SpoolConfig config = Config();
  config.file_bytes = 4096;
  config.max_bytes = 8192;
  MetricsRegistry metrics;
  HeldBatches held;
  Spool spool(config, held.Consumer(), metrics);
  ASSERT_TRUE(spool.Open().ok());
  std::atomic<int> answers{0};
  auto count = [&](Status) { ++answers; };
  ASSERT_TRUE(spool.AppendDurable({std::string(5000, 'a')}, count).ok());
  // All or nothing: 2 × 2 KB more than fit.
  EXPECT_EQ(spool.AppendDurable({std::string(2000, 'b'), std::string(2000, 'c')}, count).code(),
            StatusCode::kResourceExhausted);
  while (answers.load() < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(spool.durable_records(), 1u);
  held.StopAnswering(spool);  // Stop waits for the delivered batch to be answered
  EXPECT_EQ(spool.AppendDurable({"late"}, count).code(), StatusCode::kUnavailable);
  EXPECT_EQ(answers.load(), 1);
}

TEST_F(SpoolTest, ASlowFdatasyncHoldsUpDurabilityNotAppends) {
  SpoolConfig config = Config();
  config.max_unwritten_bytes = 128 << 10;  // far less than the records below
  config.group_bytes = 16 << 10;
  std::mutex mu;
  std::condition_variable cv;
  bool disk_stalled = true;
  int syncs_waiting = 0;
  config.before_sync = [&](uint64_t) {
    std::unique_lock lock(mu);
    ++syncs_waiting;
    cv.notify_all();
    cv.wait(lock, [&] { return !disk_stalled; });
    return Status::Ok();
  };
  MetricsRegistry metrics;
  Collector collector;
  Spool spool(config, collector.Consumer(), metrics);
  ASSERT_TRUE(spool.Open().ok());
  const std::vector<std::string> expected = Records(0, 2000);  // ~1.5 MB
  for (size_t i = 0; i < expected.size(); ++i) {
    ASSERT_TRUE(spool.Append(expected[i])) << "record " << i << " dropped";
    // Bursts of 100 (~75 KB) with time for the write thread between them.
    if (i % 100 == 99) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return syncs_waiting > 0; });
  }
  EXPECT_EQ(spool.durable_records(), 0u);  // written, not yet synced
  EXPECT_TRUE(collector.records().empty());
  {
    std::lock_guard lock(mu);
    disk_stalled = false;
  }
  cv.notify_all();
  ASSERT_TRUE(collector.WaitFor(expected.size()));
  spool.Stop();
  EXPECT_EQ(collector.records(), expected);
  EXPECT_EQ(CounterValue(metrics, "roentgen_segments_dropped_total", {{"reason", "spool_full"}}),
            0u);
}

TEST_F(SpoolTest, AFailedFdatasyncFailsWhatItCoveredAndGoesOnInANewFile) {
  SpoolConfig config = Config();
  config.min_sync_interval = std::chrono::seconds(1);  // groups close on AppendDurable
  std::atomic<bool> fail_next_sync{false};
  config.before_sync = [&](uint64_t file) {
    return fail_next_sync.exchange(false)
               ? Status::IOError(fmt::format("injected fdatasync failure of file {}", file))
               : Status::Ok();
  };
  auto append_durable = [](Spool& spool, std::vector<std::string> records) {
    std::promise<Status> answer;
    Status s = spool.AppendDurable(records, [&](Status st) { answer.set_value(st); });
    return s.ok() ? answer.get_future().get() : s;
  };
  {
    MetricsRegistry metrics;
    Collector refuse(false);  // nothing stored: everything is replayed below
    Spool spool(config, refuse.Consumer(), metrics);
    ASSERT_TRUE(spool.Open().ok());
    ASSERT_TRUE(append_durable(spool, {"a1", "a2"}).ok());
    fail_next_sync = true;
    ASSERT_TRUE(spool.Append("b1"));  // in the same group as b2, b3
    const Status failed = append_durable(spool, {"b2", "b3"});
    EXPECT_EQ(failed.code(), StatusCode::kIOError);
    EXPECT_NE(failed.message().find("injected fdatasync failure of file 1"), std::string::npos)
        << failed.message();
    EXPECT_EQ(
        CounterValue(metrics, "roentgen_segments_dropped_total", {{"reason", "spool_write_error"}}),
        1u);  // b1; the callers of b2, b3 were told
    ASSERT_TRUE(spool.Append("c1"));
    ASSERT_TRUE(append_durable(spool, {"d1"}).ok());
    EXPECT_EQ(spool.durable_records(), 4u);
    spool.Stop();
  }
  // File 1 was cut back to its last good sync; the rest went to file 2.
  EXPECT_EQ(SpoolFiles(dir_).size(), 2u);
  MetricsRegistry metrics;
  EXPECT_EQ(Reopen(metrics, 4), (std::vector<std::string>{"a1", "a2", "c1", "d1"}));
  EXPECT_EQ(CounterValue(metrics, "roentgen_spool_discarded_bytes_total", kUdp), 0u);
}

TEST_F(SpoolTest, AppendAfterStopIsCountedAsNotRunning) {
  MetricsRegistry metrics;
  Collector collector;
  Spool spool(Config(), collector.Consumer(), metrics);
  EXPECT_FALSE(spool.Append("before open"));
  ASSERT_TRUE(spool.Open().ok());
  spool.Stop();
  EXPECT_FALSE(spool.Append("after stop"));
  EXPECT_EQ(CounterValue(metrics, "roentgen_segments_dropped_total", {{"reason", "not_running"}}),
            2u);
}

TEST_F(SpoolTest, AnUnusableDirectoryIsAnError) {
  std::ofstream(dir_) << "a file, not a directory";
  MetricsRegistry metrics;
  Collector collector;
  Spool spool(Config(), collector.Consumer(), metrics);
  EXPECT_EQ(spool.Open().code(), StatusCode::kIOError);
  fs::remove(dir_);
}

}  // namespace
}  // namespace roentgen::ingest
