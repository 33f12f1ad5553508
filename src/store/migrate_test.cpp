// Migration of a RocksDB data dir to the block engine (migrate.h): every
// trace, summary, document and config object read back equal through the
// Store interface; a failure or a crash before the commit leaves the RocksDB
// store as it was and the next migration starts over; a crash after the
// commit is finished by FinishMigrationSwitch; the refusals.
#include "store/migrate.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/testing/test_dir.h"
#include "store/block/block_store.h"
#include "store/record_codec.h"
#include "store/rocksdb/rocksdb_store.h"
#include "store/store_test_util.h"

namespace roentgen::store {
namespace {

namespace fs = std::filesystem;
using testing::kSecond;
using testing::kT0;
using testing::MakeFullRecord;
using testing::MakeRecord;
using testing::MakeTraceId;

// What the test wrote, as the Store interface returns it.
struct ExpectedTrace {
  TraceRecord record;
  std::map<std::string, std::pair<int64_t, std::string>> documents;  // entity → (received, raw)
};

std::string EncodedRecord(const TraceRecord& r) {
  std::string out;
  EncodeTraceRecord(r, out);
  return out;
}

class MigrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Small batches and cuts, so a few hundred traces make many of both.
    options_.batch_traces = 16;
    options_.flush_every_bytes = 8 << 10;
    options_.block.compaction = false;
  }

  Result<std::unique_ptr<Store>> OpenRocks(const std::string& path) {
    RocksDbStoreConfig config;
    config.path = path;
    return OpenRocksDbStore(config);
  }

  // A RocksDB store with `count` traces in dir_: full and minimal records,
  // every third not searchable, every fifth given a later version (a new
  // record and one more document, as a late segment makes), start times
  // spread over two days (and one at 0); config objects in several
  // namespaces, binary keys and values among them.
  void WriteRocksDbStore(int count) {
    Result<std::unique_ptr<Store>> opened = OpenRocks(dir_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    Store& store = **opened;
    for (int i = 0; i < count; ++i) {
      xray::TraceId id = MakeTraceId(static_cast<uint8_t>(i % 251), static_cast<uint8_t>(i / 251));
      id.bytes[1] = static_cast<uint8_t>(i & 0xff);
      const int64_t start = i == 7 ? 0 : kT0 - 2 * 86400 * kSecond + int64_t{i} * 577 * kSecond;
      TraceRecord record = i % 2 == 0 ? MakeFullRecord(id, start) : MakeRecord(id, start);
      record.summary.indexed = i % 3 != 0;
      ExpectedTrace& expected = expected_[EncodedId(id)];
      WriteBatch batch;
      std::vector<std::string> raws;
      for (int d = 0; d < 1 + i % 3; ++d) {
        raws.push_back(fmt::format(R"({{"id":"{:016x}","name":"svc-{}","n":{}}})", d + 1, i, d));
      }
      for (int d = 0; d < static_cast<int>(raws.size()); ++d) {
        xray::SegmentId entity;
        entity.value = static_cast<uint64_t>(d + 1);
        batch.documents.push_back(DocumentWrite{id, entity, start + d, raws[d]});
        expected.documents[EntityKey(entity)] = {start + d, raws[d]};
      }
      batch.traces.push_back(record);
      ASSERT_TRUE(store.Write(batch).ok());
      expected.record = record;
      if (i % 5 == 0) {
        TraceRecord later = record;
        later.summary.revision += 1;
        later.summary.updated_us = start + 60 * kSecond;
        later.summary.segment_count += 1;
        const std::string raw = fmt::format(R"({{"id":"late","trace":{}}})", i);
        xray::SegmentId entity;
        entity.value = 0xeeeeeeeeeeeeeeeeULL;
        WriteBatch late;
        late.documents.push_back(DocumentWrite{id, entity, start + 60 * kSecond, raw});
        late.traces.push_back(later);
        ASSERT_TRUE(store.Write(late).ok());
        expected.documents[EntityKey(entity)] = {start + 60 * kSecond, raw};
        expected.record = later;
      }
    }
    config_ = {
        {"groups",
         {{"default", "{}"}, {"checkout", R"({"FilterExpression":"http.status = 500"})"}}},
        {"sampling_rules", {{"Default", "r1"}, {"slow", std::string("\x00\x01\xff", 3)}}},
        {"insights", {{std::string("k\x01y", 3), "v"}}},
        {"a.namespace.added.later", {{"", "empty key"}}},
    };
    for (const auto& [ns, objects] : config_) {
      for (const auto& [key, value] : objects) {
        ASSERT_TRUE(store.PutConfig(ns, key, value).ok()) << ns << "/" << key;
      }
    }
    // A deleted object is not copied.
    ASSERT_TRUE(store.PutConfig("groups", "gone", "x").ok());
    ASSERT_TRUE(store.DeleteConfig("groups", "gone").ok());
  }

  static std::string EncodedId(const xray::TraceId& id) {
    return std::string(reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size());
  }
  static std::string EntityKey(const xray::SegmentId& id) { return std::to_string(id.value); }

  static std::vector<std::string> ScanAll(Store& store, bool searchable_only, bool descending) {
    ScanOptions scan;
    scan.start_us = std::numeric_limits<int64_t>::min();
    scan.end_us = std::numeric_limits<int64_t>::max();
    scan.searchable_only = searchable_only;
    scan.descending = descending;
    scan.return_graph = true;
    std::vector<std::string> rows;
    Result<ScanProgress> done = store.Scan(scan, [&rows](const TraceRecord& r, int64_t t) {
      rows.push_back(std::to_string(t) + ":" + EncodedRecord(r));
      return true;
    });
    EXPECT_TRUE(done.ok()) << done.status().ToString();
    return rows;
  }

  // `store` holds exactly what WriteRocksDbStore wrote.
  void ExpectHoldsEverything(Store& store) {
    for (const auto& [key, expected] : expected_) {
      xray::TraceId id;
      std::copy(key.begin(), key.end(), id.bytes.begin());
      Result<TraceRecord> record = store.GetTrace(id);
      ASSERT_TRUE(record.ok()) << record.status().ToString();
      EXPECT_EQ(EncodedRecord(*record), EncodedRecord(expected.record));
      EXPECT_EQ(record->summary.indexed, expected.record.summary.indexed);
      Result<std::vector<StoredDocument>> docs = store.GetDocuments(id);
      ASSERT_TRUE(docs.ok()) << docs.status().ToString();
      std::map<std::string, std::pair<int64_t, std::string>> got;
      for (const StoredDocument& d : *docs) got[EntityKey(d.entity_id)] = {d.received_us, d.raw};
      EXPECT_EQ(got, expected.documents);
    }
    for (const auto& [ns, objects] : config_) {
      Result<std::vector<std::pair<std::string, std::string>>> listed = store.ListConfig(ns);
      ASSERT_TRUE(listed.ok()) << listed.status().ToString();
      std::map<std::string, std::string> got(listed->begin(), listed->end());
      EXPECT_EQ(got, objects) << ns;
    }
    EXPECT_EQ(store.GetConfig("groups", "gone").status().code(), StatusCode::kNotFound);
  }

  // Runs `body` in a child process that must end with _exit(kCrashed)
  // from inside the migration, as a kill would.
  static constexpr int kCrashed = 42;
  template <typename Body>
  void RunAndCrash(Body body) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      body();
      ::_exit(1);  // the migration ended without reaching the crash point
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ASSERT_EQ(WEXITSTATUS(status), kCrashed);
  }

