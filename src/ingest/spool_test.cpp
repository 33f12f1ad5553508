#include "ingest/spool.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/testing/small_disk.h"
#include "ingest/testing/counters.h"

namespace roentgen::ingest {
namespace {

namespace fs = std::filesystem;
using testing::CounterValue;

const Labels kUdp = {{"spool", "udp"}};

// A record whose bytes say which one it is, of varying size (empty included).
std::string Record(int i) {
  std::string r = "record-" + std::to_string(i) + ":";
  r.append(static_cast<size_t>((i * 37) % 1500), static_cast<char>('a' + i % 26));
  return i % 97 == 0 ? std::string() : r;
}

// Collects delivered records; answers each batch with `outcome`.
class Collector {
 public:
  explicit Collector(SpoolBatch outcome = SpoolBatch::kDone) : outcome_(outcome) {}
  SpoolConsumer Consumer() {
    return [this](const std::vector<std::string_view>& records, SpoolDone done) {
      {
        std::lock_guard lock(mu_);
        for (std::string_view r : records) records_.emplace_back(r);
        ++batches_;
      }
      cv_.notify_all();
      done(outcome_);
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
  const SpoolBatch outcome_;
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
    for (SpoolDone& d : done) d(SpoolBatch::kDone);
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
    c.compress = compress_;
    return c;
  }
  // Opens a spool, appends `records` (waiting until they are durable), and
  // stops it with nothing stored: a consumer that refuses every batch.
  void SpoolWithoutStoring(const std::vector<std::string>& records) {
    MetricsRegistry metrics;
    Collector refuse(SpoolBatch::kNotTaken);
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
  bool compress_ = true;  // Config()'s
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
  compress_ = false;  // one record per appended one, at known offsets
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

// Appends each group of `groups` with AppendDurable, waiting for it: one
// written group, and so one block, each.
void AppendGroupsDurably(Spool& spool, const std::vector<std::vector<std::string>>& groups) {
  for (const std::vector<std::string>& group : groups) {
    std::promise<Status> answer;
    const Status s = spool.AppendDurable(group, [&](Status st) { answer.set_value(st); });
    ASSERT_TRUE(s.ok()) << s.message();
    const Status durable = answer.get_future().get();
    ASSERT_TRUE(durable.ok()) << durable.message();
  }
}

TEST_F(SpoolTest, ABlockFailingItsChecksumEndsItsFile) {
  {
    MetricsRegistry metrics;
    Collector refuse(SpoolBatch::kNotTaken);
    Spool spool(Config(), refuse.Consumer(), metrics);
    ASSERT_TRUE(spool.Open().ok());
    AppendGroupsDurably(spool, {{"first", "second"}, {"third", "fourth"}, {"fifth"}});
    spool.Stop();
  }
  std::vector<fs::path> files = SpoolFiles(dir_);
  ASSERT_EQ(files.size(), 1u);
  // Three blocks of one record each (the spool's records are its blocks):
  // damage the second.
  std::string bytes;
  {
    std::ifstream in(files.back(), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_EQ(bytes.substr(0, 8), "RGSPOOL2");
  auto record_bytes = [&](size_t at) {
    return 8 + static_cast<size_t>(static_cast<uint8_t>(bytes[at])) +
           (static_cast<size_t>(static_cast<uint8_t>(bytes[at + 1])) << 8);
  };
  const size_t second = 8 + record_bytes(8);
  const size_t third = second + record_bytes(second);
  ASSERT_LT(third, bytes.size());
  {
    std::fstream f(files.back(), std::ios::binary | std::ios::in | std::ios::out);
    f.seekp(static_cast<std::streamoff>(second + 8 + 6));
    f.put(static_cast<char>(bytes[second + 8 + 6] ^ 0x10));
  }
  MetricsRegistry metrics;
  EXPECT_EQ(Reopen(metrics, 3, "next"), (std::vector<std::string>{"first", "second", "next"}));
  EXPECT_EQ(CounterValue(metrics, "roentgen_spool_discarded_bytes_total", kUdp),
            bytes.size() - second);
}

// A spool written as records (by a server before blocks, or with compress
// off) is delivered first, then what is appended to its new file of blocks.
TEST_F(SpoolTest, AFileOfRecordsIsDeliveredBeforeTheNewFileOfBlocks) {
  compress_ = false;
  const std::vector<std::string> before = Records(0, 200);
  SpoolWithoutStoring(before);
  compress_ = true;
  MetricsRegistry metrics;
  std::vector<std::string> all = before;
  all.push_back("next");
  EXPECT_EQ(Reopen(metrics, all.size(), "next"), all);
  std::vector<std::string> magics;
  for (const fs::path& file : SpoolFiles(dir_)) {
    std::ifstream in(file, std::ios::binary);
    std::string magic(8, '\0');
    in.read(magic.data(), 8);
    magics.push_back(magic);
  }
  // Stored and checkpointed: only the newest file is left, of blocks.
  EXPECT_EQ(magics, std::vector<std::string>{"RGSPOOL2"});
  EXPECT_EQ(CounterValue(metrics, "roentgen_spool_discarded_bytes_total", kUdp), 0u);
}

// max_bytes bounds the spool's bytes on disk: compressed, it holds more
// records than it has bytes.
TEST_F(SpoolTest, ASpoolOfBlocksHoldsMoreThanItsBytesOfRecords) {
  SpoolConfig config = Config();
  config.file_bytes = 4096;
  config.max_bytes = 16 << 10;
  MetricsRegistry metrics;
  HeldBatches held;  // nothing is stored until the end
  Spool spool(config, held.Consumer(), metrics);
  ASSERT_TRUE(spool.Open().ok());
  std::vector<std::vector<std::string>> groups;
  for (int i = 0; i < 10; ++i) {
    std::vector<std::string> group;
    for (int j = 0; j < 10; ++j) {
      group.push_back(fmt::format(R"({{"trace_id":"1-5f84c7a1-{:024x}","name":"api",)"
                                  R"("annotations":{{"email":"user{}@example.com"}}}})",
                                  i * 10 + j, j) +
                      std::string(900, ' '));
    }
    groups.push_back(std::move(group));
  }
  AppendGroupsDurably(spool, groups);  // 100 records of ~1 KB: 96 KiB
  EXPECT_EQ(CounterValue(metrics, "roentgen_segments_dropped_total", {{"reason", "spool_full"}}),
            0u);
  const int64_t backlog = metrics.GetGauge("roentgen_spool_backlog_bytes", "", kUdp).Value();
  EXPECT_GT(backlog, 0);
  EXPECT_LT(backlog, 16 << 10);
  held.StopAnswering(spool);
  EXPECT_EQ(spool.durable_records(), 100u);
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
  // Records counted as appended: compressed, the count would depend on
  // when the write thread takes them.
  config.compress = false;
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
          done(SpoolBatch::kDone);
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

TEST_F(SpoolTest, AppendDurableWithAPrefixWritesItBeforeEachRecord) {
  MetricsRegistry metrics;
  Collector collector;
  Spool spool(Config(), collector.Consumer(), metrics);
  ASSERT_TRUE(spool.Open().ok());
  std::promise<Status> durable;
  const std::string doc_1 = "doc-1", doc_2 = "doc-2";
  ASSERT_TRUE(
      spool.AppendDurable("token:", {doc_1, doc_2, ""}, [&](Status s) { durable.set_value(s); })
          .ok());
  EXPECT_TRUE(durable.get_future().get().ok());
  ASSERT_TRUE(collector.WaitFor(3));
  spool.Stop();
  EXPECT_EQ(collector.records(),
            (std::vector<std::string>{"token:doc-1", "token:doc-2", "token:"}));
}

TEST_F(SpoolTest, AppendDurableRefusesWhenFullOrStoppedWithoutAnswering) {
  SpoolConfig config = Config();
  config.compress = false;  // the records' bytes fill the spool as appended
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
    Collector refuse(SpoolBatch::kNotTaken);  // nothing stored: everything is replayed below
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

// A store that cannot take writes for now (a full disk): its batches are
// answered kRetryLater, and the spool delivers from the first record not
// stored again, after a pause, until they are stored; nothing is skipped.
//
// The answers depend only on what was delivered, never on timing: a batch is
// answered once a later one is in flight beside it (or it holds the last
// record), so every refusal has later batches in flight, which are stored;
// while a refusal waits for its redelivery, every batch in flight is answered
// (the spool waits for them before it rewinds).
TEST_F(SpoolTest, BatchesTheConsumerCannotStoreNowAreDeliveredAgainFromTheFirstNotStored) {
  SpoolConfig config = Config();
  config.read_batch = 16;
  // Batches of exactly read_batch records (a block would hold all 500).
  config.compress = false;
  config.retry_interval = std::chrono::milliseconds(5);
  std::vector<std::string> records;
  for (int i = 0; i < 500; ++i) records.push_back("r-" + std::to_string(i));
  auto log_index = [](const std::string& record) { return std::stoi(record.substr(2)); };
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> stored;  // records of batches answered kDone, in answer order
  int refusals_left = 4;            // batches to refuse
  // The second refusal refuses the batch in flight after it too: one retry for both.
  bool refuse_beside_next = false;
  int answered_beside_later = 0;  // batches answered with a later one in flight, no refusal pending
  // The first record of the latest refused batch until the spool delivers it again.
  std::optional<int> refused_from;
  std::vector<int> rewound_to;        // the first record of the first batch refused in each round
  std::vector<int> redelivered_from;  // where each redelivery began
  bool all_stored = false;            // the last record stored after the last redelivery began
  std::deque<std::pair<std::vector<std::string>, SpoolDone>> held;  // in delivery order
  bool answer_all = false;  // while stopping: store whatever comes
  bool quit = false;
  std::thread answerer([&] {
    std::unique_lock lock(mu);
    while (true) {
      cv.wait(lock, [&] {
        return quit || (!held.empty() && (answer_all || refused_from || held.size() >= 2 ||
                                          held.front().first.back() == records.back()));
      });
      if (quit) break;
      auto [batch, done] = std::move(held.front());
      held.pop_front();
      bool refuse = false;
      if (refused_from) {
        // In flight beside a refused batch: stored, but for the one refused with it.
        refuse = std::exchange(refuse_beside_next, false);
        if (refuse) --refusals_left;
      } else if (!held.empty() && !answer_all) {
        refuse = ++answered_beside_later % 3 == 0 && refusals_left > 0;
        if (refuse) {
          refuse_beside_next = --refusals_left == 2;
          refused_from = log_index(batch.front());
          rewound_to.push_back(*refused_from);
        }
      }
      if (!refuse) {
        stored.insert(stored.end(), batch.begin(), batch.end());
        all_stored =
            all_stored || (refusals_left == 0 && !refused_from && batch.back() == records.back());
      }
      lock.unlock();
      done(refuse ? SpoolBatch::kRetryLater : SpoolBatch::kDone);
      lock.lock();
      cv.notify_all();
    }
  });
  MetricsRegistry metrics;
  Spool spool(
      config,
      [&](const std::vector<std::string_view>& batch, SpoolDone done) {
        std::lock_guard lock(mu);
        // The batches in flight beside a refused one come after it in the
        // log; a redelivery begins at or before it.
        if (refused_from && log_index(std::string(batch.front())) <= *refused_from) {
          redelivered_from.push_back(log_index(std::string(batch.front())));
          refused_from.reset();
        }
        held.emplace_back(std::vector<std::string>(batch.begin(), batch.end()), std::move(done));
        cv.notify_all();
      },
      metrics);
  // No early return until the answerer is joined.
  const Status opened = spool.Open();
  EXPECT_TRUE(opened.ok()) << opened.message();
  size_t appended = 0;
  if (opened.ok()) {
    for (const std::string& r : records) appended += spool.Append(r) ? 1 : 0;
  }
  EXPECT_EQ(appended, records.size());
  bool finished = false;
  {
    std::unique_lock lock(mu);
    if (appended == records.size()) {
      finished = cv.wait_for(lock, std::chrono::seconds(20), [&] { return all_stored; });
    }
    answer_all = true;
  }
  cv.notify_all();
  spool.Stop();
  {
    std::lock_guard lock(mu);
    quit = true;
  }
  cv.notify_all();
  answerer.join();
  ASSERT_TRUE(finished) << refusals_left << " refusals left, " << stored.size()
                        << " records stored";
  // Each redelivery began at the first refused batch of its round: every
  // batch before it had been stored.
  EXPECT_EQ(rewound_to.size(), 3u);
  EXPECT_EQ(redelivered_from, rewound_to);
  // One retry a refusal, but the two refused in flight together share one.
  EXPECT_EQ(CounterValue(metrics, "roentgen_spool_retries_total", kUdp), 3u);
  EXPECT_EQ(metrics.GetGauge("roentgen_spool_backlog_bytes", "", kUdp).Value(), 0);
  // Every record was stored; taken at its last delivery, in log order (a
  // retry delivers the records from the first one not stored, in order).
  std::map<std::string, size_t> last;
  for (size_t i = 0; i < stored.size(); ++i) last[stored[i]] = i;
  std::vector<std::string> by_last(records.size());
  ASSERT_EQ(last.size(), records.size());
  std::vector<std::pair<size_t, std::string>> order;
  for (const auto& [r, at] : last) order.emplace_back(at, r);
  std::sort(order.begin(), order.end());
  for (size_t i = 0; i < order.size(); ++i) by_last[i] = order[i].second;
  EXPECT_EQ(by_last, records);
  EXPECT_GT(stored.size(), records.size());  // some were stored twice
  // Everything was stored and checkpointed: a new Open delivers nothing.
  MetricsRegistry again;
  Collector collector;
  Spool reopened(Config(), collector.Consumer(), again);
  ASSERT_TRUE(reopened.Open().ok());
  ASSERT_TRUE(reopened.Append("after"));
  ASSERT_TRUE(collector.WaitFor(1));
  reopened.Stop();
  EXPECT_EQ(collector.records(), std::vector<std::string>{"after"});
}

// Stopping while the store cannot take writes does not wait for it: the
// records stay for the next start.
TEST_F(SpoolTest, StopDoesNotWaitForAStoreThatCannotTakeWrites) {
  SpoolConfig config = Config();
  config.retry_interval = std::chrono::seconds(10);
  {
    MetricsRegistry metrics;
    Collector refuse(SpoolBatch::kRetryLater);
    Spool spool(config, refuse.Consumer(), metrics);
    ASSERT_TRUE(spool.Open().ok());
    for (const std::string& r : Records(0, 50)) ASSERT_TRUE(spool.Append(r));
    ASSERT_TRUE(refuse.WaitFor(1));
    const auto t0 = std::chrono::steady_clock::now();
    spool.Stop();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  }
  MetricsRegistry metrics;
  EXPECT_EQ(Reopen(metrics, 50), Records(0, 50));
}

// Appends on a full disk are refused and counted (reason disk_full), never
// acknowledged; the file keeps no partial record; appends work again once
// there is room. A small tmpfs: root only, skipped elsewhere.
TEST_F(SpoolTest, AFullDiskRefusesAndCountsAppendsAndTheyWorkAgainWithRoom) {
  roentgen::testing::SmallDisk disk(2 << 20);
  if (!disk.mounted()) GTEST_SKIP() << disk.why();
  dir_ = disk.Path("spool");
  SpoolConfig config = Config();
  config.min_sync_interval = std::chrono::milliseconds(1);
  auto append_durable = [](Spool& spool, std::vector<std::string> records) {
    std::promise<Status> answer;
    Status s = spool.AppendDurable(records, [&](Status st) { answer.set_value(st); });
    return s.ok() ? answer.get_future().get() : s;
  };
  const Labels full = {{"component", "udp_spool"}};
  {
    MetricsRegistry metrics;
    Collector refuse(SpoolBatch::kNotTaken);  // keep everything on disk
    Spool spool(config, refuse.Consumer(), metrics);
    ASSERT_TRUE(spool.Open().ok());
    ASSERT_TRUE(append_durable(spool, {"before-1", "before-2"}).ok());
    disk.Fill();
    // More than any page left, and as large compressed.
    std::string big(64 << 10, '\0');
    std::mt19937_64 rng(3);
    for (char& c : big) c = static_cast<char>(rng());
    const Status refused = append_durable(spool, {big, big});
    EXPECT_EQ(refused.code(), StatusCode::kUnavailable);
    EXPECT_NE(refused.message().find("disk is full"), std::string::npos) << refused.message();
    EXPECT_NE(refused.message().find("No space left on device"), std::string::npos)
        << refused.message();
    ASSERT_TRUE(spool.Append(big));  // taken into memory; dropped when written
    for (int i = 0; i < 200 && CounterValue(metrics, "roentgen_segments_dropped_total",
                                            {{"reason", "disk_full"}}) == 0;
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_EQ(CounterValue(metrics, "roentgen_segments_dropped_total", {{"reason", "disk_full"}}),
              1u);
    EXPECT_EQ(
        CounterValue(metrics, "roentgen_segments_dropped_total", {{"reason", "spool_write_error"}}),
        0u);
    EXPECT_EQ(metrics.GetGauge("roentgen_disk_full", "", full).Value(), 1);

    disk.FreeFill();
    ASSERT_TRUE(append_durable(spool, {"after-1"}).ok());
    EXPECT_EQ(metrics.GetGauge("roentgen_disk_full", "", full).Value(), 0);
    spool.Stop();
  }
  // Exactly the acknowledged records, none damaged.
  MetricsRegistry metrics;
  EXPECT_EQ(Reopen(metrics, 3), (std::vector<std::string>{"before-1", "before-2", "after-1"}));
  EXPECT_EQ(CounterValue(metrics, "roentgen_spool_discarded_bytes_total", kUdp), 0u);
}

TEST_F(SpoolTest, AFullDiskAtFdatasyncIsCountedAsDiskFull) {
  SpoolConfig config = Config();
  config.min_sync_interval = std::chrono::seconds(1);  // groups close on AppendDurable
  // The test's disk has room, so a checkpoint would end the full-disk state
  // before the gauge is read: none is due while the test runs.
  config.checkpoint_interval = std::chrono::hours(1);
  std::atomic<bool> fail_next_sync{false};
  config.before_sync = [&](uint64_t) {
    return fail_next_sync.exchange(false) ? Status::ResourceExhausted("injected ENOSPC")
                                          : Status::Ok();
  };
  MetricsRegistry metrics;
  Collector refuse(SpoolBatch::kNotTaken);
  Spool spool(config, refuse.Consumer(), metrics);
  ASSERT_TRUE(spool.Open().ok());
  // A first group synced, so the next waits up to min_sync_interval for more:
  // b1 and b2 then make one group (else b1 could go alone and take the
  // injected failure).
  std::promise<Status> warmed;
  ASSERT_TRUE(spool.AppendDurable({"b0"}, [&](Status st) { warmed.set_value(st); }).ok());
  ASSERT_TRUE(warmed.get_future().get().ok());
  fail_next_sync = true;
  ASSERT_TRUE(spool.Append("b1"));
  std::promise<Status> answer;
  ASSERT_TRUE(spool.AppendDurable({"b2"}, [&](Status st) { answer.set_value(st); }).ok());
  const Status answered = answer.get_future().get();
  EXPECT_EQ(answered.code(), StatusCode::kUnavailable);  // as a store on a full disk
  EXPECT_NE(answered.message().find("disk is full"), std::string::npos) << answered.message();
  EXPECT_EQ(CounterValue(metrics, "roentgen_segments_dropped_total", {{"reason", "disk_full"}}),
            1u);  // b1; b2's caller was told
  EXPECT_EQ(metrics.GetGauge("roentgen_disk_full", "", {{"component", "udp_spool"}}).Value(), 1);
  spool.Stop();
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
