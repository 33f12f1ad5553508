#include "store/rocksdb/store_keys.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/hex.h"
#include "store/store_test_util.h"

namespace roentgen::store::keys {
namespace {

using testing::MakeTraceId;

std::string Hex(std::string_view bytes) {
  return ToHex(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

std::string Ordered64(int64_t v) {
  std::string s;
  AppendOrderedInt64(v, s);
  return s;
}

std::string OrderedDouble(double v) {
  std::string s;
  AppendOrderedDouble(v, s);
  return s;
}

TEST(StoreKeysTest, DocumentKeyIsTraceIdThenBigEndianEntityId) {
  auto trace = *xray::TraceId::Parse("1-5f84c7a0-0102030405060708090a0b0c");
  EXPECT_EQ(Hex(DocumentKey(trace, xray::SegmentId{0x0011223344556677})),
            "5f84c7a00102030405060708090a0b0c0011223344556677");
  EXPECT_EQ(Hex(TraceKey(trace)), "5f84c7a00102030405060708090a0b0c");
}

TEST(StoreKeysTest, TimeKeyFlipsTheSignBit) {
  auto trace = MakeTraceId(0xaa, 0x01);
  EXPECT_EQ(Hex(TimeKey(1, trace)), "8000000000000001aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa01");
  EXPECT_EQ(Hex(Ordered64(0)), "8000000000000000");
  EXPECT_EQ(Hex(Ordered64(-1)), "7fffffffffffffff");
  EXPECT_EQ(Hex(Ordered64(std::numeric_limits<int64_t>::min())), "0000000000000000");
  EXPECT_EQ(Hex(Ordered64(std::numeric_limits<int64_t>::max())), "ffffffffffffffff");
  for (int64_t v : {std::numeric_limits<int64_t>::min(), int64_t{-5}, int64_t{0},
                    int64_t{1'700'000'000'000'000}}) {
    EXPECT_EQ(DecodeOrderedInt64(Ordered64(v).data()), v);
  }
  EXPECT_LT(Ordered64(-2), Ordered64(-1));
  EXPECT_LT(Ordered64(-1), Ordered64(0));
  EXPECT_LT(Ordered64(255), Ordered64(256));
}

TEST(StoreKeysTest, DoublesAreOrderedAndCanonical) {
  EXPECT_EQ(Hex(OrderedDouble(5.0)), "c014000000000000");
  EXPECT_EQ(Hex(OrderedDouble(-5.0)), "3febffffffffffff");
  EXPECT_EQ(OrderedDouble(-0.0), OrderedDouble(0.0));
  EXPECT_EQ(OrderedDouble(std::nan("1")), OrderedDouble(-std::nan("2")));
  EXPECT_LT(OrderedDouble(-1e300), OrderedDouble(-1.5));
  EXPECT_LT(OrderedDouble(-1.5), OrderedDouble(0.0));
  EXPECT_LT(OrderedDouble(0.0), OrderedDouble(1e-300));
  EXPECT_LT(OrderedDouble(2.0), OrderedDouble(10.0));
}

TEST(StoreKeysTest, ConfigKeySeparatesNamespaceWithNul) {
  EXPECT_EQ(ConfigKey("groups", "prod"), std::string("groups\0prod", 11));
}

TEST(StoreKeysTest, IndexPrefixesAreTyped) {
  IndexCondition c;
  c.kind = IndexCondition::Kind::kAnnotationEquals;
  c.key = "k";
  c.value = std::string("5");
  EXPECT_EQ(Hex(*IndexPrefix(c)), "01016b010135");
  c.value = 5.0;
  EXPECT_EQ(Hex(*IndexPrefix(c)), "01016b02c014000000000000");
  c.value = true;
  EXPECT_EQ(Hex(*IndexPrefix(c)), "01016b0301");

  IndexCondition s;
  s.kind = IndexCondition::Kind::kServiceName;
  s.text = "api";
  EXPECT_EQ(Hex(*IndexPrefix(s)), "0203617069");

  IndexCondition u;
  u.kind = IndexCondition::Kind::kUser;
  u.text = "bob";
  EXPECT_EQ(Hex(*IndexPrefix(u)), "0403626f62");

  IndexCondition h;
  h.kind = IndexCondition::Kind::kHttpStatus;
  h.http_status = 404;
  EXPECT_EQ(Hex(*IndexPrefix(h)), "0580000194");

  IndexCondition f;
  f.kind = IndexCondition::Kind::kFault;
  EXPECT_EQ(Hex(*IndexPrefix(f)), "06");
  f.kind = IndexCondition::Kind::kError;
  EXPECT_EQ(Hex(*IndexPrefix(f)), "07");
  f.kind = IndexCondition::Kind::kThrottle;
  EXPECT_EQ(Hex(*IndexPrefix(f)), "08");
}

TEST(StoreKeysTest, PrefixSuccessor) {
  EXPECT_EQ(PrefixSuccessor("ab"), "ac");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), "");
  EXPECT_EQ(PrefixSuccessor(std::string("g\0", 2)), std::string("g\x01", 2));
}

TEST(StoreKeysTest, DecodeTimeSuffix) {
  auto trace = MakeTraceId(0x07, 0x09);
  std::string key = "\x06" + TimeKey(-42, trace);
  int64_t t = 0;
  xray::TraceId id;
  ASSERT_TRUE(DecodeTimeSuffix(key, &t, &id));
  EXPECT_EQ(t, -42);
  EXPECT_EQ(id, trace);
  EXPECT_FALSE(DecodeTimeSuffix(key.substr(0, 23), &t, &id));
}

TEST(StoreKeysTest, IndexEntriesCoverEveryIndexedField) {
  auto trace = MakeTraceId(0x01);
  TraceRecord r = testing::MakeRecord(trace, 100);
  r.summary.updated_us = 200;
  r.summary.annotations = {{"k", {{std::string("v"), {}}, {2.0, {}}}}};
  r.summary.service_ids = {xray::ServiceId{"api", {"api", "api-alias"}, "1", "T"}};
  r.summary.users = {{"u", {}}};
  r.summary.http.status = 500;
  r.summary.has_fault = true;
  r.summary.has_error = true;
  r.summary.has_throttle = true;
  const std::string suffix = TimeKey(100, trace);
  std::vector<std::string> secondary;
  size_t time = 0, event = 0;
  for (const auto& e : IndexEntriesFor(r.summary)) {
    if (e.family == IndexFamily::kTime) {
      ++time;
      EXPECT_EQ(e.key, TimeKey(100, trace));
    } else if (e.family == IndexFamily::kEvent) {
      ++event;
      EXPECT_EQ(e.key, TimeKey(200, trace));
    } else {
      ASSERT_EQ(e.key.substr(e.key.size() - kTimeSuffixBytes), suffix);
      secondary.push_back(Hex(e.key.substr(0, e.key.size() - kTimeSuffixBytes)));
    }
  }
  EXPECT_EQ(time, 1u);
  EXPECT_EQ(event, 1u);
  // Sorted, and the duplicate name "api" (name and names[0]) appears once.
  EXPECT_EQ(secondary, (std::vector<std::string>{"01016b010176",              // k = "v"
                                                 "01016b02c000000000000000",  // k = 2
                                                 "0203617069",                // service api
                                                 "0209" + Hex("api-alias"),   // service api-alias
                                                 "040175",      // user u
                                                 "05800001f4",  // http 500
                                                 "06", "07", "08"}));
}

}  // namespace
}  // namespace roentgen::store::keys
