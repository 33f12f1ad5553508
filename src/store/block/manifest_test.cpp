#include "store/block/manifest.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

#include "common/coding.h"

namespace roentgen::store::block {
namespace {

namespace fs = std::filesystem;

class ManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) /
           fmt::format("manifest-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Manifest> OpenOk(ManifestOptions options = {}) {
    auto m = Manifest::Open(dir_.string(), options);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return m.ok() ? std::move(*m) : nullptr;
  }

  std::string LiveFile() {
    std::ifstream in(dir_ / "CURRENT");
    std::string name;
    std::getline(in, name);
    return (dir_ / name).string();
  }
  std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  void WriteFile(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << bytes;
  }
  // Two edits, each adding a block (1, then 2); the manifest file's path.
  std::string WriteTwoBlocks();
  // The framed size of the second edit.
  static size_t LastEditSize();

  fs::path dir_;
};

// An edit built field by field (designated initializers that leave fields out
// warn under g++ 12).
struct Edit {
  ManifestEdit edit;
  Edit& Add(BlockMeta b) { edit.added.push_back(b); return *this; }
  Edit& Remove(uint64_t id) { edit.removed.push_back(id); return *this; }
  Edit& Supersede(uint64_t id, std::vector<uint32_t> rows) {
    auto& dead = edit.superseded[id];
    dead.insert(dead.end(), rows.begin(), rows.end());
    return *this;
  }
  operator const ManifestEdit&() const { return edit; }  // NOLINT: implicit by design
};

BlockMeta Block(uint64_t id, uint64_t rows, uint32_t level = 0) {
  BlockMeta b;
  b.id = id;
  b.rows = rows;
  b.bytes = rows * 100;
  b.min_start_us = -5 + static_cast<int64_t>(id);
  b.max_start_us = 1'700'000'000'000'000 + static_cast<int64_t>(id);
  b.min_updated_us = 7;
  b.max_updated_us = 1'700'000'000'000'999;
  b.level = level;
  return b;
}

std::string ManifestTest::WriteTwoBlocks() {
  auto m = OpenOk();
  EXPECT_TRUE(m->Apply(Edit().Add(Block(1, 10))).ok());
  EXPECT_TRUE(m->Apply(Edit().Add(Block(2, 10))).ok());
  return LiveFile();
}

size_t ManifestTest::LastEditSize() {
  return 12 + Manifest::EncodeEdit(Edit().Add(Block(2, 10))).size();
}

TEST_F(ManifestTest, ANewManifestIsEmptyAndEditsSurviveAReopen) {
  {
    auto m = OpenOk();
    EXPECT_TRUE(m->State().blocks.empty());
    const uint64_t a = m->NewBlockId();
    const uint64_t b = m->NewBlockId();
    EXPECT_LT(a, b);
    ASSERT_TRUE(m->Apply(Edit().Add(Block(a, 10)).Add(Block(b, 20))).ok());
    ASSERT_TRUE(m->Apply(Edit().Supersede(a, {3, 1})).ok());
    ASSERT_TRUE(m->Apply(Edit().Supersede(a, {2, 3}).Supersede(b, {19})).ok());
  }
  auto m = OpenOk();
  ManifestState s = m->State();
  ASSERT_EQ(s.blocks.size(), 2u);
  EXPECT_EQ(s.blocks.at(1).meta, Block(1, 10));
  EXPECT_EQ(s.blocks.at(1).superseded, (std::vector<uint32_t>{1, 2, 3}));
  EXPECT_EQ(s.blocks.at(2).superseded, (std::vector<uint32_t>{19}));
  EXPECT_EQ(s.next_block_id, 3u);
  EXPECT_EQ(m->NewBlockId(), 3u);
}

TEST_F(ManifestTest, ACompactionReplacesItsInputsInOneEdit) {
  auto m = OpenOk();
  ASSERT_TRUE(m->Apply(Edit().Add(Block(1, 10)).Add(Block(2, 10))).ok());
  ASSERT_TRUE(m->Apply(Edit().Supersede(1, {4})).ok());
  ASSERT_TRUE(m->Apply(Edit().Add(Block(3, 19, 1)).Remove(1).Remove(2)).ok());
  m.reset();
  m = OpenOk();
  ManifestState s = m->State();
  ASSERT_EQ(s.blocks.size(), 1u);
  EXPECT_EQ(s.blocks.at(3).meta.level, 1u);
  EXPECT_TRUE(s.blocks.at(3).superseded.empty());
  EXPECT_EQ(m->NewBlockId(), 4u);
}

