#include "store/record_codec.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <string>

#include "store/codec_io.h"
#include "store/store_test_util.h"

namespace roentgen::store {
namespace {

using testing::MakeFullRecord;
using testing::MakeTraceId;

std::string Encode(const TraceRecord& r) {
  std::string out;
  EncodeTraceRecord(r, out);
  return out;
}

// Field-by-field equality through a second encoding would hide symmetric bugs,
// so compare the decoded record's fields directly.
void ExpectSameServices(const std::vector<xray::ServiceId>& a,
                        const std::vector<xray::ServiceId>& b) {
  EXPECT_EQ(a, b);
}

void ExpectSameRootCauses(const std::vector<xray::RootCause>& a,
                          const std::vector<xray::RootCause>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].client_impacting, b[i].client_impacting);
    ASSERT_EQ(a[i].services.size(), b[i].services.size());
    for (size_t j = 0; j < a[i].services.size(); ++j) {
      const auto& x = a[i].services[j];
      const auto& y = b[i].services[j];
      EXPECT_EQ(x.name, y.name);
      EXPECT_EQ(x.names, y.names);
      EXPECT_EQ(x.type, y.type);
      EXPECT_EQ(x.account_id, y.account_id);
      EXPECT_EQ(x.inferred, y.inferred);
      ASSERT_EQ(x.entity_path.size(), y.entity_path.size());
      for (size_t k = 0; k < x.entity_path.size(); ++k) {
        EXPECT_EQ(x.entity_path[k].name, y.entity_path[k].name);
        EXPECT_EQ(x.entity_path[k].coverage, y.entity_path[k].coverage);
        EXPECT_EQ(x.entity_path[k].remote, y.entity_path[k].remote);
        ASSERT_EQ(x.entity_path[k].exceptions.size(), y.entity_path[k].exceptions.size());
        for (size_t m = 0; m < x.entity_path[k].exceptions.size(); ++m) {
          EXPECT_EQ(x.entity_path[k].exceptions[m].name, y.entity_path[k].exceptions[m].name);
          EXPECT_EQ(x.entity_path[k].exceptions[m].message, y.entity_path[k].exceptions[m].message);
        }
      }
    }
  }
}

void ExpectSameObservations(const std::vector<graph::Observation>& a,
                            const std::vector<graph::Observation>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].start_us, b[i].start_us);
    EXPECT_EQ(a[i].end_us, b[i].end_us);
    EXPECT_EQ(a[i].error, b[i].error);
    EXPECT_EQ(a[i].throttle, b[i].throttle);
    EXPECT_EQ(a[i].fault, b[i].fault);
    EXPECT_EQ(a[i].http_status, b[i].http_status);
    EXPECT_EQ(a[i].http_url, b[i].http_url);
    EXPECT_EQ(a[i].http_method, b[i].http_method);
    EXPECT_EQ(a[i].http_user_agent, b[i].http_user_agent);
    EXPECT_EQ(a[i].http_client_ip, b[i].http_client_ip);
    EXPECT_EQ(a[i].user, b[i].user);
    EXPECT_EQ(a[i].entity_name, b[i].entity_name);
  }
}

