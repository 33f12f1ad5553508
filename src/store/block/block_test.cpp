#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <thread>

#include "common/coding.h"

#include "store/block/document_ids.h"
#include "store/block/summary_columns.h"
#include "store/record_codec.h"
#include "store/store_test_util.h"

namespace roentgen::store::block {
namespace {

using store::testing::kT0;
using store::testing::MakeFullRecord;
using store::testing::MakeRecord;
using store::testing::MakeService;
using store::testing::MakeTraceId;

// Exact equality of records: record_codec writes every field (doubles by
// their bits), so equal encodings mean equal records, -0.0 and NaN included.
std::string Bytes(const TraceRecord& r) {
  std::string out;
  EncodeTraceRecord(r, out);
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void WriteFile(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The record of release 1's encoder in src/store/testdata.
TraceRecord TestdataRecord() {
  std::ifstream in(std::string(RG_STORE_TESTDATA) + "/record_v1.hex");
  std::string hex, line, bytes;
  while (std::getline(in, line)) hex += line;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  auto r = DecodeTraceRecord(bytes);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : TraceRecord{};
}

std::string RandomString(std::mt19937_64& rng, size_t max_len) {
  static constexpr std::string_view kChars = "abcxyz/:-_.\0\xff";
  std::string s(rng() % (max_len + 1), ' ');
  for (char& c : s) c = kChars[rng() % kChars.size()];
  return s;
}

TraceRecord RandomRecord(std::mt19937_64& rng, int64_t start) {
  TraceRecord r;
  auto& s = r.summary;
  for (auto& b : s.id.bytes) b = static_cast<uint8_t>(rng());
  s.start_time_us = start;
  if (rng() % 3) s.duration_us = static_cast<int64_t>(rng() % 5'000'000);
  if (rng() % 3) s.response_time_us = static_cast<int64_t>(rng() % 5'000'000) - 1000;
  s.has_fault = rng() % 2;
  s.has_error = rng() % 2;
  s.has_throttle = rng() % 5 == 0;
  s.is_partial = rng() % 7 == 0;
  s.indexed = rng() % 9 != 0;
  s.http.method = rng() % 2 ? "GET" : "POST";
  s.http.url = "https://x/" + RandomString(rng, 12);
  if (rng() % 2) s.http.status = static_cast<int>(rng() % 600) - (rng() % 50 == 0 ? 100000 : 0);
  s.http.user_agent = RandomString(rng, 5);
  s.http.client_ip = rng() % 2 ? "10.0.0." + std::to_string(rng() % 256) : "";
  const char* keys[] = {"customer", "tier", "retries", "cached", "k" + 0};
  for (size_t k = 0, n = rng() % 4; k < n; ++k) {
    xray::TraceAnnotation a;
    a.key = std::string(keys[rng() % 5]) + (rng() % 4 == 0 ? RandomString(rng, 3) : "");
    if (std::any_of(s.annotations.begin(), s.annotations.end(),
                    [&](const auto& x) { return x.key == a.key; })) {
      continue;
    }
    for (size_t v = 0, m = 1 + rng() % 2; v < m; ++v) {
      xray::TraceAnnotationValue value;
      switch (rng() % 3) {
        case 0: value.value = RandomString(rng, 6); break;
        case 1: value.value = static_cast<double>(rng() % 100) / 4 - 3; break;
        default: value.value = rng() % 2 == 0; break;
      }
      if (rng() % 2) value.service_ids = {MakeService("svc" + std::to_string(rng() % 3), "t")};
      a.values.push_back(value);
    }
    s.annotations.push_back(a);
  }
  if (rng() % 2) s.users = {{"user" + std::to_string(rng() % 10), {}}};
  for (size_t i = 0, n = rng() % 3; i < n; ++i) {
    s.service_ids.push_back(MakeService("svc" + std::to_string(rng() % 5), rng() % 2 ? "AWS::EC2::Instance" : ""));
  }
  if (rng() % 2) s.resource_arns = {"arn:" + RandomString(rng, 8)};
  if (rng() % 3 == 0) s.instance_ids = {"i-1", "i-" + RandomString(rng, 4)};
  if (rng() % 2) s.availability_zones = {"us-east-1a"};
  if (rng() % 2) s.entry_point = MakeService("svc0", "AWS::EC2::Instance");
  s.root_segment_name = "svc" + std::to_string(rng() % 5);
  s.root_segment_origin = rng() % 2 ? "AWS::EC2::Instance" : "";
  if (rng() % 4 == 0) s.fault_root_causes = {store::testing::MakeRootCause("billing")};
  s.revision = static_cast<uint32_t>(rng());
  s.updated_us = start + static_cast<int64_t>(rng() % 10'000'000) - 5'000'000;
  s.segment_count = rng() % 40;
  if (rng() % 2) {
    graph::Node n;
    n.id = MakeService(s.root_segment_name, s.root_segment_origin);
    n.root = true;
    n.observations = {store::testing::MakeObservation(start, rng() % 2)};
    r.graph.nodes = {n};
  }
  return r;
}

std::vector<StoredDocument> RandomDocuments(std::mt19937_64& rng, size_t max_docs) {
  std::vector<StoredDocument> docs(rng() % (max_docs + 1));
  for (auto& d : docs) {
    d.entity_id.value = rng();
    d.received_us = static_cast<int64_t>(rng() % 1'000'000'000);
    d.raw = "{\"name\":\"" + RandomString(rng, 200) + "\"}";
  }
  return docs;
}

void SortRows(std::vector<TraceRecord>& rows, std::vector<std::vector<StoredDocument>>& docs) {
  std::vector<size_t> order(rows.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const auto& x = rows[a].summary;
    const auto& y = rows[b].summary;
    return std::tie(x.start_time_us, x.id.bytes) < std::tie(y.start_time_us, y.id.bytes);
  });
  std::vector<TraceRecord> r2;
  std::vector<std::vector<StoredDocument>> d2;
  for (size_t i : order) {
    r2.push_back(std::move(rows[i]));
    d2.push_back(std::move(docs[i]));
  }
  rows = std::move(r2);
  docs = std::move(d2);
}

bool SameDocuments(const std::vector<StoredDocument>& a, const std::vector<StoredDocument>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].entity_id.value != b[i].entity_id.value || a[i].received_us != b[i].received_us ||
        a[i].raw != b[i].raw) {
      return false;
    }
  }
  return true;
}

class BlockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rg_block_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Writes rows (sorted here) and checks everything reads back exactly.
  void RoundTrip(std::vector<TraceRecord> rows, std::vector<std::vector<StoredDocument>> docs,
                 BlockWriteOptions options = {}) {
    SortRows(rows, docs);
    const std::string path = Path("block");
    ASSERT_TRUE(WriteBlock(rows, docs, path, options).ok());
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
    {
      // The rows given by address (a head's cut) make the same file.
      std::vector<const TraceRecord*> by_address;
      for (const TraceRecord& r : rows) by_address.push_back(&r);
      const std::string other = Path("block-by-address");
      ASSERT_TRUE(WriteBlock(by_address, docs, other, options).ok());
      EXPECT_EQ(ReadFile(other), ReadFile(path));
      std::filesystem::remove(other);
    }
    auto reader = BlockReader::Open(path);
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    const BlockReader& b = **reader;
    ASSERT_EQ(b.row_count(), rows.size());
    std::vector<TraceRecord> all;
    ASSERT_TRUE(b.ReadAllRecords(all).ok());
    ASSERT_EQ(all.size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) ASSERT_EQ(Bytes(all[i]), Bytes(rows[i])) << "row " << i;
    // Row by row into one reused record, as a scan decodes (from the last
    // row, so each row is decoded over another's storage), each row's
    // successor prefetched first, as a scan prefetches the row it decodes
    // next (every row, the first and last too, with empty lists and strings).
    BlockReader::RecordColumns columns;
    ASSERT_TRUE(b.ReadRecordColumns(/*with_graph=*/true, columns).ok());
    TraceRecord reused;
    for (size_t i = rows.size(); i-- > 0;) {
      if (i > 0) BlockReader::PrefetchRecord(columns, static_cast<uint32_t>(i - 1));
      ASSERT_TRUE(b.DecodeRecord(columns, static_cast<uint32_t>(i), reused).ok());
      ASSERT_EQ(Bytes(reused), Bytes(rows[i])) << "row " << i;
    }
    EXPECT_EQ(b.DecodeRecord(columns, static_cast<uint32_t>(rows.size()), reused).code(),
              StatusCode::kInvalidArgument);
    auto index = b.ReadTraceIdIndex();
    ASSERT_TRUE(index.ok()) << index.status().ToString();
    // Each ReadDocuments decompresses a page: a large block is sampled.
    const size_t doc_step = rows.size() > 10000 ? 97 : 1;
    for (size_t i = 0; i < rows.size(); ++i) {
      ASSERT_TRUE(b.MayContainTrace(rows[i].summary.id));
      ASSERT_EQ((*index)->Find(rows[i].summary.id), std::optional<uint32_t>(i));
      if (i % doc_step != 0 && i + 1 != rows.size()) continue;
      auto d = b.ReadDocuments(static_cast<uint32_t>(i));
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      ASSERT_TRUE(SameDocuments(*d, docs[i])) << "row " << i;
    }
    // Every row's documents at once, each page decompressed once.
    auto all_docs = b.ReadAllDocuments();
    ASSERT_TRUE(all_docs.ok()) << all_docs.status().ToString();
    ASSERT_EQ(all_docs->size(), rows.size());
    for (size_t i = 0; i < rows.size(); ++i) {
      ASSERT_TRUE(SameDocuments((*all_docs)[i], docs[i])) << "row " << i;
    }
    if (!rows.empty()) {
      // A batch in any order, and one record alone.
      std::vector<uint32_t> pick = {static_cast<uint32_t>(rows.size() - 1), 0};
      std::vector<TraceRecord> some;
      ASSERT_TRUE(b.ReadRecords(pick, some).ok());
      EXPECT_EQ(Bytes(some[0]), Bytes(rows.back()));
      EXPECT_EQ(Bytes(some[1]), Bytes(rows.front()));
      auto one = b.ReadRecord(static_cast<uint32_t>(rows.size() / 2));
      ASSERT_TRUE(one.ok());
      EXPECT_EQ(Bytes(*one), Bytes(rows[rows.size() / 2]));
      // Without graphs: the same summaries, empty graphs.
      ASSERT_TRUE(b.ReadRecords(pick, some, /*with_graph=*/false).ok());
      TraceRecord no_graph = rows.back();
      no_graph.graph = {};
      EXPECT_EQ(Bytes(some[0]), Bytes(no_graph));
      EXPECT_EQ(b.stats().min_start_us, rows.front().summary.start_time_us);
      EXPECT_EQ(b.stats().max_start_us, rows.back().summary.start_time_us);
    }
  }

