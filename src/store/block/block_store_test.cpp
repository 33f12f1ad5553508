// The block engine's own behaviour (block_store.h): what the conformance
// suite (store_conformance_test.cpp) cannot see from outside — durability at
// the cut, late versions superseding block rows, block retention, damaged and
// stray files.
#include "store/block/block_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/testing/test_dir.h"
#include "filter/filter.h"
#include "store/block/summary_columns.h"
#include "store/record_codec.h"
#include "store/store_test_util.h"

namespace roentgen::store::block {
namespace {

namespace fs = std::filesystem;
using store::testing::kSecond;
using store::testing::kT0;
using store::testing::MakeFullRecord;
using store::testing::MakeRecord;
using store::testing::MakeTraceId;

class BlockStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // One head, so that each Flush makes one block; nothing cut at close, so
    // that a reopen loses what the tests did not flush, as a crash would.
    options_.shards = 1;
    options_.flush_at_close = false;
    // Compaction runs when a test asks (Compact()), so block counts hold still.
    options_.compaction = false;
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
  // Closes without cutting what the heads hold (a crash, as far as the
  // store's files go), then opens again.
  void Crash() {
    store_.reset();
    Open();
  }

  void Write(const TraceRecord& r, std::vector<std::pair<uint64_t, std::string>> docs = {},
             std::function<void()> on_durable = nullptr) {
    WriteBatch batch;
    batch.traces.push_back(r);
    for (auto& [entity, raw] : docs) {
      doc_storage_.push_back(raw);
      batch.documents.push_back({r.summary.id, xray::SegmentId{entity}, kT0, doc_storage_.back()});
    }
    batch.on_durable = std::move(on_durable);
    ASSERT_TRUE(store_->Write(batch).ok());
  }

