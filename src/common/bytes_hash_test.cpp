#include "common/bytes_hash.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace roentgen::bytes {
namespace {

// Every length around the word sizes the functions branch on, a difference
// at every position: Equal must tell them apart and agree with ==.
TEST(BytesHashTest, EqualComparesEveryByte) {
  for (size_t n = 0; n <= 40; ++n) {
    std::string a(n, 'x');
    for (size_t i = 0; i < n; ++i) a[i] = static_cast<char>('a' + (i * 7) % 26);
    const std::string same = a;  // another buffer
    EXPECT_TRUE(Equal(a, same)) << n;
    EXPECT_EQ(Hash(a), Hash(same)) << n;
    EXPECT_EQ(HashEnds(a), HashEnds(same)) << n;
    for (size_t i = 0; i < n; ++i) {
      std::string b = a;
      b[i] = static_cast<char>(b[i] ^ 0x80);
      EXPECT_FALSE(Equal(a, b)) << n << " " << i;
    }
    EXPECT_FALSE(Equal(a, a + "y")) << n;
  }
  EXPECT_TRUE(Equal(std::string_view(), std::string_view("", 0)));
}

// Hash counts every byte: strings that differ in the middle only (what
// HashEnds does not see) hash apart.
TEST(BytesHashTest, HashSeesTheMiddle) {
  std::set<uint64_t> hashes;
  for (int i = 0; i < 1000; ++i) {
    hashes.insert(
        Hash("https://api.example.com/orders/" + std::to_string(1000 + i) + "/items?page=1"));
  }
  EXPECT_EQ(hashes.size(), 1000u);
  std::set<uint64_t> short_hashes;
  for (int i = 0; i < 1000; ++i) short_hashes.insert(HashEnds("10.0." + std::to_string(i)));
  EXPECT_EQ(short_hashes.size(), 1000u);
}

}  // namespace
}  // namespace roentgen::bytes
