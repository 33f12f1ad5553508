#include "store/block/columns.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace roentgen::store::block {
namespace {

TEST(ColumnsTest, Int64RoundTripIncludingExtremes) {
  std::vector<int64_t> v = {5, 7, 7, -3, std::numeric_limits<int64_t>::max(),
                            std::numeric_limits<int64_t>::min(), 0};
  std::mt19937_64 rng(1);
  for (int i = 0; i < 1000; ++i) v.push_back(static_cast<int64_t>(rng()));
  std::string payload;
  EncodeInt64(v, payload);
  Int64Column c;
  ASSERT_TRUE(DecodeInt64(payload, v.size(), c).ok());
  EXPECT_EQ(c.values, v);
  // Too few rows declared leaves bytes over; too many runs out.
  EXPECT_EQ(DecodeInt64(payload, v.size() - 1, c).code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeInt64(payload, v.size() + 1, c).code(), StatusCode::kCorruption);
}

TEST(ColumnsTest, SortedTimesTakeAboutTwoBytesARow) {
  std::vector<int64_t> v;
  int64_t t = 1'700'000'000'000'000;
  for (int i = 0; i < 1000; ++i) v.push_back(t += 1000 + i % 7);
  std::string payload;
  EncodeInt64(v, payload);
  EXPECT_LT(payload.size(), 2 * v.size() + 16);
}

TEST(ColumnsTest, OptionalInt64AndSelectGreater) {
  std::vector<std::optional<int64_t>> v = {1, std::nullopt, 2'000'000, std::nullopt, 1'500'001, -9};
  std::string payload;
  EncodeOptionalInt64(v, payload);
  OptionalInt64Column c;
  ASSERT_TRUE(DecodeOptionalInt64(payload, v.size(), c).ok());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(c.Get(i), v[i]) << i;
  Bitmap sel(v.size());
  SelectGreater(c, 1'500'000, sel);
  EXPECT_EQ(sel.Count(), 2u);
  EXPECT_TRUE(sel.Get(2));
  EXPECT_TRUE(sel.Get(4));
  // Absent values never match, even against a threshold below their 0.
  Bitmap low(v.size());
  SelectGreater(c, -100, low);
  EXPECT_EQ(low.Count(), 4u);
}

TEST(ColumnsTest, OptionalDoubleAndSelectGreater) {
  std::vector<std::optional<double>> v = {1.5, std::nullopt, 1.6, -0.0, std::nan(""), 3.0};
  std::string payload;
  EncodeOptionalDouble(v, payload);
  OptionalDoubleColumn c;
  ASSERT_TRUE(DecodeOptionalDouble(payload, v.size(), c).ok());
  EXPECT_FALSE(c.present.Get(1));
  EXPECT_TRUE(std::signbit(c.values[3]));
  EXPECT_TRUE(std::isnan(c.values[4]));
  Bitmap sel(v.size());
  SelectGreater(c, 1.5, sel);
  EXPECT_EQ(sel.Count(), 2u);
  EXPECT_TRUE(sel.Get(2) && sel.Get(5));
}

TEST(ColumnsTest, BitmapRejectsBitsPastTheEnd) {
  std::vector<bool> v = {true, false, true};
  std::string payload;
  EncodeBool(v, payload);
  BoolColumn c;
  ASSERT_TRUE(DecodeBool(payload, 3, c).ok());
  EXPECT_TRUE(c.values.Get(0) && !c.values.Get(1) && c.values.Get(2));
  payload[0] = static_cast<char>(payload[0] | 0x80);
  EXPECT_EQ(DecodeBool(payload, 3, c).code(), StatusCode::kCorruption);
}

TEST(ColumnsTest, DictStringSortedDictionaryAndSelectEquals) {
  std::vector<std::string_view> v = {"GET", "POST", "GET", "", "PUT", "GET"};
  std::string payload;
  EncodeDictString(v, payload);
  DictStringColumn c;
  ASSERT_TRUE(DecodeDictString(payload, v.size(), c).ok());
  EXPECT_EQ(c.dictionary, (std::vector<std::string>{"", "GET", "POST", "PUT"}));
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(c.Get(i), v[i]);
  Bitmap sel(v.size());
  SelectEquals(c, "GET", sel);
  EXPECT_EQ(sel.Count(), 3u);
  Bitmap none(v.size());
  SelectEquals(c, "DELETE", none);
  EXPECT_EQ(none.Count(), 0u);
}

// Values that share long prefixes, end inside one another, hold NUL bytes
// or bytes above 0x7f come out in byte order (the decoder checks it
// strictly) and map back; the same values fed one by one to a
// DictStringEncoder (as WriteBlock feeds it rows) give the same bytes.
TEST(ColumnsTest, DictStringOrdersValuesThatSharePrefixes) {
  std::vector<std::string> owned = {"",
                                    std::string("\0", 1),
                                    std::string("a\0", 2),
                                    "a",
                                    "abcdefgh",
                                    "abcdefgh\x80",
                                    "abcdefghijklmnop",
                                    "abcdefghijklmnopq",
                                    "abcdefghijklmnopa",
                                    "abcdefghijklmno",
                                    "abcdefghijklmnop" + std::string("\0", 1),
                                    "\xff\xfe",
                                    "10.0.0.1",
                                    "10.0.0.10",
                                    "10.0.0.2"};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 400; ++i) {
    std::string s = i % 2 ? "user" : "user@example.com/";
    const int extra = static_cast<int>(rng() % 24);
    for (int j = 0; j < extra; ++j)
      s.push_back(static_cast<char>(rng() % 4 == 0 ? 0 : 'a' + rng() % 3));
    owned.push_back(s);
  }
  std::vector<std::string_view> v(owned.begin(), owned.end());
  for (size_t i = 0; i < owned.size(); i += 3) v.push_back(owned[i]);  // repeats
  std::string payload;
  EncodeDictString(v, payload);
  DictStringColumn c;
  ASSERT_TRUE(DecodeDictString(payload, v.size(), c).ok());
  EXPECT_TRUE(std::is_sorted(c.dictionary.begin(), c.dictionary.end()));
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(c.Get(i), v[i]) << i;
  DictStringEncoder encoder;
  for (std::string_view s : v) encoder.Add(s);
  std::string incremental;
  encoder.Finish(incremental);
  EXPECT_EQ(incremental, payload);
}