  std::filesystem::path dir_;
};

TEST_F(BlockTest, FullRecordsTestdataAndMinimalOnes) {
  std::vector<TraceRecord> rows = {MakeFullRecord(MakeTraceId(1), kT0),
                                   MakeFullRecord(MakeTraceId(2), kT0),  // same start: id order
                                   MakeRecord(MakeTraceId(3), kT0 - 5),
                                   MakeRecord(MakeTraceId(4), -1'234'568), TestdataRecord()};
  rows[1].summary.response_time_us.reset();
  rows[1].summary.http.status.reset();
  rows[1].summary.indexed = false;
  std::vector<std::vector<StoredDocument>> docs(rows.size());
  docs[0] = {{xray::SegmentId{7}, 99, "{\"a\":1}"}, {xray::SegmentId{8}, -1, ""}};
  docs[4] = {{xray::SegmentId{~0ull}, 5, std::string(100000, 'z')}};
  RoundTrip(rows, docs);
}

TEST_F(BlockTest, RandomizedRecordsAcrossManyPages) {
  std::mt19937_64 rng(20261206);
  std::vector<TraceRecord> rows;
  std::vector<std::vector<StoredDocument>> docs;
  for (int i = 0; i < 3000; ++i) {
    rows.push_back(RandomRecord(rng, kT0 + static_cast<int64_t>(rng() % 1000) * 1000));
    docs.push_back(RandomDocuments(rng, 4));
  }
  BlockWriteOptions small_pages;
  small_pages.target_page_raw_bytes = 4096;
  RoundTrip(rows, docs, small_pages);
}

TEST_F(BlockTest, FormatVersionOneBlocksStillReadTheSame) {
  // Version 1 keeps the graphs inside `details` and has no alias column:
  // its records read back exactly, and the graph-node name test says it
  // cannot tell rather than answering from half the names.
  std::mt19937_64 rng(11);
  std::vector<TraceRecord> rows = {MakeFullRecord(MakeTraceId(1), kT0), TestdataRecord()};
  for (int i = 0; i < 500; ++i) rows.push_back(RandomRecord(rng, kT0 + i));
  std::vector<std::vector<StoredDocument>> docs(rows.size());
  BlockWriteOptions v1;
  v1.format_version = 1;
  RoundTrip(rows, docs, v1);
  auto reader = BlockReader::Open(Path("block"));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->format_version(), 1u);
  EXPECT_EQ((*reader)->FindColumn(col::kGraph), nullptr);
  EXPECT_EQ((*reader)->FindColumn(col::kGraphNodeAlias), nullptr);
  EXPECT_TRUE((*reader)->MayContainGraphNodeNamed("no such service"));
  auto named = (*reader)->RowsWithGraphNodeNamed("orders");
  ASSERT_TRUE(named.ok());
  EXPECT_FALSE(named->has_value());
  auto faulty = (*reader)->RowsWithGraphNodeFlag(col::kGraphNodeFault);
  ASSERT_TRUE(faulty.ok());
  EXPECT_FALSE(faulty->has_value());

  RoundTrip(rows, docs);  // the current version
  reader = BlockReader::Open(Path("block"));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->format_version(), kFormatVersion);
  EXPECT_NE((*reader)->FindColumn(col::kGraph), nullptr);
}

