#include "common/coding.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace roentgen::coding {
namespace {

TEST(CodingTest, FixedWidthIsLittleEndian) {
  std::string out;
  PutFixed32(0x01020304u, out);
  PutFixed64(0x0102030405060708ull, out);
  EXPECT_EQ(out, std::string("\x04\x03\x02\x01\x08\x07\x06\x05\x04\x03\x02\x01", 12));
  EXPECT_EQ(DecodeFixed32(out.data()), 0x01020304u);
  EXPECT_EQ(DecodeFixed64(out.data() + 4), 0x0102030405060708ull);
}

TEST(CodingTest, BigEndianSortsAsTheNumbers) {
  std::string a;
  std::string b;
  PutBigEndian64(255, a);
  PutBigEndian64(256, b);
  EXPECT_LT(a, b);
  EXPECT_EQ(DecodeBigEndian64(b.data()), 256u);
  std::string c;
  PutBigEndian32(0xdeadbeefu, c);
  EXPECT_EQ(c, "\xde\xad\xbe\xef");
  EXPECT_EQ(DecodeBigEndian32(c.data()), 0xdeadbeefu);
}

TEST(CodingTest, VarintsRoundTripAtEveryLength) {
  std::string out;
  const uint64_t values[] = {
      0, 1, 127, 128, 16383, 16384, uint64_t{1} << 35, std::numeric_limits<uint64_t>::max()};
  for (uint64_t v : values) PutVarint(v, out);
  EXPECT_EQ(out.size(), 1 + 1 + 1 + 2 + 2 + 3 + 6 + kMaxVarint64Bytes);
  Reader r(out);
  for (uint64_t v : values) {
    uint64_t got = 0;
    ASSERT_TRUE(r.Varint(got)) << r.error();
    EXPECT_EQ(got, v);
  }
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(CodingTest, SignedValuesUseZigZag) {
  for (int64_t v : {int64_t{0}, int64_t{-1}, int64_t{1}, int64_t{-64}, int64_t{63},
                    std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()}) {
    std::string out;
    PutSigned(v, out);
    Reader r(out);
    int64_t got = 0;
    ASSERT_TRUE(r.Signed(got));
    EXPECT_EQ(got, v);
  }
  std::string small;
  PutSigned(-64, small);
  EXPECT_EQ(small.size(), 1u);
}

TEST(CodingTest, ReaderRefusesWhatIsNotThere) {
  Reader truncated(std::string_view("\x80\x80", 2));
  uint64_t v = 0;
  EXPECT_FALSE(truncated.Varint(v));
  EXPECT_EQ(truncated.error(), "truncated varint at byte 2");

  const std::string eleven(11, '\xff');
  Reader too_long(eleven);
  EXPECT_FALSE(too_long.Varint(v));
  EXPECT_EQ(too_long.error(), "varint overflows 64 bits at byte 10");

  std::string prefixed;
  PutVarint(5, prefixed);
  prefixed += "abc";
  Reader short_string(prefixed);
  std::string_view s;
  EXPECT_FALSE(short_string.LengthPrefixed(s));
  EXPECT_EQ(short_string.error(), "string length exceeds the input at byte 1");

  Reader empty("");
  uint32_t f = 0;
  EXPECT_FALSE(empty.Fixed32(f));
  // The first failure is the one kept.
  double d = 0;
  EXPECT_FALSE(empty.Double(d));
  EXPECT_EQ(empty.error(), "truncated fixed32 at byte 0");
}

TEST(CodingTest, LengthPrefixedAndDoubles) {
  std::string out;
  PutLengthPrefixed("hello", out);
  PutDouble(-2.5, out);
  PutFixed32(7, out);
  Reader r(out);
  std::string_view s;
  double d = 0;
  uint32_t f = 0;
  ASSERT_TRUE(r.LengthPrefixed(s) && r.Double(d) && r.Fixed32(f)) << r.error();
  EXPECT_EQ(s, "hello");
  EXPECT_EQ(d, -2.5);
  EXPECT_EQ(f, 7u);
  EXPECT_TRUE(r.ok());
}

TEST(CodingTest, BitmapsPackLeastSignificantBitFirst) {
  std::vector<bool> bits(10, false);
  bits[0] = bits[3] = bits[8] = true;
  std::string out;
  PutBitmap(bits, out);
  EXPECT_EQ(out, std::string("\x09\x01", 2));
  EXPECT_EQ(BitmapBytes(10), 2u);
  EXPECT_EQ(BitmapBytes(16), 2u);
  Reader r(out);
  std::string_view view;
  ASSERT_TRUE(r.Bitmap(10, view)) << r.error();
  for (size_t i = 0; i < bits.size(); ++i) EXPECT_EQ(BitmapGet(view, i), bits[i]) << i;
  EXPECT_EQ(r.remaining(), 0u);
  std::string empty;
  PutBitmap({}, empty);
  EXPECT_TRUE(empty.empty());
}

TEST(CodingTest, BitmapRejectsBitsPastItsEndAndTruncation) {
  Reader past(std::string_view("\x09\x04", 2));  // bit 10 of a 10-bit map
  std::string_view view;
  EXPECT_FALSE(past.Bitmap(10, view));
  EXPECT_EQ(past.error(), "bitmap has bits set past its end at byte 2");
  Reader short_input(std::string_view("\x09", 1));
  EXPECT_FALSE(short_input.Bitmap(10, view));
}

TEST(CodingTest, VarintRunWritesWhatPutVarintWrites) {
  const std::vector<uint64_t> values = {0,           1, 127, 128, 16383, 16384, uint64_t{1} << 35,
                                        ~uint64_t{0}};
  std::string one_by_one = "head";
  for (uint64_t v : values) PutVarint(v, one_by_one);
  std::string run = "head";
  PutVarintRun(
      values.size(), [&values](size_t i) { return values[i]; }, run);
  EXPECT_EQ(run, one_by_one);
  PutVarintRun(
      0, [](size_t) { return uint64_t{1}; }, run);
  EXPECT_EQ(run, one_by_one);
}

}  // namespace
}  // namespace roentgen::coding
