// Compaction by columns (block_merge.h) against compaction by records: the
// same output file, byte for byte, and the same answers from a store that
// compacts one way or the other.
#include "store/block/block_merge.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <unordered_map>

#include "common/coding.h"
#include "common/testing/test_dir.h"
#include "filter/filter.h"
#include "store/block/block_store.h"
#include "store/block/rollup_section.h"
#include "store/record_codec.h"
#include "store/store_test_util.h"

namespace roentgen::store::block {
namespace {

namespace fs = std::filesystem;
using store::testing::kSecond;
using store::testing::kT0;
using store::testing::MakeFullRecord;
using store::testing::MakeObservation;
using store::testing::MakeService;

constexpr std::string_view kMergeTestCounts = "roentgen.counts";

std::string MergeTestReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string MergeTestBytes(const TraceRecord& r) {
  std::string out;
  EncodeTraceRecord(r, out);
  return out;
}

std::string MergeTestText(std::mt19937_64& rng, size_t max_len) {
  static constexpr std::string_view kChars = "abcxyz/:-_.\0\xff";
  std::string s(rng() % (max_len + 1), ' ');
  for (char& c : s) c = kChars[rng() % kChars.size()];
  return s;
}

// A record with a bit of everything, annotations drawn from `keys`.
TraceRecord MergeTestRecord(std::mt19937_64& rng, const xray::TraceId& id, int64_t start,
                            const std::vector<std::string>& keys) {
  if (rng() % 5 == 0) {
    TraceRecord full = MakeFullRecord(id, start);
    full.summary.indexed = rng() % 2;
    return full;
  }
  TraceRecord r;
  auto& s = r.summary;
  s.id = id;
  s.start_time_us = start;
  if (rng() % 3) s.duration_us = static_cast<int64_t>(rng() % 5'000'000);
  if (rng() % 3) s.response_time_us = static_cast<int64_t>(rng() % 5'000'000) - 1000;
  s.has_fault = rng() % 2;
  s.has_error = rng() % 2;
  s.has_throttle = rng() % 5 == 0;
  s.is_partial = rng() % 4 == 0;  // in progress
  s.indexed = rng() % 9 != 0;
  s.http.method = rng() % 2 ? "GET" : "POST";
  s.http.url = "https://x/" + MergeTestText(rng, 12);
  if (rng() % 2) s.http.status = static_cast<int>(rng() % 600);
  s.http.user_agent = MergeTestText(rng, 5);
  s.http.client_ip = rng() % 2 ? "10.0.0." + std::to_string(rng() % 256) : "";
  for (size_t k = 0, n = keys.empty() ? 0 : rng() % 5; k < n; ++k) {
    xray::TraceAnnotation a;
    a.key = keys[rng() % keys.size()];
    if (std::any_of(s.annotations.begin(), s.annotations.end(),
                    [&](const auto& x) { return x.key == a.key; })) {
      continue;
    }
    for (size_t v = 0, m = 1 + rng() % 3; v < m; ++v) {
      xray::TraceAnnotationValue value;
      switch (rng() % 4) {
        case 0:
          value.value = MergeTestText(rng, 6);
          break;
        case 1:
          value.value = static_cast<double>(rng() % 100) / 4 - 3;
          break;
        case 2:
          value.value = rng() % 3 == 0 ? -0.0 : 0.0;
          break;
        default:
          value.value = rng() % 2 == 0;
          break;
      }
      if (rng() % 2) value.service_ids = {MakeService("svc" + std::to_string(rng() % 3), "t")};
      a.values.push_back(value);
    }
    s.annotations.push_back(a);
  }
  if (rng() % 2) s.users = {{"user" + std::to_string(rng() % 10), {}}};
  for (size_t i = 0, n = rng() % 3; i < n; ++i) {
    s.service_ids.push_back(
        MakeService("svc" + std::to_string(rng() % 5), rng() % 2 ? "AWS::EC2::Instance" : ""));
  }
  if (rng() % 2) s.resource_arns = {"arn:" + MergeTestText(rng, 8)};
  if (rng() % 3 == 0) s.instance_ids = {"i-1", "i-" + MergeTestText(rng, 4)};
  if (rng() % 2) s.availability_zones = {"us-east-1a"};
  if (rng() % 2) s.entry_point = MakeService("svc0", "AWS::EC2::Instance");
  s.root_segment_name = "svc" + std::to_string(rng() % 5);
  s.root_segment_origin = rng() % 2 ? "AWS::EC2::Instance" : "";
  if (rng() % 4 == 0) s.fault_root_causes = {store::testing::MakeRootCause("billing")};
  s.revision = static_cast<uint32_t>(rng());
  s.updated_us = start + static_cast<int64_t>(rng() % 10'000'000);
  s.segment_count = rng() % 40;
  if (rng() % 3) {
    // Nodes of one service key inferred in some rows and not in others, so
    // that the rollups' last-writer fields depend on the order of the rows.
    graph::Node root;
    root.id = MakeService(s.root_segment_name, s.root_segment_origin);
    root.root = true;
    root.observations = {MakeObservation(start, rng() % 2)};
    graph::Node down;
    down.id = MakeService("db" + std::to_string(rng() % 2), "AWS::DynamoDB::Table");
    down.inferred = rng() % 2;
    down.client = rng() % 3 == 0;
    down.observations = {MakeObservation(start + 100, true)};
    r.graph.nodes = {root, down};
    r.graph.edges = {{0, 1, {MakeObservation(start + 100, rng() % 2)}}};
  }
  return r;
}

std::vector<StoredDocument> MergeTestDocuments(std::mt19937_64& rng, const xray::TraceId& id) {
  std::vector<StoredDocument> docs(rng() % 4);
  for (auto& d : docs) {
    d.entity_id.value = rng();
    d.received_us = static_cast<int64_t>(rng() % 1'000'000'000);
    // Some documents spell their ids (the pages leave them out), some not.
    d.raw =
        fmt::format("{{\"trace_id\":\"{}\",\"id\":\"{}\",\"name\":\"{}\",\"pad\":\"{}\"}}",
                    rng() % 3 ? id.ToString() : "none", rng() % 3 ? d.entity_id.ToString() : "0",
                    MergeTestText(rng, 40), std::string(rng() % 400, 'p'));
  }
  return docs;
}

struct MergeTestBlock {
  std::vector<TraceRecord> records;
  std::vector<std::vector<StoredDocument>> documents;
  std::vector<uint32_t> superseded;
  std::string path;
  std::unique_ptr<BlockReader> reader;
};

void MergeTestSort(MergeTestBlock& b) {
  std::vector<size_t> order(b.records.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    const auto& p = b.records[x].summary;
    const auto& q = b.records[y].summary;
    return std::tie(p.start_time_us, p.id) < std::tie(q.start_time_us, q.id);
  });
  MergeTestBlock sorted;
  for (size_t i : order) {
    sorted.records.push_back(b.records[i]);
    sorted.documents.push_back(b.documents[i]);
  }
  b.records = std::move(sorted.records);
  b.documents = std::move(sorted.documents);
}

class BlockMergeTest : public ::testing::Test {
 protected:
  void WriteInput(MergeTestBlock& b, const std::string& name) {
    MergeTestSort(b);
    b.path = (dir_.path() / name).string();
    BlockWriteOptions wo;
    wo.target_page_raw_bytes = 2048;
    std::string counts;
    uint64_t documents = 0;
    for (const auto& d : b.documents) documents += d.size();
    coding::PutVarint(documents, counts);
    wo.sections.emplace_back(std::string(kMergeTestCounts), counts);
    wo.sections.emplace_back(std::string(kRollupSection),
                             EncodeRollupSection(RollupsOfRecords(b.records)));
    ASSERT_TRUE(WriteBlock(b.records, b.documents, b.path, wo).ok());
    auto r = BlockReader::Open(b.path);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    b.reader = std::move(*r);
  }