TEST_F(BlockTest, GraphTimesRelativeToTheStartReadBackExactly) {
  // Version 3 stores observation times as offsets from the row's start
  // (graph_times.h), wrapping: times far from the start, at the ends of
  // int64 and absent ends come back exact, in version 2 and 3 alike.
  std::mt19937_64 rng(33);
  std::vector<TraceRecord> rows;
  for (int i = 0; i < 300; ++i) {
    TraceRecord r = MakeFullRecord(MakeTraceId(static_cast<uint8_t>(i % 250), i / 250), kT0 + i);
    for (graph::Node& node : r.graph.nodes) {
      for (graph::Observation& o : node.observations) {
        o.start_us = kT0 + i + static_cast<int64_t>(rng() % 3'000'000);
        o.end_us = o.start_us + static_cast<int64_t>(rng() % 2'000'000);
      }
    }
    rows.push_back(std::move(r));
  }
  TraceRecord extreme = MakeFullRecord(MakeTraceId(251), -1);
  ASSERT_FALSE(extreme.graph.nodes.empty());
  graph::Observation far = store::testing::MakeObservation(kT0, true);
  far.start_us = std::numeric_limits<int64_t>::min();
  far.end_us = std::numeric_limits<int64_t>::max();
  graph::Observation open = store::testing::MakeObservation(kT0, false);
  open.start_us = std::numeric_limits<int64_t>::max();
  open.end_us.reset();
  extreme.graph.nodes.front().observations = {far, open};
  rows.push_back(extreme);
  TraceRecord far_start = MakeFullRecord(MakeTraceId(252), std::numeric_limits<int64_t>::max() / 2);
  rows.push_back(far_start);
  std::vector<std::vector<StoredDocument>> docs(rows.size());
  uint64_t graph_bytes[2] = {0, 0};
  for (const uint32_t version : {2u, 3u}) {
    BlockWriteOptions o;
    o.format_version = version;
    RoundTrip(rows, docs, o);
    auto reader = BlockReader::Open(Path("block"));
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    ASSERT_EQ((*reader)->format_version(), version);
    const ColumnInfo* graph_column = (*reader)->FindColumn(col::kGraph);
    ASSERT_NE(graph_column, nullptr);
    graph_bytes[version - 2] = graph_column->extent.raw_size;
  }
  // Offsets of a few seconds take fewer varint bytes than absolute times.
  EXPECT_LT(graph_bytes[1], graph_bytes[0]);
}

// Segment-like JSON documents: repeated field names and services, random ids.
std::vector<std::vector<StoredDocument>> JsonLikeDocuments(std::mt19937_64& rng, size_t rows) {
  std::vector<std::vector<StoredDocument>> docs(rows);
  const char* services[] = {"web-app", "billing", "search"};
  for (size_t i = 0; i < rows; ++i) {
    for (size_t j = 0, n = 1 + rng() % 2; j < n; ++j) {
      docs[i].push_back(
          {xray::SegmentId{rng()}, static_cast<int64_t>(i) * 1000,
           fmt::format(R"({{"name":"{}","id":"{:016x}","trace_id":"1-6553f100-{:024x}",)"
                       R"("start_time":{}.{:06},"http":{{"request":{{"method":"GET",)"
                       R"("url":"https://{}.example.com/notes"}},"response":{{"status":200}}}},)"
                       R"("aws":{{"account_id":"123456789012"}},"annotations":{{"tenant":"t-{}"}}}})",
                       services[rng() % 3], rng(), rng() >> 32, 1700000000 + i, rng() % 1000000,
                       services[rng() % 3], rng() % 20)});
    }
  }
  return docs;
}

TEST_F(BlockTest, DocumentDictionaryShrinksPagesAndReadsBackExactly) {
  std::mt19937_64 rng(44);
  std::vector<TraceRecord> rows;
  for (int i = 0; i < 2000; ++i) rows.push_back(RandomRecord(rng, kT0 + i * 10));
  std::vector<std::vector<StoredDocument>> docs = JsonLikeDocuments(rng, rows.size());
  BlockWriteOptions small_pages;
  small_pages.target_page_raw_bytes = 4096;
  BlockWriteOptions without = small_pages;
  without.document_dictionary_bytes = 0;
  RoundTrip(rows, docs, without);
  auto plain = BlockReader::Open(Path("block"));
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_FALSE((*plain)->document_dictionary().has_value());
  const uint64_t plain_bytes = (*plain)->file_bytes();

  RoundTrip(rows, docs, small_pages);
  auto with = BlockReader::Open(Path("block"));
  ASSERT_TRUE(with.ok()) << with.status().ToString();
  ASSERT_TRUE((*with)->document_dictionary().has_value());
  EXPECT_LE((*with)->document_dictionary()->raw_size, kDocumentDictionaryBytes);
  EXPECT_LT((*with)->file_bytes(), plain_bytes);

  // Too few documents for a dictionary to pay: none.
  std::vector<TraceRecord> few(rows.begin(), rows.begin() + 20);
  std::vector<std::vector<StoredDocument>> few_docs(docs.begin(), docs.begin() + 20);
  RoundTrip(few, few_docs);
  auto small = BlockReader::Open(Path("block"));
  ASSERT_TRUE(small.ok());
  EXPECT_FALSE((*small)->document_dictionary().has_value());
}

TEST_F(BlockTest, DocumentsSpellingTheirIdsReadBackExactly) {
  // Version 3 leaves the row's trace id and the document's entity id out of
  // the stored text where it finds them (document_ids.h): at the start, at
  // the end, twice, overlapping each other, in upper case (kept), absent.
  std::vector<TraceRecord> rows;
  std::vector<std::vector<StoredDocument>> docs;
  for (uint8_t i = 0; i < 12; ++i) {
    rows.push_back(MakeFullRecord(MakeTraceId(i, 0xab), kT0 + i));
    const std::string trace = rows.back().summary.id.ToString();
    const xray::SegmentId entity{0x0123456789abcdefull + i};
    const std::string seg = entity.ToString();
    std::string upper = trace;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    const std::string texts[] = {
        fmt::format(R"({{"id":"{}","trace_id":"{}","parent":"{}"}})", seg, trace, seg),
        trace + seg,
        seg + trace,
        fmt::format("{}{}", trace, trace),
        fmt::format(R"({{"trace_id":"{}"}})", upper),
        "",
        std::string(trace.substr(0, 20)) + seg.substr(0, 8),
        trace.substr(2) + seg + trace,
    };
    docs.emplace_back();
    for (size_t k = 0; k < std::size(texts); ++k) {
      docs.back().push_back({xray::SegmentId{entity.value + (k % 2)}, static_cast<int64_t>(k), texts[k]});
    }
  }
  for (const uint32_t version : {2u, 3u}) {
    BlockWriteOptions o;
    o.format_version = version;
    o.target_page_raw_bytes = 700;  // rows spread over pages
    RoundTrip(rows, docs, o);
  }
}