TEST_F(ManifestTest, EditsThatContradictTheStateAreRefusedAndChangeNothing) {
  auto m = OpenOk();
  ASSERT_TRUE(m->Apply(Edit().Add(Block(1, 10))).ok());
  const uint64_t bytes = m->LogBytes();
  const ManifestState before = m->State();
  struct Case {
    const char* what;
    ManifestEdit edit;
  };
  const Case cases[] = {
      {"already live", Edit().Add(Block(1, 5))},
      {"added twice", Edit().Add(Block(2, 5)).Add(Block(2, 5))},
      {"id 0", Edit().Add(Block(0, 5))},
      {"remove unknown", Edit().Remove(9)},
      {"remove twice", Edit().Remove(1).Remove(1)},
      {"supersede unknown", Edit().Supersede(9, {0})},
      {"supersede removed", Edit().Remove(1).Supersede(1, {0})},
      {"row past the end", Edit().Supersede(1, {10})},
      {"row past the end of a block the edit adds", Edit().Add(Block(2, 5)).Supersede(2, {5})},
      {"supersede in a block the edit removes and adds",
       Edit().Remove(1).Add(Block(2, 5)).Supersede(1, {0})},
  };
  for (const Case& c : cases) {
    Status s = m->Apply(c.edit);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.what << ": " << s.ToString();
  }
  EXPECT_EQ(m->State(), before);
  EXPECT_EQ(m->LogBytes(), bytes);
}

TEST_F(ManifestTest, AnEditMaySupersedeRowsOfABlockItAddsAndReplayKeepsThem) {
  // A compaction's edit: the output replaces its inputs, and rows of the
  // output whose trace a cut superseded meanwhile are marked at once.
  {
    auto m = OpenOk();
    ASSERT_TRUE(m->Apply(Edit().Add(Block(1, 10)).Add(Block(2, 10))).ok());
    ASSERT_TRUE(m->Apply(Edit().Remove(1).Remove(2).Add(Block(3, 20)).Supersede(3, {4, 17})).ok());
    const ManifestState s = m->State();
    ASSERT_EQ(s.blocks.size(), 1u);
    EXPECT_EQ(s.blocks.at(3).superseded, (std::vector<uint32_t>{4, 17}));
  }
  auto reopened = OpenOk();
  const ManifestState s = reopened->State();
  ASSERT_EQ(s.blocks.size(), 1u);
  EXPECT_EQ(s.blocks.at(3).superseded, (std::vector<uint32_t>{4, 17}));
}

TEST_F(ManifestTest, TheLogIsRewrittenFromTheStateWhenItGrows) {
  auto m = OpenOk({.rewrite_after_bytes = 600});
  ASSERT_TRUE(m->Apply(Edit().Add(Block(1, 1000))).ok());
  const std::string first = LiveFile();
  for (uint32_t row = 0; row < 200; ++row) {
    ASSERT_TRUE(m->Apply(Edit().Supersede(1, {row})).ok());
  }
  EXPECT_NE(LiveFile(), first);
  EXPECT_FALSE(fs::exists(first)) << "the old file is deleted";
  EXPECT_LE(m->LogBytes(), 600u + 64);
  size_t manifests = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    manifests += e.path().filename().string().starts_with("MANIFEST-");
  }
  EXPECT_EQ(manifests, 1u);
  const ManifestState state = m->State();
  m.reset();
  EXPECT_EQ(OpenOk()->State(), state);
  EXPECT_EQ(state.blocks.at(1).superseded.size(), 200u);
}

TEST_F(ManifestTest, AnEditCutShortByACrashIsDroppedAndTheNextOneFollowsTheLastGoodOne) {
  const std::string path = WriteTwoBlocks();
  const std::string whole = ReadFile(path);
  // Every cut inside the last edit: the first edit survives, the second is dropped.
  const size_t last_start = whole.size() - LastEditSize();
  for (size_t cut = last_start; cut < whole.size(); ++cut) {
    WriteFile(path, whole.substr(0, cut));
    auto m = OpenOk();
    ASSERT_TRUE(m);
    ManifestState s = m->State();
    ASSERT_EQ(s.blocks.size(), 1u) << "cut at " << cut;
    EXPECT_TRUE(s.blocks.contains(1));
    EXPECT_EQ(ReadFile(path).size(), last_start) << "the torn edit is cut off";
    ASSERT_TRUE(m->Apply(Edit().Add(Block(3, 4))).ok());
    m.reset();
    EXPECT_EQ(OpenOk()->State().blocks.size(), 2u) << "the edit after the cut reads back";
  }
  // A torn last edit whose bytes are all there but fail the checksum.
  std::string flipped = whole;
  flipped.back() ^= 0x40;
  WriteFile(path, flipped);
  EXPECT_EQ(OpenOk()->State().blocks.size(), 1u);
  // Zeros where the last edit was: the file grew before its data was written.
  WriteFile(path, whole.substr(0, last_start) + std::string(LastEditSize(), '\0'));
  EXPECT_EQ(OpenOk()->State().blocks.size(), 1u);
}