  // What compaction by records writes for `inputs` (newest first), and the
  // output row of each input row.
  std::vector<std::vector<int64_t>> MergeByRecords(const std::vector<MergeTestBlock*>& inputs,
                                                   const std::string& path,
                                                   const BlockMergeOptions& o, uint64_t* rows) {
    struct Kept {
      TraceRecord record;
      std::vector<StoredDocument> documents;
    };
    std::vector<Kept> kept;
    std::vector<std::vector<int64_t>> slots(inputs.size());
    std::unordered_map<xray::TraceId, size_t, xray::TraceIdHash> by_trace;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const MergeTestBlock& b = *inputs[i];
      slots[i].assign(b.records.size(), -1);
      for (uint32_t row = 0; row < b.records.size(); ++row) {
        if (std::binary_search(b.superseded.begin(), b.superseded.end(), row)) continue;
        auto [it, inserted] = by_trace.try_emplace(b.records[row].summary.id, kept.size());
        slots[i][row] = static_cast<int64_t>(it->second);
        if (inserted) kept.push_back({b.records[row], b.documents[row]});
      }
    }
    std::vector<size_t> order(kept.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      const auto& x = kept[a].record.summary;
      const auto& y = kept[b].record.summary;
      return std::tie(x.start_time_us, x.id) < std::tie(y.start_time_us, y.id);
    });
    std::vector<int64_t> row_of(kept.size());
    std::vector<TraceRecord> records;
    std::vector<std::vector<StoredDocument>> documents;
    uint64_t document_count = 0;
    for (size_t j = 0; j < order.size(); ++j) {
      row_of[order[j]] = static_cast<int64_t>(j);
      records.push_back(kept[order[j]].record);
      documents.push_back(kept[order[j]].documents);
      document_count += documents.back().size();
    }
    for (auto& s : slots) {
      for (int64_t& x : s) x = x < 0 ? -1 : row_of[static_cast<size_t>(x)];
    }
    *rows = records.size();
    if (!records.empty()) {
      BlockWriteOptions wo;
      wo.zstd_level = o.zstd_level;
      wo.target_page_raw_bytes = o.target_page_raw_bytes;
      wo.document_dictionary_bytes = o.document_dictionary_bytes;
      std::string counts;
      coding::PutVarint(document_count, counts);
      wo.sections.emplace_back(o.counts_section, counts);
      wo.sections.emplace_back(o.rollup_section, EncodeRollupSection(RollupsOfRecords(records)));
      EXPECT_TRUE(WriteBlock(records, documents, path, wo).ok());
    }
    return slots;
  }