// PutDocumentEliding as first written: the text without the trace id
// copied into a string of its own, the entity id searched there.
std::string ElidedByCopy(const StoredDocument& doc, std::string_view trace_text) {
  std::string out;
  coding::PutFixed64(doc.entity_id.value, out);
  coding::PutSigned(doc.received_us, out);
  std::string raw = doc.raw;
  const size_t trace_at = trace_text.empty() ? std::string::npos : raw.find(trace_text);
  if (trace_at != std::string::npos) raw.erase(trace_at, trace_text.size());
  coding::PutVarint(trace_at == std::string::npos ? 0 : trace_at + 1, out);
  const std::string entity_text = doc.entity_id.ToString();
  const size_t entity_at = raw.find(entity_text);
  coding::PutVarint(entity_at == std::string::npos ? 0 : entity_at + 1, out);
  if (entity_at == std::string::npos) {
    coding::PutLengthPrefixed(raw, out);
    return out;
  }
  raw.erase(entity_at, entity_text.size());
  coding::PutLengthPrefixed(raw, out);
  return out;
}

TEST(DocumentIdsTest, ElidesAsACopyOfTheTextWould) {
  // The trace id is cut out of the text in place: an entity id found across
  // the seam it leaves, in either piece, or nowhere, is where a search of
  // the text without the trace id finds it.
  const std::string trace = MakeTraceId(3).ToString();
  const xray::SegmentId entity{0x0123456789abcdefull};
  const std::string seg = entity.ToString();
  std::vector<std::string> texts = {
      "",
      trace,
      seg,
      trace + seg,
      seg + trace,
      "{\"id\":\"" + seg + "\",\"trace_id\":\"" + trace + "\"}",
      "{\"trace_id\":\"" + trace + "\",\"id\":\"" + seg + "\"}",
      "{\"trace_id\":\"" + trace + "\"}",
      "no ids at all",
      seg.substr(0, 7) + "x" + trace + seg,
      trace + trace + seg + seg,
  };
  // The entity id split by the trace id at every point: whole only once
  // the trace id is left out.
  for (size_t cut = 0; cut <= seg.size(); ++cut) {
    texts.push_back("ab" + seg.substr(0, cut) + trace + seg.substr(cut) + "cd");
    texts.push_back(seg.substr(0, cut) + trace + seg.substr(cut));
    texts.push_back(seg.substr(0, cut) + trace + seg.substr(cut) + seg);
  }
  for (const std::string& text : texts) {
    for (const std::string_view trace_text : {std::string_view(trace), std::string_view()}) {
      const StoredDocument doc{entity, 42, text};
      std::string encoded;
      PutDocumentEliding(doc, trace_text, encoded);
      EXPECT_EQ(encoded, ElidedByCopy(doc, trace_text)) << text;
      coding::Reader r(encoded);
      StoredDocument back;
      ASSERT_TRUE(GetDocumentEliding(r, trace_text, back)) << r.error();
      EXPECT_EQ(back.raw, text);
    }
  }
}

TEST(DocumentIdsTest, PositionsPastTheTextFail) {
  const std::string trace = MakeTraceId(1).ToString();
  StoredDocument doc{xray::SegmentId{0xfeedull}, 7, "{\"id\":\"000000000000feed\",\"t\":\"" + trace + "\"}"};
  std::string encoded;
  PutDocumentEliding(doc, trace, encoded);
  EXPECT_LT(encoded.size(), doc.raw.size());  // both ids left out, 12 bytes of header
  {
    coding::Reader r(encoded);
    StoredDocument back;
    ASSERT_TRUE(GetDocumentEliding(r, trace, back)) << r.error();
    EXPECT_EQ(back.raw, doc.raw);
    EXPECT_EQ(back.entity_id.value, doc.entity_id.value);
    EXPECT_EQ(back.received_us, 7);
  }
  // The same stored text with positions beyond it.
  for (const auto& [trace_at, entity_at] : {std::pair<uint64_t, uint64_t>{1000, 1}, {1, 1000}}) {
    std::string bad;
    coding::PutFixed64(1, bad);
    coding::PutSigned(0, bad);
    coding::PutVarint(trace_at, bad);
    coding::PutVarint(entity_at, bad);
    coding::PutLengthPrefixed("short", bad);
    coding::Reader r(bad);
    StoredDocument back;
    EXPECT_FALSE(GetDocumentEliding(r, trace, back));
    EXPECT_NE(r.error().find("position past the document"), std::string::npos) << r.error();
  }
}

TEST_F(BlockTest, DamagedDocumentDictionaryIsCorruption) {
  std::mt19937_64 rng(45);
  std::vector<TraceRecord> rows;
  for (int i = 0; i < 1000; ++i) rows.push_back(RandomRecord(rng, kT0 + i * 10));
  std::vector<std::vector<StoredDocument>> docs = JsonLikeDocuments(rng, rows.size());
  SortRows(rows, docs);
  ASSERT_TRUE(WriteBlock(rows, docs, Path("block")).ok());
  Extent dictionary;
  {
    auto reader = BlockReader::Open(Path("block"));
    ASSERT_TRUE(reader.ok());
    ASSERT_TRUE((*reader)->document_dictionary().has_value());
    dictionary = *(*reader)->document_dictionary();
    // The summaries do not need it: they read as before.
    std::vector<TraceRecord> all;
    ASSERT_TRUE((*reader)->ReadAllRecords(all).ok());
  }
  const std::string bytes = ReadFile(Path("block"));
  for (const uint64_t at : {dictionary.offset, dictionary.offset + dictionary.size / 2,
                            dictionary.offset + dictionary.size - 1}) {
    std::string bad = bytes;
    bad[at] = static_cast<char>(bad[at] ^ 0x20);
    WriteFile(Path("block"), bad);
    auto reader = BlockReader::Open(Path("block"));
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();  // opened lazily
    auto one = (*reader)->ReadDocuments(0);
    ASSERT_FALSE(one.ok()) << at;
    EXPECT_EQ(one.status().code(), StatusCode::kCorruption) << one.status().ToString();
    EXPECT_NE(one.status().message().find("document dictionary"), std::string::npos)
        << one.status().ToString();
    auto all = (*reader)->ReadAllDocuments();
    ASSERT_FALSE(all.ok());
    EXPECT_EQ(all.status().code(), StatusCode::kCorruption);
    std::vector<TraceRecord> records;
    EXPECT_TRUE((*reader)->ReadAllRecords(records).ok());
  }
}

