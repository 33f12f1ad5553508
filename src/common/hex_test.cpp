#include "common/hex.h"

#include <array>

#include <gtest/gtest.h>

namespace roentgen {
namespace {

TEST(HexTest, RoundTripZeroPadded) {
  std::array<uint8_t, 4> b = {0x00, 0x0a, 0xff, 0x10};
  EXPECT_EQ(ToHex(b), "000aff10");
  std::array<uint8_t, 4> out{};
  ASSERT_TRUE(DecodeHex("000AfF10", out));
  EXPECT_EQ(out, b);
}

TEST(HexTest, AppendHexAddsToWhatIsThere) {
  std::array<uint8_t, 3> b = {0x01, 0xab, 0x7f};
  std::string s = "1-";
  AppendHex(b, s);
  AppendHex(std::span<const uint8_t>(), s);
  EXPECT_EQ(s, "1-01ab7f");
}

TEST(HexTest, RejectsBadInput) {
  std::array<uint8_t, 2> out{};
  EXPECT_FALSE(DecodeHex("abc", out));
  EXPECT_FALSE(DecodeHex("abcg", out));
  EXPECT_FALSE(DecodeHex("", out));
}

}  // namespace
}  // namespace roentgen