  // Merges `inputs` both ways and checks that the files and what reads
  // answer are the same.
  // `*decoded`: the rows whose graphs the merge decoded for its rollups.
  void ExpectSameMerge(const std::vector<MergeTestBlock*>& inputs, size_t page_bytes,
                       size_t dictionary_bytes = kDocumentDictionaryBytes, bool stream = false,
                       uint64_t* decoded = nullptr) {
    BlockMergeOptions o;
    if (stream) o.max_column_bytes_in_memory = 0;
    o.zstd_level = 9;  // compaction's default
    o.target_page_raw_bytes = page_bytes;
    o.document_dictionary_bytes = dictionary_bytes;
    o.counts_section = std::string(kMergeTestCounts);
    o.rollup_section = std::string(kRollupSection);
    const std::string old_path = (dir_.path() / fmt::format("old{}.blk", merges_)).string();
    const std::string new_path = (dir_.path() / fmt::format("new{}.blk", merges_)).string();
    ++merges_;
    uint64_t old_rows = 0;
    const std::vector<std::vector<int64_t>> old_slots =
        MergeByRecords(inputs, old_path, o, &old_rows);

    std::vector<BlockMergeInput> merge_inputs;
    for (MergeTestBlock* b : inputs) merge_inputs.push_back({b->reader.get(), b->superseded});
    ASSERT_TRUE(CanMergeBlockColumns(merge_inputs));
    Result<BlockMergeResult> merged = MergeBlockColumns(merge_inputs, new_path, o);
    ASSERT_TRUE(merged.ok()) << merged.status().ToString();
    EXPECT_EQ(merged->rows, old_rows);
    if (decoded != nullptr) *decoded = merged->rollup_rows_decoded;
    EXPECT_EQ(merged->output_row, old_slots);
    if (old_rows == 0) {
      EXPECT_FALSE(fs::exists(new_path));
      return;
    }
    EXPECT_FALSE(fs::exists(new_path + ".tmp"));
    if (!stream) {
      // A streamed column's frame may code the same bytes otherwise (below).
      const std::string old_bytes = MergeTestReadFile(old_path);
      const std::string new_bytes = MergeTestReadFile(new_path);
      EXPECT_EQ(old_bytes.size(), new_bytes.size());
      EXPECT_TRUE(old_bytes == new_bytes) << "the files differ";
    }

    // Reads, should the bytes ever legitimately differ.
    auto old_reader = BlockReader::Open(old_path);
    auto new_reader = BlockReader::Open(new_path);
    ASSERT_TRUE(old_reader.ok() && new_reader.ok());
    std::vector<TraceRecord> old_records, new_records;
    ASSERT_TRUE((*old_reader)->ReadAllRecords(old_records).ok());
    ASSERT_TRUE((*new_reader)->ReadAllRecords(new_records).ok());
    ASSERT_EQ(old_records.size(), new_records.size());
    {
      // The merged trace ids keep their epoch range, which point reads skip by.
      uint32_t lo = UINT32_MAX, hi = 0;
      for (const TraceRecord& r : old_records) {
        lo = std::min(lo, r.summary.id.epoch_part());
        hi = std::max(hi, r.summary.id.epoch_part());
      }
      const ColumnInfo* ids = (*new_reader)->FindColumn(col::kTraceId);
      ASSERT_NE(ids, nullptr);
      ASSERT_TRUE(ids->has_range);
      EXPECT_EQ(ids->min, int64_t{lo});
      EXPECT_EQ(ids->max, int64_t{hi});
    }
    uint64_t documents = 0;
    for (size_t j = 0; j < old_records.size(); ++j) {
      EXPECT_EQ(MergeTestBytes(old_records[j]), MergeTestBytes(new_records[j])) << "row " << j;
      auto a = (*old_reader)->ReadDocuments(static_cast<uint32_t>(j));
      auto b = (*new_reader)->ReadDocuments(static_cast<uint32_t>(j));
      ASSERT_TRUE(a.ok() && b.ok());
      ASSERT_EQ(a->size(), b->size());
      documents += a->size();
      for (size_t d = 0; d < a->size(); ++d) {
        EXPECT_EQ((*a)[d].raw, (*b)[d].raw);
        EXPECT_EQ((*a)[d].entity_id.value, (*b)[d].entity_id.value);
        EXPECT_EQ((*a)[d].received_us, (*b)[d].received_us);
      }
      const auto& id = old_records[j].summary.id;
      EXPECT_TRUE((*new_reader)->MayContainTrace(id));
      auto found = (*new_reader)->FindTrace(id);
      ASSERT_TRUE(found.ok());
      EXPECT_EQ(*found, std::optional<uint32_t>(static_cast<uint32_t>(j)));
      for (const auto& a : old_records[j].summary.annotations) {
        for (const auto& v : a.values) {
          EXPECT_TRUE((*new_reader)->MayContainAnnotation(a.key, v.value)) << a.key;
        }
      }
      for (const auto& s : old_records[j].summary.service_ids) {
        EXPECT_TRUE((*new_reader)->MayContainService(s.name, s.type));
      }
      for (const auto& u : old_records[j].summary.users) {
        EXPECT_TRUE((*new_reader)->MayContainUser(u.user_name));
      }
    }
    EXPECT_EQ(merged->documents, documents);
    EXPECT_EQ((*old_reader)->ReadSection(kRollupSection).value(),
              (*new_reader)->ReadSection(kRollupSection).value());
    EXPECT_EQ((*old_reader)->ReadSection(kMergeTestCounts).value(),
              (*new_reader)->ReadSection(kMergeTestCounts).value());
    std::vector<std::string> old_columns, new_columns;
    for (const auto& c : (*old_reader)->columns()) old_columns.push_back(c.name);
    for (const auto& c : (*new_reader)->columns()) new_columns.push_back(c.name);
    ASSERT_EQ(old_columns, new_columns);
    for (size_t c = 0; c < old_columns.size(); ++c) {
      const ColumnInfo& x = (*old_reader)->columns()[c];
      const ColumnInfo& y = (*new_reader)->columns()[c];
      EXPECT_EQ(x.encoding, y.encoding) << x.name;
      EXPECT_EQ(std::make_tuple(x.has_range, x.min, x.max),
                std::make_tuple(y.has_range, y.min, y.max))
          << x.name;
      EXPECT_TRUE((*old_reader)->ReadColumnPayload(x).value() ==
                  (*new_reader)->ReadColumnPayload(y).value())
          << x.name;
    }
    EXPECT_EQ((*old_reader)->stats().min_updated_us, (*new_reader)->stats().min_updated_us);
    EXPECT_EQ((*old_reader)->stats().max_updated_us, (*new_reader)->stats().max_updated_us);
    EXPECT_EQ((*old_reader)->stats().min_start_us, (*new_reader)->stats().min_start_us);
    EXPECT_EQ((*old_reader)->stats().max_start_us, (*new_reader)->stats().max_start_us);
    EXPECT_EQ((*old_reader)->document_dictionary().has_value(),
              (*new_reader)->document_dictionary().has_value());
  }