TEST(ColumnsTest, DictStringRejectsBadCodesAndUnsortedDictionary) {
  std::string payload;
  std::vector<std::string_view> v = {"b", "a"};
  EncodeDictString(v, payload);  // 02 01 'a' 01 'b' 01 00
  DictStringColumn c;
  std::string bad_code = payload;
  bad_code.back() = 2;
  EXPECT_EQ(DecodeDictString(bad_code, 2, c).code(), StatusCode::kCorruption);
  std::string unsorted = payload;
  std::swap(unsorted[2], unsorted[4]);
  EXPECT_EQ(DecodeDictString(unsorted, 2, c).code(), StatusCode::kCorruption);
  // A huge dictionary size is refused before anything is allocated for it.
  std::string huge = "\xff\xff\xff\xff\x0f";
  EXPECT_EQ(DecodeDictString(huge, 0, c).code(), StatusCode::kCorruption);
}

TEST(ColumnsTest, ListsRoundTripAndContains) {
  std::vector<std::vector<std::string_view>> s = {{"a", "b"}, {}, {"b"}, {"c", "a", "a"}};
  std::string payload;
  EncodeListDictString(s, payload);
  ListDictStringColumn sc;
  ASSERT_TRUE(DecodeListDictString(payload, s.size(), sc).ok());
  for (size_t r = 0; r < s.size(); ++r) {
    std::vector<std::string_view> got;
    for (uint32_t j = sc.offsets[r]; j < sc.offsets[r + 1]; ++j) got.push_back(sc.values.Get(j));
    EXPECT_EQ(got, s[r]);
  }
  Bitmap sel(s.size());
  SelectContains(sc, "a", sel);
  EXPECT_EQ(sel.Count(), 2u);
  EXPECT_TRUE(sel.Get(0) && sel.Get(3));

  std::vector<std::vector<double>> d = {{1.5}, {}, {2.0, 1.5}};
  payload.clear();
  EncodeListDouble(d, payload);
  ListDoubleColumn dc;
  ASSERT_TRUE(DecodeListDouble(payload, d.size(), dc).ok());
  EXPECT_EQ(dc.values, (std::vector<double>{1.5, 2.0, 1.5}));
  Bitmap dsel(d.size());
  SelectContains(dc, 2.0, dsel);
  EXPECT_EQ(dsel.Count(), 1u);

  std::vector<std::vector<bool>> b = {{true}, {false, false}, {}};
  payload.clear();
  EncodeListBool(b, payload);
  ListBoolColumn bc;
  ASSERT_TRUE(DecodeListBool(payload, b.size(), bc).ok());
  EXPECT_EQ(bc.offsets, (std::vector<uint32_t>{0, 1, 3, 3}));
  Bitmap bsel(b.size());
  SelectContains(bc, false, bsel);
  EXPECT_TRUE(!bsel.Get(0) && bsel.Get(1) && !bsel.Get(2));
}