  bool Exists(std::string_view name) { return fs::exists(fs::path(dir_) / name); }

  ::roentgen::testing::TestDir test_dir_{"rg-migrate-test"};
  const std::string dir_ = test_dir_.str();
  MigrationOptions options_;
  std::map<std::string, ExpectedTrace> expected_;
  std::map<std::string, std::map<std::string, std::string>> config_;
};

TEST_F(MigrateTest, CopiesEveryTraceDocumentAndConfigObjectAndSwitches) {
  WriteRocksDbStore(400);
  std::vector<std::string> rocks_scan, rocks_searchable;
  {
    Result<std::unique_ptr<Store>> rocks = OpenRocks(dir_);
    ASSERT_TRUE(rocks.ok());
    rocks_scan = ScanAll(**rocks, false, false);
    rocks_searchable = ScanAll(**rocks, true, true);
  }
  ASSERT_EQ(rocks_scan.size(), 400u);
  ASSERT_LT(rocks_searchable.size(), 300u);

  std::vector<MigrationProgress> seen;
  options_.progress_interval_us = 1;
  options_.on_progress = [&seen](const MigrationProgress& p) { seen.push_back(p); };
  Result<MigrationResult> result = MigrateRocksDbToBlock(dir_, options_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->progress.traces, 400u);
  EXPECT_EQ(result->progress.config_objects, 6u);
  EXPECT_GT(result->progress.documents, 800u);
  EXPECT_GT(result->block_bytes, 0u);
  EXPECT_GT(result->rocksdb_bytes, 0u);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().traces, 400u);
  EXPECT_EQ(seen.back().traces_estimate, 400u);  // the last report has the exact total
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_GE(seen[i].traces, seen[i - 1].traces);

  // The data dir is the block engine's now; RocksDB's files are kept aside.
  EXPECT_TRUE(Exists("blocks/CURRENT"));
  EXPECT_TRUE(Exists("config"));
  EXPECT_FALSE(Exists("CURRENT"));
  EXPECT_FALSE(Exists(kMigrationBuildDir));
  EXPECT_FALSE(Exists(kMigrationDoneDir));
  EXPECT_FALSE(Exists(kMigrationLockFile));
  EXPECT_EQ(result->old_store_dir, (fs::path(dir_) / kPreMigrationStoreDir).string());
  EXPECT_TRUE(Exists(std::string(kPreMigrationStoreDir) + "/CURRENT"));

  {
    Result<std::unique_ptr<block::BlockStore>> block = block::BlockStore::Open(dir_, {});
    ASSERT_TRUE(block.ok()) << block.status().ToString();
    ExpectHoldsEverything(**block);
    EXPECT_EQ(ScanAll(**block, false, false), rocks_scan);
    EXPECT_EQ(ScanAll(**block, true, true), rocks_searchable);
  }
  // The kept store is the RocksDB store as it was.
  Result<std::unique_ptr<Store>> kept = OpenRocks(result->old_store_dir);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  ExpectHoldsEverything(**kept);
  EXPECT_EQ(ScanAll(**kept, false, false), rocks_scan);
}