  // Rows `rows` of records drawn with annotation keys `keys`, trace ids
  // from `first_id` on.
  void Fill(MergeTestBlock& b, std::mt19937_64& rng, size_t rows, uint32_t first_id,
            const std::vector<std::string>& keys) {
    for (size_t i = 0; i < rows; ++i) {
      xray::TraceId id;
      for (auto& x : id.bytes) x = static_cast<uint8_t>(rng());
      id.bytes[0] = static_cast<uint8_t>((first_id + i) >> 8);
      id.bytes[1] = static_cast<uint8_t>(first_id + i);
      // Few distinct starts: rows tie on start and order by id.
      const int64_t start = kT0 + static_cast<int64_t>(rng() % 200) * kSecond;
      b.records.push_back(MergeTestRecord(rng, id, start, keys));
      b.documents.push_back(MergeTestDocuments(rng, id));
    }
  }

  roentgen::testing::TestDir dir_{"block-merge"};
  int merges_ = 0;
};

TEST_F(BlockMergeTest, WritesWhatCompactionByRecordsWrites) {
  std::mt19937_64 rng(2626);
  // Annotation keys some inputs have and others not.
  const std::vector<std::string> keys_a = {"customer", "tier", "retries"};
  const std::vector<std::string> keys_b = {"tier", "cached", "region"};
  const std::vector<std::string> keys_c = {};
  MergeTestBlock a, b, c;
  Fill(a, rng, 300, 0, keys_a);
  Fill(b, rng, 250, 1000, keys_b);
  Fill(c, rng, 200, 2000, keys_c);
  // A trace in two inputs, another version of it (a later start too): the
  // newer block's row is kept and the other maps to it.
  for (size_t i = 0; i < 20; ++i) {
    TraceRecord again =
        MergeTestRecord(rng, b.records[i * 7].summary.id,
                        b.records[i * 7].summary.start_time_us + (i % 2) * kSecond, keys_a);
    a.records.push_back(again);
    a.documents.push_back(MergeTestDocuments(rng, again.summary.id));
  }
  WriteInput(a, "a.blk");
  WriteInput(b, "b.blk");
  WriteInput(c, "c.blk");
  for (uint32_t row = 0; row < a.records.size(); row += 9) a.superseded.push_back(row);
  for (uint32_t row = 3; row < b.records.size(); row += 5) b.superseded.push_back(row);

  // Newest first: a, b, c. Pages of several sizes, with and without a
  // documents' dictionary.
  ExpectSameMerge({&a, &b, &c}, 4096);
  ExpectSameMerge({&a, &b, &c}, 256 << 10);
  ExpectSameMerge({&a, &b, &c}, 4096, 0);
  // `details` and `graph` streamed.
  ExpectSameMerge({&a, &b, &c}, 4096, kDocumentDictionaryBytes, true);
  ExpectSameMerge({&b, &a}, 8192, kDocumentDictionaryBytes, true);
  ExpectSameMerge({&c, &b, &a}, 1);  // a page per row
  // A block rewritten alone, and a pair.
  ExpectSameMerge({&b}, 8192);
  ExpectSameMerge({&b, &a}, 8192);
}