  std::vector<int> Tails(ScanOptions o) {
    std::vector<int> tails;
    auto s = store_->Scan(o, [&](const TraceRecord& r, int64_t) {
      tails.push_back(r.summary.id.bytes[15]);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return tails;
  }
  static ScanOptions All() {
    ScanOptions o;
    o.start_us = INT64_MIN;
    o.end_us = INT64_MAX;
    return o;
  }

  std::vector<std::string> BlockFiles() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_ / "blocks")) {
      const std::string name = e.path().filename().string();
      if (name.ends_with(".blk")) names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  // Traces `tag`·0 … `tag`·(traces − 1) are the store's only traces, each
  // with `documents` documents.
  void ExpectTracesWithDocuments(uint8_t tag, int traces, int documents) {
    EXPECT_EQ(Tails(All()).size(), static_cast<size_t>(traces));
    for (int t = 0; t < traces; ++t) {
      auto docs = store_->GetDocuments(MakeTraceId(tag, static_cast<uint8_t>(t)));
      ASSERT_TRUE(docs.ok());
      EXPECT_EQ(docs->size(), static_cast<size_t>(documents));
    }
    EXPECT_EQ(store_->Stats().traces, static_cast<uint64_t>(traces));
  }

  // A thread that scans everything again and again until `done`, checking
  // that each scan sees each trace once; counts its scans in `scans`.
  std::thread ScanUntilDone(const std::atomic<bool>& done, std::atomic<int>& scans) {
    return std::thread([this, &done, &scans] {
      while (!done) {
        std::set<int> seen;
        size_t visits = 0;
        auto s = store_->Scan(All(), [&](const TraceRecord& r, int64_t) {
          seen.insert(r.summary.id.bytes[15]);
          ++visits;
          return true;
        });
        ASSERT_TRUE(s.ok()) << s.status().ToString();
        ASSERT_EQ(visits, seen.size()) << "a trace seen twice in one scan";
        ++scans;
      }
    });
  }

  ::roentgen::testing::TestDir test_dir_{"rg-block-store-test"};
  const fs::path dir_ = test_dir_.path();
  FakeClock clock_{kT0};
  BlockStoreOptions options_;
  std::unique_ptr<BlockStore> store_;
  std::deque<std::string> doc_storage_;
};

TEST_F(BlockStoreTest, ReopenAfterFlushKeepsEverything) {
  for (uint8_t i = 1; i <= 20; ++i) {
    Write(MakeFullRecord(MakeTraceId(0x10, i), kT0 + i), {{1, "doc-" + std::to_string(i)}});
  }
  ASSERT_TRUE(store_->PutConfig("groups", "prod", "f").ok());
  ASSERT_TRUE(store_->Flush().ok());
  EXPECT_EQ(store_->Stats().unflushed_bytes, 0u);
  EXPECT_FALSE(BlockFiles().empty());
  Crash();
  for (uint8_t i = 1; i <= 20; ++i) {
    auto r = store_->GetTrace(MakeTraceId(0x10, i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->summary.start_time_us, kT0 + i);
    EXPECT_EQ(r->graph.nodes.size(), 3u);
    auto docs = store_->GetDocuments(MakeTraceId(0x10, i));
    ASSERT_TRUE(docs.ok());
    ASSERT_EQ(docs->size(), 1u);
    EXPECT_EQ((*docs)[0].raw, "doc-" + std::to_string(i));
  }
  EXPECT_EQ(Tails(All()).size(), 20u);
  EXPECT_EQ(*store_->GetConfig("groups", "prod"), "f");
  const StoreStats stats = store_->Stats();
  EXPECT_EQ(stats.traces, 20u);
  EXPECT_EQ(stats.documents, 20u);
  EXPECT_GT(stats.disk_bytes, 0u);
}

TEST_F(BlockStoreTest, ReopenWithoutFlushLosesOnlyUncutDataAndNeverSaysItWasDurable) {
  std::atomic<int> cut_durable{0}, uncut_durable{0};
  Write(MakeRecord(MakeTraceId(0x11, 1), kT0), {{1, "cut"}}, [&] { ++cut_durable; });
  ASSERT_TRUE(store_->Flush().ok());
  EXPECT_EQ(cut_durable, 1);
  Write(MakeRecord(MakeTraceId(0x11, 2), kT0 + 1), {{1, "uncut"}}, [&] { ++uncut_durable; });
  EXPECT_TRUE(store_->GetTrace(MakeTraceId(0x11, 2)).ok());
  Crash();
  EXPECT_EQ(uncut_durable, 0);
  EXPECT_EQ(cut_durable, 1);
  EXPECT_TRUE(store_->GetTrace(MakeTraceId(0x11, 1)).ok());
  EXPECT_EQ(store_->GetTrace(MakeTraceId(0x11, 2)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetDocuments(MakeTraceId(0x11, 2))->size(), 0u);
  EXPECT_EQ(Tails(All()), (std::vector<int>{1}));
}

TEST_F(BlockStoreTest, ALateSegmentMakesExactlyOneVersion) {
  const auto id = MakeTraceId(0x12, 1);
  TraceRecord first = MakeRecord(id, kT0);
  first.summary.annotations = {{"stage", {{std::string("early"), {}}}}};
  Write(first, {{1, "first segment"}});
  Write(MakeRecord(MakeTraceId(0x12, 2), kT0 + 5), {{1, "other"}});
  ASSERT_TRUE(store_->Flush().ok());

  // A late segment: the head's new version carries the block's documents and
  // hides the block row.
  TraceRecord late = first;
  late.summary.start_time_us = kT0 - 3;  // an earlier segment arrived
  late.summary.annotations = {{"stage", {{std::string("late"), {}}}}};
  late.summary.revision = 2;
  Write(late, {{2, "late segment"}});

  auto check = [&](const char* when) {
    SCOPED_TRACE(when);
    EXPECT_EQ(Tails(All()), (std::vector<int>{2, 1}));
    ScanOptions o = All();
    o.filter = store::testing::Filter(R"(annotation.stage = "early")");
    EXPECT_EQ(Tails(o), (std::vector<int>{}));
    o.filter = store::testing::Filter(R"(annotation.stage = "late")");
    EXPECT_EQ(Tails(o), (std::vector<int>{1}));
    EXPECT_EQ(store_->GetTrace(id)->summary.start_time_us, kT0 - 3);
    auto docs = store_->GetDocuments(id);
    ASSERT_TRUE(docs.ok());
    ASSERT_EQ(docs->size(), 2u);
    EXPECT_EQ((*docs)[0].raw, "first segment");
    EXPECT_EQ((*docs)[1].raw, "late segment");
    EXPECT_EQ(store_->Stats().traces, 2u);
  };
  check("in the head");
  ASSERT_TRUE(store_->Flush().ok());
  EXPECT_EQ(BlockFiles().size(), 2u);
  check("both versions in blocks");
  Crash();
  check("after a reopen");
  // A third version, over the second block's row, read after another reopen.
  late.summary.revision = 3;
  Write(late, {{3, "third"}});
  ASSERT_TRUE(store_->Flush().ok());
  Crash();
  EXPECT_EQ(Tails(All()), (std::vector<int>{2, 1}));
  EXPECT_EQ(store_->GetTrace(id)->summary.revision, 3u);
  EXPECT_EQ(store_->GetDocuments(id)->size(), 3u);
}

TEST_F(BlockStoreTest, DeleteOlderThanDropsWholeBlocksAndHidesOlderRows) {
  for (uint8_t i = 1; i <= 3; ++i) Write(MakeRecord(MakeTraceId(0x13, i), kT0 - 100 + i));
  ASSERT_TRUE(store_->Flush().ok());
  for (uint8_t i = 4; i <= 6; ++i) Write(MakeRecord(MakeTraceId(0x13, i), kT0 + i));
  ASSERT_TRUE(store_->Flush().ok());
  ASSERT_EQ(BlockFiles().size(), 2u);
  const std::string newer = BlockFiles()[1];

  ASSERT_TRUE(store_->DeleteOlderThan(kT0).ok());
  EXPECT_EQ(BlockFiles(), (std::vector<std::string>{newer}));  // the old block's file is gone
  EXPECT_EQ(Tails(All()), (std::vector<int>{6, 5, 4}));
  EXPECT_EQ(store_->GetTrace(MakeTraceId(0x13, 1)).status().code(), StatusCode::kNotFound);

  // A cutoff inside the remaining block hides its older rows, durably.
  ASSERT_TRUE(store_->DeleteOlderThan(kT0 + 5).ok());
  EXPECT_EQ(BlockFiles().size(), 1u);
  EXPECT_EQ(Tails(All()), (std::vector<int>{6, 5}));
  Crash();
  EXPECT_EQ(Tails(All()), (std::vector<int>{6, 5}));
  EXPECT_EQ(store_->GetTrace(MakeTraceId(0x13, 4)).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->Stats().traces, 2u);
}

TEST_F(BlockStoreTest, ItsRetentionThreadDropsWhatIsOlderThanTheRetention) {
  for (uint8_t i = 1; i <= 3; ++i) Write(MakeRecord(MakeTraceId(0x17, i), kT0 - 100 + i));
  ASSERT_TRUE(store_->Flush().ok());
  for (uint8_t i = 4; i <= 6; ++i) Write(MakeRecord(MakeTraceId(0x17, i), kT0 + i));
  ASSERT_TRUE(store_->Flush().ok());
  options_.retention_us = 50;  // the clock stands at kT0: the first block is due
  options_.retention_interval_us = 1'000;
  Crash();
  // Nothing but the thread deletes: wait for it (bounded; not a timing check).
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (BlockFiles().size() != 1 && std::chrono::steady_clock::now() < give_up) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(BlockFiles().size(), 1u);
  EXPECT_EQ(Tails(All()), (std::vector<int>{6, 5, 4}));
}

TEST_F(BlockStoreTest, ARetentionIntervalThatIsNotPositiveIsRefused) {
  BlockStoreOptions o = options_;
  o.retention_us = 1;
  o.retention_interval_us = 0;
  auto s = BlockStore::Open((dir_ / "other").string(), o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("retention_interval_us"), std::string::npos);
}

TEST_F(BlockStoreTest, RetentionOfAHeadVersionKeepsItsOlderRowHidden) {
  const auto id = MakeTraceId(0x14, 1);
  Write(MakeRecord(id, kT0 + 10), {{1, "a"}});
  ASSERT_TRUE(store_->Flush().ok());
  Write(MakeRecord(id, kT0 - 10), {{2, "b"}});  // now starts before the cutoff
  ASSERT_TRUE(store_->DeleteOlderThan(kT0).ok());
  EXPECT_EQ(store_->GetTrace(id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(Tails(All()), (std::vector<int>{}));
  Crash();
  EXPECT_EQ(store_->GetTrace(id).status().code(), StatusCode::kNotFound);
}

TEST_F(BlockStoreTest, ADamagedBlockFailsReadsWithCorruption) {
  for (uint8_t i = 1; i <= 50; ++i) {
    Write(MakeFullRecord(MakeTraceId(0x15, i), kT0 + i), {{1, std::string(200, 'x')}});
  }
  ASSERT_TRUE(store_->Flush().ok());
  store_.reset();
  ASSERT_EQ(BlockFiles().size(), 1u);
  const fs::path file = dir_ / "blocks" / BlockFiles()[0];
  {
    // Damage the first column chunks (just after the 8-byte magic).
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    for (int at = 12; at < 400; at += 16) {
      f.seekg(at);
      char c = 0;
      f.read(&c, 1);
      c = static_cast<char>(c ^ 0x5a);
      f.seekp(at);
      f.write(&c, 1);
    }
  }
  Open();
  ScanOptions o = All();
  o.return_graph = true;
  auto scanned = store_->Scan(o, [](const TraceRecord&, int64_t) { return true; });
  ASSERT_FALSE(scanned.ok());
  EXPECT_EQ(scanned.status().code(), StatusCode::kCorruption) << scanned.status().ToString();
  // Worded as every engine words it (store/read_failure.h): the API passes it on.
  EXPECT_TRUE(scanned.status().message().starts_with("store corruption detected: block "))
      << scanned.status().ToString();
  for (uint8_t i = 1; i <= 50; ++i) {
    auto r = store_->GetTrace(MakeTraceId(0x15, i));
    if (r.ok()) {
      EXPECT_EQ(r->summary.start_time_us, kT0 + i);  // never a wrong answer
    } else {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption) << r.status().ToString();
      EXPECT_TRUE(r.status().message().starts_with("store corruption detected: "))
          << r.status().ToString();
    }
  }
  EXPECT_GT(store_->Stats().read_errors.corruption, 0u);
}

TEST_F(BlockStoreTest, StrayFilesAreDeletedAtOpen) {
  Write(MakeRecord(MakeTraceId(0x16, 1), kT0));
  ASSERT_TRUE(store_->Flush().ok());
  store_.reset();
  const auto live = BlockFiles();
  ASSERT_EQ(live.size(), 1u);
  for (const char* name : {"00000000000000000999.blk", "00000000000000000998.blk.tmp"}) {
    std::ofstream(dir_ / "blocks" / name) << "a cut that crashed before its manifest edit";
  }
  Open();
  EXPECT_EQ(BlockFiles(), live);
  EXPECT_FALSE(fs::exists(dir_ / "blocks" / "00000000000000000998.blk.tmp"));
  EXPECT_EQ(Tails(All()), (std::vector<int>{1}));
}

TEST_F(BlockStoreTest, OnDurableRunsOnceAfterTheBlockCommits) {
  // One batch across both shards: durable once every trace of it is in a block.
  options_.shards = 2;
  store_.reset();
  Open();
  std::atomic<int> durable{0};
  std::atomic<size_t> blocks_when_durable{0};
  WriteBatch batch;
  for (uint8_t i = 1; i <= 16; ++i) batch.traces.push_back(MakeRecord(MakeTraceId(0x17, i), kT0));
  batch.on_durable = [&] {
    ++durable;
    blocks_when_durable = BlockFiles().size();
  };
  ASSERT_TRUE(store_->Write(batch).ok());
  EXPECT_EQ(durable, 0);
  ASSERT_TRUE(store_->Flush().ok());
  EXPECT_EQ(durable, 1);
  EXPECT_EQ(blocks_when_durable, options_.shards);  // every shard had some of the batch
  ASSERT_TRUE(store_->Flush().ok());
  EXPECT_EQ(durable, 1);
  store_.reset();
  EXPECT_EQ(durable, 1);
}

TEST_F(BlockStoreTest, TheCutterCutsQuietTracesByItself) {
  options_.head.quiet_us = 1 * kSecond;
  options_.cut_interval_us = 5'000;
  store_.reset();
  Open();
  std::atomic<int> durable{0};
  Write(MakeRecord(MakeTraceId(0x18, 1), kT0), {{1, "doc"}}, [&] { ++durable; });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(durable, 0);  // not quiet yet on the store's clock
  clock_.Advance(2 * kSecond);
  for (int i = 0; i < 500 && durable == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(durable, 1);
  EXPECT_EQ(store_->Stats().unflushed_bytes, 0u);
  EXPECT_EQ(BlockFiles().size(), 1u);
  EXPECT_EQ(store_->GetDocuments(MakeTraceId(0x18, 1))->size(), 1u);
}

TEST_F(BlockStoreTest, CheckpointIsAStoreOfItsOwn) {
  Write(MakeRecord(MakeTraceId(0x19, 1), kT0), {{1, "cut"}});
  Write(MakeRecord(MakeTraceId(0x19, 3), kT0 - 5), {{1, "hidden by retention"}});
  ASSERT_TRUE(store_->Flush().ok());
  Write(MakeRecord(MakeTraceId(0x19, 2), kT0 + 1), {{1, "in the head"}});
  ASSERT_TRUE(store_->DeleteOlderThan(kT0 - 1).ok());  // hides row 3 of the block
  ASSERT_TRUE(store_->PutConfig("groups", "g", "v").ok());
  const fs::path copy = dir_ / "copy";
  ASSERT_TRUE(store_->Checkpoint(copy.string()).ok());
  EXPECT_EQ(store_->Checkpoint(copy.string()).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->Checkpoint((dir_ / "missing" / "copy").string()).code(), StatusCode::kNotFound);
  BlockStoreOptions o;
  o.flush_at_close = false;
  auto opened = BlockStore::Open(copy.string(), o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ((*opened)->GetDocuments(MakeTraceId(0x19, 2))->size(), 1u);
  EXPECT_TRUE((*opened)->GetTrace(MakeTraceId(0x19, 1)).ok());
  EXPECT_EQ(*(*opened)->GetConfig("groups", "g"), "v");
  EXPECT_EQ((*opened)->GetTrace(MakeTraceId(0x19, 3)).status().code(), StatusCode::kNotFound);
  std::vector<int> tails;
  ASSERT_TRUE((*opened)
                  ->Scan(All(),
                         [&](const TraceRecord& r, int64_t) {
                           tails.push_back(r.summary.id.bytes[15]);
                           return true;
                         })
                  .ok());
  EXPECT_EQ(tails, (std::vector<int>{2, 1}));
}

// Writers rewrite the same traces while the cutter commits blocks as fast as
// it can and readers scan: every scan sees each trace once, and in the end
// every trace holds every document written to it.
TEST_F(BlockStoreTest, ScansSeeEachTraceOnceWhileBlocksAreCut) {
  options_.shards = 2;
  options_.head.quiet_us = 0;  // everything is due at every pass
  options_.cut_interval_us = 1'000;
  store_.reset();
  Open();
  constexpr int kTraces = 16, kWriters = 3, kRounds = 150;
  std::atomic<bool> done{false};
  std::atomic<int> scans{0};
  std::thread reader = ScanUntilDone(done, scans);
  std::vector<std::thread> writers;
  std::atomic<int> rounds_written{0};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      // At least kRounds, and on until the cutter has committed a few blocks
      // meanwhile (however slow the disk's syncs).
      for (int round = 0; round < kRounds || (BlockFiles().size() < 6 && round < 20 * kRounds);
           ++round) {
        WriteBatch batch;
        std::vector<std::string> raws;
        raws.reserve(kTraces);
        for (int t = 0; t < kTraces; ++t) raws.push_back(fmt::format("w{} r{}", w, round));
        for (int t = 0; t < kTraces; ++t) {
          const auto id = MakeTraceId(0x1c, static_cast<uint8_t>(t));
          batch.traces.push_back(MakeRecord(id, kT0 + t));
          batch.documents.push_back(
              {id, xray::SegmentId{static_cast<uint64_t>(w * 1000 + round + 1)}, kT0, raws[t]});
        }
        ASSERT_TRUE(store_->Write(batch).ok());
        ++rounds_written;
        // Leaves the cutter room to commit between writes (mutexes are not fair).
        std::this_thread::sleep_for(std::chrono::microseconds(300));
      }
    });
  }
  for (auto& t : writers) t.join();
  done = true;
  reader.join();
  EXPECT_GT(scans, 0);
  EXPECT_GE(BlockFiles().size(), 6u) << "blocks were cut while the writers ran";
  ASSERT_TRUE(store_->Flush().ok());
  Crash();
  ExpectTracesWithDocuments(0x1c, kTraces, rounds_written.load());
}

TEST_F(BlockStoreTest, ScansMergeOverlappingBlocksAndHeadsInOrderPageByPage) {
  // Blocks whose time ranges overlap, rows superseded by later versions in
  // blocks and in the head: every order, page size and cursor must give the
  // traces a sort of the newest versions gives.
  std::mt19937_64 rng(26);
  std::map<xray::TraceId, TraceRecord> newest;
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 40; ++i) {
      const auto id = MakeTraceId(0x26, static_cast<uint8_t>(rng() % 90));
      TraceRecord r = MakeRecord(id, kT0 + static_cast<int64_t>(rng() % 50) * kSecond);
      r.summary.updated_us = kT0 + static_cast<int64_t>(rng() % 70) * kSecond;
      Write(r);
      newest[id] = r;
    }
    if (round < 3) {
      ASSERT_TRUE(store_->Flush().ok());
    }
  }
  EXPECT_GT(store_->Stats().read_cache_bytes, 0u);  // the late versions' look-ups
  for (const bool by_event : {false, true}) {
    for (const bool descending : {false, true}) {
      std::vector<std::pair<int64_t, xray::TraceId>> want;
      for (const auto& [id, written] : newest) {
        // As stored (the store may stamp what the writer left out).
        auto stored = store_->GetTrace(id);
        ASSERT_TRUE(stored.ok());
        const TraceRecord& r = *stored;
        EXPECT_EQ(r.summary.start_time_us, written.summary.start_time_us);
        const int64_t t = by_event ? r.summary.updated_us : r.summary.start_time_us;
        if (t >= kT0 + 5 * kSecond && t < kT0 + 45 * kSecond) want.emplace_back(t, id);
      }
      std::sort(want.begin(), want.end());
      if (descending) std::reverse(want.begin(), want.end());
      for (const size_t page : {size_t{1}, size_t{7}, size_t{1000}}) {
        ScanOptions o;
        o.start_us = kT0 + 5 * kSecond;
        o.end_us = kT0 + 45 * kSecond;
        o.time_range_type = by_event ? TimeRangeType::kEvent : TimeRangeType::kTraceId;
        o.descending = descending;
        std::vector<std::pair<int64_t, xray::TraceId>> got;
        for (int guard = 0; guard < 1000; ++guard) {
          size_t n = 0;
          auto p = store_->Scan(o, [&](const TraceRecord& r, int64_t t) {
            if (n == page) return false;
            ++n;
            got.emplace_back(t, r.summary.id);
            return true;
          });
          ASSERT_TRUE(p.ok()) << p.status().ToString();
          if (!p->stopped_at) break;
          o.resume_after = ScanCursor{got.back().first, got.back().second};
        }
        EXPECT_EQ(got, want) << "by_event " << by_event << " descending " << descending << " page "
                             << page;
      }
      // max_examined stops at the next trace in order.
      ScanOptions o;
      o.start_us = kT0 + 5 * kSecond;
      o.end_us = kT0 + 45 * kSecond;
      o.time_range_type = by_event ? TimeRangeType::kEvent : TimeRangeType::kTraceId;
      o.descending = descending;
      o.max_examined = 3;
      auto p = store_->Scan(o, [](const TraceRecord&, int64_t) { return true; });
      ASSERT_TRUE(p.ok());
      ASSERT_GT(want.size(), 3u);
      EXPECT_EQ(p->examined, 3u);
      ASSERT_TRUE(p->stopped_at);
      EXPECT_EQ(p->stopped_at->time_us, want[3].first);
      EXPECT_EQ(p->stopped_at->trace_id, want[3].second);
    }
  }
}

TEST_F(BlockStoreTest, APagedFilteredScanGivesTheUnpagedScansMatchesWhileWritesGoOn) {
  // Each page is a new scan resuming after the previous page's last trace,
  // as GetTraceSummaries pages: across blocks and the head, with many traces
  // sharing a time (the cursor falls inside runs of equal times), and with
  // new traces, new versions and cuts between the pages, every page must be
  // what the unpaged scan of that moment holds after the cursor.
  std::mt19937_64 rng(1526);
  int next_tail = 0;
  auto write_some = [&](int count) {
    for (int i = 0; i < count; ++i) {
      // Tails repeat: a later write of a tail is a new version of its trace.
      const auto id = MakeTraceId(0x15, static_cast<uint8_t>(next_tail++ % 220));
      TraceRecord r = MakeRecord(id, kT0 + static_cast<int64_t>(rng() % 12) * kSecond);
      r.summary.updated_us = kT0 + static_cast<int64_t>(rng() % 12) * kSecond;
      if (rng() % 5 != 0) r.summary.response_time_us = static_cast<int64_t>(rng() % 3'000'000);
      r.summary.indexed = rng() % 6 != 0;
      Write(r);
    }
  };
  auto compiled = filter::CompileFilter("responsetime > 1.5");
  ASSERT_TRUE(compiled.ok());
  auto f = std::make_shared<const filter::CompiledFilter>(std::move(*compiled));
  for (const bool by_event : {false, true}) {
    for (const bool descending : {false, true}) {
      for (const bool filtered : {false, true}) {
        next_tail = 0;
        write_some(150);
        ASSERT_TRUE(store_->Flush().ok());
        write_some(60);
        ScanOptions o;
        o.start_us = kT0 + 1 * kSecond;
        o.end_us = kT0 + 11 * kSecond;
        o.time_range_type = by_event ? TimeRangeType::kEvent : TimeRangeType::kTraceId;
        o.descending = descending;
        o.searchable_only = filtered;
        if (filtered) o.filter = f;
        size_t taken_total = 0;
        for (int page = 0;; ++page) {
          ASSERT_LT(page, 300);
          // The unpaged scan now, after the cursor.
          ScanOptions whole = o;
          whole.resume_after.reset();
          std::vector<std::pair<int64_t, xray::TraceId>> want;
          ASSERT_TRUE(store_
                          ->Scan(whole,
                                 [&](const TraceRecord& r, int64_t t) {
                                   const auto key = std::tie(t, r.summary.id);
                                   const bool after =
                                       !o.resume_after ||
                                       (descending ? key < std::tie(o.resume_after->time_us,
                                                                    o.resume_after->trace_id)
                                                   : std::tie(o.resume_after->time_us,
                                                              o.resume_after->trace_id) < key);
                                   if (after) want.emplace_back(t, r.summary.id);
                                   return want.size() < 8;
                                 })
                          .ok());
          std::vector<std::pair<int64_t, xray::TraceId>> got;
          auto p = store_->Scan(o, [&](const TraceRecord& r, int64_t t) {
            if (got.size() == 7) return false;
            got.emplace_back(t, r.summary.id);
            return true;
          });
          ASSERT_TRUE(p.ok()) << p.status().ToString();
          if (want.size() > 7) want.resize(7);
          ASSERT_EQ(got, want) << "by_event " << by_event << " descending " << descending
                               << " filtered " << filtered << " page " << page;
          taken_total += got.size();
          if (!p->stopped_at) break;
          ASSERT_TRUE(p->last);
          o.resume_after = p->last;
          // Writes between the pages: new traces and new versions, some of
          // them cut into a block, the others left in the head.
          write_some(static_cast<int>(rng() % 4));
          if (page % 5 == 4) {
            ASSERT_TRUE(store_->Flush().ok());
          }
        }
        EXPECT_GT(taken_total, 14u) << "the test data should fill several pages";
      }
    }
  }
}

TEST_F(BlockStoreTest, FilteredScansNarrowedOnColumnsGiveTheFiltersAnswer) {
  // The column pass (required conditions, numeric predicates, searchable
  // only) may keep too many rows, never too few: every filtered scan must
  // return exactly the traces whose newest version the filter matches.
  std::mt19937_64 rng(2626);
  std::map<xray::TraceId, TraceRecord> newest;
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 120; ++i) {
      const auto id = MakeTraceId(0x29, static_cast<uint8_t>(rng() % 200));
      TraceRecord r = MakeRecord(id, kT0 + static_cast<int64_t>(rng() % 100) * kSecond);
      if (rng() % 5 != 0) r.summary.response_time_us = static_cast<int64_t>(rng() % 3'000'000);
      if (rng() % 5 != 0) r.summary.duration_us = static_cast<int64_t>(rng() % 3'000'000);
      if (rng() % 4 != 0) r.summary.http.status = rng() % 2 ? 200 : 500;
      r.summary.has_fault = rng() % 3 == 0;
      r.summary.indexed = rng() % 4 != 0;
      if (rng() % 2) {
        xray::TraceAnnotation a{"tier", {}};
        const int kind = static_cast<int>(rng() % 3);
        if (kind == 0)
          a.values.push_back({xray::AnnotationValue(std::string(rng() % 2 ? "gold" : "lead")), {}});
        if (kind == 1)
          a.values.push_back({xray::AnnotationValue(static_cast<double>(rng() % 3)), {}});
        if (kind == 2) a.values.push_back({xray::AnnotationValue(rng() % 2 == 0), {}});
        r.summary.annotations.push_back(std::move(a));
      }
      if (rng() % 2) r.summary.users.push_back({rng() % 2 ? "ann" : "bob", {}});
      Write(r);
      newest[id] = r;
    }
    if (round < 2) {
      ASSERT_TRUE(store_->Flush().ok());
    }
  }
  const char* exprs[] = {"responsetime > 1.5",
                         "duration <= 1 AND http.status = 500",
                         R"(annotation.tier = "gold")",
                         "annotation.tier = 1",
                         "annotation.tier = true",
                         R"(user = "ann" AND responsetime < 2)",
                         "fault AND responsetime >= 0.5",
                         "http.status != 200",
                         "responsetime > 1 OR fault"};
  for (const char* expr : exprs) {
    auto compiled = filter::CompileFilter(expr);
    ASSERT_TRUE(compiled.ok()) << expr;
    auto f = std::make_shared<const filter::CompiledFilter>(std::move(*compiled));
    for (const bool searchable : {false, true}) {
      std::set<xray::TraceId> want;
      for (const auto& [id, written] : newest) {
        auto stored = store_->GetTrace(id);
        ASSERT_TRUE(stored.ok());
        if ((!searchable || stored->summary.indexed) && f->Matches(*stored)) want.insert(id);
      }
      ScanOptions o = All();
      o.filter = f;
      o.searchable_only = searchable;
      std::set<xray::TraceId> got;
      auto p = store_->Scan(o, [&](const TraceRecord& r, int64_t) {
        EXPECT_TRUE(got.insert(r.summary.id).second);
        return true;
      });
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      EXPECT_EQ(got, want) << expr << " searchable_only " << searchable;
      EXPECT_FALSE(want.empty()) << expr << ": the test data should match something";
    }
  }
}