TEST_F(MigrateTest, RemoveOldStoreDeletesTheRocksDbFiles) {
  WriteRocksDbStore(40);
  options_.remove_old_store = true;
  Result<MigrationResult> result = MigrateRocksDbToBlock(dir_, options_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->old_store_dir.empty());
  EXPECT_FALSE(Exists(kPreMigrationStoreDir));
  Result<std::unique_ptr<block::BlockStore>> block = block::BlockStore::Open(dir_, {});
  ASSERT_TRUE(block.ok()) << block.status().ToString();
  ExpectHoldsEverything(**block);
}

TEST_F(MigrateTest, AFailureMidwayLeavesTheRocksDbStoreAndTheNextMigrationStartsOver) {
  WriteRocksDbStore(200);
  int batches = 0;
  options_.after_batch = [&batches](const MigrationProgress&) {
    return ++batches == 4 ? Status::IOError("injected failure") : Status::Ok();
  };
  Result<MigrationResult> failed = MigrateRocksDbToBlock(dir_, options_);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().message(), "injected failure");
  EXPECT_TRUE(Exists("CURRENT"));
  EXPECT_FALSE(Exists("blocks"));
  EXPECT_FALSE(Exists(kMigrationBuildDir));
  EXPECT_FALSE(Exists(kMigrationDoneDir));
  {
    Result<std::unique_ptr<Store>> rocks = OpenRocks(dir_);
    ASSERT_TRUE(rocks.ok()) << rocks.status().ToString();
    ExpectHoldsEverything(**rocks);
  }
  options_.after_batch = nullptr;
  Result<MigrationResult> result = MigrateRocksDbToBlock(dir_, options_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->progress.traces, 200u);
  Result<std::unique_ptr<block::BlockStore>> block = block::BlockStore::Open(dir_, {});
  ASSERT_TRUE(block.ok()) << block.status().ToString();
  ExpectHoldsEverything(**block);
}

TEST_F(MigrateTest, ACrashBeforeTheCommitLeavesAStartableRocksDbStore) {
  WriteRocksDbStore(200);
  RunAndCrash([this] {
    MigrationOptions options = options_;
    int batches = 0;
    options.after_batch = [&batches](const MigrationProgress&) {
      if (++batches == 5) ::_exit(kCrashed);
      return Status::Ok();
    };
    (void)MigrateRocksDbToBlock(dir_, options);
  });
  // The half-built copy is left; the RocksDB store is whole and opens.
  EXPECT_TRUE(Exists(kMigrationBuildDir));
  EXPECT_TRUE(Exists("CURRENT"));
  EXPECT_FALSE(Exists("blocks"));
  EXPECT_FALSE(MigrationSwitchPending(dir_));
  {
    Result<std::unique_ptr<Store>> rocks = OpenRocks(dir_);
    ASSERT_TRUE(rocks.ok()) << rocks.status().ToString();
    ExpectHoldsEverything(**rocks);
  }
  std::vector<std::string> notes;
  options_.on_note = [&notes](const std::string& line) { notes.push_back(line); };
  Result<MigrationResult> result = MigrateRocksDbToBlock(dir_, options_);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_FALSE(notes.empty());
  EXPECT_NE(notes.front().find("did not finish"), std::string::npos) << notes.front();
  EXPECT_EQ(result->progress.traces, 200u);
  Result<std::unique_ptr<block::BlockStore>> block = block::BlockStore::Open(dir_, {});
  ASSERT_TRUE(block.ok()) << block.status().ToString();
  ExpectHoldsEverything(**block);
}