// The blocks' contents (every column's payload, every document page and
// section, raw) of a fixed set of rows in each format version, against
// digests of what the writer wrote before its encoding was made cheaper:
// the file format does not change with how the writer gets there. Raw
// bytes, not the file's, so that another zstd release does not fail it.
uint64_t BlockContentsTestDigest(const BlockReader& reader) {
  std::string all;
  auto add = [&all](std::string_view bytes) { coding::PutLengthPrefixed(bytes, all); };
  coding::PutVarint(reader.row_count(), all);
  for (const ColumnInfo& c : reader.columns()) {
    add(c.name);
    all.push_back(static_cast<char>(c.encoding));
    auto payload = reader.ReadColumnPayload(c);
    EXPECT_TRUE(payload.ok()) << c.name;
    if (payload.ok()) add(*payload);
  }
  for (size_t p = 0; p < reader.document_page_count(); ++p) {
    coding::PutVarint(reader.document_page_first_row(p), all);
    auto page = reader.ReadDocumentPage(p, "page");
    EXPECT_TRUE(page.ok()) << p;
    if (page.ok()) add(*page);
  }
  for (const std::string& name : reader.section_names()) {
    add(name);
    auto section = reader.ReadSection(name);
    EXPECT_TRUE(section.ok()) << name;
    if (section.ok()) add(*section);
  }
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (char c : all) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001b3ull;
  return h ^ all.size();
}

TEST_F(BlockMergeTest, WritesTheSameBlockContentsAsBefore) {
  std::mt19937_64 rng(4711);
  MergeTestBlock b;
  Fill(b, rng, 700, 0, {"customer", "tier", "retries", "cached"});
  // Records whose `details` and `graph` take a one-byte length prefix (an
  // empty graph), a three-byte one (over 16 KB) and more distinct strings
  // than the record codec's table holds.
  TraceRecord big = MakeFullRecord(store::testing::MakeTraceId(0xfe, 1), kT0 + 5 * kSecond);
  big.summary.http.url = std::string(20000, 'u');
  big.graph.nodes[1].observations[0].http_url = std::string(17000, 'g');
  for (int k = 0; k < 300; ++k) {
    big.summary.annotations.push_back(
        {fmt::format("k{}", k), {{fmt::format("value-{}", k * 7), {}}}});
    big.graph.nodes[2].observations.push_back(MakeObservation(kT0 + k, k % 2 == 0));
    big.graph.nodes[2].observations.back().entity_name = fmt::format("entity-{}", k);
  }
  b.records.push_back(big);
  b.documents.push_back(MergeTestDocuments(rng, big.summary.id));
  b.records.push_back(store::testing::MakeRecord(store::testing::MakeTraceId(0xfe, 2), kT0));
  b.documents.push_back({});
  MergeTestSort(b);
  const std::string section = EncodeRollupSection(RollupsOfRecords(b.records));
  std::vector<uint64_t> digests;
  for (uint32_t version = kOldestFormatVersion; version <= kFormatVersion; ++version) {
    BlockWriteOptions wo;
    wo.format_version = version;
    wo.target_page_raw_bytes = 8192;
    wo.document_dictionary_bytes = 4096;
    wo.sections.emplace_back(std::string(kRollupSection), section);
    const std::string path = (dir_.path() / fmt::format("v{}.blk", version)).string();
    ASSERT_TRUE(WriteBlock(b.records, b.documents, path, wo).ok());
    auto r = BlockReader::Open(path);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    digests.push_back(BlockContentsTestDigest(**r));
  }
  EXPECT_EQ(digests,
            (std::vector<uint64_t>{0x1e0afd2fda5e619c, 0x34f1cd4fc78d5966, 0x887444d5ce4755c8}))
      << fmt::format("{:#x}", fmt::join(digests, ", "));
}

