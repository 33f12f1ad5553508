#include "api/gunzip.h"

#include <gtest/gtest.h>

#include "api/gzip_for_test.h"

namespace roentgen::api {
namespace {

TEST(GunzipTest, RoundTrip) {
  std::string plain = "{\"TraceSegmentDocuments\":[]}";
  Result<std::string> out = Gunzip(GzipForTest(plain), 1024);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, plain);
}

TEST(GunzipTest, OutputExactlyAtTheCapIsAccepted) {
  std::string plain(1000, 'a');
  Result<std::string> out = Gunzip(GzipForTest(plain), 1000);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->size(), 1000u);
}

TEST(GunzipTest, BombStopsAtTheCap) {
  // 64 MiB of zeros compresses to ~64 KiB; the cap is 1 MiB.
  std::string bomb = GzipForTest(std::string(64 << 20, '\0'));
  ASSERT_LT(bomb.size(), 100u * 1024);
  Result<std::string> out = Gunzip(bomb, 1 << 20);
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(out.status().message(), "decompressed body exceeds 1048576 bytes");
}

TEST(GunzipTest, ConcatenatedMembers) {
  Result<std::string> out = Gunzip(GzipForTest("hello ") + GzipForTest("world"), 100);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "hello world");
}

TEST(GunzipTest, RejectsCorruptTruncatedAndEmpty) {
  std::string good = GzipForTest("some text that is long enough to matter");
  EXPECT_EQ(Gunzip("not gzip at all", 100).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Gunzip(good.substr(0, good.size() - 4), 100).status(),
            Status::InvalidArgument("truncated gzip body"));
  EXPECT_EQ(Gunzip("", 100).status(), Status::InvalidArgument("truncated gzip body"));
  std::string bad_crc = good;
  bad_crc[bad_crc.size() - 6] ^= 0x5a;
  EXPECT_EQ(Gunzip(bad_crc, 100).status(),
            Status::InvalidArgument("invalid gzip body: incorrect data check"));
  EXPECT_EQ(Gunzip(good + "junk", 100).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace roentgen::api
