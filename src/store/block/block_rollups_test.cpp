// The block engine's persisted service-graph rollups (rollup_section.h,
// Store::LoadRollups): the sections' encoding, and that the rollups loaded at
// open equal a rebuild from the stored traces through cuts, late versions,
// compaction, retention, reopening and damaged sections.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/testing/test_dir.h"
#include "graph/rollup_store.h"
#include "graph/test_traces.h"
#include "store/block/block_store.h"
#include "store/block/rollup_section.h"
#include "store/block/summary_columns.h"
#include "store/store_test_util.h"

namespace roentgen::store::block {
namespace {

namespace fs = std::filesystem;
using graph::testing::RollupCounts;
using store::testing::kSecond;
using store::testing::kT0;
using store::testing::MakeTraceId;

constexpr int64_t kWindowStart = kT0 - 3600 * kSecond;
constexpr int64_t kWindowEnd = kT0 + 3600 * kSecond;

// Trace `tail`'s version `revision`: the seed topology, spread over minutes,
// with outcomes that differ by trace and by version.
TraceRecord SeedRecordAt(uint8_t tail, uint32_t revision, int64_t t0_us) {
  graph::testing::SeedOptions opt;
  opt.t0_us = t0_us;
  opt.lambda_fault = (tail + revision) % 3 == 0;
  opt.dynamo_throttle = (tail + revision) % 4 == 0;
  opt.browser_in_progress = revision == 1 && tail % 2 == 0;
  opt.table = tail % 2 == 0 ? "Todo-table" : "Audit-table";
  TraceRecord r;
  r.summary.id = MakeTraceId(0x51, tail);
  r.summary.start_time_us = opt.t0_us;
  r.summary.updated_us = opt.t0_us + revision;
  r.summary.revision = revision;
  r.graph = graph::DeriveTraceGraph(graph::testing::SeedTrace(opt));
  return r;
}

TraceRecord SeedRecord(uint8_t tail, uint32_t revision) {
  return SeedRecordAt(tail, revision, kT0 + tail * 13 * kSecond);
}

// RollupStore holds a mutex: handed out by pointer.
std::unique_ptr<graph::RollupStore> RollupsOf(const graph::RollupMinutes& minutes) {
  auto rollups = std::make_unique<graph::RollupStore>();
  rollups->Load(minutes);
  return rollups;
}

// Every window the comparison looks at: the whole hour, and each minute.
std::vector<std::pair<int64_t, int64_t>> Windows() {
  std::vector<std::pair<int64_t, int64_t>> windows = {{kWindowStart, kWindowEnd}};
  const int64_t first = graph::RollupMinuteOf(kT0) * graph::kMinuteUs;
  for (int64_t m = 0; m < 60; ++m) {
    windows.emplace_back(first + m * graph::kMinuteUs, first + (m + 1) * graph::kMinuteUs);
  }
  return windows;
}

void ExpectSameRollups(const graph::RollupStore& got, const graph::RollupStore& want) {
  for (const auto& [start, end] : Windows()) {
    EXPECT_EQ(RollupCounts(got, start, end), RollupCounts(want, start, end))
        << "window [" << start << ", " << end << ")";
  }
}

// RollupsOfRecords sums with interned keys; it must give exactly what
// graph::AddToRollupMinutes gives row by row: the same cells (flags, counts,
// histograms, first and last times), the same minutes, the same memory
// accounting. Rows of several versions and topologies, spread over minutes,
// with services that share names but not types or accounts.
TEST(RollupSectionTest, RollupsOfRecordsEqualsAddingRowByRow) {
  std::vector<TraceRecord> rows;
  for (uint8_t i = 1; i <= 40; ++i) {
    rows.push_back(SeedRecordAt(i, 1 + i % 3, kT0 + (i % 7) * 50 * kSecond + i * kSecond));
  }
  // A node whose key differs from another's by the account only, and one
  // whose flags differ between two rows of the same minute.
  rows[3].graph.nodes[0].id.account_id = "999999999999";
  rows[5].graph.nodes[0].inferred = !rows[5].graph.nodes[0].inferred;
  rows.push_back(TraceRecord{});  // a row without a graph
  graph::RollupMinutes want;
  for (const TraceRecord& r : rows) graph::AddToRollupMinutes(want, r.graph, +1);
  const graph::RollupMinutes got = RollupsOfRecords(rows);
  ASSERT_GT(want.size(), 3u);
  EXPECT_EQ(EncodeRollupSection(got), EncodeRollupSection(want));
  ASSERT_EQ(got.size(), want.size());
  for (auto g = got.begin(), w = want.cbegin(); g != got.end(); ++g, ++w) {
    EXPECT_EQ(g->first, w->first);
    EXPECT_EQ(g->second.MemoryBytes(), w->second.MemoryBytes()) << "minute " << g->first;
    EXPECT_EQ(g->second.nodes().size(), w->second.nodes().size());
    EXPECT_EQ(g->second.edges().size(), w->second.edges().size());
  }
  EXPECT_TRUE(RollupsOfRecords({}).empty());
  // The rows given by address (a head's cut): the same sums.
  std::vector<const TraceRecord*> by_address;
  for (const TraceRecord& r : rows) by_address.push_back(&r);
  EXPECT_EQ(EncodeRollupSection(RollupsOfPointedRecords(by_address)), EncodeRollupSection(want));
  EXPECT_TRUE(RollupsOfPointedRecords({}).empty());
}

// Cells of thousands of observations (their histogram buckets are counted
// by another sort than small cells'): the same as row by row too.
TEST(RollupSectionTest, RollupsOfLargeCellsEqualAddingRowByRow) {
  std::vector<TraceRecord> rows;
  for (int i = 0; i < 700; ++i) {
    TraceRecord r;
    r.summary.id =
        store::testing::MakeTraceId(static_cast<uint8_t>(i), static_cast<uint8_t>(i >> 8));
    const int64_t start = store::testing::kT0 + i * 1000;  // one minute
    graph::Node a;
    a.id = store::testing::MakeService("front", "AWS::EC2::Instance");
    a.root = true;
    graph::Node b;
    b.id = store::testing::MakeService("db", "AWS::DynamoDB::Table");
    for (int k = 0; k < 3; ++k) {
      graph::Observation o = store::testing::MakeObservation(start + k, k != 2 || i % 2 == 0);
      // Durations over many buckets, in no order.
      if (o.end_us) *o.end_us = o.start_us + 1 + (i * 7919 + k * 104729) % 9'000'000;
      a.observations.push_back(o);
      b.observations.push_back(o);
    }
    r.graph.nodes = {a, b};
    r.graph.edges = {{0, 1, {a.observations[0]}}};
    rows.push_back(std::move(r));
  }
  graph::RollupMinutes want;
  for (const TraceRecord& r : rows) graph::AddToRollupMinutes(want, r.graph, +1);
  const graph::RollupMinutes got = RollupsOfRecords(rows);
  EXPECT_EQ(EncodeRollupSection(got), EncodeRollupSection(want));
}

TEST(RollupSectionTest, EncodingRoundTripsAndDamageIsCorruption) {
  std::vector<TraceRecord> rows;
  for (uint8_t i = 1; i <= 12; ++i) rows.push_back(SeedRecord(i, 1));
  const graph::RollupMinutes minutes = RollupsOfRecords(rows);
  ASSERT_GT(minutes.size(), 1u);
  const std::string bytes = EncodeRollupSection(minutes);
  Result<graph::RollupMinutes> decoded = DecodeRollupSection(bytes, "test");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(EncodeRollupSection(*decoded), bytes);
  graph::RollupStore added;
  for (const TraceRecord& r : rows) added.Add(r.graph, +1);
  ExpectSameRollups(*RollupsOf(*decoded), added);
  EXPECT_FALSE(RollupCounts(added, kWindowStart, kWindowEnd).empty());

  // Cut short anywhere, or with bytes after it: Corruption, never a crash.
  for (size_t n = 0; n < bytes.size(); ++n) {
    Result<graph::RollupMinutes> cut = DecodeRollupSection(bytes.substr(0, n), "test");
    ASSERT_FALSE(cut.ok()) << n;
    EXPECT_EQ(cut.status().code(), StatusCode::kCorruption);
    EXPECT_NE(cut.status().message().find("roentgen.rollups"), std::string::npos);
  }
  EXPECT_EQ(DecodeRollupSection(bytes + "x", "test").status().code(), StatusCode::kCorruption);
  // Any byte flipped: Corruption, or a section that decodes (a changed count).
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x41);
    Result<graph::RollupMinutes> d = DecodeRollupSection(damaged, "test");
    if (!d.ok()) {
      EXPECT_EQ(d.status().code(), StatusCode::kCorruption);
    }
  }
  EXPECT_EQ(DecodeRollupSection(std::string("\x02", 1), "test").status().code(),
            StatusCode::kCorruption);
  // An empty block's section is empty.
  Result<graph::RollupMinutes> none = DecodeRollupSection(EncodeRollupSection({}), "test");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

class BlockRollupsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.shards = 1;  // each Flush makes one block
    options_.flush_at_close = false;
    options_.compaction = false;  // compaction when a test asks
    options_.compaction_fanin = 2;
    Open();
  }
  void TearDown() override { store_.reset(); }
  void Open() {
    BlockStoreOptions o = options_;
    o.clock = &clock_;
    auto s = BlockStore::Open(dir_.string(), o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }
  void Reopen() {
    store_.reset();
    Open();
  }
  void Write(const TraceRecord& r) {
    WriteBatch batch;
    batch.traces.push_back(r);
    docs_.push_back("{\"doc\":" + std::to_string(r.summary.revision) + "}");
    batch.documents.push_back(
        {r.summary.id, xray::SegmentId{r.summary.revision}, r.summary.start_time_us, docs_.back()});
    Status s = store_->Write(batch);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // 40 traces kSpacing apart in four blocks of ten, then a fifth block of
  // late versions of eight of them.
  static constexpr int64_t kSpacing = 7 * graph::kMinuteUs;
  void WriteFortyTracesOverFiveBlocks() {
    for (uint8_t i = 1; i <= 40; ++i) {
      Write(SeedRecordAt(i, 1, kT0 + i * kSpacing));
      if (i % 10 == 0) {
        ASSERT_TRUE(store_->Flush().ok());
      }
    }
    for (uint8_t i = 3; i <= 40; i += 5) Write(SeedRecordAt(i, 2, kT0 + i * kSpacing));
    ASSERT_TRUE(store_->Flush().ok());
  }

  // A rebuild from scratch: every stored trace's graph added.
  std::unique_ptr<graph::RollupStore> Rebuilt() {
    auto rollups = std::make_unique<graph::RollupStore>();
    ScanOptions o;
    o.start_us = INT64_MIN;
    o.end_us = INT64_MAX;
    o.return_graph = true;
    auto s = store_->Scan(o, [&](const TraceRecord& r, int64_t) {
      rollups->Add(r.graph, +1);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return rollups;
  }

  PersistedRollups Load() {
    Result<std::optional<PersistedRollups>> loaded = store_->LoadRollups();
    EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
    if (!loaded.ok() || !loaded->has_value()) {
      ADD_FAILURE() << "the block engine offers no persisted rollups";
      return {};
    }
    return std::move(**loaded);
  }

  // The loaded rollups equal a rebuild, now and after a reopen.
  void ExpectLoadEqualsRebuild(const char* when) {
    SCOPED_TRACE(when);
    ASSERT_TRUE(store_->Flush().ok());
    PersistedRollups loaded = Load();
    EXPECT_TRUE(loaded.damaged.empty());
    EXPECT_EQ(loaded.rebuilt_blocks, 0u);
    const auto want = Rebuilt();
    ExpectSameRollups(*RollupsOf(loaded.minutes), *want);
    Reopen();  // which saves the superseded rows' rollups at close
    PersistedRollups reopened = Load();
    EXPECT_EQ(reopened.superseded_rows, loaded.superseded_rows);
    EXPECT_EQ(reopened.superseded_rows_read, 0u);
    ExpectSameRollups(*RollupsOf(reopened.minutes), *want);
    ExpectSameRollups(*RollupsOf(reopened.minutes), *Rebuilt());
  }

  size_t BlockCount() {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir_ / "blocks")) {
      n += e.path().extension() == ".blk" ? 1 : 0;
    }
    return n;
  }

  // Rewrites the block file at `path` with its rollup section replaced by
  // what `section` makes of its records, or without one when it is null.
  static void RewriteRollupSection(
      const std::string& path,
      const std::function<std::string(const std::vector<TraceRecord>&)>& section) {
    auto reader = BlockReader::Open(path);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    std::vector<TraceRecord> records;
    ASSERT_TRUE((*reader)->ReadAllRecords(records, true).ok());
    auto documents = (*reader)->ReadAllDocuments();
    ASSERT_TRUE(documents.ok());
    BlockWriteOptions wo;
    for (const std::string& name : (*reader)->section_names()) {
      if (name != kRollupSection) wo.sections.emplace_back(name, *(*reader)->ReadSection(name));
    }
    if (section) wo.sections.emplace_back(std::string(kRollupSection), section(records));
    reader->reset();
    ASSERT_TRUE(WriteBlock(records, *documents, path, wo).ok());
  }

  ::roentgen::testing::TestDir test_dir_{"rg-block-rollups-test"};
  const fs::path dir_ = test_dir_.path();
  FakeClock clock_{kT0};
  BlockStoreOptions options_;
  std::unique_ptr<BlockStore> store_;
  std::deque<std::string> docs_;
};

TEST_F(BlockRollupsTest, AnEmptyStoreLoadsEmptyRollups) {
  PersistedRollups loaded = Load();
  EXPECT_TRUE(loaded.minutes.empty());
  EXPECT_EQ(loaded.blocks, 0u);
}

TEST_F(BlockRollupsTest, LoadedRollupsEqualARebuildThroughCutsLateVersionsCompactionAndRetention) {
  // Three cut blocks of new traces.
  for (uint8_t i = 1; i <= 30; ++i) {
    Write(SeedRecord(i, 1));
    if (i % 10 == 0) {
      ASSERT_TRUE(store_->Flush().ok());
    }
  }
  ASSERT_EQ(BlockCount(), 3u);
  PersistedRollups cut = Load();
  EXPECT_EQ(cut.blocks, 3u);
  EXPECT_EQ(cut.superseded_rows, 0u);
  EXPECT_FALSE(RollupCounts(*RollupsOf(cut.minutes), kWindowStart, kWindowEnd).empty());
  ExpectLoadEqualsRebuild("after cuts");

  // Late versions of traces in every block: their old rows are superseded,
  // and read from their blocks until their rollups are saved.
  for (uint8_t i = 2; i <= 30; i += 3) Write(SeedRecord(i, 2));
  ASSERT_TRUE(store_->Flush().ok());
  PersistedRollups fresh = Load();
  EXPECT_EQ(fresh.superseded_rows, 10u);
  EXPECT_EQ(fresh.superseded_rows_read, 10u);
  ExpectLoadEqualsRebuild("after late versions");
  // Saved, then more rows superseded: only those are read.
  ASSERT_TRUE(store_->SaveRollupCorrections().ok());
  EXPECT_EQ(Load().superseded_rows_read, 0u);
  // A third version of some, superseding rows of the late versions' block.
  for (uint8_t i = 2; i <= 30; i += 6) Write(SeedRecord(i, 3));
  ASSERT_TRUE(store_->Flush().ok());
  fresh = Load();
  EXPECT_EQ(fresh.superseded_rows, 15u);
  EXPECT_EQ(fresh.superseded_rows_read, 5u);
  ExpectLoadEqualsRebuild("after third versions");

  // Compaction merges the blocks, dropping superseded rows.
  Result<uint64_t> compacted = store_->Compact();
  ASSERT_TRUE(compacted.ok()) << compacted.status().ToString();
  EXPECT_GT(*compacted, 0u);
  ExpectLoadEqualsRebuild("after compaction");
  // More rounds, until one merges nothing.
  for (int round = 0; round < 4; ++round) {
    Result<uint64_t> more = store_->Compact();
    ASSERT_TRUE(more.ok()) << more.status().ToString();
    if (*more == 0) break;
  }
  ExpectLoadEqualsRebuild("after more compaction");

  // Late versions again, then retention: a cutoff inside the blocks marks
  // the older rows superseded.
  for (uint8_t i = 1; i <= 30; i += 4) Write(SeedRecord(i, 4));
  ASSERT_TRUE(store_->Flush().ok());
  ASSERT_TRUE(store_->DeleteOlderThan(kT0 + 100 * kSecond).ok());
  ExpectLoadEqualsRebuild("after retention inside blocks");
  // New blocks, and a cutoff that drops whole blocks.
  for (uint8_t i = 40; i <= 60; ++i) {
    Write(SeedRecord(i, 1));
    if (i % 7 == 0) {
      ASSERT_TRUE(store_->Flush().ok());
    }
  }
  ExpectLoadEqualsRebuild("after more cuts");
  const size_t before = BlockCount();
  ASSERT_TRUE(store_->DeleteOlderThan(kT0 + 520 * kSecond).ok());
  EXPECT_LT(BlockCount(), before);
  ExpectLoadEqualsRebuild("after retention of whole blocks");
  ASSERT_TRUE(store_->Compact().ok());
  ExpectLoadEqualsRebuild("after compaction of retention's rows");
}

TEST_F(BlockRollupsTest, ADamagedSectionIsReportedAndItsBlockRebuiltFromItsRows) {
  for (uint8_t i = 1; i <= 20; ++i) {
    Write(SeedRecord(i, 1));
    if (i % 10 == 0) {
      ASSERT_TRUE(store_->Flush().ok());
    }
  }
  Write(SeedRecord(3, 2));  // one superseded row in the damaged block
  ASSERT_TRUE(store_->Flush().ok());
  const auto want = Rebuilt();
  store_.reset();

  // Rewrite the first block with the same rows and a rollup section that
  // is not one (its chunk is intact: the section's own checks find it).
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir_ / "blocks")) {
    if (e.path().extension() == ".blk") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 3u);
  RewriteRollupSection(files[0], [](const std::vector<TraceRecord>& records) {
    std::string bad = EncodeRollupSection(RollupsOfRecords(records));
    bad.resize(bad.size() / 2);
    return bad;
  });
  Open();
  PersistedRollups loaded = Load();
  ASSERT_EQ(loaded.damaged.size(), 1u);
  EXPECT_EQ(loaded.damaged[0].code(), StatusCode::kCorruption);
  EXPECT_NE(loaded.damaged[0].message().find(files[0]), std::string::npos)
      << loaded.damaged[0].ToString();
  EXPECT_NE(loaded.damaged[0].message().find("roentgen.rollups"), std::string::npos);
  EXPECT_EQ(loaded.rebuilt_blocks, 1u);
  EXPECT_EQ(loaded.blocks, 3u);
  EXPECT_GE(store_->Stats().read_errors.corruption, 1u);
  ExpectSameRollups(*RollupsOf(loaded.minutes), *want);

  // A block without the section (written before blocks kept one): rebuilt,
  // not reported as damage.
  store_.reset();
  RewriteRollupSection(files[1], nullptr);
  Open();
  loaded = Load();
  EXPECT_EQ(loaded.damaged.size(), 1u);
  EXPECT_EQ(loaded.rebuilt_blocks, 2u);
  ExpectSameRollups(*RollupsOf(loaded.minutes), *want);
}