// A trace graph of 1-3 services from a small set, some known by other names
// too, a client node at times, random outcomes on nodes and edges.
TraceRecord RecordWithGraph(std::mt19937_64& rng, const xray::TraceId& id, int64_t start_us) {
  TraceRecord r = MakeRecord(id, start_us);
  if (rng() % 4 != 0) r.summary.response_time_us = static_cast<int64_t>(rng() % 3'000'000);
  r.summary.has_fault = rng() % 3 == 0;
  r.summary.indexed = rng() % 5 != 0;
  static const char* kNames[] = {"api", "billing", "db", "cache"};
  static const char* kTypes[] = {"AWS::EC2::Instance", "AWS::RDS::DBInstance", ""};
  auto observation = [&] {
    graph::Observation o;
    o.start_us = start_us;
    o.fault = rng() % 3 == 0;
    o.error = rng() % 3 == 0;
    o.throttle = rng() % 5 == 0;
    return o;
  };
  if (rng() % 4 == 0) {
    graph::Node client;
    client.id = xray::ServiceId{"client", {}, "", "client"};
    client.client = true;
    r.graph.nodes.push_back(client);
  }
  std::set<std::string> used;
  for (size_t i = 0, n = 1 + rng() % 3; i < n; ++i) {
    const std::string name = kNames[rng() % 4];
    if (!used.insert(name).second) continue;
    graph::Node node;
    node.id = xray::ServiceId{name, {}, "123456789012", kTypes[rng() % 3]};
    switch (rng() % 4) {
      case 0:
        node.id.names = {name, name + "-v2"};
        break;
      case 1:
        node.id.names = {"legacy-" + name};
        break;
      default:
        break;
    }
    node.inferred = rng() % 4 == 0;
    for (size_t k = 0, m = rng() % 3; k < m; ++k) node.observations.push_back(observation());
    r.graph.nodes.push_back(std::move(node));
  }
  for (uint32_t i = 0; i + 1 < r.graph.nodes.size(); ++i) {
    graph::Edge e{i, i + 1, {}};
    if (rng() % 2) e.observations.push_back(observation());
    r.graph.edges.push_back(std::move(e));
  }
  return r;
}

