#include "auth/crypto.h"

#include <gtest/gtest.h>

#include "common/hex.h"

namespace roentgen::auth {
namespace {

TEST(CryptoTest, Sha256OfKnownInputs) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(CryptoTest, HmacSha256MatchesRfc4231) {
  // RFC 4231, test case 2.
  EXPECT_EQ(ToHex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(CryptoTest, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("abcdef", "abcdef"));
  EXPECT_FALSE(ConstantTimeEquals("abcdef", "abcdeg"));
  EXPECT_FALSE(ConstantTimeEquals("abcdef", "abcde"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(CryptoTest, RandomBytesAreFreshEachTime) {
  EXPECT_EQ(RandomBytes(32).size(), 32u);
  EXPECT_NE(RandomBytes(32), RandomBytes(32));
}

TEST(CryptoTest, Base64RoundTrips) {
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64UrlEncode("foob"), "Zm9vYg");
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  for (std::string s : {std::string(""), std::string("f"), std::string("fo"), std::string("foo"),
                        std::string("\x00\xff\xfe", 3), RandomBytes(31)}) {
    std::optional<std::string> back = Base64UrlDecode(Base64UrlEncode(s));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, s);
  }
}

TEST(CryptoTest, Base64UrlDecodeRejectsOtherEncodings) {
  EXPECT_FALSE(Base64UrlDecode("Zm9vYg==").has_value());  // padding
  EXPECT_FALSE(Base64UrlDecode("+/8").has_value());       // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Zm9 v").has_value());
  EXPECT_FALSE(Base64UrlDecode("Z").has_value());       // impossible length
  EXPECT_FALSE(Base64UrlDecode("Zm9vYh").has_value());  // stray low bits: not canonical
}

}  // namespace
}  // namespace roentgen::auth