TEST_F(BlockRollupsTest, DamagedSavedRollupsOfSupersededRowsAreReportedAndTheRowsRead) {
  for (uint8_t i = 1; i <= 20; ++i) Write(SeedRecord(i, 1));
  ASSERT_TRUE(store_->Flush().ok());
  for (uint8_t i = 1; i <= 20; i += 2) Write(SeedRecord(i, 2));
  ASSERT_TRUE(store_->Flush().ok());
  ASSERT_TRUE(store_->SaveRollupCorrections().ok());
  const auto want = Rebuilt();
  store_.reset();
  const fs::path file = dir_ / "blocks" / std::string(kSavedCorrectionsFile);
  ASSERT_TRUE(fs::exists(file));
  {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(5);
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x10);
    f.seekp(5);
    f.write(&c, 1);
  }
  Open();
  PersistedRollups loaded = Load();
  ASSERT_EQ(loaded.damaged.size(), 1u);
  EXPECT_EQ(loaded.damaged[0].code(), StatusCode::kCorruption);
  EXPECT_NE(loaded.damaged[0].message().find("superseded-rollups"), std::string::npos)
      << loaded.damaged[0].ToString();
  EXPECT_EQ(loaded.superseded_rows, 10u);
  EXPECT_EQ(loaded.superseded_rows_read, 10u);
  ExpectSameRollups(*RollupsOf(loaded.minutes), *want);
  // Saving again replaces the damaged file.
  ASSERT_TRUE(store_->SaveRollupCorrections().ok());
  Reopen();
  loaded = Load();
  EXPECT_TRUE(loaded.damaged.empty());
  EXPECT_EQ(loaded.superseded_rows_read, 0u);
  ExpectSameRollups(*RollupsOf(loaded.minutes), *want);
}