void ExpectSameRecord(const TraceRecord& a, const TraceRecord& b) {
  const auto& x = a.summary;
  const auto& y = b.summary;
  EXPECT_EQ(x.id, y.id);
  EXPECT_EQ(x.start_time_us, y.start_time_us);
  EXPECT_EQ(x.duration_us, y.duration_us);
  EXPECT_EQ(x.response_time_us, y.response_time_us);
  EXPECT_EQ(x.has_fault, y.has_fault);
  EXPECT_EQ(x.has_error, y.has_error);
  EXPECT_EQ(x.has_throttle, y.has_throttle);
  EXPECT_EQ(x.is_partial, y.is_partial);
  EXPECT_EQ(x.indexed, y.indexed);
  EXPECT_EQ(x.http.url, y.http.url);
  EXPECT_EQ(x.http.status, y.http.status);
  EXPECT_EQ(x.http.method, y.http.method);
  EXPECT_EQ(x.http.user_agent, y.http.user_agent);
  EXPECT_EQ(x.http.client_ip, y.http.client_ip);
  ASSERT_EQ(x.annotations.size(), y.annotations.size());
  for (size_t i = 0; i < x.annotations.size(); ++i) {
    EXPECT_EQ(x.annotations[i].key, y.annotations[i].key);
    ASSERT_EQ(x.annotations[i].values.size(), y.annotations[i].values.size());
    for (size_t j = 0; j < x.annotations[i].values.size(); ++j) {
      EXPECT_EQ(x.annotations[i].values[j].value, y.annotations[i].values[j].value);
      ExpectSameServices(x.annotations[i].values[j].service_ids,
                         y.annotations[i].values[j].service_ids);
    }
  }
  ASSERT_EQ(x.users.size(), y.users.size());
  for (size_t i = 0; i < x.users.size(); ++i) {
    EXPECT_EQ(x.users[i].user_name, y.users[i].user_name);
    ExpectSameServices(x.users[i].service_ids, y.users[i].service_ids);
  }
  ExpectSameServices(x.service_ids, y.service_ids);
  EXPECT_EQ(x.resource_arns, y.resource_arns);
  EXPECT_EQ(x.instance_ids, y.instance_ids);
  EXPECT_EQ(x.availability_zones, y.availability_zones);
  EXPECT_EQ(x.entry_point, y.entry_point);
  EXPECT_EQ(x.root_segment_name, y.root_segment_name);
  EXPECT_EQ(x.root_segment_origin, y.root_segment_origin);
  ExpectSameRootCauses(x.fault_root_causes, y.fault_root_causes);
  ExpectSameRootCauses(x.error_root_causes, y.error_root_causes);
  ExpectSameRootCauses(x.response_time_root_causes, y.response_time_root_causes);
  EXPECT_EQ(x.revision, y.revision);
  EXPECT_EQ(x.updated_us, y.updated_us);
  EXPECT_EQ(x.segment_count, y.segment_count);

  ASSERT_EQ(a.graph.nodes.size(), b.graph.nodes.size());
  for (size_t i = 0; i < a.graph.nodes.size(); ++i) {
    EXPECT_EQ(a.graph.nodes[i].id, b.graph.nodes[i].id);
    EXPECT_EQ(a.graph.nodes[i].root, b.graph.nodes[i].root);
    EXPECT_EQ(a.graph.nodes[i].inferred, b.graph.nodes[i].inferred);
    EXPECT_EQ(a.graph.nodes[i].client, b.graph.nodes[i].client);
    ExpectSameObservations(a.graph.nodes[i].observations, b.graph.nodes[i].observations);
  }
  ASSERT_EQ(a.graph.edges.size(), b.graph.edges.size());
  for (size_t i = 0; i < a.graph.edges.size(); ++i) {
    EXPECT_EQ(a.graph.edges[i].from, b.graph.edges[i].from);
    EXPECT_EQ(a.graph.edges[i].to, b.graph.edges[i].to);
    ExpectSameObservations(a.graph.edges[i].observations, b.graph.edges[i].observations);
  }
}

TEST(RecordCodecTest, StructLayoutsAreTheOnesTheCodecKnows) {
  // A new field in these structs must be added to record_codec.cpp (and this
  // test's comparisons) — then update the sizes here.
  EXPECT_EQ(sizeof(xray::TraceSummary), 640u);
  EXPECT_EQ(sizeof(graph::Observation), 232u);
  EXPECT_EQ(sizeof(graph::Node), 152u);
  EXPECT_EQ(sizeof(graph::Edge), 32u);
}

TEST(RecordCodecTest, FullRecordRoundTrips) {
  const TraceRecord original = MakeFullRecord(MakeTraceId(0x5a, 0x01), -1'234'567);
  const std::string bytes = Encode(original);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), kRecordFormatVersion);
  auto decoded = DecodeTraceRecord(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSameRecord(original, *decoded);
  EXPECT_EQ(Encode(*decoded), bytes);
}