TEST_F(BlockTest, UnknownFormatVersionsAreRefusedClearly) {
  std::vector<TraceRecord> rows = {MakeFullRecord(MakeTraceId(1), kT0)};
  std::vector<std::vector<StoredDocument>> docs(1);
  for (const uint32_t version : {0u, kFormatVersion + 1}) {
    BlockWriteOptions o;
    o.format_version = version;
    const Status s = WriteBlock(rows, docs, Path("bad"), o);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << version;
    EXPECT_NE(s.message().find("format version"), std::string::npos) << s.ToString();
  }
  ASSERT_TRUE(WriteBlock(rows, docs, Path("block")).ok());
  std::string bytes = ReadFile(Path("block"));
  // The version sits 12 bytes before the end (then the 8-byte magic).
  for (const uint32_t version : {0u, kFormatVersion + 1}) {
    std::string bad = bytes;
    std::string v;
    coding::PutFixed32(version, v);
    bad.replace(bad.size() - 12, 4, v);
    WriteFile(Path("block"), bad);
    auto reader = BlockReader::Open(Path("block"));
    ASSERT_FALSE(reader.ok());
    EXPECT_EQ(reader.status().code(), StatusCode::kCorruption);
    EXPECT_NE(reader.status().message().find(fmt::format("unknown format version {}", version)),
              std::string::npos)
        << reader.status().ToString();
  }
}

TEST_F(BlockTest, GraphNodesAnswerToTheirNamesAndAliases) {
  std::vector<TraceRecord> rows;
  for (uint8_t i = 0; i < 40; ++i) {
    TraceRecord r = MakeRecord(MakeTraceId(i), kT0 + i);
    graph::Node node;
    node.id = MakeService(i % 2 ? "api" : "web", "AWS::EC2::Instance");
    if (i % 4 == 1) node.id.names = {"api", "api-v2"};
    if (i % 5 == 0) node.id.names = {"legacy"};
    if (i % 7 < 3) node.observations.push_back(store::testing::MakeObservation(kT0, true));
    if (i % 7 == 1) node.observations.back().fault = false;
    if (i % 3 != 0) r.graph.nodes.push_back(node);
    rows.push_back(std::move(r));
  }
  std::vector<std::vector<StoredDocument>> docs(rows.size());
  ASSERT_TRUE(WriteBlock(rows, docs, Path("block")).ok());
  auto reader = BlockReader::Open(Path("block"));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  for (const std::string name : {"api", "api-v2", "web", "legacy", "nobody"}) {
    auto got = (*reader)->RowsWithGraphNodeNamed(name);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_TRUE(got->has_value());
    size_t expected = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      bool has = false;
      for (const auto& n : rows[i].graph.nodes) {
        has = has || n.id.name == name ||
              std::find(n.id.names.begin(), n.id.names.end(), name) != n.id.names.end();
      }
      EXPECT_EQ((*got)->Get(i), has) << name << " row " << i;
      expected += has ? 1 : 0;
      // The bloom filter has no false negatives.
      if (has) {
        EXPECT_TRUE((*reader)->MayContainGraphNodeNamed(name)) << name;
      }
    }
    EXPECT_EQ((*got)->Count(), expected) << name;
  }
  // MakeObservation's observations are faults and errors, never throttles.
  for (const auto& [column, flag] :
       {std::pair{col::kGraphNodeFault, &graph::Observation::fault},
        std::pair{col::kGraphNodeError, &graph::Observation::error},
        std::pair{col::kGraphNodeThrottle, &graph::Observation::throttle}}) {
    auto got = (*reader)->RowsWithGraphNodeFlag(column);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_TRUE(got->has_value());
    for (size_t i = 0; i < rows.size(); ++i) {
      bool has = false;
      for (const auto& n : rows[i].graph.nodes) {
        for (const auto& o : n.observations) has = has || o.*flag;
      }
      EXPECT_EQ((*got)->Get(i), has) << column << " row " << i;
    }
  }
}

