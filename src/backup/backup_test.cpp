// Backups of a data dir: the spool's snapshot keeps every record not yet
// stored and never a torn one; the store's checkpoint opens as a store; a
// staged snapshot copied into a backup directory restores into a data dir
// that holds the same traces and spooled records; the control socket stages
// one snapshot at a time for its own user and removes it when its client
// leaves; and the errors: a target that is not empty, a backup without its
// manifest or with a damaged file, a full disk.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backup/backup_dir.h"
#include "backup/control_socket.h"
#include "backup/staging.h"
#include "common/files.h"
#include "common/testing/small_disk.h"
#include "ingest/spool.h"
#include "ingest/spool_snapshot.h"
#include "store/rocksdb/rocksdb_store.h"
#include "store/store_test_util.h"

namespace roentgen::backup {
namespace {

namespace fs = std::filesystem;
using ingest::Spool;
using ingest::SpoolBatch;
using ingest::SpoolConfig;

constexpr int64_t kT0 = 1'700'000'000'000'000;

std::string Record(int i) {
  std::string r = "record-" + std::to_string(i) + ":";
  r.append(static_cast<size_t>((i * 37) % 1500), static_cast<char>('a' + i % 26));
  return r;
}

// Collects delivered records, answering every batch with `outcome`.
class Collector {
 public:
  explicit Collector(SpoolBatch outcome) : outcome_(outcome) {}
  ingest::SpoolConsumer Consumer() {
    return [this](const std::vector<std::string_view>& records, ingest::SpoolDone done) {
      {
        std::lock_guard lock(mu_);
        for (std::string_view r : records) records_.emplace_back(r);
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
};

bool WaitDurable(const Spool& spool, uint64_t n) {
  for (int i = 0; i < 2000 && spool.durable_records() < n; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return spool.durable_records() >= n;
}

xray::TraceId TraceNumber(uint32_t n) { return store::testing::MakeTraceId(0x65, uint8_t(n)); }

Status WriteTrace(store::Store& store, uint32_t n) {
  const std::string raw = "{\"n\":" + std::to_string(n) + "}";
  store::WriteBatch batch;
  batch.documents.push_back(
      store::DocumentWrite{TraceNumber(n), xray::SegmentId{n + 1ULL}, kT0, raw});
  batch.traces.push_back(store::testing::MakeFullRecord(TraceNumber(n), kT0 + n));
  return store.Write(batch);
}

Result<std::unique_ptr<store::Store>> OpenStore(const std::string& path) {
  store::RocksDbStoreConfig config;
  config.path = path;
  config.block_cache_bytes = 8 << 20;
  return store::OpenRocksDbStore(config);
}

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() /
             ("roentgen-backup-test-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                .string();
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  std::string Path(const std::string& name) const { return root_ + "/" + name; }

  SpoolConfig SpoolIn(const std::string& dir) const {
    SpoolConfig c;
    c.dir = dir;
    c.file_bytes = 64 << 10;  // several files
    c.max_bytes = 64 << 20;
    c.checkpoint_interval = std::chrono::milliseconds(10);
    return c;
  }
  // Delivers every record of the spool in `dir`; the records.
  std::vector<std::string> Drain(const std::string& dir, size_t expect, MetricsRegistry& metrics) {
    Collector collector(SpoolBatch::kDone);
    Spool spool(SpoolIn(dir), collector.Consumer(), metrics);
    EXPECT_TRUE(spool.Open().ok());
    EXPECT_TRUE(collector.WaitFor(expect));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // nothing more comes
    spool.Stop();
    return collector.records();
  }

  std::string root_;
};

// Records stored before (behind the checkpoint) are left out; every record
// not yet stored, across several files, is in the copy, taken while the
// spool runs.
TEST_F(BackupTest, SpoolSnapshotKeepsWhatIsNotStored) {
  const std::string dir = Path("spool");
  {
    MetricsRegistry metrics;
    Collector store_all(SpoolBatch::kDone);
    Spool spool(SpoolIn(dir), store_all.Consumer(), metrics);
    ASSERT_TRUE(spool.Open().ok());
    for (int i = 0; i < 200; ++i) ASSERT_TRUE(spool.Append(Record(i)));
    ASSERT_TRUE(store_all.WaitFor(200));
    spool.Stop();  // saves the checkpoint past them
  }
  MetricsRegistry metrics;
  Collector store_none(SpoolBatch::kNotTaken);
  Spool spool(SpoolIn(dir), store_none.Consumer(), metrics);
  ASSERT_TRUE(spool.Open().ok());
  for (int i = 200; i < 400; ++i) ASSERT_TRUE(spool.Append(Record(i)));
  ASSERT_TRUE(WaitDurable(spool, 200));
  Result<ingest::SpoolSnapshotStats> snapshot = ingest::SnapshotSpool(dir, Path("copy"));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
  EXPECT_TRUE(snapshot->checkpoint);
  EXPECT_GE(snapshot->files, 2u);
  spool.Stop();

  MetricsRegistry copy_metrics;
  std::vector<std::string> delivered = Drain(Path("copy"), 200, copy_metrics);
  std::vector<std::string> expected;
  for (int i = 200; i < 400; ++i) expected.push_back(Record(i));
  EXPECT_EQ(delivered, expected);
  EXPECT_EQ(copy_metrics.GetCounter("roentgen_spool_discarded_bytes_total", "", {{"spool", "udp"}})
                .Value(),
            0u);
}

// The newest file may end in a record being written: the copy stops before
// it, so the copy's reader reports no damage.
TEST_F(BackupTest, SpoolSnapshotLeavesOutATornRecord) {
  const std::string dir = Path("spool");
  {
    MetricsRegistry metrics;
    Collector store_none(SpoolBatch::kNotTaken);
    Spool spool(SpoolIn(dir), store_none.Consumer(), metrics);
    ASSERT_TRUE(spool.Open().ok());
    for (int i = 0; i < 20; ++i) ASSERT_TRUE(spool.Append(Record(i)));
    spool.Stop();
  }
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".spool") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  const uint64_t whole = fs::file_size(files.back());
  {
    std::ofstream torn(files.back(), std::ios::app | std::ios::binary);
    torn << std::string("\x40\x00\x00\x00\x12\x34", 6) << "half a rec";  // length 64, 10 bytes
  }
  ASSERT_TRUE(ingest::SnapshotSpool(dir, Path("copy")).ok());
  EXPECT_EQ(fs::file_size(Path("copy") + "/" + files.back().filename().string()), whole);
  MetricsRegistry metrics;
  EXPECT_EQ(Drain(Path("copy"), 20, metrics).size(), 20u);
  EXPECT_EQ(
      metrics.GetCounter("roentgen_spool_discarded_bytes_total", "", {{"spool", "udp"}}).Value(),
      0u);

  // A newest file just begun (not even its magic yet) is left out; the one
  // before it is sealed and copied as it is, as the spool would read it.
  const std::string empty =
      (files.back().parent_path() / fmt::format("{:020}.spool", 99999)).string();
  std::ofstream(empty).close();
  ASSERT_TRUE(ingest::SnapshotSpool(dir, Path("copy2")).ok());
  EXPECT_FALSE(fs::exists(Path("copy2") + "/" + fs::path(empty).filename().string()));
  EXPECT_EQ(fs::file_size(Path("copy2") + "/" + files.back().filename().string()), whole + 16);
}

TEST_F(BackupTest, NoSpoolCopiesNothing) {
  Result<ingest::SpoolSnapshotStats> snapshot =
      ingest::SnapshotSpool(Path("no-such-spool"), Path("copy"));
  ASSERT_TRUE(snapshot.ok());
  EXPECT_EQ(snapshot->files, 0u);
  EXPECT_FALSE(fs::exists(Path("copy")));
}

TEST_F(BackupTest, StoreCheckpointOpensAsAStore) {
  Result<std::unique_ptr<store::Store>> store = OpenStore(Path("data"));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  for (uint32_t n = 0; n < 50; ++n) ASSERT_TRUE(WriteTrace(**store, n).ok());
  ASSERT_TRUE((*store)->Checkpoint(Path("copy")).ok());
  EXPECT_EQ((*store)->Checkpoint(Path("copy")).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(WriteTrace(**store, 77).ok());  // after the copy: not in it

  Result<std::unique_ptr<store::Store>> copy = OpenStore(Path("copy"));
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  for (uint32_t n = 0; n < 50; ++n) {
    Result<store::TraceRecord> record = (*copy)->GetTrace(TraceNumber(n));
    ASSERT_TRUE(record.ok()) << n;
    EXPECT_EQ(record->summary.start_time_us, kT0 + n);
    EXPECT_EQ((*copy)->GetDocuments(TraceNumber(n))->size(), 1u);
  }
  EXPECT_EQ((*copy)->GetTrace(TraceNumber(77)).status().code(), StatusCode::kNotFound);
}

// A data dir (store and spool) staged, written as a backup, restored into a
// new data dir: the same traces, the same records waiting in the spool.
TEST_F(BackupTest, BackupAndRestoreRoundTrip) {
  const std::string data = Path("data");
  Result<std::unique_ptr<store::Store>> store = OpenStore(data);
  ASSERT_TRUE(store.ok());
  for (uint32_t n = 0; n < 30; ++n) ASSERT_TRUE(WriteTrace(**store, n).ok());
  {
    MetricsRegistry metrics;
    Collector store_none(SpoolBatch::kNotTaken);
    Spool spool(SpoolIn(data + "/udp-spool"), store_none.Consumer(), metrics);
    ASSERT_TRUE(spool.Open().ok());
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(spool.Append(Record(i)));
    spool.Stop();
  }
  Result<StagedSnapshot> staged = StageBackup(data, **store);
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  EXPECT_GE(staged->spools[0].files, 1u);
  EXPECT_EQ(staged->spools[1].files, 0u);
  BackupInfo info{"roentgen test", data, true};
  Result<CopyStats> written = WriteBackup(StagingPath(data, staged->name), Path("backup"), info);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_TRUE(RemoveStaging(data).ok());
  EXPECT_FALSE(fs::exists(data + "/backup-staging"));
  store->reset();

  // The manifest names every file, and the backup has nothing else.
  std::ifstream manifest_file(Path("backup") + "/" + kManifestName);
  nlohmann::json manifest = nlohmann::json::parse(manifest_file);
  EXPECT_EQ(manifest["format"], "roentgen-backup 1");
  EXPECT_EQ(manifest["server_running"], true);
  EXPECT_EQ(manifest["files"].size(), written->files);
  size_t files_on_disk = 0;
  for (const auto& e : fs::recursive_directory_iterator(Path("backup"))) {
    if (e.is_regular_file()) ++files_on_disk;
  }
  EXPECT_EQ(files_on_disk, written->files + 1);
  EXPECT_TRUE(fs::exists(Path("backup") + "/CURRENT"));
  EXPECT_EQ(fs::status(Path("backup")).permissions() & fs::perms::all, fs::perms::owner_all);

  Result<CopyStats> restored = RestoreBackup(Path("backup"), Path("restored"));
  ASSERT_TRUE(restored.ok()) << restored.status().ToString();
  EXPECT_EQ(restored->files, written->files);
  Result<std::unique_ptr<store::Store>> copy = OpenStore(Path("restored"));
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  for (uint32_t n = 0; n < 30; ++n) EXPECT_TRUE((*copy)->GetTrace(TraceNumber(n)).ok()) << n;
  copy->reset();
  MetricsRegistry metrics;
  EXPECT_EQ(Drain(Path("restored") + "/udp-spool", 100, metrics).size(), 100u);
}

TEST_F(BackupTest, RefusesATargetThatIsNotEmpty) {
  const std::string data = Path("data");
  Result<std::unique_ptr<store::Store>> store = OpenStore(data);
  ASSERT_TRUE(store.ok());
  Result<StagedSnapshot> staged = StageBackup(data, **store);
  ASSERT_TRUE(staged.ok());
  fs::create_directories(Path("full"));
  std::ofstream(Path("full") + "/precious").put('x');
  Result<CopyStats> written = WriteBackup(StagingPath(data, staged->name), Path("full"), {});
  EXPECT_EQ(written.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(written.status().message().find("is not empty"), std::string::npos);
  EXPECT_EQ(fs::file_size(Path("full") + "/precious"), 1u);

  // A restore refuses a data dir with anything in it, too.
  ASSERT_TRUE(WriteBackup(StagingPath(data, staged->name), Path("backup"), {}).ok());
  EXPECT_EQ(RestoreBackup(Path("backup"), Path("full")).status().code(),
            StatusCode::kAlreadyExists);
  // An empty existing directory is fine.
  fs::create_directories(Path("empty"));
  EXPECT_TRUE(RestoreBackup(Path("backup"), Path("empty")).ok());
}

TEST_F(BackupTest, RestoreChecksTheBackup) {
  const std::string data = Path("data");
  Result<std::unique_ptr<store::Store>> store = OpenStore(data);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(WriteTrace(**store, 1).ok());
  Result<StagedSnapshot> staged = StageBackup(data, **store);
  ASSERT_TRUE(staged.ok());
  ASSERT_TRUE(WriteBackup(StagingPath(data, staged->name), Path("backup"), {}).ok());

  EXPECT_EQ(RestoreBackup(Path("nothing"), Path("r1")).status().code(), StatusCode::kNotFound);
  // Unfinished: no manifest.
  fs::copy(Path("backup"), Path("unfinished"), fs::copy_options::recursive);
  fs::remove(Path("unfinished") + "/" + kManifestName);
  Result<CopyStats> r = RestoreBackup(Path("unfinished"), Path("r2"));
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("not a complete Roentgen backup"), std::string::npos);
  EXPECT_FALSE(fs::exists(Path("r2")));

  // A byte changed in a file: refused, the partial restore removed.
  fs::copy(Path("backup"), Path("damaged"), fs::copy_options::recursive);
  {
    std::fstream f(Path("damaged") + "/CURRENT", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(0);
    f.put('X');
  }
  r = RestoreBackup(Path("damaged"), Path("r3"));
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("damaged"), std::string::npos) << r.status().message();
  EXPECT_FALSE(fs::exists(Path("r3")));

  // A manifest naming a path out of the backup.
  fs::copy(Path("backup"), Path("escape"), fs::copy_options::recursive);
  {
    std::ofstream f(Path("escape") + "/" + kManifestName, std::ios::trunc);
    f << R"({"format":"roentgen-backup 1","files":[{"path":"../x","bytes":0,"sha256":""}]})";
  }
  EXPECT_EQ(RestoreBackup(Path("escape"), Path("r4")).status().code(), StatusCode::kCorruption);
}

// The target's disk cannot hold the backup: refused before copying, with
// its free space; nothing is left in it.
TEST_F(BackupTest, FullDiskIsRefusedAndLeavesNothing) {
  roentgen::testing::SmallDisk disk(1 << 20);
  if (!disk.mounted()) GTEST_SKIP() << disk.why();
  const std::string data = Path("data");
  Result<std::unique_ptr<store::Store>> store = OpenStore(data);
  ASSERT_TRUE(store.ok());
  // An incompressible document: a store of ~2.5 MB.
  std::mt19937 rng(7);
  std::string big(4 << 20, '\0');
  for (char& c : big) c = static_cast<char>('a' + rng() % 26);
  store::WriteBatch batch;
  batch.documents.push_back(store::DocumentWrite{TraceNumber(1), xray::SegmentId{2}, kT0, big});
  batch.traces.push_back(store::testing::MakeFullRecord(TraceNumber(1), kT0));
  ASSERT_TRUE((*store)->Write(batch).ok());
  Result<StagedSnapshot> staged = StageBackup(data, **store);
  ASSERT_TRUE(staged.ok());
  Result<CopyStats> written = WriteBackup(StagingPath(data, staged->name), disk.Path("backup"), {});
  EXPECT_EQ(written.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(written.status().message().find("not enough room"), std::string::npos)
      << written.status().message();
  EXPECT_FALSE(fs::exists(disk.Path("backup")));

  // A write that meets a full disk midway says so too.
  disk.Fill();
  std::ofstream(Path("file")) << big;
  Result<uint64_t> copied = CopyFile(Path("file"), disk.Path("copy"));
  EXPECT_EQ(copied.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(copied.status().message().find("the disk is full"), std::string::npos)
      << copied.status().message();
  EXPECT_FALSE(fs::exists(disk.Path("copy")));
}

// The control socket: a snapshot for its user, one at a time, removed when
// the client leaves; completions counted; none without a server.
TEST_F(BackupTest, ControlSocketStagesOneSnapshotAtATime) {
  const std::string data = Path("data");
  Result<std::unique_ptr<store::Store>> store = OpenStore(data);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE(WriteTrace(**store, 3).ok());

  // No server yet: nobody answers.
  Result<std::unique_ptr<StagedByServer>> none = RequestSnapshot(data);
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, nullptr);

  MetricsRegistry metrics;
  // A server that died left its socket file and a staged snapshot.
  ASSERT_TRUE(StageBackup(data, **store).ok());
  {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string path = data + "/control.sock";
    std::memcpy(addr.sun_path, path.c_str(), path.size());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    ::close(fd);  // never listened on: connecting is refused
    none = RequestSnapshot(data);
    ASSERT_TRUE(none.ok()) << none.status().ToString();
    EXPECT_EQ(*none, nullptr);
  }
  Result<std::unique_ptr<ControlSocket>> control = ControlSocket::Start(data, **store, metrics);
  ASSERT_TRUE(control.ok()) << control.status().ToString();
  EXPECT_FALSE(fs::exists(data + "/backup-staging"));  // the leftover is gone
  EXPECT_EQ(fs::status(data + "/control.sock").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  Result<std::unique_ptr<StagedByServer>> first = RequestSnapshot(data);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_NE(*first, nullptr);
  const std::string staged = StagingPath(data, (*first)->name());
  EXPECT_TRUE(fs::exists(staged + "/store/CURRENT"));

  Result<std::unique_ptr<StagedByServer>> second = RequestSnapshot(data);
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("another backup"), std::string::npos)
      << second.status().message();

  (*first)->Done();
  first->reset();  // closes: the server removes the snapshot
  for (int i = 0; i < 200 && fs::exists(staged); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_FALSE(fs::exists(staged));
  EXPECT_EQ(metrics.GetCounter("roentgen_backups_total", "", {{"result", "completed"}}).Value(),
            1u);
  EXPECT_GT(metrics.GetGauge("roentgen_backup_last_completed_seconds", "").Value(), 0);

  // A client that leaves without "done" is counted as failed.
  Result<std::unique_ptr<StagedByServer>> third = RequestSnapshot(data);
  ASSERT_TRUE(third.ok() && *third != nullptr);
  third->reset();
  for (int i = 0; i < 200; ++i) {
    if (metrics.GetCounter("roentgen_backups_total", "", {{"result", "failed"}}).Value() == 1) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(metrics.GetCounter("roentgen_backups_total", "", {{"result", "failed"}}).Value(), 1u);

  control->reset();
  EXPECT_FALSE(fs::exists(data + "/control.sock"));
}

// A data dir path longer than a socket address holds (107 bytes) still works.
TEST_F(BackupTest, ControlSocketInALongPath) {
  const std::string data = Path(std::string(120, 'd'));
  Result<std::unique_ptr<store::Store>> store = OpenStore(data);
  ASSERT_TRUE(store.ok());
  MetricsRegistry metrics;
  Result<std::unique_ptr<ControlSocket>> control = ControlSocket::Start(data, **store, metrics);
  ASSERT_TRUE(control.ok()) << control.status().ToString();
  EXPECT_TRUE(fs::exists(data + "/control.sock"));
  Result<std::unique_ptr<StagedByServer>> staged = RequestSnapshot(data);
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  ASSERT_NE(*staged, nullptr);
  EXPECT_TRUE(fs::exists(StagingPath(data, (*staged)->name()) + "/store/CURRENT"));
}

}  // namespace
}  // namespace roentgen::backup