TEST_F(BlockStoreTest, ServiceAndEdgeScansDecidedOnColumnsGiveTheFiltersAnswer) {
  // service(…) and edge(…) rule rows out on the graph nodes' names and
  // aliases; a wrong decision there (a name or alias missed, an edge side
  // forgotten) would drop matches, which this compares against the whole
  // filter evaluated on every stored record.
  std::mt19937_64 rng(2627);
  std::map<xray::TraceId, TraceRecord> newest;
  auto write_round = [&](int count) {
    for (int i = 0; i < count; ++i) {
      const auto id = MakeTraceId(0x2a, static_cast<uint8_t>(rng() % 250));
      TraceRecord r = RecordWithGraph(rng, id, kT0 + static_cast<int64_t>(rng() % 100) * kSecond);
      Write(r);
      newest[id] = r;
    }
  };
  const char* exprs[] = {R"(service("billing") { fault })",
                         R"(service("billing"))",
                         R"(service("billing-v2"))",
                         R"(service("legacy-db") { error })",
                         R"(edge("api", "billing"))",
                         R"(edge("billing", "db-v2") { fault })",
                         R"(edge(id(type: "client"), "api"))",
                         R"(service("api") AND responsetime > 1)",
                         R"(service("db") AND service("legacy-cache"))",
                         R"(service(id(name: "db", type: "AWS::RDS::DBInstance")) { ok })",
                         R"(service("client"))",
                         R"(service("nobody"))",
                         R"(service("api") OR fault)",
                         R"(NOT service("api"))",
                         R"(fault AND service("cache-v2") { throttle })"};
  auto check_all = [&](const std::string& when) {
    for (const char* expr : exprs) {
      auto compiled = filter::CompileFilter(expr);
      ASSERT_TRUE(compiled.ok()) << expr;
      auto f = std::make_shared<const filter::CompiledFilter>(std::move(*compiled));
      for (const bool searchable : {false, true}) {
        std::set<xray::TraceId> want;
        for (const auto& [id, written] : newest) {
          auto stored = store_->GetTrace(id);
          ASSERT_TRUE(stored.ok());
          ASSERT_EQ(stored->graph.nodes.size(), written.graph.nodes.size());
          if ((!searchable || stored->summary.indexed) && f->Matches(*stored)) want.insert(id);
        }
        for (const bool with_graph : {false, true}) {
          ScanOptions o = All();
          o.filter = f;
          o.searchable_only = searchable;
          o.return_graph = with_graph;
          std::set<xray::TraceId> got;
          auto p = store_->Scan(o, [&](const TraceRecord& r, int64_t) {
            EXPECT_TRUE(got.insert(r.summary.id).second);
            if (with_graph) {
              EXPECT_EQ(r.graph.nodes.size(), newest.at(r.summary.id).graph.nodes.size());
            }
            return true;
          });
          ASSERT_TRUE(p.ok()) << p.status().ToString();
          EXPECT_EQ(got, want) << when << ": " << expr << " searchable_only " << searchable;
        }
      }
    }
  };
  for (int round = 0; round < 3; ++round) {
    write_round(150);
    ASSERT_TRUE(store_->Flush().ok());
  }
  check_all("every version in blocks");

  // On the columns, rows without a node of the name are never looked at.
  for (const std::string name : {"billing-v2", "legacy-api", "db", "nobody"}) {
    auto compiled = filter::CompileFilter(fmt::format(R"(service("{}"))", name));
    ASSERT_TRUE(compiled.ok());
    ScanOptions o = All();
    o.filter = std::make_shared<const filter::CompiledFilter>(std::move(*compiled));
    uint64_t with_name = 0;
    for (const auto& [id, r] : newest) {
      with_name += std::any_of(r.graph.nodes.begin(), r.graph.nodes.end(), [&](const auto& n) {
        return n.id.name == name ||
               std::find(n.id.names.begin(), n.id.names.end(), name) != n.id.names.end();
      });
    }
    auto p = store_->Scan(o, [](const TraceRecord&, int64_t) { return true; });
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->examined, with_name) << name;
  }
  {
    // service("billing") { fault }: rows with a billing node and some node
    // with a faulty observation.
    auto compiled = filter::CompileFilter(R"(service("billing") { fault })");
    ASSERT_TRUE(compiled.ok());
    ScanOptions o = All();
    o.filter = std::make_shared<const filter::CompiledFilter>(std::move(*compiled));
    uint64_t candidates = 0;
    for (const auto& [id, r] : newest) {
      bool named = false, faulty = false;
      for (const auto& n : r.graph.nodes) {
        named = named || n.id.name == "billing" ||
                std::find(n.id.names.begin(), n.id.names.end(), "billing") != n.id.names.end();
        for (const auto& obs : n.observations) faulty = faulty || obs.fault;
      }
      candidates += named && faulty;
    }
    auto p = store_->Scan(o, [](const TraceRecord&, int64_t) { return true; });
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->examined, candidates);
  }

  write_round(60);  // left in the head
  check_all("some versions in the head");
}