TEST_F(BlockRollupsTest, LoadingWhileTheHeadsHoldWritesIsRefused) {
  Write(SeedRecord(1, 1));
  Result<std::optional<PersistedRollups>> loaded = store_->LoadRollups();
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_->Flush().ok());
  EXPECT_TRUE(store_->LoadRollups().ok());
}

// Loaded for rollups that keep the minutes before a floor per hour, the
// blocks' minutes come summed per hour below it, and give what adding every
// stored trace to such rollups gives.
TEST_F(BlockRollupsTest, MinutesBeforeTheHourlyFloorAreLoadedPerHour) {
  ASSERT_NO_FATAL_FAILURE(WriteFortyTracesOverFiveBlocks());
  graph::RollupConfig config;
  config.minute_window_us = 120 * graph::kMinuteUs;
  const int64_t now = kT0 + 41 * kSpacing;

  auto check = [&](const char* when, uint64_t superseded_read) {
    SCOPED_TRACE(when);
    auto want = std::make_unique<graph::RollupStore>(config);
    ScanOptions o;
    o.start_us = INT64_MIN;
    o.end_us = INT64_MAX;
    o.return_graph = true;
    ASSERT_TRUE(store_
                    ->Scan(o,
                           [&](const TraceRecord& r, int64_t) {
                             want->Add(r.graph, +1);
                             return true;
                           })
                    .ok());
    want->Expire(now);
    auto got = std::make_unique<graph::RollupStore>(config);
    got->Expire(now);
    const int64_t floor = got->hourly_before_us();
    ASSERT_EQ(floor, want->hourly_before_us());
    ASSERT_GT(floor, kT0 + kSpacing);
    Result<std::optional<PersistedRollups>> loaded = store_->LoadRollups(floor);
    ASSERT_TRUE(loaded.ok() && loaded->has_value());
    PersistedRollups& persisted = **loaded;
    EXPECT_EQ(persisted.superseded_rows, 8u);
    EXPECT_EQ(persisted.superseded_rows_read, superseded_read);
    size_t hours = 0;
    for (const auto& [minute, agg] : persisted.minutes) {
      if (minute * graph::kMinuteUs >= floor) continue;
      EXPECT_EQ(minute, graph::RollupHourStart(minute));
      ++hours;
    }
    EXPECT_GE(hours, 3u);
    got->Load(std::move(persisted.minutes));
    EXPECT_EQ(got->stats().hours, want->stats().hours);
    EXPECT_EQ(got->stats().minutes, want->stats().minutes);
    EXPECT_EQ(got->stats().evicted_minutes, 0u);
    const int64_t first = graph::RollupHourStart(graph::RollupMinuteOf(kT0)) * graph::kMinuteUs;
    EXPECT_EQ(RollupCounts(*got, first, now + graph::kMinuteUs),
              RollupCounts(*want, first, now + graph::kMinuteUs));
    for (int64_t h = first; h < now; h += 60 * graph::kMinuteUs) {
      EXPECT_EQ(RollupCounts(*got, h, h + 60 * graph::kMinuteUs),
                RollupCounts(*want, h, h + 60 * graph::kMinuteUs))
          << "hour from " << h;
    }
    for (int64_t m = floor; m < now; m += graph::kMinuteUs) {
      EXPECT_EQ(RollupCounts(*got, m, m + graph::kMinuteUs),
                RollupCounts(*want, m, m + graph::kMinuteUs))
          << "minute from " << m;
    }
  };
  check("before the superseded rows' rollups are saved", 8);
  Reopen();  // which saves them
  check("after a reopen", 0);
}