TEST(RecordCodecTest, EmptyRecordRoundTripsAndHasTheDocumentedSize) {
  TraceRecord empty;
  const std::string bytes = Encode(empty);
  // version 1 + id 16 + start 1 + 2 absent optionals + flags 1 + url 1 + status 1 +
  // method/user_agent/client_ip 3 + 6 empty vectors + entry point 1 + 2 names +
  // 3 root cause vectors + revision 1 + updated 1 + segment count 1 + nodes 1 + edges 1.
  EXPECT_EQ(bytes.size(), 43u);
  auto decoded = DecodeTraceRecord(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSameRecord(empty, *decoded);
}

TEST(RecordCodecTest, DecodingIntoAUsedRecordOverwritesEveryField) {
  const TraceRecord full = MakeFullRecord(MakeTraceId(0x5a, 0x01), -1'234'567);
  TraceRecord other = MakeFullRecord(MakeTraceId(0x33, 0x02), 987'654);
  // Values of other types where `full` has strings, and the reverse.
  std::swap(other.summary.annotations[0].values, other.summary.annotations[1].values);
  TraceRecord reused;
  ASSERT_TRUE(DecodeTraceRecordInto(Encode(other), reused).ok());
  ASSERT_TRUE(DecodeTraceRecordInto(Encode(full), reused).ok());
  ExpectSameRecord(full, reused);
  ASSERT_TRUE(DecodeTraceRecordInto(Encode(TraceRecord{}), reused).ok());
  ExpectSameRecord(TraceRecord{}, reused);
  EXPECT_EQ(Encode(reused).size(), 43u);
  ASSERT_TRUE(DecodeTraceRecordInto(Encode(full), reused).ok());
  ExpectSameRecord(full, reused);
}

TEST(RecordCodecTest, ExtremeIntegersRoundTrip) {
  TraceRecord r;
  r.summary.start_time_us = INT64_MIN;
  r.summary.updated_us = INT64_MAX;
  r.summary.duration_us = 0;
  r.summary.http.status = INT32_MIN;
  r.summary.revision = UINT32_MAX;
  r.summary.segment_count = SIZE_MAX;
  auto decoded = DecodeTraceRecord(Encode(r));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->summary.start_time_us, INT64_MIN);
  EXPECT_EQ(decoded->summary.updated_us, INT64_MAX);
  EXPECT_EQ(decoded->summary.duration_us, std::optional<int64_t>(0));
  EXPECT_EQ(decoded->summary.http.status, std::optional<int>(INT32_MIN));
  EXPECT_EQ(decoded->summary.revision, UINT32_MAX);
  EXPECT_EQ(decoded->summary.segment_count, SIZE_MAX);
}

// The block files' `graph` column encodes times relative to a base without
// copying the graph: the bytes are those of the shifted copy's record, for
// any base (wrapping).
TEST(RecordCodecTest, RelativeEncodingEqualsEncodingAShiftedCopy) {
  const TraceRecord full = MakeFullRecord(MakeTraceId(0x5a, 0x05), 1'700'000'000'000'000);
  ASSERT_FALSE(full.graph.nodes.empty());
  ASSERT_FALSE(full.graph.edges.empty());
  for (const int64_t base :
       {int64_t{0}, full.summary.start_time_us, int64_t{-5}, std::numeric_limits<int64_t>::min(),
        std::numeric_limits<int64_t>::max()}) {
    TraceRecord shifted;
    shifted.summary.start_time_us = full.summary.start_time_us;
    shifted.graph = full.graph;
    auto shift = [base](int64_t& t) {
      t = static_cast<int64_t>(static_cast<uint64_t>(t) - static_cast<uint64_t>(base));
    };
    for (graph::Node& n : shifted.graph.nodes) {
      for (graph::Observation& o : n.observations) {
        shift(o.start_us);
        if (o.end_us) shift(*o.end_us);
      }
    }
    for (graph::Edge& e : shifted.graph.edges) {
      for (graph::Observation& o : e.observations) {
        shift(o.start_us);
        if (o.end_us) shift(*o.end_us);
      }
    }
    std::string got = "prefix";
    EncodeTraceRecordRelative(shifted.summary, full.graph, base, got);
    EXPECT_EQ(got, "prefix" + Encode(shifted)) << "base " << base;
  }
}

TEST(RecordCodecTest, EveryTruncationIsCorruption) {
  const std::string bytes = Encode(MakeFullRecord(MakeTraceId(0x11), 1'700'000'000'000'000));
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto decoded = DecodeTraceRecord(std::string_view(bytes).substr(0, len));
    ASSERT_FALSE(decoded.ok()) << "length " << len;
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption) << "length " << len;
  }
}

TEST(RecordCodecTest, TrailingBytesAreCorruption) {
  std::string bytes = Encode(MakeFullRecord(MakeTraceId(0x11), 5));
  bytes.push_back('\0');
  auto decoded = DecodeTraceRecord(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(), "trace record: 1 trailing bytes");
}

TEST(RecordCodecTest, UnknownVersionIsCorruption) {
  std::string bytes = Encode(TraceRecord{});
  for (uint8_t version : {uint8_t{0}, uint8_t{4}}) {
    bytes[0] = static_cast<char>(version);
    auto decoded = DecodeTraceRecord(bytes);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
    EXPECT_EQ(decoded.status().message(),
              fmt::format("trace record: unknown format version {}", version));
  }
}

// Bytes of MakeFullRecord(MakeTraceId(0x5a, 0x01), -1'234'567) as release 1's
// encoder wrote them (format 1, no string table), kept to prove that stores
// written then stay readable.
std::string ReadVersion1Record() {
  std::ifstream in(std::string(RG_STORE_TESTDATA) + "/record_v1.hex");
  std::string hex, line;
  while (std::getline(in, line)) hex += line;
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

TEST(RecordCodecTest, Version1RecordsStillDecode) {
  const std::string v1 = ReadVersion1Record();
  ASSERT_FALSE(v1.empty());
  ASSERT_EQ(v1[0], 1);
  auto decoded = DecodeTraceRecord(v1);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const TraceRecord original = MakeFullRecord(MakeTraceId(0x5a, 0x01), -1'234'567);
  ExpectSameRecord(original, *decoded);
  // Written again, the record is in the current format and smaller: its
  // repeated strings (service names, types, accounts, exception names) are
  // written once.
  const std::string v2 = Encode(*decoded);
  EXPECT_EQ(v2[0], kRecordFormatVersion);
  EXPECT_LT(v2.size(), v1.size() * 3 / 4) << v2.size() << " vs " << v1.size();
}

// Format 2 differs from 3 only by the flag of traces the indexing rule left
// out, which format 2 never has: a format 2 record reads as indexed.
TEST(RecordCodecTest, Version2RecordsReadAsIndexed) {
  const TraceRecord original = MakeFullRecord(MakeTraceId(0x5a, 0x03), 7);
  std::string bytes = Encode(original);
  ASSERT_EQ(bytes[0], 3);
  bytes[0] = 2;
  auto decoded = DecodeTraceRecord(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_TRUE(decoded->summary.indexed);
  ExpectSameRecord(original, *decoded);
}

TEST(RecordCodecTest, ATraceLeftOutByTheIndexingRuleKeepsItsFlag) {
  TraceRecord original = MakeFullRecord(MakeTraceId(0x5a, 0x04), 7);
  original.summary.indexed = false;
  auto decoded = DecodeTraceRecord(Encode(original));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_FALSE(decoded->summary.indexed);
  ExpectSameRecord(original, *decoded);
}

size_t Occurrences(std::string_view haystack, std::string_view needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string_view::npos;
       at = haystack.find(needle, at + 1)) {
    ++n;
  }
  return n;
}

TEST(RecordCodecTest, RepeatedStringsAreWrittenOnce) {
  const TraceRecord original = MakeFullRecord(MakeTraceId(0x5a, 0x02), 9);
  const std::string bytes = Encode(original);
  EXPECT_EQ(Occurrences(bytes, "AWS::EC2::Instance"), 1u);
  EXPECT_EQ(Occurrences(bytes, "orders-alias"), 1u);
  EXPECT_EQ(Occurrences(bytes, "timed out after 3s"), 1u);
  ExpectSameRecord(original, *DecodeTraceRecord(bytes));
}

TEST(RecordCodecTest, MoreDistinctStringsThanTheTableHoldsRoundTrip) {
  TraceRecord original = MakeFullRecord(MakeTraceId(0x5a, 0x03), 9);
  // 2 × the table's size of distinct strings, each written twice: those past
  // the table's end are written out both times and must still read back.
  for (int i = 0; i < 512; ++i) {
    original.summary.instance_ids.push_back(fmt::format("i-{:05}", i));
    original.summary.resource_arns.push_back(fmt::format("i-{:05}", i));
  }
  const std::string bytes = Encode(original);
  EXPECT_EQ(Occurrences(bytes, "i-00000"), 1u);  // in the table
  EXPECT_EQ(Occurrences(bytes, "i-00511"), 2u);  // past its end
  auto decoded = DecodeTraceRecord(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSameRecord(original, *decoded);
}

// What codec::PutServiceStrings writes by definition: each string through
// the table, as PutString and PutStrings do.
void PutServiceStringsPlainly(const codec::ServiceRepeats::Key& key, codec::RecordWriter& out) {
  codec::PutString(key.name, out);
  codec::PutVarint(key.names.size(), out);
  for (const std::string& alias : key.names) codec::PutString(alias, out);
  codec::PutString(key.account, out);
  codec::PutString(key.type, out);
}

TEST(RecordCodecTest, RepeatedServicesAreWrittenAsTheirStringsWouldBe) {
  // Services from a few names, accounts and types, with 0 to 3 aliases (over
  // ServiceRepeats::kMaxNames: never kept), equal ones in separate strings; with enough distinct
  // strings to fill the table, so that later services have strings written
  // out (never kept either); written in a mixed order, over several records.
  struct Service {
    std::string name;
    std::vector<std::string> names;
    std::string account, type;
  };
  std::vector<Service> services;
  uint64_t x = 0x9e3779b97f4a7c15ull;
  auto next = [&x](uint64_t n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x % n;
  };
  auto make = [&](std::string name) {
    Service s;
    s.name = std::move(name);
    const uint64_t aliases = next(5);
    for (uint64_t a = 0; a < aliases && a < 3; ++a) {
      s.names.push_back(a == 0 ? std::string(s.name) : fmt::format("alias-{}", next(3)));
    }
    s.account = next(4) == 0 ? "" : fmt::format("{:012}", next(3));
    s.type = next(3) == 0 ? "" : (next(2) == 0 ? "AWS::EC2::Instance" : "AWS::Lambda");
    return s;
  };
  std::vector<Service> pool;
  for (int i = 0; i < 10; ++i) pool.push_back(make(fmt::format("svc-{}", next(6))));
  for (int i = 0; i < 3000; ++i) {
    // Mostly copies of a few services; now and then a new one, of two new
    // strings (the table fills up within each record).
    if (next(4) == 0) {
      services.push_back(make(fmt::format("new-{}", i)));
      services.back().account = fmt::format("account-{}", i);
    } else {
      services.push_back(pool[next(pool.size())]);
    }
  }
  codec::RecordWriter kept;
  codec::RecordWriter plain;
  size_t repeats = 0;
  size_t left_out = 0;  // services written while the table was full
  for (size_t record = 0; record < 6; ++record) {
    kept.Start();
    plain.Start();
    for (size_t i = record * 500; i < (record + 1) * 500; ++i) {
      const Service& s = services[i];
      const codec::ServiceRepeats::Key key{s.name, s.names, s.account, s.type};
      size_t slot = 0;
      if (!kept.services().Find(key, slot).empty()) ++repeats;
      if (kept.strings().size() == codec::kMaxTableStrings) ++left_out;
      codec::PutServiceStrings(key, kept);
      PutServiceStringsPlainly(key, plain);
      ASSERT_EQ(kept.bytes(), plain.bytes()) << "record " << record << ", service " << i;
    }
  }
  EXPECT_GT(repeats, 300u);  // the repeats were taken from the kept bytes
  EXPECT_GT(left_out, 100u);
}

TEST(RecordCodecTest, ARecordOfManyServiceCopiesRoundTrips) {
  TraceRecord original = MakeFullRecord(MakeTraceId(0x5a, 0x04), 9);
  const std::vector<xray::ServiceId> list = original.summary.service_ids;
  ASSERT_FALSE(list.empty());
  for (int i = 0; i < 40; ++i) {
    xray::ServiceId copy = list[static_cast<size_t>(i) % list.size()];
    if (i % 3 == 0) copy.names.push_back(fmt::format("alias-{}", i % 2));
    if (i % 5 == 0) copy.account_id.clear();
    original.summary.service_ids.push_back(copy);
    original.summary.users.push_back({fmt::format("user-{}", i % 4), {copy, list[0]}});
  }
  const std::string bytes = Encode(original);
  auto decoded = DecodeTraceRecord(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  ExpectSameRecord(original, *decoded);
}

TEST(RecordCodecTest, ReferenceToAStringNotYetWrittenIsCorruption) {
  std::string bytes = Encode(TraceRecord{});
  // Version, id 16, start 1, two absent optionals, flags: then the url, empty.
  ASSERT_EQ(bytes[21], 0);
  bytes[21] = 1;  // a reference to string 0, but no string was written yet
  auto decoded = DecodeTraceRecord(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(), "trace record: string reference out of range at byte 22");
}

TEST(RecordCodecTest, HugeCountIsCorruptionNotAnAllocation) {
  // Version, id, start 0, two absent optionals, flags, then a url length of 2^62.
  std::string bytes(1, '\x01');
  bytes += std::string(16, '\0');
  bytes += std::string("\x00\x00\x00\x00", 4);
  bytes += std::string("\x80\x80\x80\x80\x80\x80\x80\x80\x40", 9);
  auto decoded = DecodeTraceRecord(bytes);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(),
            "trace record: string length exceeds the record at byte 30");
}

TEST(RecordCodecTest, EdgeToMissingNodeIsCorruption) {
  TraceRecord r;
  r.graph.nodes.resize(1);
  r.graph.edges = {{0, 1, {}}};
  auto decoded = DecodeTraceRecord(Encode(r));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
}

TEST(RecordCodecTest, GarbageNeverCrashes) {
  // Every single-byte corruption of a valid record either decodes or is
  // Corruption; under ASan this also proves no out-of-bounds reads.
  const std::string bytes = Encode(MakeFullRecord(MakeTraceId(0x22), 77));
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t delta : {uint8_t{1}, uint8_t{0x80}, uint8_t{0xff}}) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(static_cast<uint8_t>(bad[i]) ^ delta);
      auto decoded = DecodeTraceRecord(bad);
      if (!decoded.ok()) {
        EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
      }
    }
  }
  auto decoded = DecodeTraceRecord(std::string(200, '\xff'));
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kCorruption);
}

TEST(RecordCodecTest, DocumentValueRoundTripsAndRejectsShortHeaders) {
  std::string bytes;
  EncodeDocumentValue(-5, R"({"name":"a"})", bytes);
  ASSERT_EQ(bytes.size(), kDocumentHeaderBytes + 12);
  EXPECT_EQ(bytes.substr(0, 9), std::string("\x01\xfb\xff\xff\xff\xff\xff\xff\xff", 9));
  auto decoded = DecodeDocumentValue(bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->received_us, -5);
  EXPECT_EQ(decoded->raw, R"({"name":"a"})");
  for (size_t len = 0; len < kDocumentHeaderBytes; ++len) {
    auto bad = DecodeDocumentValue(std::string_view(bytes).substr(0, len));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.status().code(), StatusCode::kCorruption);
  }
  bytes[0] = 9;
  EXPECT_EQ(DecodeDocumentValue(bytes).status().message(), "document: unknown format version 9");
}

}  // namespace
}  // namespace roentgen::store