TEST_F(BlockStoreTest, AFirstPageReadsOnlyTheBlocksTheMergeReaches) {
  // Six blocks of 100 traces each, block b holding the seconds 100b..100b+99; the newest block's
  // traces are all fast, the others' all slow.
  constexpr int kRows = 100;
  std::vector<uint64_t> opened;
  options_.on_scan_block_opened = [&](uint64_t id) { opened.push_back(id); };
  store_.reset();
  Open();
  std::vector<xray::TraceId> by_time;  // ascending
  for (int b = 0; b < 6; ++b) {
    WriteBatch batch;
    for (int i = 0; i < kRows; ++i) {
      const int n = kRows * b + i;
      xray::TraceId id = MakeTraceId(0x2b, 0);
      id.bytes[14] = static_cast<uint8_t>(n >> 8);
      id.bytes[15] = static_cast<uint8_t>(n);
      TraceRecord r = MakeRecord(id, kT0 + n * kSecond);
      r.summary.response_time_us = b == 5 ? 100'000 : 2'000'000;
      r.summary.indexed = true;
      batch.traces.push_back(r);
      by_time.push_back(id);
    }
    ASSERT_TRUE(store_->Write(batch).ok());
    ASSERT_TRUE(store_->Flush().ok());
  }
  auto slow = filter::CompileFilter("responsetime > 1.5");
  ASSERT_TRUE(slow.ok());
  const auto slow_filter = std::make_shared<const filter::CompiledFilter>(std::move(*slow));
  // The ids of by_time from the newest, positions [from, to).
  auto newest = [&](int from, int to) {
    return std::vector<xray::TraceId>(by_time.rbegin() + from, by_time.rbegin() + to);
  };

  // Takes `page` matches of `o`; the ids taken.
  auto first_page = [&](ScanOptions o, size_t page) {
    opened.clear();
    std::vector<xray::TraceId> got;
    auto p = store_->Scan(o, [&](const TraceRecord& r, int64_t) {
      if (got.size() == page) return false;
      got.push_back(r.summary.id);
      return true;
    });
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return got;
  };

  // Newest first, no filter: the newest block alone.
  ScanOptions o = All();
  EXPECT_EQ(first_page(o, 5), newest(0, 5));
  EXPECT_EQ(opened.size(), 1u);
  // The newest block has no slow trace: it and the one before it.
  o.filter = slow_filter;
  o.searchable_only = true;
  EXPECT_EQ(first_page(o, 5), newest(kRows, kRows + 5));
  EXPECT_EQ(opened.size(), 2u);
  // Oldest first: the oldest block alone.
  o.descending = false;
  EXPECT_EQ(first_page(o, 5), std::vector<xray::TraceId>(by_time.begin(), by_time.begin() + 5));
  EXPECT_EQ(opened.size(), 1u);
  // Resumed after the first trace of the fifth block: that block (nothing
  // after the cursor) and the fourth; the sixth, all before the cursor, is
  // never read.
  o.descending = true;
  o.resume_after = ScanCursor{kT0 + 4 * kRows * kSecond, by_time[4 * kRows]};
  EXPECT_EQ(first_page(o, 3), newest(2 * kRows, 2 * kRows + 3));
  EXPECT_EQ(opened.size(), 2u);
  // A time range that ends inside the fourth block starts there.
  o.resume_after.reset();
  o.end_us = kT0 + (3 * kRows + 90) * kSecond;
  EXPECT_EQ(first_page(o, 3), newest(2 * kRows + 10, 2 * kRows + 13));
  EXPECT_EQ(opened.size(), 1u);

  // max_examined stops at a trace of a block, never at a block's bound.
  o = All();
  o.max_examined = kRows;
  opened.clear();
  auto p = store_->Scan(o, [](const TraceRecord&, int64_t) { return true; });
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(p->stopped_at.has_value());
  EXPECT_EQ(p->stopped_at->trace_id, by_time[5 * kRows - 1]);
  EXPECT_EQ(p->stopped_at->time_us, kT0 + (5 * kRows - 1) * kSecond);
  EXPECT_EQ(opened.size(), 2u);

  // Every match reads every block, and the answers are those of the filter.
  o = All();
  o.filter = slow_filter;
  EXPECT_EQ(first_page(o, 10 * kRows), newest(kRows, 6 * kRows));
  EXPECT_EQ(opened.size(), 6u);
}

TEST_F(BlockStoreTest, ScansAndScansInsideTheirCallbacksPassEachRecordWhole) {
  // Full and minimal records alternate in two blocks and the head: a scan
  // decodes each block row into a record it reuses from row to row and from
  // scan to scan, so a minimal record after a full one must carry nothing of
  // it, and a scan started from another's callback must not decode into the
  // record the outer callback is reading.
  auto encoded = [](const TraceRecord& r) {
    std::string out;
    EncodeTraceRecord(r, out);
    return out;
  };
  std::map<xray::TraceId, std::string> written;
  for (int i = 0; i < 30; ++i) {
    const xray::TraceId id = MakeTraceId(0x3c, static_cast<uint8_t>(i));
    TraceRecord r =
        i % 3 == 0 ? MakeRecord(id, kT0 + i * kSecond) : MakeFullRecord(id, kT0 + i * kSecond);
    if (i % 3 == 2) {
      r.summary.annotations.pop_back();
      r.summary.service_ids.resize(1);
      r.summary.http.url = std::string(300, 'u');  // longer than any before
    }
    Write(r);
    written[id] = encoded(r);
    if (i == 9 || i == 19) {
      ASSERT_TRUE(store_->Flush().ok());
    }
  }
  auto encoded_without_graph = [&](const TraceRecord& r) {
    TraceRecord copy = r;
    copy.graph = {};
    return encoded(copy);
  };
  std::map<xray::TraceId, std::string> expected;  // the summaries alone
  for (const auto& [id, bytes] : written) {
    auto decoded = DecodeTraceRecord(bytes);
    ASSERT_TRUE(decoded.ok());
    expected[id] = encoded_without_graph(*decoded);
  }
  for (const bool descending : {true, false}) {
    ScanOptions o = All();
    o.descending = descending;
    size_t outer = 0, inner_scans = 0;
    auto p = store_->Scan(o, [&](const TraceRecord& r, int64_t) {
      const std::string before = encoded_without_graph(r);
      EXPECT_EQ(before, expected[r.summary.id]);
      if (outer++ % 7 == 0) {
        ScanOptions inner = All();
        inner.descending = !descending;
        size_t n = 0;
        auto q = store_->Scan(inner, [&](const TraceRecord& x, int64_t) {
          EXPECT_EQ(encoded_without_graph(x), expected[x.summary.id]);
          return ++n < 15;
        });
        EXPECT_TRUE(q.ok());
        ++inner_scans;
      }
      EXPECT_EQ(encoded_without_graph(r), before) << "the inner scan changed the outer record";
      return true;
    });
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    EXPECT_EQ(outer, written.size());
    EXPECT_EQ(inner_scans, 5u);
  }
  // With the graphs.
  ScanOptions o = All();
  o.return_graph = true;
  size_t n = 0;
  ASSERT_TRUE(store_
                  ->Scan(o,
                         [&](const TraceRecord& r, int64_t) {
                           EXPECT_EQ(encoded(r), written[r.summary.id]);
                           ++n;
                           return true;
                         })
                  .ok());
  EXPECT_EQ(n, written.size());
}

TEST_F(BlockStoreTest, ReadCacheIsBoundedByItsOption) {
  options_.read_cache_bytes = 0;
  store_.reset();
  Open();
  for (uint8_t i = 1; i <= 20; ++i) Write(MakeFullRecord(MakeTraceId(0x27, i), kT0 + i));
  ASSERT_TRUE(store_->Flush().ok());
  ASSERT_TRUE(store_->GetTrace(MakeTraceId(0x27, 3)).ok());
  EXPECT_EQ(Tails(All()).size(), 20u);
  // Only the block's trace-id index is kept (20 bytes a row).
  EXPECT_EQ(store_->Stats().read_cache_bytes, 20u * 20u);
  options_.read_cache_bytes = uint64_t{1} << 20;
  store_.reset();
  Open();
  ASSERT_TRUE(store_->GetTrace(MakeTraceId(0x27, 3)).ok());
  const uint64_t cached = store_->Stats().read_cache_bytes;
  EXPECT_GT(cached, 20u * 20u);
  EXPECT_LE(cached, (uint64_t{1} << 20) + 20u * 20u);
  EXPECT_EQ(Tails(All()).size(), 20u);
}