// With a budget for the minutes kept, the newest blocks' minutes stay per
// minute and the older ones come per hour: the peak stays near the budget,
// the counts exact.
TEST_F(BlockRollupsTest, PastTheMinuteBudgetOlderMinutesAreLoadedPerHour) {
  ASSERT_NO_FATAL_FAILURE(WriteFortyTracesOverFiveBlocks());
  const auto want = Rebuilt();

  PersistedRollups all = Load();
  EXPECT_EQ(all.hourly_before_us, INT64_MIN);
  size_t all_bytes = 0;
  for (const auto& [minute, agg] : all.minutes) all_bytes += agg.MemoryBytes();
  const int64_t newest = all.minutes.rbegin()->first;

  const size_t budget = all_bytes / 3;
  Result<std::optional<PersistedRollups>> loaded = store_->LoadRollups(INT64_MIN, budget);
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  PersistedRollups& some = **loaded;
  ASSERT_NE(some.hourly_before_us, INT64_MIN);
  const int64_t floor = some.hourly_before_us / graph::kMinuteUs;
  EXPECT_EQ(floor, graph::RollupHourStart(floor));
  size_t minute_bytes = 0;
  for (const auto& [minute, agg] : some.minutes) {
    if (minute < floor) {
      EXPECT_EQ(minute, graph::RollupHourStart(minute));
    } else {
      minute_bytes += agg.MemoryBytes();
    }
  }
  EXPECT_LE(minute_bytes, budget);
  EXPECT_GT(minute_bytes, 0u);
  EXPECT_TRUE(some.minutes.contains(newest));  // the newest minutes stay

  graph::RollupStore got;
  got.Load(std::move(some.minutes), some.hourly_before_us);
  EXPECT_EQ(got.hourly_before_us(), some.hourly_before_us);
  EXPECT_GT(got.stats().hours, 0u);
  const int64_t first = graph::RollupHourStart(graph::RollupMinuteOf(kT0)) * graph::kMinuteUs;
  const int64_t end = (newest + 1) * graph::kMinuteUs;
  EXPECT_EQ(RollupCounts(got, first, end), RollupCounts(*want, first, end));
  for (int64_t h = first; h < end; h += 60 * graph::kMinuteUs) {
    EXPECT_EQ(RollupCounts(got, h, h + 60 * graph::kMinuteUs),
              RollupCounts(*want, h, h + 60 * graph::kMinuteUs))
        << "hour from " << h;
  }
  for (int64_t m = floor * graph::kMinuteUs; m < end; m += graph::kMinuteUs) {
    EXPECT_EQ(RollupCounts(got, m, m + graph::kMinuteUs),
              RollupCounts(*want, m, m + graph::kMinuteUs))
        << "minute from " << m;
  }

  // A budget no minute fits: every hour whole, still exact.
  Result<std::optional<PersistedRollups>> none = store_->LoadRollups(INT64_MIN, 1);
  ASSERT_TRUE(none.ok() && none->has_value());
  EXPECT_EQ((*none)->hourly_before_us,
            (graph::RollupHourStart(newest) + graph::kMinutesPerHour) * graph::kMinuteUs);
  graph::RollupStore hourly;
  hourly.Load(std::move((*none)->minutes), (*none)->hourly_before_us);
  EXPECT_EQ(hourly.stats().minutes, 0u);
  for (int64_t h = first; h < end; h += 60 * graph::kMinuteUs) {
    EXPECT_EQ(RollupCounts(hourly, h, h + 60 * graph::kMinuteUs),
              RollupCounts(*want, h, h + 60 * graph::kMinuteUs))
        << "hour from " << h;
  }
}

TEST(RollupStoreLoadTest, LoadAddsToWhatIsThereAndSkipsExpiredMinutes) {
  std::vector<TraceRecord> rows;
  for (uint8_t i = 1; i <= 10; ++i) rows.push_back(SeedRecord(i, 1));
  graph::RollupStore want;
  for (const TraceRecord& r : rows) want.Add(r.graph, +1);

  graph::RollupStore loaded;
  loaded.Add(rows[0].graph, +1);
  loaded.Load(RollupsOfRecords(std::span<const TraceRecord>(rows).subspan(1)));
  ExpectSameRollups(loaded, want);
  EXPECT_GT(loaded.stats().loaded_minutes, 0u);

  graph::RollupConfig config;
  config.retention_us = graph::kMinuteUs;
  graph::RollupStore expired(config);
  expired.Expire(kT0 + 3600 * kSecond);
  expired.Load(RollupsOfRecords(rows));
  EXPECT_EQ(expired.stats().minutes, 0u);
  EXPECT_GT(expired.stats().skipped_observations, 0u);
}

}  // namespace
}  // namespace roentgen::store::block