TEST_F(BlockTest, EmptyBlock) {
  RoundTrip({}, {});
  auto reader = BlockReader::Open(Path("block"));
  ASSERT_TRUE(reader.ok());
  EXPECT_FALSE((*reader)->MayContainTrace(MakeTraceId(1)));
  EXPECT_FALSE((*reader)->OverlapsStart(INT64_MIN, INT64_MAX));
  EXPECT_EQ((*reader)->ReadDocuments(0).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(BlockTest, LargeBlock) {
  std::vector<TraceRecord> rows;
  std::vector<std::vector<StoredDocument>> docs(100000);
  for (uint32_t i = 0; i < 100000; ++i) {
    xray::TraceId id = MakeTraceId(static_cast<uint8_t>(i * 7), static_cast<uint8_t>(i));
    id.bytes[0] = static_cast<uint8_t>(i >> 16);
    id.bytes[1] = static_cast<uint8_t>(i >> 8);
    TraceRecord r = MakeRecord(id, kT0 + i * 1000);
    r.summary.response_time_us = static_cast<int64_t>(i % 3000) * 1000;
    r.summary.http.method = i % 2 ? "GET" : "POST";
    rows.push_back(std::move(r));
    docs[i] = {{xray::SegmentId{i + 1ull}, kT0 + i, "{\"i\":" + std::to_string(i) + "}"}};
  }
  RoundTrip(rows, docs);
  auto reader = BlockReader::Open(Path("block"));
  ASSERT_TRUE(reader.ok());
  auto rt = (*reader)->ReadOptionalInt64(col::kResponseTime);
  ASSERT_TRUE(rt.ok());
  Bitmap slow((*reader)->row_count());
  SelectGreater(*rt, 1'500'000, slow);
  size_t expected = 0;
  for (const auto& r : rows) expected += *r.summary.response_time_us > 1'500'000;
  EXPECT_EQ(slow.Count(), expected);
  auto method = (*reader)->ReadDictString(col::kHttpMethod);
  ASSERT_TRUE(method.ok());
  Bitmap get((*reader)->row_count());
  SelectEquals(*method, "GET", get);
  EXPECT_EQ(get.Count(), 50000u);
}

TEST_F(BlockTest, SkipIndexesAndProjections) {
  std::vector<TraceRecord> rows = {MakeFullRecord(MakeTraceId(1), kT0)};
  std::vector<std::vector<StoredDocument>> docs(1);
  ASSERT_TRUE(WriteBlock(rows, docs, Path("b")).ok());
  auto reader = BlockReader::Open(Path("b"));
  ASSERT_TRUE(reader.ok());
  const BlockReader& b = **reader;
  EXPECT_TRUE(b.MayContainAnnotation("customer", std::string("gold")));
  EXPECT_TRUE(b.MayContainAnnotation("retries", 5.0));
  EXPECT_TRUE(b.MayContainAnnotation("retries", -0.25));
  EXPECT_TRUE(b.MayContainAnnotation("cached", false));
  EXPECT_FALSE(b.MayContainAnnotation("customer", std::string("silver")));
  EXPECT_FALSE(b.MayContainAnnotation("customer", 5.0));  // "5" is a string
  EXPECT_TRUE(b.MayContainService("orders", "AWS::EC2::Instance"));
  EXPECT_TRUE(b.MayContainService("billing"));
  EXPECT_FALSE(b.MayContainService("orders", "AWS::Lambda"));
  EXPECT_FALSE(b.MayContainService("shipping"));
  EXPECT_TRUE(b.MayContainUser("alice"));
  EXPECT_FALSE(b.MayContainUser("mallory"));
  EXPECT_FALSE(b.MayContainTrace(MakeTraceId(2)));
  auto found = b.FindTrace(MakeTraceId(1));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, std::optional<uint32_t>(0));
  EXPECT_TRUE(b.OverlapsStart(kT0, kT0 + 1));
  EXPECT_FALSE(b.OverlapsStart(kT0 + 1, kT0 + 2));

  auto names = b.ReadListDictString(col::kGraphNodeName);
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(names->values.dictionary, (std::vector<std::string>{"Orders", "client", "orders"}));
  auto inferred = b.ReadListBool(col::kGraphNodeInferred);
  ASSERT_TRUE(inferred.ok());
  EXPECT_EQ(inferred->offsets, (std::vector<uint32_t>{0, 3}));
  EXPECT_TRUE(!inferred->values.Get(0) && !inferred->values.Get(1) && inferred->values.Get(2));
  auto edges = b.ReadListDictString(col::kGraphEdge);
  ASSERT_TRUE(edges.ok());
  Bitmap calls(1);
  SelectContains(*edges,
                 GraphEdgeKey(MakeService("orders", "AWS::EC2::Instance"),
                              xray::ServiceId{"Orders", {}, "", "AWS::DynamoDB::Table"}),
                 calls);
  EXPECT_TRUE(calls.Get(0));
  EXPECT_EQ(edges->values.dictionary.size(), 2u);
  auto entry = b.ReadListDictString(col::kEntryPointType);
  ASSERT_TRUE(entry.ok());
  EXPECT_EQ(entry->offsets, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(entry->values.Get(0), "AWS::EC2::Instance");
  auto accounts = b.ReadListDictString(col::kServiceAccount);
  ASSERT_TRUE(accounts.ok());
  EXPECT_EQ(accounts->offsets, (std::vector<uint32_t>{0, 2}));
  ASSERT_TRUE(b.HasAnnotationColumns("customer"));
  EXPECT_FALSE(b.HasAnnotationColumns("nope"));
  auto customer = b.ReadListDictString(AnnotationColumnName("customer", AnnotationType::kString));
  ASSERT_TRUE(customer.ok());
  Bitmap sel(1);
  SelectContains(*customer, "5", sel);
  EXPECT_TRUE(sel.Get(0));
  auto retries = b.ReadListDouble(AnnotationColumnName("retries", AnnotationType::kNumber));
  ASSERT_TRUE(retries.ok());
  EXPECT_EQ(retries->values, (std::vector<double>{5.0, -0.25}));
  EXPECT_EQ(b.ReadListBool(AnnotationColumnName("retries", AnnotationType::kBool)).status().code(),
            StatusCode::kNotFound);
  // A column read with the wrong type is refused.
  EXPECT_EQ(b.ReadBool(col::kStart).status().code(), StatusCode::kCorruption);
}

TEST_F(BlockTest, PointReadsSkipBlocksOutsideTheirTraceIdSeconds) {
  const uint32_t second = 1'700'000'000;
  std::vector<TraceRecord> rows = {MakeRecord(xray::TraceId::Generate(second + 4), kT0),
                                   MakeRecord(xray::TraceId::Generate(second), kT0 + 1),
                                   MakeRecord(xray::TraceId::Generate(second + 2), kT0 + 2)};
  std::vector<std::vector<StoredDocument>> docs(rows.size());
  ASSERT_TRUE(WriteBlock(rows, docs, Path("b")).ok());
  auto reader = BlockReader::Open(Path("b"));
  ASSERT_TRUE(reader.ok());
  const BlockReader& b = **reader;
  const ColumnInfo* ids = b.FindColumn(col::kTraceId);
  ASSERT_NE(ids, nullptr);
  ASSERT_TRUE(ids->has_range);
  EXPECT_EQ(ids->min, int64_t{second});
  EXPECT_EQ(ids->max, int64_t{second} + 4);
  for (uint32_t row = 0; row < rows.size(); ++row) {
    const TraceProbe probe(rows[row].summary.id);
    EXPECT_TRUE(b.MayContainTrace(probe));
    auto found = b.FindTrace(probe);
    ASSERT_TRUE(found.ok());
    EXPECT_EQ(*found, std::optional<uint32_t>(row));
  }
  // A probe the bloom filter admits (a member's hash) is still refused when
  // its second is outside the block's.
  for (uint32_t outside : {second - 1, second + 5, 0u, UINT32_MAX}) {
    TraceProbe probe(rows[1].summary.id);
    probe.epoch = outside;
    EXPECT_FALSE(b.MayContainTrace(probe)) << outside;
    auto found = b.FindTrace(probe);
    ASSERT_TRUE(found.ok());
    EXPECT_FALSE(found->has_value()) << outside;
  }
  EXPECT_EQ(TraceIdEpochRange(""), std::nullopt);
}

TEST_F(BlockTest, ConcurrentReadersOfOneBlockAgree) {
  std::mt19937_64 rng(3);
  std::vector<TraceRecord> rows;
  std::vector<std::vector<StoredDocument>> docs;
  for (int i = 0; i < 500; ++i) {
    rows.push_back(RandomRecord(rng, kT0 + i));
    docs.push_back(RandomDocuments(rng, 2));
  }
  SortRows(rows, docs);
  ASSERT_TRUE(WriteBlock(rows, docs, Path("b")).ok());
  auto reader = BlockReader::Open(Path("b"));
  ASSERT_TRUE(reader.ok());
  const BlockReader& b = **reader;
  std::vector<int> failures(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<TraceRecord> all;
      if (!b.ReadAllRecords(all).ok() || all.size() != rows.size()) {
        ++failures[t];
        return;
      }
      for (size_t i = t; i < rows.size(); i += 4) {
        auto d = b.ReadDocuments(static_cast<uint32_t>(i));
        if (Bytes(all[i]) != Bytes(rows[i]) || !d.ok() || !SameDocuments(*d, docs[i])) ++failures[t];
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
}

TEST_F(BlockTest, ColumnCacheSharesDecodedColumnsAndStaysBounded) {
  std::mt19937_64 rng(11);
  std::vector<TraceRecord> rows;
  std::vector<std::vector<StoredDocument>> docs;
  for (int i = 0; i < 300; ++i) {
    rows.push_back(RandomRecord(rng, kT0 + i));
    docs.push_back(RandomDocuments(rng, 1));
  }
  SortRows(rows, docs);
  ASSERT_TRUE(WriteBlock(rows, docs, Path("b")).ok());
  ColumnCache cache(uint64_t{64} << 20);
  {
    auto reader = BlockReader::Open(Path("b"), &cache);
    ASSERT_TRUE(reader.ok());
    const BlockReader& b = **reader;
    auto first = b.ReadColumn<Int64Column>(col::kStart);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(cache.misses(), 1u);
    auto again = b.ReadColumn<Int64Column>(col::kStart);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(first->get(), again->get());  // shared, not decoded again
    EXPECT_EQ(cache.hits(), 1u);
    // The wrong type is refused before the cache is asked.
    EXPECT_EQ(b.ReadColumn<BoolColumn>(col::kStart).status().code(), StatusCode::kCorruption);
    // Records read through the cache equal those written, twice over.
    for (int pass = 0; pass < 2; ++pass) {
      std::vector<TraceRecord> all;
      ASSERT_TRUE(b.ReadAllRecords(all).ok());
      ASSERT_EQ(all.size(), rows.size());
      for (size_t i = 0; i < rows.size(); ++i) ASSERT_EQ(Bytes(all[i]), Bytes(rows[i]));
    }
    EXPECT_GT(cache.bytes(), 0u);
    const size_t entries = cache.entries();
    EXPECT_GE(entries, 20u);
    // The trace-id index is decoded once and kept.
    EXPECT_EQ(b.trace_index_bytes(), 0u);
    auto i1 = b.ReadTraceIdIndex();
    auto i2 = b.ReadTraceIdIndex();
    ASSERT_TRUE(i1.ok() && i2.ok());
    EXPECT_EQ(i1->get(), i2->get());
    EXPECT_EQ(b.trace_index_bytes(), 20u * rows.size());
    EXPECT_EQ((*i1)->Find(rows[7].summary.id), std::optional<uint32_t>(7));
  }
  // A closed reader's columns leave the cache.
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_EQ(cache.entries(), 0u);

  // A small cache keeps at most its capacity, evicting the least recently
  // used; reads stay correct.
  auto start_bytes = [&] {
    auto r = BlockReader::Open(Path("b"));
    const ColumnInfo* c = (*r)->FindColumn(col::kStart);
    return c->extent.raw_size + 8 * rows.size();
  }();
  ColumnCache small(start_bytes + 1);
  auto reader = BlockReader::Open(Path("b"), &small);
  ASSERT_TRUE(reader.ok());
  ASSERT_TRUE((*reader)->ReadColumn<Int64Column>(col::kStart).ok());
  EXPECT_EQ(small.entries(), 1u);
  EXPECT_EQ(small.bytes(), start_bytes);
  std::vector<TraceRecord> all;
  ASSERT_TRUE((*reader)->ReadAllRecords(all).ok());
  for (size_t i = 0; i < rows.size(); ++i) ASSERT_EQ(Bytes(all[i]), Bytes(rows[i]));
  EXPECT_LE(small.bytes(), small.capacity());
  ColumnCache none(0);
  auto uncached = BlockReader::Open(Path("b"), &none);
  ASSERT_TRUE((*uncached)->ReadColumn<Int64Column>(col::kStart).ok());
  EXPECT_EQ(none.entries(), 0u);
}

TEST_F(BlockTest, RejectsUnsortedAndRepeatedRows) {
  std::vector<TraceRecord> rows = {MakeRecord(MakeTraceId(1), kT0 + 1), MakeRecord(MakeTraceId(2), kT0)};
  std::vector<std::vector<StoredDocument>> docs(2);
  EXPECT_EQ(WriteBlock(rows, docs, Path("b")).code(), StatusCode::kInvalidArgument);
  rows[1] = MakeRecord(MakeTraceId(1), kT0 + 1);
  EXPECT_EQ(WriteBlock(rows, docs, Path("b")).code(), StatusCode::kInvalidArgument);
  rows[1] = MakeRecord(MakeTraceId(1), kT0 + 2);  // same id, later start
  EXPECT_EQ(WriteBlock(rows, docs, Path("b")).code(), StatusCode::kInvalidArgument);
  rows[1] = MakeRecord(MakeTraceId(2), kT0 + 2);
  rows[1].graph.edges = {{0, 0, {}}};  // no nodes
  EXPECT_EQ(WriteBlock(rows, docs, Path("b")).code(), StatusCode::kInvalidArgument);
  docs.pop_back();
  rows.pop_back();
  rows.push_back(MakeRecord(MakeTraceId(3), kT0 + 3));
  EXPECT_EQ(WriteBlock(rows, docs, Path("b")).code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(Path("b")));
}

TEST_F(BlockTest, NamedSectionsRoundTrip) {
  std::vector<TraceRecord> rows = {MakeRecord(MakeTraceId(1), kT0)};
  std::vector<std::vector<StoredDocument>> docs(1);
  BlockWriteOptions options;
  options.sections = {{"rollup", std::string("\x00\x01 delta", 8)}, {"empty", ""}};
  ASSERT_TRUE(WriteBlock(rows, docs, Path("b"), options).ok());
  auto reader = BlockReader::Open(Path("b"));
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->section_names(), (std::vector<std::string>{"rollup", "empty"}));
  auto rollup = (*reader)->ReadSection("rollup");
  ASSERT_TRUE(rollup.ok());
  EXPECT_EQ(*rollup, std::string("\x00\x01 delta", 8));
  auto empty = (*reader)->ReadSection("empty");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, "");
  EXPECT_EQ((*reader)->ReadSection("other").status().code(), StatusCode::kNotFound);
  options.sections.push_back({"rollup", "again"});
  EXPECT_EQ(WriteBlock(rows, docs, Path("c"), options).code(), StatusCode::kInvalidArgument);
}

TEST_F(BlockTest, WriteReplacesAFileAndReportsAMissingDirectory) {
  std::vector<TraceRecord> one = {MakeRecord(MakeTraceId(1), kT0)};
  std::vector<TraceRecord> two = {MakeRecord(MakeTraceId(1), kT0), MakeRecord(MakeTraceId(2), kT0)};
  ASSERT_TRUE(WriteBlock(one, std::vector<std::vector<StoredDocument>>(1), Path("b")).ok());
  ASSERT_TRUE(WriteBlock(two, std::vector<std::vector<StoredDocument>>(2), Path("b")).ok());
  auto reader = BlockReader::Open(Path("b"));
  ASSERT_TRUE(reader.ok());
  EXPECT_EQ((*reader)->row_count(), 2u);
  EXPECT_EQ((*reader)->ReadRecord(2).status().code(), StatusCode::kInvalidArgument);
  const Status s = WriteBlock(one, std::vector<std::vector<StoredDocument>>(1), Path("no/such/b"));
  EXPECT_EQ(s.code(), StatusCode::kNotFound) << s.ToString();
}

// Opens `path` and reads everything; the first failure, or OK.
Status ReadEverything(const std::string& path) {
  auto reader = BlockReader::Open(path);
  if (!reader.ok()) return reader.status();
  const BlockReader& b = **reader;
  for (const auto& c : b.columns()) {
    auto p = b.ReadColumnPayload(c);
    if (!p.ok()) return p.status();
  }
  std::vector<TraceRecord> all;
  RG_RETURN_IF_ERROR(b.ReadAllRecords(all));
  auto index = b.ReadTraceIdIndex();
  if (!index.ok()) return index.status();
  for (uint32_t i = 0; i < b.row_count(); ++i) {
    auto d = b.ReadDocuments(i);
    if (!d.ok()) return d.status();
  }
  for (const auto& name : b.section_names()) {
    auto section = b.ReadSection(name);
    if (!section.ok()) return section.status();
  }
  return Status::Ok();
}

class BlockCorruptionTest : public BlockTest {
 protected:
  void SetUp() override {
    BlockTest::SetUp();
    std::mt19937_64 rng(7);
    std::vector<TraceRecord> rows = {MakeFullRecord(MakeTraceId(1), kT0), RandomRecord(rng, kT0 + 1),
                                     RandomRecord(rng, kT0 + 2)};
    std::vector<std::vector<StoredDocument>> docs = {
        {{xray::SegmentId{1}, 2, "{\"doc\":1}"}}, {}, {{xray::SegmentId{3}, 4, "{\"doc\":3}"}}};
    BlockWriteOptions options;
    options.target_page_raw_bytes = 1;  // a page per row
    options.sections = {{"rollup", "per-minute statistics"}};
    ASSERT_TRUE(WriteBlock(rows, docs, Path("good"), options).ok());
    good_ = ReadFile(Path("good"));
    ASSERT_TRUE(ReadEverything(Path("good")).ok());
  }
  std::string good_;
};

TEST_F(BlockCorruptionTest, EveryTruncationIsCorruption) {
  const std::string path = Path("cut");
  for (size_t len = 0; len < good_.size(); ++len) {
    WriteFile(path, std::string_view(good_).substr(0, len));
    const Status s = ReadEverything(path);
    ASSERT_EQ(s.code(), StatusCode::kCorruption) << "length " << len << ": " << s.ToString();
    ASSERT_NE(s.message().find(path), std::string::npos) << s.message();
  }
}

TEST_F(BlockCorruptionTest, EveryFlippedByteIsCorruption) {
  const std::string path = Path("flip");
  for (size_t at = 0; at < good_.size(); ++at) {
    for (uint8_t mask : {uint8_t{0x01}, uint8_t{0x80}}) {
      std::string bad = good_;
      bad[at] = static_cast<char>(bad[at] ^ mask);
      WriteFile(path, bad);
      const Status s = ReadEverything(path);
      ASSERT_EQ(s.code(), StatusCode::kCorruption)
          << "byte " << at << " of " << good_.size() << ": " << s.ToString();
    }
  }
}

// A footer damaged and then given a matching checksum (as a bug, not a disk,
// would write it): the structural checks behind the checksum must still keep
// every read inside the file and every decoder inside its input. Most such
// footers are refused; the rest change what no check can see (the block's
// statistics, a column's min/max, an annotation column's name, a filter's key
// count), and the records and documents still read back unchanged.
TEST_F(BlockCorruptionTest, ResignedFooterDamageIsCaughtOrLeavesRecordsIntact) {
  const size_t footer_len = coding::DecodeFixed32(good_.data() + good_.size() - kTrailerBytes);
  const size_t footer_start = good_.size() - kTrailerBytes - footer_len;
  const std::string path = Path("resigned");
  auto good_reader = BlockReader::Open(Path("good"));
  ASSERT_TRUE(good_reader.ok());
  std::vector<TraceRecord> good_records;
  ASSERT_TRUE((*good_reader)->ReadAllRecords(good_records).ok());
  size_t refused = 0;
  for (size_t at = footer_start; at < footer_start + footer_len; ++at) {
    std::string bad = good_;
    bad[at] = static_cast<char>(bad[at] ^ 0x41);
    std::string sum;
    coding::PutFixed64(Checksum(std::string_view(bad).substr(footer_start, footer_len)), sum);
    bad.replace(good_.size() - kTrailerBytes + 4, 8, sum);
    WriteFile(path, bad);
    const Status s = ReadEverything(path);
    if (!s.ok()) {
      ASSERT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
      ++refused;
      continue;
    }
    auto reader = BlockReader::Open(path);
    ASSERT_TRUE(reader.ok());
    std::vector<TraceRecord> records;
    ASSERT_TRUE((*reader)->ReadAllRecords(records).ok());
    ASSERT_EQ(records.size(), good_records.size()) << "footer byte " << at - footer_start;
    for (size_t i = 0; i < records.size(); ++i) {
      ASSERT_EQ(Bytes(records[i]), Bytes(good_records[i])) << "footer byte " << at - footer_start;
      auto a = (*reader)->ReadDocuments(static_cast<uint32_t>(i));
      auto b = (*good_reader)->ReadDocuments(static_cast<uint32_t>(i));
      ASSERT_TRUE(a.ok() && b.ok() && SameDocuments(*a, *b)) << "footer byte " << at - footer_start;
    }
  }
  EXPECT_GT(refused, footer_len * 3 / 4) << refused << " of " << footer_len;
}

TEST_F(BlockCorruptionTest, AppendedBytesAreCorruption) {
  WriteFile(Path("long"), good_ + "x");
  EXPECT_EQ(ReadEverything(Path("long")).code(), StatusCode::kCorruption);
}

TEST_F(BlockCorruptionTest, MissingFileIsNotFound) {
  EXPECT_EQ(BlockReader::Open(Path("absent")).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace roentgen::store::block