TEST_F(BlockStoreTest, AHeadOverItsSizeBoundWakesTheCutter) {
  // The bound counts the records' memory and the documents: room for one
  // record and about 1,000 bytes of documents.
  const uint64_t bound = graph::EstimateMemoryBytes(MakeRecord(MakeTraceId(0x1d, 1), kT0)) + 1000;
  options_.head.max_bytes = bound;
  options_.cut_interval_us = 3600 * kSecond;  // only the bound wakes it
  store_.reset();
  Open();
  std::atomic<int> durable{0};
  Write(MakeRecord(MakeTraceId(0x1d, 1), kT0), {{1, std::string(400, 'a')}}, [&] { ++durable; });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(durable, 0);  // under the bound, not quiet: stays in the head
  Write(MakeRecord(MakeTraceId(0x1d, 2), kT0), {{1, std::string(800, 'b')}}, [&] { ++durable; });
  for (int i = 0; i < 500 && durable == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // The oldest versions went until the head held half its bound or less.
  EXPECT_GE(durable, 1);
  EXPECT_LE(store_->Stats().unflushed_bytes, bound / 2);
  EXPECT_EQ(BlockFiles().size(), 1u);
}

TEST_F(BlockStoreTest, WritesWaitWhileAHeadHoldsTwiceItsBoundUntilACutFreesIt) {
  const uint64_t bound = graph::EstimateMemoryBytes(MakeRecord(MakeTraceId(0x1f, 1), kT0)) + 1000;
  options_.head.max_bytes = bound;
  options_.cut_interval_us = 3600 * kSecond;  // only the bound wakes the cutter
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  bool open = false;
  std::atomic<int> cuts{0};
  options_.before_cut_commit = [&](const std::string&) {
    ++cuts;
    std::unique_lock lock(gate_mu);
    gate_cv.wait(lock, [&] { return open; });
    return Status::Ok();
  };
  store_.reset();
  Open();
  // Over twice the bound in one write: the cutter is woken and held at its commit.
  Write(MakeRecord(MakeTraceId(0x1f, 1), kT0), {{1, std::string(3 * bound, 'a')}});
  const std::string raw = "second";
  std::atomic<bool> returned{false};
  std::thread writer([&] {
    WriteBatch batch;
    batch.traces.push_back(MakeRecord(MakeTraceId(0x1f, 2), kT0));
    batch.documents.push_back({MakeTraceId(0x1f, 2), xray::SegmentId{1}, kT0, raw});
    EXPECT_TRUE(store_->Write(batch).ok());
    returned = true;
  });
  for (int i = 0; i < 1000 && !(store_->Stats().writes_stalled && cuts == 1); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(store_->Stats().writes_stalled) << "the write waits for room";
  EXPECT_EQ(cuts, 1) << "the cut that frees it is held at its commit";
  EXPECT_FALSE(returned);
  {
    std::lock_guard lock(gate_mu);
    open = true;
  }
  gate_cv.notify_all();
  writer.join();
  EXPECT_TRUE(returned);
  EXPECT_FALSE(store_->Stats().writes_stalled);
  EXPECT_EQ(store_->GetDocuments(MakeTraceId(0x1f, 1))->size(), 1u);
  EXPECT_EQ(store_->GetDocuments(MakeTraceId(0x1f, 2))->size(), 1u);
  store_.reset();  // before the hook's state goes
}

TEST_F(BlockStoreTest, WritesDoNotWaitForRoomWhileCutsFail) {
  const uint64_t bound = graph::EstimateMemoryBytes(MakeRecord(MakeTraceId(0x20, 1), kT0)) + 1000;
  options_.head.max_bytes = bound;
  options_.cut_interval_us = 3600 * kSecond;
  std::atomic<int> cuts{0};
  options_.before_cut_commit = [&](const std::string&) {
    ++cuts;
    return Status::IOError("injected: the block cannot be committed");
  };
  store_.reset();
  Open();
  Write(MakeRecord(MakeTraceId(0x20, 1), kT0), {{1, std::string(3 * bound, 'a')}});
  Write(MakeRecord(MakeTraceId(0x20, 2), kT0), {{1, "second"}});  // returns: nothing to wait for
  EXPECT_GE(cuts, 1);
  EXPECT_EQ(store_->GetDocuments(MakeTraceId(0x20, 1))->size(), 1u) << "kept in the head";
  EXPECT_EQ(store_->GetDocuments(MakeTraceId(0x20, 2))->size(), 1u);
  EXPECT_GE(store_->Stats().write_errors.io_error, 1u);
  options_.before_cut_commit = nullptr;
  store_.reset();  // its cut at close fails too: the spools would replay these
}

TEST_F(BlockStoreTest, AFailedCutLeavesItsVersionsInTheHeadUntilALaterCutCommits) {
  std::atomic<int> durable{0};
  Write(MakeRecord(MakeTraceId(0x1e, 1), kT0), {{1, "doc"}}, [&] { ++durable; });
  // The first block's temporary file cannot be created.
  const fs::path in_the_way = dir_ / "blocks" / "00000000000000000001.blk.tmp";
  fs::create_directories(in_the_way);
  const Status failed = store_->Flush();
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(durable, 0);
  EXPECT_TRUE(BlockFiles().empty());
  EXPECT_EQ(store_->GetDocuments(MakeTraceId(0x1e, 1))->size(), 1u);  // still in the head
  EXPECT_EQ(store_->Stats().write_errors.io_error, 1u);
  EXPECT_FALSE(store_->Stats().disk_full);
  fs::remove(in_the_way);
  ASSERT_TRUE(store_->Flush().ok());
  EXPECT_EQ(durable, 1);
  EXPECT_EQ(BlockFiles().size(), 1u);
  Crash();
  EXPECT_EQ(store_->GetDocuments(MakeTraceId(0x1e, 1))->size(), 1u);
}

// Needs a small filesystem: RG_TEST_SMALL_DISK names an empty directory on
// one (e.g. a tmpfs of 1 MiB: `mount -t tmpfs -o size=1m tmpfs DIR`).
TEST_F(BlockStoreTest, AFullDiskStopsWritesUntilSpaceIsFreed) {
  const char* small = std::getenv("RG_TEST_SMALL_DISK");
  if (small == nullptr) GTEST_SKIP() << "RG_TEST_SMALL_DISK is not set";
  store_.reset();
  const fs::path dir = fs::path(small) / "store";
  fs::remove_all(dir);
  BlockStoreOptions o = options_;
  o.clock = &clock_;
  o.zstd_level = 1;
  auto opened = BlockStore::Open(dir.string(), o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  std::unique_ptr<BlockStore> store = std::move(*opened);
  std::mt19937_64 random(7);
  Status cut;
  int written = 0;
  for (; written < 1000 && cut.ok(); ++written) {
    std::string doc(64 << 10, '\0');
    for (char& c : doc) c = static_cast<char>(random());  // incompressible
    WriteBatch batch;
    const auto id = MakeTraceId(0x1f, static_cast<uint8_t>(written));
    batch.traces.push_back(MakeRecord(id, kT0 - 100));
    batch.documents.push_back({id, xray::SegmentId{1}, kT0, doc});
    ASSERT_TRUE(store->Write(batch).ok());
    cut = store->Flush();
  }
  ASSERT_EQ(cut.code(), StatusCode::kResourceExhausted) << cut.ToString();
  StoreStats stats = store->Stats();
  EXPECT_TRUE(stats.disk_full);
  EXPECT_GE(stats.write_errors.disk_full, 1u);
  WriteBatch more;
  more.traces.push_back(MakeRecord(MakeTraceId(0x1f, 0xff), kT0));
  EXPECT_EQ(store->Write(more).code(), StatusCode::kUnavailable);
  // Retention frees the space (and the head's versions): writes resume after
  // the next cut.
  ASSERT_TRUE(store->DeleteOlderThan(kT0).ok());
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_FALSE(store->Stats().disk_full);
  EXPECT_TRUE(store->Write(more).ok());
  ASSERT_TRUE(store->Flush().ok());
  EXPECT_TRUE(store->GetTrace(MakeTraceId(0x1f, 0xff)).ok());
  store.reset();
  fs::remove_all(dir);
}

TEST_F(BlockStoreTest, ClosingCutsWhatTheHeadsHoldByDefault) {
  options_.flush_at_close = true;
  store_.reset();
  Open();
  std::atomic<int> durable{0};
  Write(MakeRecord(MakeTraceId(0x1b, 1), kT0), {{1, "doc"}}, [&] { ++durable; });
  store_.reset();
  EXPECT_EQ(durable, 1);
  options_.flush_at_close = false;
  Open();
  EXPECT_EQ(store_->GetDocuments(MakeTraceId(0x1b, 1))->size(), 1u);
}

TEST_F(BlockStoreTest, DocumentsWithoutARecordOfAnUnknownTraceAreRefused) {
  WriteBatch batch;
  batch.documents.push_back({MakeTraceId(0x1a, 1), xray::SegmentId{1}, kT0, "orphan"});
  EXPECT_EQ(store_->Write(batch).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetDocuments(MakeTraceId(0x1a, 1))->size(), 0u);
}

}  // namespace
}  // namespace roentgen::store::block

namespace roentgen::store::block {
namespace {

// Compaction changes where rows live, never an answer: every test here
// compares the store's answers with those it gave before, and with the
// newest version of each trace as written (a brute force over the writes).
class BlockCompactionTest : public BlockStoreTest {
 protected:
  struct Written {
    TraceRecord record;
    std::map<uint64_t, std::string> documents;  // by entity id
  };

  // Writes a version of trace `tail` (a new trace or a late segment).
  void WriteVersion(uint8_t tail, int64_t start_us, uint64_t entity, uint32_t revision) {
    const auto id = MakeTraceId(0x41, tail);
    TraceRecord r = MakeRecord(id, start_us);
    r.summary.revision = revision;
    r.summary.updated_us = start_us + revision;
    r.summary.response_time_us = static_cast<int64_t>(entity % 7) * 400'000;
    r.summary.has_fault = entity % 3 == 0;
    r.summary.annotations = {
        {"round", {{xray::AnnotationValue(static_cast<double>(revision)), {}}}}};
    const std::string raw = fmt::format("doc {} of {}", entity, tail);
    Write(r, {{entity, raw}});
    Written& w = written_[id];
    w.record = r;
    w.documents[entity] = raw;
  }

  static std::string Encoded(const TraceRecord& r) {
    std::string out;
    EncodeTraceRecord(r, out);
    return out;
  }

  // The ids of a scan's answer, in order.
  std::vector<xray::TraceId> ScanIds(ScanOptions o) {
    std::vector<xray::TraceId> ids;
    auto p = store_->Scan(o, [&](const TraceRecord& r, int64_t) {
      ids.push_back(r.summary.id);
      return true;
    });
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return ids;
  }

  static constexpr const char* kFilters[] = {
      "", "responsetime > 1", "fault", "annotation.round = 2", "annotation.round = 1 OR fault"};

  // Everything the store answers about the written traces: each record and
  // its documents, and scans in both orders, by start and by event time,
  // with filters, and page by page.
  std::vector<std::string> Answers() {
    std::vector<std::string> out;
    for (const auto& [id, w] : written_) {
      auto r = store_->GetTrace(id);
      out.push_back(id.ToString() + (r.ok() ? Encoded(*r) : r.status().ToString()));
      auto docs = store_->GetDocuments(id);
      EXPECT_TRUE(docs.ok()) << docs.status().ToString();
      if (!docs.ok()) continue;
      for (const StoredDocument& d : *docs) {
        out.push_back(
            fmt::format("{} doc {} {} {}", id.ToString(), d.entity_id.value, d.received_us, d.raw));
      }
    }
    for (const char* expr : kFilters) {
      for (const bool by_event : {false, true}) {
        for (const bool descending : {false, true}) {
          ScanOptions o = All();
          if (*expr != '\0') o.filter = store::testing::Filter(expr);
          o.time_range_type = by_event ? TimeRangeType::kEvent : TimeRangeType::kTraceId;
          o.descending = descending;
          std::string line = fmt::format("scan '{}' {} {}:", expr, by_event, descending);
          for (const auto& id : ScanIds(o)) line += " " + id.ToString();
          out.push_back(line);
        }
      }
    }
    // Pages of 7 examined rows, resumed from each page's end.
    ScanOptions o = All();
    o.max_examined = 7;
    std::string pages = "pages:";
    for (int page = 0; page < 200; ++page) {
      auto p = store_->Scan(o, [&](const TraceRecord& r, int64_t) {
        pages += " " + r.summary.id.ToString();
        return true;
      });
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      if (!p.ok() || !p->stopped_at) break;
      pages += " |";
      o.resume_after = p->stopped_at;
    }
    out.push_back(pages);
    return out;
  }

  // The answers the writes call for, checked directly.
  void ExpectNewestVersions() {
    std::vector<std::pair<int64_t, xray::TraceId>> by_start;
    for (const auto& [id, w] : written_) {
      auto r = store_->GetTrace(id);
      ASSERT_TRUE(r.ok()) << id.ToString() << ": " << r.status().ToString();
      EXPECT_EQ(Encoded(*r), Encoded(w.record)) << id.ToString();
      auto docs = store_->GetDocuments(id);
      ASSERT_TRUE(docs.ok());
      std::map<uint64_t, std::string> got;
      for (const StoredDocument& d : *docs) got[d.entity_id.value] = d.raw;
      EXPECT_EQ(got, w.documents) << id.ToString();
      by_start.emplace_back(w.record.summary.start_time_us, id);
    }
    std::sort(by_start.begin(), by_start.end());
    std::vector<xray::TraceId> want;
    for (const auto& [t, id] : by_start) want.push_back(id);
    ScanOptions ascending = All();
    ascending.descending = false;
    EXPECT_EQ(ScanIds(ascending), want);
    for (const char* expr : kFilters) {
      if (*expr == '\0') continue;
      auto f = store::testing::Filter(expr);
      std::vector<xray::TraceId> matching;
      for (const auto& [t, id] : by_start) {
        if (f->Matches(written_.at(id).record)) matching.push_back(id);
      }
      ScanOptions o = ascending;
      o.filter = f;
      EXPECT_EQ(ScanIds(o), matching) << expr;
    }
    EXPECT_EQ(store_->Stats().traces, written_.size());
  }

  // Rows in the block files (superseded ones included).
  uint64_t RowsOnDisk() const {
    uint64_t rows = 0;
    for (const std::string& name : BlockFiles()) {
      auto reader = BlockReader::Open((dir_ / "blocks" / name).string());
      EXPECT_TRUE(reader.ok()) << reader.status().ToString();
      if (reader.ok()) rows += (*reader)->row_count();
    }
    return rows;
  }

  std::map<xray::TraceId, Written> written_;
};

TEST_F(BlockCompactionTest, MergesLevelByLevelAndEveryAnswerStaysTheSame) {
  options_.compaction_fanin = 2;
  store_.reset();
  Open();
  std::mt19937_64 rng(2626);
  std::map<uint8_t, uint32_t> revision;
  uint64_t entity = 1;
  auto round = [&](int traces) {
    for (int i = 0; i < traces; ++i) {
      const auto tail = static_cast<uint8_t>(rng() % 120);
      WriteVersion(tail, kT0 + static_cast<int64_t>(rng() % 500) * kSecond, entity++,
                   ++revision[tail]);
    }
  };
  for (int flush = 0; flush < 8; ++flush) {
    round(40);
    ASSERT_TRUE(store_->Flush().ok());
  }
  const size_t traces_in_blocks = written_.size();
  round(15);  // late versions left in the head, superseding block rows
  ASSERT_EQ(BlockFiles().size(), 8u);
  ExpectNewestVersions();
  const std::vector<std::string> before = Answers();
  const uint64_t bytes_before = store_->Stats().disk_bytes;
  const uint64_t rows_before = RowsOnDisk();

  // 8 level-0 blocks → 4 → 2 → 1.
  for (size_t blocks : {4u, 2u, 1u}) {
    SCOPED_TRACE(blocks);
    auto replaced = store_->Compact();
    ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
    EXPECT_EQ(*replaced, blocks * 2);
    EXPECT_EQ(BlockFiles().size(), blocks);
    EXPECT_EQ(Answers(), before);
  }
  auto idle = store_->Compact();
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(*idle, 0u) << "one block of level 3 is left alone";
  ExpectNewestVersions();
  // Superseded rows are gone: one row per trace that was in a block (rows
  // the head's versions hide stay until their cut supersedes them).
  EXPECT_LT(RowsOnDisk(), rows_before);
  EXPECT_EQ(RowsOnDisk(), traces_in_blocks);
  EXPECT_LT(store_->Stats().disk_bytes, bytes_before);

  // The head's versions now supersede rows of the output: cut, and reopen.
  ASSERT_TRUE(store_->Flush().ok());
  EXPECT_EQ(Answers(), before);
  Crash();
  EXPECT_EQ(Answers(), before);
  ExpectNewestVersions();
  EXPECT_EQ(BlockFiles().size(), 2u);
  auto last = store_->Compact();  // levels 3 and 0: nothing to merge
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(*last, 0u);
}

TEST_F(BlockCompactionTest, ALateSegmentWrittenWhileCompactionRunsKeepsOneVersion) {
  for (const bool cut_meanwhile : {false, true}) {
    SCOPED_TRACE(cut_meanwhile);
    written_.clear();
    store_.reset();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    options_.compaction_fanin = 2;
    int hook_calls = 0;
    options_.before_compaction_commit = [&](const std::string&) {
      // The inputs are read and the output written: a late segment for a
      // trace of the first input lands now, in the head (and, with
      // cut_meanwhile, in a block that supersedes the input's row).
      ++hook_calls;
      WriteVersion(3, kT0 + 3 * kSecond, 103, 2);
      if (cut_meanwhile) {
        EXPECT_TRUE(store_->Flush().ok());
      }
      return Status::Ok();
    };
    Open();
    for (uint8_t i = 1; i <= 10; ++i) WriteVersion(i, kT0 + i * kSecond, i, 1);
    ASSERT_TRUE(store_->Flush().ok());
    for (uint8_t i = 11; i <= 20; ++i) WriteVersion(i, kT0 + i * kSecond, i, 1);
    ASSERT_TRUE(store_->Flush().ok());

    auto replaced = store_->Compact();
    ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
    EXPECT_EQ(*replaced, 2u);
    EXPECT_EQ(hook_calls, 1);
    EXPECT_EQ(BlockFiles().size(), cut_meanwhile ? 2u : 1u);
    ExpectNewestVersions();
    EXPECT_EQ(store_->GetTrace(MakeTraceId(0x41, 3))->summary.revision, 2u);
    EXPECT_EQ(store_->GetDocuments(MakeTraceId(0x41, 3))->size(), 2u);
    // The late version, cut now (or before), hides the output's row of the
    // trace through the manifest, across a reopen.
    ASSERT_TRUE(store_->Flush().ok());
    ExpectNewestVersions();
    Crash();
    ExpectNewestVersions();
    EXPECT_EQ(ScanIds(All()).size(), 20u);
    options_.before_compaction_commit = nullptr;
  }
}

TEST_F(BlockCompactionTest, AWriteThatReadAnInputBeforeTheCommitReadsTheOutput) {
  // A late segment's write reads the trace's row from a block, then a
  // compaction replaces that block before the write applies: the new
  // version must supersede the output's row, not the vanished input's.
  options_.compaction_fanin = 2;
  bool compact_now = false;
  uint64_t replaced = 0;
  options_.after_write_lookup = [&] {
    if (!compact_now) return;
    compact_now = false;
    auto r = store_->Compact();
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (r.ok()) replaced = *r;
  };
  store_.reset();
  Open();
  for (uint8_t i = 1; i <= 10; ++i) WriteVersion(i, kT0 + i * kSecond, i, 1);
  ASSERT_TRUE(store_->Flush().ok());
  for (uint8_t i = 11; i <= 20; ++i) WriteVersion(i, kT0 + i * kSecond, i, 1);
  ASSERT_TRUE(store_->Flush().ok());
  compact_now = true;
  WriteVersion(4, kT0 + 4 * kSecond, 104, 2);
  EXPECT_EQ(replaced, 2u) << "the compaction committed inside the write";
  EXPECT_EQ(BlockFiles().size(), 1u);
  ExpectNewestVersions();
  EXPECT_EQ(ScanIds(All()).size(), 20u);
  EXPECT_EQ(store_->GetDocuments(MakeTraceId(0x41, 4))->size(), 2u);
  ASSERT_TRUE(store_->Flush().ok());
  ExpectNewestVersions();
  Crash();
  ExpectNewestVersions();
  EXPECT_EQ(ScanIds(All()).size(), 20u);
}

TEST_F(BlockCompactionTest, ACrashBeforeTheManifestEditLeavesTheStoreAsBefore) {
  options_.compaction_fanin = 2;
  const fs::path saved = dir_.parent_path() / (dir_.filename().string() + "_output");
  std::string output_name;
  options_.before_compaction_commit = [&](const std::string& path) {
    output_name = fs::path(path).filename().string();
    fs::copy_file(path, saved, fs::copy_options::overwrite_existing);
    return Status::IOError("simulated crash before the manifest edit");
  };
  store_.reset();
  Open();
  for (uint8_t i = 1; i <= 10; ++i) WriteVersion(i, kT0 + i * kSecond, i, 1);
  ASSERT_TRUE(store_->Flush().ok());
  for (uint8_t i = 1; i <= 5; ++i) WriteVersion(i, kT0 + i * kSecond, 100 + i, 2);
  ASSERT_TRUE(store_->Flush().ok());
  const auto files = BlockFiles();
  const std::vector<std::string> before = Answers();

  auto failed = store_->Compact();
  EXPECT_EQ(failed.status().code(), StatusCode::kIOError);
  EXPECT_EQ(BlockFiles(), files);
  EXPECT_EQ(Answers(), before);
  // As if the process died with the output written: the file is there, the
  // manifest does not name it.
  store_.reset();
  ASSERT_TRUE(fs::exists(saved));
  fs::rename(saved, dir_ / "blocks" / output_name);
  ASSERT_EQ(BlockFiles().size(), files.size() + 1);
  options_.before_compaction_commit = nullptr;
  Open();
  EXPECT_EQ(BlockFiles(), files) << "the stray output is deleted at open";
  EXPECT_EQ(Answers(), before);
  ExpectNewestVersions();
  // And compaction works from there.
  auto replaced = store_->Compact();
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(*replaced, 2u);
  EXPECT_EQ(Answers(), before);
}

TEST_F(BlockCompactionTest, DroppingSupersededRowsShrinksTheDisk) {
  // Retention hides most rows of a block that straddles its cutoff; a round
  // rewrites the block alone without them.
  for (uint8_t i = 1; i <= 100; ++i) WriteVersion(i, kT0 + i * kSecond, i, 1);
  ASSERT_TRUE(store_->Flush().ok());
  ASSERT_TRUE(store_->DeleteOlderThan(kT0 + 81 * kSecond).ok());
  for (auto it = written_.begin(); it != written_.end();) {
    it = it->second.record.summary.start_time_us < kT0 + 81 * kSecond ? written_.erase(it)
                                                                      : std::next(it);
  }
  ASSERT_EQ(written_.size(), 20u);
  const std::vector<std::string> before = Answers();
  const uint64_t bytes = store_->Stats().disk_bytes;
  const auto files = BlockFiles();
  ASSERT_EQ(RowsOnDisk(), 100u);

  auto replaced = store_->Compact();
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(*replaced, 1u);
  EXPECT_NE(BlockFiles(), files);
  EXPECT_EQ(RowsOnDisk(), 20u);
  EXPECT_LT(store_->Stats().disk_bytes, bytes);
  EXPECT_EQ(Answers(), before);
  ExpectNewestVersions();
  Crash();
  EXPECT_EQ(Answers(), before);

  // A block whose rows are all superseded goes without an output.
  for (uint8_t i = 81; i <= 100; ++i) WriteVersion(i, kT0 + i * kSecond, 200 + i, 2);
  ASSERT_TRUE(store_->Flush().ok());
  ASSERT_EQ(BlockFiles().size(), 2u);
  replaced = store_->Compact();
  ASSERT_TRUE(replaced.ok()) << replaced.status().ToString();
  EXPECT_EQ(*replaced, 1u);
  EXPECT_EQ(BlockFiles().size(), 1u);
  EXPECT_EQ(RowsOnDisk(), 20u);
  ExpectNewestVersions();
}

TEST_F(BlockCompactionTest, WritesCutsScansAndCompactionsTogetherKeepOneVersionOfEachTrace) {
  // Late versions are written while the cutter cuts them and compaction
  // merges the blocks that hold their older rows: each trace must stay
  // visible once, with every document each of its versions added.
  options_.shards = 2;
  options_.head.quiet_us = 0;  // everything is due at every pass
  options_.cut_interval_us = 1'000;
  options_.compaction_fanin = 2;
  store_.reset();
  Open();
  constexpr int kTraces = 16, kRounds = 150;
  std::atomic<bool> done{false};
  std::atomic<int> scans{0};
  std::thread reader = ScanUntilDone(done, scans);
  std::atomic<int> rounds_written{0};
  std::atomic<bool> writing{true};
  std::atomic<uint64_t> replaced{0};
  std::thread writer([&] {
    // At least kRounds, and on until a compaction has replaced blocks while
    // it wrote (on a loaded machine the first rounds may all pass before one).
    for (int round = 0; round < kRounds || (replaced == 0 && round < 40 * kRounds); ++round) {
      WriteBatch batch;
      std::vector<std::string> raws;
      raws.reserve(kTraces);
      for (int t = 0; t < kTraces; ++t) raws.push_back(fmt::format("r{}", round));
      for (int t = 0; t < kTraces; ++t) {
        const auto id = MakeTraceId(0x1d, static_cast<uint8_t>(t));
        batch.traces.push_back(MakeRecord(id, kT0 + t));
        batch.documents.push_back(
            {id, xray::SegmentId{static_cast<uint64_t>(round + 1)}, kT0, raws[t]});
      }
      ASSERT_TRUE(store_->Write(batch).ok());
      ++rounds_written;
      std::this_thread::sleep_for(std::chrono::microseconds(300));
    }
    writing = false;
  });
  while (writing) {
    auto r = store_->Compact();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    replaced += *r;
  }
  writer.join();
  done = true;
  reader.join();
  EXPECT_GT(scans, 0);
  EXPECT_GT(replaced.load(), 0u) << "compaction ran while the writer wrote";
  ASSERT_TRUE(store_->Flush().ok());
  ASSERT_TRUE(store_->Compact().ok());
  Crash();
  ExpectTracesWithDocuments(0x1d, kTraces, rounds_written.load());
}

TEST_F(BlockCompactionTest, BadCompactionOptionsAreRefused) {
  store_.reset();
  BlockStoreOptions o;
  o.compaction_fanin = 1;
  EXPECT_EQ(BlockStore::Open(dir_.string(), o).status().code(), StatusCode::kInvalidArgument);
  o = {};
  o.compaction_interval_us = 0;
  EXPECT_EQ(BlockStore::Open(dir_.string(), o).status().code(), StatusCode::kInvalidArgument);
  o.compaction = false;  // no thread: no interval needed
  EXPECT_TRUE(BlockStore::Open(dir_.string(), o).ok());
}

TEST_F(BlockCompactionTest, TheBackgroundThreadCompactsByItself) {
  options_.compaction = true;
  options_.compaction_interval_us = 20'000;
  options_.compaction_fanin = 2;
  store_.reset();
  Open();
  for (uint8_t i = 1; i <= 10; ++i) WriteVersion(i, kT0 + i * kSecond, i, 1);
  ASSERT_TRUE(store_->Flush().ok());
  for (uint8_t i = 5; i <= 15; ++i) WriteVersion(i, kT0 + i * kSecond, 100 + i, 2);
  ASSERT_TRUE(store_->Flush().ok());
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (BlockFiles().size() != 1 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(BlockFiles().size(), 1u);
  EXPECT_EQ(RowsOnDisk(), 15u);
  ExpectNewestVersions();
}

}  // namespace
}  // namespace roentgen::store::block
