#include "xray/ids.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <set>
#include <vector>

#include "xray/trace_id_order.h"

namespace roentgen::xray {
namespace {

TEST(TraceIdTest, ParseFormatRoundTrip) {
  auto id = TraceId::Parse("1-58406520-a006649127e371903a2de979");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->ToString(), "1-58406520-a006649127e371903a2de979");
  EXPECT_EQ(id->epoch_part(), 0x58406520u);
  const std::array<uint8_t, 16> expected = {0x58, 0x40, 0x65, 0x20, 0xa0, 0x06, 0x64, 0x91,
                                            0x27, 0xe3, 0x71, 0x90, 0x3a, 0x2d, 0xe9, 0x79};
  EXPECT_EQ(id->bytes, expected);
  std::string appended = "x";
  id->AppendTo(appended);
  EXPECT_EQ(appended, "x1-58406520-a006649127e371903a2de979");
}

TEST(TraceIdTest, UppercaseAcceptedOutputLowercase) {
  auto id = TraceId::Parse("1-5840652A-A006649127E371903A2DE97F");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->ToString(), "1-5840652a-a006649127e371903a2de97f");
}

TEST(TraceIdTest, ZeroPadded) {
  TraceId id;
  id.bytes[3] = 0x01;
  id.bytes[15] = 0x02;
  EXPECT_EQ(id.ToString(), "1-00000001-000000000000000000000002");
  EXPECT_FALSE(id.IsZero());
  EXPECT_TRUE(TraceId{}.IsZero());
  EXPECT_EQ(TraceId{}.ToString(), "1-00000000-000000000000000000000000");
}

TEST(TraceIdTest, BadInputGivesReasons) {
  auto short_id = TraceId::Parse("1-58406520-a006649127e371903a2de97");
  ASSERT_FALSE(short_id.ok());
  EXPECT_EQ(short_id.status().message(),
            "trace id must be 35 characters (1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx), got 34");
  auto empty = TraceId::Parse("");
  EXPECT_EQ(empty.status().message(),
            "trace id must be 35 characters (1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx), got 0");
  auto version = TraceId::Parse("2-58406520-a006649127e371903a2de979");
  EXPECT_EQ(version.status().message(),
            "trace id must have the form 1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx (version 1)");
  auto dash = TraceId::Parse("1-58406520_a006649127e371903a2de979");
  EXPECT_EQ(dash.status().message(),
            "trace id must have the form 1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx (version 1)");
  auto hex = TraceId::Parse("1-5840652g-a006649127e371903a2de979");
  EXPECT_EQ(hex.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(hex.status().message(), "trace id has a character that is not a hex digit");
  auto hex2 = TraceId::Parse("1-58406520-a006649127e371903a2de97x");
  EXPECT_EQ(hex2.status().message(), "trace id has a character that is not a hex digit");
}

TEST(TraceIdTest, BinaryRoundTrip) {
  auto id = TraceId::Parse("1-58406520-a006649127e371903a2de979");
  ASSERT_TRUE(id.ok());
  TraceId copy = TraceId::FromBinary(id->bytes.data());
  EXPECT_EQ(copy, *id);
  EXPECT_EQ(copy.ToString(), "1-58406520-a006649127e371903a2de979");
}

TEST(TraceIdTest, W3CConversion) {
  auto id = TraceId::FromW3C("4efaaf4d1e8720b39541901950019ee5");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->ToString(), "1-4efaaf4d-1e8720b39541901950019ee5");
  EXPECT_EQ(id->ToW3C(), "4efaaf4d1e8720b39541901950019ee5");
  EXPECT_EQ(TraceId::FromW3C("4EFAAF4D1E8720B39541901950019EE5")->ToW3C(),
            "4efaaf4d1e8720b39541901950019ee5");
  EXPECT_EQ(TraceId::FromW3C("4efaaf4d1e8720b39541901950019ee").status().message(),
            "W3C trace id must be 32 hex digits");
  EXPECT_EQ(TraceId::FromW3C("4efaaf4d1e8720b39541901950019eez").status().message(),
            "W3C trace id must be 32 hex digits");
}

TEST(TraceIdTest, GenerateHasEpochAndIsLowercase) {
  TraceId id = TraceId::Generate(0x5e1e2a3b);
  EXPECT_EQ(id.epoch_part(), 0x5e1e2a3bu);
  std::string text = id.ToString();
  ASSERT_EQ(text.size(), 35u);
  EXPECT_EQ(text.substr(0, 11), "1-5e1e2a3b-");
  for (char c : text.substr(11)) {
    EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << text;
  }
  EXPECT_NE(TraceId::Generate(1), TraceId::Generate(1));
  EXPECT_EQ(TraceId::Parse(text)->ToString(), text);
}

