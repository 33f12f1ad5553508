#include "common/disk_space.h"

#include <gtest/gtest.h>

namespace roentgen {
namespace {

TEST(DiskSpaceTest, FormatsBytesForPeople) {
  EXPECT_EQ(FormatBytes(0), "0 bytes");
  EXPECT_EQ(FormatBytes(1023), "1023 bytes");
  EXPECT_EQ(FormatBytes(4096), "4.0 KiB");
  EXPECT_EQ(FormatBytes(3355443), "3.2 MiB");
  EXPECT_EQ(FormatBytes(uint64_t{3} << 30), "3.0 GiB");
}

TEST(DiskSpaceTest, ReadsTheFilesystemOfAPath) {
  Result<DiskSpace> space = GetDiskSpace("/tmp");
  ASSERT_TRUE(space.ok()) << space.status().ToString();
  EXPECT_GT(space->total_bytes, 0u);
  EXPECT_LE(space->available_bytes, space->total_bytes);
  EXPECT_NE(DescribeDiskSpace("/tmp").find(" free of "), std::string::npos);
}

TEST(DiskSpaceTest, NamesAPathItCannotRead) {
  Result<DiskSpace> space = GetDiskSpace("/no/such/dir");
  ASSERT_FALSE(space.ok());
  EXPECT_EQ(space.status().code(), StatusCode::kIOError);
  EXPECT_NE(space.status().message().find("/no/such/dir"), std::string::npos);
  EXPECT_NE(DescribeDiskSpace("/no/such/dir").find("free space unknown"), std::string::npos);
}

}  // namespace
}  // namespace roentgen