TEST_F(ManifestTest, DamageBeforeTheLastEditIsCorruptionNamingTheOffset) {
  const std::string path = WriteTwoBlocks();
  const std::string whole = ReadFile(path);
  // Flip each byte of the first edits (not the last one): never a wrong set of blocks.
  for (size_t at = 0; at < whole.size() - LastEditSize(); ++at) {
    std::string damaged = whole;
    damaged[at] ^= 0x01;
    WriteFile(path, damaged);
    auto m = Manifest::Open(dir_.string());
    if (m.ok()) {
      // Every byte is covered by the magic or a checksum.
      ADD_FAILURE() << "opened with byte " << at << " flipped";
    } else {
      EXPECT_EQ(m.status().code(), StatusCode::kCorruption) << at << ": " << m.status().ToString();
      const std::string& why = m.status().message();
      EXPECT_TRUE(why.find("offset") != std::string::npos || why.find("magic") != std::string::npos)
          << why;
    }
  }
  WriteFile(path, whole);
  EXPECT_EQ(OpenOk()->State().blocks.size(), 2u);
}

TEST_F(ManifestTest, ABadCurrentFileIsCorruption) {
  OpenOk();
  WriteFile((dir_ / "CURRENT").string(), "not-a-manifest\n");
  auto m = Manifest::Open(dir_.string());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kCorruption);
  EXPECT_NE(m.status().message().find("CURRENT"), std::string::npos) << m.status().ToString();
}

TEST_F(ManifestTest, LeftoversOfAnInterruptedRewriteAreRemovedAtOpen) {
  {
    auto m = OpenOk();
    ASSERT_TRUE(m->Apply(Edit().Add(Block(1, 10))).ok());
  }
  const std::string live = fs::path(LiveFile()).filename().string();
  WriteFile((dir_ / "MANIFEST-00000000000000000099").string(), "half a rewrite");
  WriteFile((dir_ / "CURRENT.tmp").string(), "MANIFEST-00000000000000000099\n");
  auto m = OpenOk();
  EXPECT_EQ(m->State().blocks.size(), 1u);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"CURRENT", live}));
}

TEST_F(ManifestTest, EditsRoundTripThroughTheirEncoding) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 200; ++i) {
    ManifestEdit edit;
    for (int n = static_cast<int>(rng() % 4); n > 0; --n) {
      BlockMeta b = Block(rng() % 1000 + 1, rng() % 100000, static_cast<uint32_t>(rng() % 5));
      b.min_start_us = static_cast<int64_t>(rng());
      edit.added.push_back(b);
    }
    for (int n = static_cast<int>(rng() % 3); n > 0; --n) edit.removed.push_back(rng() % 1000);
    for (int n = static_cast<int>(rng() % 3); n > 0; --n) {
      std::vector<uint32_t>& rows = edit.superseded[rng() % 1000];
      for (uint32_t r = static_cast<uint32_t>(rng() % 5); r < 4000; r += 1 + rng() % 700) {
        rows.push_back(r);
      }
    }
    Result<ManifestEdit> back = Manifest::DecodeEdit(Manifest::EncodeEdit(edit));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, edit);
  }
}

TEST_F(ManifestTest, DamagedEditPayloadsAreCorruptionNeverACrash) {
  const std::string good = Manifest::EncodeEdit(
      Edit().Add(Block(1, 10)).Remove(4).Supersede(1, {1, 5, 9}));
  // A cut between fields is a shorter edit; a cut inside one is damage.
  size_t damaged = 0;
  for (size_t cut = 0; cut < good.size(); ++cut) {
    Result<ManifestEdit> r = Manifest::DecodeEdit(good.substr(0, cut));
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
      ++damaged;
    }
  }
  EXPECT_GT(damaged, good.size() / 2);
  std::string unknown;
  coding::PutVarint(77, unknown);
  Result<ManifestEdit> r = Manifest::DecodeEdit(unknown);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown field 77"), std::string::npos);
  std::string huge_count;
  coding::PutVarint(3, huge_count);
  coding::PutVarint(1, huge_count);
  coding::PutVarint(1ull << 40, huge_count);
  EXPECT_EQ(Manifest::DecodeEdit(huge_count).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace roentgen::store::block