TEST_F(BlockMergeTest, ChoosesTheOutputsAnnotationColumnsByItsRows) {
  // Each input under the writer's key limit, the two together over it: the
  // output keeps the most frequent keys' columns and the others in
  // `details` and in the bloom filter, as WriteBlock does.
  std::mt19937_64 rng(7);
  std::vector<std::string> keys_a, keys_b;
  for (int k = 0; k < 50; ++k) keys_a.push_back(fmt::format("ka{:02}", k));
  for (int k = 0; k < 50; ++k) keys_b.push_back(fmt::format("kb{:02}", k));
  keys_b.push_back("ka00");
  MergeTestBlock a, b;
  Fill(a, rng, 400, 0, keys_a);
  Fill(b, rng, 400, 1000, keys_b);
  WriteInput(a, "a.blk");
  WriteInput(b, "b.blk");
  ASSERT_LT(a.reader->columns().size(), b.reader->columns().size() + 200);
  ExpectSameMerge({&a, &b}, 16384);
  ExpectSameMerge({&a, &b}, 16384, kDocumentDictionaryBytes, true);
}

TEST_F(BlockMergeTest, SumsTheInputsRollupSectionsWhereTheyAgree) {
  // Graphs whose nodes agree on their flags: the output's rollups are the
  // inputs' sections summed, but for an input with rows left out, whose
  // kept rows are decoded; where two inputs' rows disagree in one minute,
  // every row is.
  auto fill = [&](MergeTestBlock& b, uint8_t seed, int rows) {
    for (int i = 0; i < rows; ++i) {
      const xray::TraceId id = store::testing::MakeTraceId(seed, static_cast<uint8_t>(i));
      b.records.push_back(MakeFullRecord(id, kT0 + (i % 7) * 20 * kSecond));
      b.documents.emplace_back();
    }
  };
  MergeTestBlock a, b, c;
  fill(a, 1, 50);
  fill(b, 2, 40);
  fill(c, 3, 30);
  // The table node of c's rows is not inferred.
  for (auto& r : c.records) r.graph.nodes[2].inferred = false;
  WriteInput(a, "a.blk");
  WriteInput(b, "b.blk");
  WriteInput(c, "c.blk");
  uint64_t decoded = 99;
  ExpectSameMerge({&a, &b}, 4096, kDocumentDictionaryBytes, false, &decoded);
  EXPECT_EQ(decoded, 0u);
  for (uint32_t row = 0; row < 40; row += 3) b.superseded.push_back(row);
  ExpectSameMerge({&a, &b}, 4096, kDocumentDictionaryBytes, true, &decoded);
  EXPECT_EQ(decoded, 40u - b.superseded.size());
  ExpectSameMerge({&a, &c}, 4096, kDocumentDictionaryBytes, false, &decoded);
  EXPECT_EQ(decoded, 80u);
  ExpectSameMerge({&a, &b, &c}, 4096, kDocumentDictionaryBytes, true, &decoded);
  EXPECT_EQ(decoded, 120u - b.superseded.size());
}

TEST_F(BlockMergeTest, EveryRowSupersededWritesNothing) {
  std::mt19937_64 rng(3);
  MergeTestBlock a, b;
  Fill(a, rng, 30, 0, {"k"});
  Fill(b, rng, 20, 100, {"k"});
  WriteInput(a, "a.blk");
  WriteInput(b, "b.blk");
  for (uint32_t row = 0; row < 30; ++row) a.superseded.push_back(row);
  for (uint32_t row = 0; row < 20; ++row) b.superseded.push_back(row);
  ExpectSameMerge({&a, &b}, 4096);
  ExpectSameMerge({&a, &b}, 4096, kDocumentDictionaryBytes, true);
  // One row left.
  b.superseded.pop_back();
  ExpectSameMerge({&a, &b}, 4096);
  ExpectSameMerge({&a, &b}, 4096, kDocumentDictionaryBytes, true);
}