TEST(ColumnsTest, BytesFixedWidthAndTruncation) {
  std::vector<std::string_view> v = {"", std::string_view("\0x", 2), "hello"};
  std::string payload;
  EncodeBytes(v, payload);
  BytesColumn c;
  ASSERT_TRUE(DecodeBytes(payload, v.size(), c).ok());
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(c.Get(i), v[i]);
  for (size_t cut = 0; cut < payload.size(); ++cut) {
    EXPECT_EQ(DecodeBytes(payload.substr(0, cut), v.size(), c).code(), StatusCode::kCorruption);
  }
  // In place: the same values, and the same errors.
  BytesColumn in_place;
  ASSERT_TRUE(DecodeBytesInPlace(payload, v.size(), in_place).ok());
  EXPECT_EQ(in_place.offsets, (std::vector<uint32_t>{0, 0, 2, 7}));
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(in_place.Get(i), v[i]);
  for (size_t cut = 0; cut < payload.size(); ++cut) {
    EXPECT_EQ(DecodeBytesInPlace(payload.substr(0, cut), v.size(), in_place).code(),
              StatusCode::kCorruption);
  }
  EXPECT_EQ(DecodeBytesInPlace(payload + "x", v.size(), in_place).code(), StatusCode::kCorruption);
  std::string id(16, 'i');
  std::vector<std::string_view> ids = {id, id};
  payload.clear();
  EncodeFixed16(ids, payload);
  Fixed16Column f;
  ASSERT_TRUE(DecodeFixed16(payload, 2, f).ok());
  EXPECT_EQ(f.Get(1), id);
  EXPECT_EQ(DecodeFixed16(payload, 3, f).code(), StatusCode::kCorruption);
  std::vector<uint32_t> u = {3, 0, 0xffffffffu};
  payload.clear();
  EncodeFixed32(u, payload);
  Fixed32Column g;
  ASSERT_TRUE(DecodeFixed32(payload, 3, g).ok());
  EXPECT_EQ(g.values, u);
}

TEST(ColumnsTest, BitmapOperations) {
  Bitmap all(70, true);
  EXPECT_EQ(all.Count(), 70u);
  Bitmap some(70);
  some.Set(3);
  some.Set(69);
  all.And(some);
  EXPECT_EQ(all, some);
  some.Clear(3);
  EXPECT_EQ(some.Count(), 1u);
}

}  // namespace
}  // namespace roentgen::store::block
