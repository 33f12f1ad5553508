#include "ingest/spool_format.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ingest/spool_reader.h"

namespace roentgen::ingest {
namespace {

using namespace spool_format;

TEST(SpoolFormatTest, FileNamesRoundTrip) {
  EXPECT_EQ(FileName(42), "00000000000000000042.spool");
  EXPECT_EQ(ParseFileName("00000000000000000042.spool"), 42u);
  EXPECT_EQ(ParseFileName("0000000000000000042.spool"), std::nullopt);
  EXPECT_EQ(ParseFileName("0000000000000000004x.spool"), std::nullopt);
  EXPECT_EQ(ParseFileName("00000000000000000042.spoo1"), std::nullopt);
  EXPECT_EQ(ParseFileName("checkpoint"), std::nullopt);
}

TEST(SpoolFormatTest, CheckpointsRoundTripAndRefuseDamage) {
  const std::string bytes = EncodeCheckpoint({7, 123456});
  ASSERT_EQ(bytes.size(), kCheckpointBytes);
  EXPECT_EQ(DecodeCheckpoint(bytes), (Position{7, 123456}));
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] ^= 0x01;
    EXPECT_EQ(DecodeCheckpoint(damaged), std::nullopt) << "byte " << i;
  }
  EXPECT_EQ(DecodeCheckpoint(bytes.substr(0, 19)), std::nullopt);
}

TEST(SpoolFormatTest, APrefixedRecordIsFramedAsTheJoinedPayload) {
  std::string joined, prefixed;
  AppendRecordUnchecksummed("tokenXYZdocument", joined);
  AppendRecordUnchecksummed("tokenXYZ", "document", prefixed);
  ChecksumRecords(joined);
  ChecksumRecords(prefixed);
  EXPECT_EQ(prefixed, joined);
}

// A spool file holding `payloads`, as the spool writes one.
std::string File(const std::vector<std::string>& payloads) {
  std::string file(kMagic, sizeof(kMagic));
  std::string group;
  for (const std::string& p : payloads) AppendRecordUnchecksummed(p, group);
  ChecksumRecords(group);
  return file + group;
}

class SpoolReaderTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (fd_ >= 0) ::close(fd_);
    std::filesystem::remove(path_);
  }
  void Write(const std::string& bytes) {
    path_ = std::filesystem::temp_directory_path() /
            ("rg_spool_reader_" + std::to_string(::getpid()) + ".spool");
    fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_TRUNC, 0600);
    ASSERT_GE(fd_, 0);
    ASSERT_EQ(::write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }
  std::filesystem::path path_;
  int fd_ = -1;
};

TEST_F(SpoolReaderTest, ReadsRecordsInBatches) {
  const std::string file = File({"one", "two", "", "four"});
  Write(file);
  SpoolFileReader reader(fd_, path_);
  std::vector<std::string_view> records;
  SpoolFileReader::Outcome out = reader.Read(0, file.size(), 2, records);
  EXPECT_EQ(out.stop, SpoolFileReader::Stop::kBatchFull);
  EXPECT_EQ(records, (std::vector<std::string_view>{"one", "two"}));
  EXPECT_EQ(out.next, kFileHeaderBytes + 2 * kRecordHeaderBytes + 6);
  records.clear();
  out = reader.Read(out.next, file.size(), 10, records);
  EXPECT_EQ(out.stop, SpoolFileReader::Stop::kEnd);
  EXPECT_EQ(records, (std::vector<std::string_view>{"", "four"}));
  EXPECT_EQ(out.next, file.size());
}

TEST_F(SpoolReaderTest, ReadsOnlyUpToTheGivenEnd) {
  const std::string file = File({"durable", "not yet synced"});
  Write(file);
  SpoolFileReader reader(fd_, path_);
  std::vector<std::string_view> records;
  const uint64_t durable_end = kFileHeaderBytes + kRecordHeaderBytes + 7;
  SpoolFileReader::Outcome out = reader.Read(0, durable_end, 10, records);
  EXPECT_EQ(out.stop, SpoolFileReader::Stop::kEnd);
  EXPECT_EQ(records, (std::vector<std::string_view>{"durable"}));
}

TEST_F(SpoolReaderTest, RecordsLargerThanTheBufferAreRead) {
  const std::string big(3 << 20, 'x');  // over the 1 MiB read chunk
  const std::string file = File({"small", big, "after"});
  Write(file);
  SpoolFileReader reader(fd_, path_);
  std::vector<std::string> got;
  uint64_t offset = 0;
  for (;;) {
    std::vector<std::string_view> records;
    SpoolFileReader::Outcome out = reader.Read(offset, file.size(), 10, records);
    for (std::string_view r : records) got.emplace_back(r);
    ASSERT_NE(out.stop, SpoolFileReader::Stop::kDamaged) << out.damage;
    offset = out.next;
    if (out.stop == SpoolFileReader::Stop::kEnd) break;
  }
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1], big);
  EXPECT_EQ(got[2], "after");
}

TEST_F(SpoolReaderTest, DamageIsNamedWhereItBegins) {
  std::string file = File({"first", "second"});
  const uint64_t second = kFileHeaderBytes + kRecordHeaderBytes + 5;
  file[second + kRecordHeaderBytes + 1] ^= 0x20;  // a payload byte of the second
  Write(file);
  SpoolFileReader reader(fd_, path_);
  std::vector<std::string_view> records;
  SpoolFileReader::Outcome out = reader.Read(0, file.size(), 10, records);
  EXPECT_EQ(out.stop, SpoolFileReader::Stop::kDamaged);
  EXPECT_EQ(out.next, second);
  EXPECT_EQ(out.damage, "a record that fails its checksum");
  EXPECT_EQ(records, (std::vector<std::string_view>{"first"}));

  records.clear();
  out = reader.Read(0, file.size() - 3, 10, records);  // the second is cut short
  EXPECT_EQ(out.damage, "a record length past the end of the data");
  records.clear();
  out = reader.Read(second, second + 5, 10, records);
  EXPECT_EQ(out.stop, SpoolFileReader::Stop::kDamaged);
  EXPECT_EQ(out.damage, "a truncated record header");
}

TEST_F(SpoolReaderTest, AFileWithoutTheMagicIsNotASpoolFile) {
  std::string file = File({"record"});
  file[0] = 'X';
  Write(file);
  SpoolFileReader reader(fd_, path_);
  std::vector<std::string_view> records;
  SpoolFileReader::Outcome out = reader.Read(0, file.size(), 10, records);
  EXPECT_EQ(out.stop, SpoolFileReader::Stop::kDamaged);
  EXPECT_EQ(out.damage, "not a spool file");
  EXPECT_TRUE(records.empty());
}

}  // namespace
}  // namespace roentgen::ingest