TEST_F(BlockMergeTest, LeavesOlderFormatsToRecordsAndReadsFullKeySetsFromDetails) {
  std::mt19937_64 rng(11);
  MergeTestBlock v3, v2, many;
  Fill(v3, rng, 10, 0, {"k"});
  WriteInput(v3, "v3.blk");
  // An older format.
  Fill(v2, rng, 10, 100, {"k"});
  MergeTestSort(v2);
  v2.path = (dir_.path() / "v2.blk").string();
  BlockWriteOptions wo;
  wo.format_version = 2;
  ASSERT_TRUE(WriteBlock(v2.records, v2.documents, v2.path, wo).ok());
  auto v2_reader = BlockReader::Open(v2.path);
  ASSERT_TRUE(v2_reader.ok());
  v2.reader = std::move(*v2_reader);
  // As many keys as the writer gives columns: it may have more.
  std::vector<std::string> keys;
  for (size_t k = 0; k < kMaxAnnotationKeyColumns + 5; ++k) keys.push_back(fmt::format("k{}", k));
  for (size_t i = 0; i < keys.size(); ++i) {
    xray::TraceId id;
    id.bytes.fill(static_cast<uint8_t>(i));
    TraceRecord r = store::testing::MakeRecord(id, kT0 + static_cast<int64_t>(i));
    r.summary.annotations = {{keys[i], {{1.0, {}}}}};
    many.records.push_back(r);
    many.documents.emplace_back();
  }
  WriteInput(many, "many.blk");

  std::vector<BlockMergeInput> ok = {{v3.reader.get(), {}}};
  EXPECT_TRUE(CanMergeBlockColumns(ok));
  std::vector<BlockMergeInput> old_format = {{v3.reader.get(), {}}, {v2.reader.get(), {}}};
  EXPECT_FALSE(CanMergeBlockColumns(old_format));
  auto refused =
      MergeBlockColumns(old_format, (dir_.path() / "x.blk").string(), BlockMergeOptions{});
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  // A block with as many annotation keys in columns as the writer gives
  // columns, and more in `details`: its annotations are read from there.
  std::vector<BlockMergeInput> full = {{v3.reader.get(), {}}, {many.reader.get(), {}}};
  EXPECT_TRUE(CanMergeBlockColumns(full));
  ExpectSameMerge({&v3, &many}, 4096);
  ExpectSameMerge({&many, &v3}, 4096, kDocumentDictionaryBytes, true);
  // A key `many` holds in `details` only, frequent in another input: the
  // output gives it a column, `many`'s row included.
  std::string only_in_details;
  for (const auto& key : keys) {
    if (!many.reader->HasAnnotationColumns(key)) only_in_details = key;
  }
  ASSERT_FALSE(only_in_details.empty());
  MergeTestBlock frequent;
  Fill(frequent, rng, 20, 300, {only_in_details});
  WriteInput(frequent, "frequent.blk");
  ExpectSameMerge({&frequent, &many}, 4096);
  many.superseded = {0, 1, 2};
  ExpectSameMerge({&many, &frequent, &v3}, 4096, kDocumentDictionaryBytes, true);
  const std::string out = (dir_.path() / fmt::format("new{}.blk", merges_ - 1)).string();
  auto merged = BlockReader::Open(out);
  ASSERT_TRUE(merged.ok());
  EXPECT_TRUE((*merged)->HasAnnotationColumns(only_in_details));
}

void ExpectSameAnswers(const std::vector<std::string>& got, const std::vector<std::string>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_TRUE(got[i] == want[i])
        << "answer " << i << " of " << got.size() << ": " << got[i].substr(0, 80);
  }
}

TEST_F(BlockMergeTest, ADamagedInputFailsTheMergeAndLeavesNoFile) {
  std::mt19937_64 rng(5);
  MergeTestBlock a, b;
  Fill(a, rng, 200, 0, {"k"});
  Fill(b, rng, 200, 1000, {"k"});
  WriteInput(a, "a.blk");
  WriteInput(b, "b.blk");
  const std::string good = MergeTestReadFile(b.path);
  // A byte of a streamed column, of another column, of a document page.
  const uint64_t graph_at = b.reader->FindColumn(col::kGraph)->extent.offset + 7;
  const uint64_t user_at = b.reader->FindColumn(col::kUser)->extent.offset + 3;
  // The pages follow the columns and the documents' dictionary.
  uint64_t page_at = 0;
  for (const ColumnInfo& c : b.reader->columns()) {
    page_at = std::max(page_at, c.extent.offset + c.extent.size);
  }
  if (const auto& dictionary = b.reader->document_dictionary()) {
    page_at = dictionary->offset + dictionary->size;
  }
  page_at += 5;
  for (const uint64_t at : {graph_at, user_at, page_at}) {
    SCOPED_TRACE(at);
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x5a);
    {
      std::ofstream out(b.path, std::ios::binary | std::ios::trunc);
      out.write(bad.data(), static_cast<std::streamsize>(bad.size()));
    }
    auto reader = BlockReader::Open(b.path);
    ASSERT_TRUE(reader.ok());
    std::vector<BlockMergeInput> inputs = {{a.reader.get(), {}}, {reader->get(), {}}};
    BlockMergeOptions o;
    o.max_column_bytes_in_memory = 0;
    const std::string out = (dir_.path() / "damaged.blk").string();
    auto merged = MergeBlockColumns(inputs, out, o);
    EXPECT_EQ(merged.status().code(), StatusCode::kCorruption) << merged.status().ToString();
    EXPECT_FALSE(fs::exists(out));
    EXPECT_FALSE(fs::exists(out + ".tmp"));
  }
}