TEST_F(MigrateTest, ACrashAfterTheCommitIsFinishedByTheNextOpener) {
  WriteRocksDbStore(100);
  RunAndCrash([this] {
    MigrationOptions options = options_;
    options.after_commit = []() -> Status { ::_exit(kCrashed); };
    (void)MigrateRocksDbToBlock(dir_, options);
  });
  EXPECT_TRUE(MigrationSwitchPending(dir_));
  EXPECT_TRUE(Exists("CURRENT"));
  // A second migration does not copy again.
  EXPECT_EQ(MigrateRocksDbToBlock(dir_, options_).status().code(), StatusCode::kInvalidArgument);
  Result<bool> finished = FinishMigrationSwitch(dir_);
  ASSERT_TRUE(finished.ok()) << finished.status().ToString();
  EXPECT_TRUE(*finished);
  EXPECT_FALSE(MigrationSwitchPending(dir_));
  EXPECT_FALSE(Exists("CURRENT"));
  Result<bool> again = FinishMigrationSwitch(dir_);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  Result<std::unique_ptr<block::BlockStore>> block = block::BlockStore::Open(dir_, {});
  ASSERT_TRUE(block.ok()) << block.status().ToString();
  ExpectHoldsEverything(**block);
}

TEST_F(MigrateTest, ASwitchCutShortIsFinished) {
  WriteRocksDbStore(30);
  RunAndCrash([this] {
    MigrationOptions options = options_;
    options.after_commit = []() -> Status { ::_exit(kCrashed); };
    (void)MigrateRocksDbToBlock(dir_, options);
  });
  // Some of RocksDB's files already moved, blocks/ already up, config/ not.
  fs::create_directories(fs::path(dir_) / kPreMigrationStoreDir);
  fs::rename(fs::path(dir_) / "CURRENT", fs::path(dir_) / kPreMigrationStoreDir / "CURRENT");
  fs::rename(fs::path(dir_) / kMigrationDoneDir / "blocks", fs::path(dir_) / "blocks");
  Result<bool> finished = FinishMigrationSwitch(dir_);
  ASSERT_TRUE(finished.ok()) << finished.status().ToString();
  EXPECT_TRUE(*finished);
  Result<std::unique_ptr<block::BlockStore>> block = block::BlockStore::Open(dir_, {});
  ASSERT_TRUE(block.ok()) << block.status().ToString();
  ExpectHoldsEverything(**block);
  Result<std::unique_ptr<Store>> kept =
      OpenRocks((fs::path(dir_) / kPreMigrationStoreDir).string());
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  ExpectHoldsEverything(**kept);
}

TEST_F(MigrateTest, Refusals) {
  // Nothing to migrate.
  Result<MigrationResult> empty = MigrateRocksDbToBlock(dir_, options_);
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(empty.status().message().find("no RocksDB store"), std::string::npos);
  EXPECT_FALSE(Exists("CURRENT"));  // and nothing was created

  WriteRocksDbStore(10);
  {
    // A server (another process) holds the store.
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    const pid_t server = ::fork();
    ASSERT_GE(server, 0);
    if (server == 0) {
      Result<std::unique_ptr<Store>> running = OpenRocks(dir_);
      const char c = running.ok() ? 'y' : 'n';
      (void)::write(ready[1], &c, 1);
      ::pause();
      ::_exit(0);
    }
    char c = 0;
    ASSERT_EQ(::read(ready[0], &c, 1), 1);
    ASSERT_EQ(c, 'y');
    Result<MigrationResult> busy = MigrateRocksDbToBlock(dir_, options_);
    ::kill(server, SIGKILL);
    ::waitpid(server, nullptr, 0);
    ::close(ready[0]);
    ::close(ready[1]);
    EXPECT_EQ(busy.status().code(), StatusCode::kUnavailable) << busy.status().ToString();
    EXPECT_NE(busy.status().message().find("stop the server"), std::string::npos);
    EXPECT_FALSE(Exists(kMigrationBuildDir));
  }
  {
    // Another migration holds the lock.
    const std::string lock = (fs::path(dir_) / kMigrationLockFile).string();
    const int fd = ::open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);
    Result<MigrationResult> busy = MigrateRocksDbToBlock(dir_, options_);
    EXPECT_EQ(busy.status().code(), StatusCode::kUnavailable) << busy.status().ToString();
    EXPECT_NE(busy.status().message().find("roentgen migrate runs"), std::string::npos);
    ::close(fd);
  }
  options_.batch_traces = 0;
  EXPECT_EQ(MigrateRocksDbToBlock(dir_, options_).status().code(), StatusCode::kInvalidArgument);
  options_.batch_traces = 16;
  ASSERT_TRUE(MigrateRocksDbToBlock(dir_, options_).ok());
  // Already migrated.
  Result<MigrationResult> twice = MigrateRocksDbToBlock(dir_, options_);
  EXPECT_EQ(twice.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(twice.status().message().find("already holds a block store"), std::string::npos);
}

}  // namespace
}  // namespace roentgen::store