TEST(TraceIdTest, HashUsesRandomBytes) {
  auto a = TraceId::Parse("1-58406520-a006649127e371903a2de979");
  auto b = TraceId::Parse("1-58406520-a006649127e371903a2de97a");
  TraceIdHash hash;
  EXPECT_EQ(hash(*a), hash(*a));
  EXPECT_NE(hash(*a), hash(*b));
}

TEST(SegmentIdTest, ParseFormatRoundTrip) {
  auto id = SegmentId::Parse("53995c3f42cd8ad8");
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->value, 0x53995c3f42cd8ad8u);
  EXPECT_EQ(id->ToString(), "53995c3f42cd8ad8");
  EXPECT_EQ(SegmentId::Parse("53995C3F42CD8AD8")->ToString(), "53995c3f42cd8ad8");
  EXPECT_EQ(SegmentId{1}.ToString(), "0000000000000001");
  EXPECT_EQ(SegmentId{0}.ToString(), "0000000000000000");
  for (const SegmentId& s : {*id, SegmentId{1}, SegmentId{0}}) {
    char text[SegmentId::kTextSize];
    s.WriteText(text);
    EXPECT_EQ(std::string(text, sizeof text), s.ToString());
  }
}

TEST(SegmentIdTest, BadInputGivesReasons) {
  EXPECT_EQ(SegmentId::Parse("53995c3f42cd8ad").status().message(),
            "segment id must be 16 hex digits, got 15 characters");
  EXPECT_EQ(SegmentId::Parse("53995c3f42cd8ad8a").status().message(),
            "segment id must be 16 hex digits, got 17 characters");
  EXPECT_EQ(SegmentId::Parse("53995c3f42cd8adg").status().message(),
            "segment id has a character that is not a hex digit");
  EXPECT_EQ(SegmentId::Parse("53995c3f42cd8adg").status().code(), StatusCode::kInvalidArgument);
}

TEST(SegmentIdTest, BinaryRoundTripIsBigEndian) {
  SegmentId id{0x0102030405060708u};
  uint8_t raw[8];
  id.ToBinary(raw);
  const uint8_t expected[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(0, std::memcmp(raw, expected, 8));
  EXPECT_EQ(SegmentId::FromBinary(raw), id);
}

TEST(SegmentIdTest, GenerateIsNonZeroAndDistinct) {
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    SegmentId id = SegmentId::Generate();
    EXPECT_NE(id.value, 0u);
    seen.insert(id.value);
    EXPECT_EQ(id.ToString().size(), 16u);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

// Writer shards take the hash modulo a small number: ids that differ only in
// a sequence number (load generators, hand-written clients) must still spread.
TEST(TraceIdHashTest, SequentialIdsSpreadOverSmallModuli) {
  TraceIdHash hash;
  for (size_t shards : {2u, 3u, 8u}) {
    std::vector<size_t> counts(shards);
    for (uint64_t seq = 0; seq < 8000; ++seq) {
      TraceId id;
      id.bytes[0] = 0x69;  // one epoch second, constant bytes, then the sequence
      for (int b = 0; b < 8; ++b) id.bytes[15 - b] = static_cast<uint8_t>(seq >> (8 * b));
      ++counts[hash(id) % shards];
    }
    for (size_t n : counts) {
      EXPECT_GT(n, 8000 / shards * 8 / 10) << shards << " shards";
      EXPECT_LT(n, 8000 / shards * 12 / 10) << shards << " shards";
    }
  }
}

// The word order sorts ids for look-ups: it must be a strict order whose
// equivalence is equality, so a binary search finds exactly the ids sorted.
TEST(TraceIdWordLessTest, IsAStrictOrderWhoseEquivalenceIsEquality) {
  std::vector<TraceId> ids;
  for (uint64_t seq = 0; seq < 64; ++seq) {
    TraceId id;
    id.bytes[0] = 0x69;
    id.bytes[static_cast<size_t>(seq % 16)] = static_cast<uint8_t>(seq * 37 + 1);
    ids.push_back(id);
  }
  const TraceIdWordLess less;
  for (const TraceId& a : ids) {
    EXPECT_FALSE(less(a, a));
    for (const TraceId& b : ids) {
      EXPECT_EQ(!less(a, b) && !less(b, a), a == b);
      EXPECT_FALSE(less(a, b) && less(b, a));
    }
  }
  std::vector<TraceId> sorted = ids;
  std::sort(sorted.begin(), sorted.end(), less);
  for (const TraceId& id : ids)
    EXPECT_TRUE(std::binary_search(sorted.begin(), sorted.end(), id, less));
  TraceId absent;
  absent.bytes[15] = 0xee;
  EXPECT_FALSE(std::binary_search(sorted.begin(), sorted.end(), absent, less));
}

}  // namespace
}  // namespace roentgen::xray