// A store that compacts by columns answers as one that compacts by records.
class BlockMergeStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<BlockStore> OpenStore(const fs::path& dir, bool by_columns) {
    BlockStoreOptions o;
    o.shards = 1;
    o.compaction = false;
    o.compaction_fanin = 2;
    o.compaction_page_raw_bytes = 4096;
    o.compaction_by_columns = by_columns;
    auto s = BlockStore::Open(dir.string(), o);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  static std::vector<std::string> Answers(BlockStore& st, const std::set<xray::TraceId>& ids) {
    std::vector<std::string> out;
    for (const auto& id : ids) {
      auto t = st.GetTrace(id);
      out.push_back(t.ok() ? MergeTestBytes(*t) : t.status().ToString());
      auto docs = st.GetDocuments(id);
      std::string d;
      if (docs.ok()) {
        for (const auto& doc : *docs)
          d += fmt::format("{}:{}:{};", doc.entity_id.value, doc.received_us, doc.raw);
      } else {
        d = docs.status().ToString();
      }
      out.push_back(d);
    }
    for (const char* expr :
         {"", "annotation.customer = \"gold\"", "annotation.tier", "service(\"svc1\")",
          "service(\"orders\") { fault }", "user = \"user3\"", "responsetime > 1",
          "http.url CONTAINS \"x/a\"", "annotation.retries > 2", "edge(\"orders\", \"Orders\")",
          "annotation.cached = true"}) {
      ScanOptions so;
      so.start_us = INT64_MIN;
      so.end_us = INT64_MAX;
      so.return_graph = true;
      if (*expr != 0) so.filter = store::testing::Filter(expr);
      std::string scanned = fmt::format("{}:", expr);
      auto p = st.Scan(so, [&](const TraceRecord& r, int64_t) {
        scanned += MergeTestBytes(r);
        return true;
      });
      if (!p.ok()) scanned += p.status().ToString();
      out.push_back(scanned);
    }
    auto rollups = st.LoadRollups();
    if (rollups.ok() && *rollups) {
      out.push_back(EncodeRollupSection((*rollups)->minutes));
    } else {
      out.push_back("no rollups");
    }
    return out;
  }

  roentgen::testing::TestDir dir_{"block-merge"};
};

TEST_F(BlockMergeStoreTest, AnswersAsCompactionByRecords) {
  auto by_columns = OpenStore(dir_.path() / "columns", true);
  auto by_records = OpenStore(dir_.path() / "records", false);
  ASSERT_TRUE(by_columns && by_records);
  std::mt19937_64 rng(99);
  std::set<xray::TraceId> ids;
  std::vector<xray::TraceId> id_list;
  std::deque<std::string> storage;
  const std::vector<std::string> keys = {"customer", "tier", "retries", "cached"};
  for (int flush = 0; flush < 8; ++flush) {
    WriteBatch batch;
    for (int i = 0; i < 40; ++i) {
      xray::TraceId id;
      // Some traces again: late versions that supersede block rows.
      if (!id_list.empty() && rng() % 4 == 0) {
        id = id_list[rng() % id_list.size()];
      } else {
        for (auto& x : id.bytes) x = static_cast<uint8_t>(rng());
        id_list.push_back(id);
      }
      if (std::any_of(batch.traces.begin(), batch.traces.end(),
                      [&](const TraceRecord& r) { return r.summary.id == id; })) {
        continue;
      }
      ids.insert(id);
      // Only some flushes have some keys.
      std::vector<std::string> some(keys.begin(), keys.begin() + flush % 4 + (flush > 5 ? 0 : 1));
      TraceRecord r =
          MergeTestRecord(rng, id, kT0 + static_cast<int64_t>(rng() % 300) * kSecond, some);
      for (const auto& d : MergeTestDocuments(rng, id)) {
        storage.push_back(d.raw);
        batch.documents.push_back({id, d.entity_id, d.received_us, storage.back()});
      }
      batch.traces.push_back(std::move(r));
    }
    ASSERT_TRUE(by_columns->Write(batch).ok());
    ASSERT_TRUE(by_records->Write(batch).ok());
    ASSERT_TRUE(by_columns->Flush().ok());
    ASSERT_TRUE(by_records->Flush().ok());
  }
  const std::vector<std::string> before = Answers(*by_records, ids);
  ExpectSameAnswers(Answers(*by_columns, ids), before);
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE(round);
    auto a = by_columns->Compact();
    auto b = by_records->Compact();
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(*a, *b);
    if (round == 0) {
      EXPECT_GT(*a, 0u);
    }
    const std::vector<std::string> records_answers = Answers(*by_records, ids);
    ExpectSameAnswers(Answers(*by_columns, ids), records_answers);
    // Compaction changes no answer but the persisted rollups, whose node
    // flags (last writer) and first/last times depend on which rows a
    // block holds: by either way, the same.
    ExpectSameAnswers({records_answers.begin(), records_answers.end() - 1},
                      {before.begin(), before.end() - 1});
  }
  // The same files, block for block.
  std::vector<std::string> files_columns, files_records;
  for (const auto& e : fs::directory_iterator(dir_.path() / "columns" / "blocks")) {
    if (e.path().extension() == ".blk") files_columns.push_back(e.path().filename().string());
  }
  for (const auto& e : fs::directory_iterator(dir_.path() / "records" / "blocks")) {
    if (e.path().extension() == ".blk") files_records.push_back(e.path().filename().string());
  }
  std::sort(files_columns.begin(), files_columns.end());
  std::sort(files_records.begin(), files_records.end());
  ASSERT_EQ(files_columns, files_records);
  for (const auto& name : files_columns) {
    EXPECT_TRUE(MergeTestReadFile((dir_.path() / "columns" / "blocks" / name).string()) ==
                MergeTestReadFile((dir_.path() / "records" / "blocks" / name).string()))
        << name;
  }
}

}  // namespace
}  // namespace roentgen::store::block
