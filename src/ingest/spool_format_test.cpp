#include "ingest/spool_format.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "common/coding.h"
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

TEST(SpoolFormatTest, APrefixedEntryIsFramedAsTheJoinedPayload) {
  std::string joined, prefixed;
  AppendEntry("", "tokenXYZdocument", joined);
  AppendEntry("tokenXYZ", "document", prefixed);
  EXPECT_EQ(prefixed, joined);
  EXPECT_EQ(joined.size(), kEntryHeaderBytes + 16);
}

std::string Entries(const std::vector<std::string>& payloads) {
  std::string entries;
  for (const std::string& p : payloads) AppendEntry("", p, entries);
  return entries;
}

// A spool file of records ("RGSPOOL1") holding `payloads`.
std::string File(const std::vector<std::string>& payloads) {
  std::string file(kMagic, sizeof(kMagic));
  AppendPlainRecords(Entries(payloads), file);
  return file;
}

// A spool file of blocks ("RGSPOOL2") holding `payloads`, as the spool
// writes one group.
std::string BlocksFile(const std::vector<std::string>& payloads) {
  std::string file(kBlocksMagic, sizeof(kBlocksMagic));
  AppendBlockRecords(Entries(payloads), file);
  return file;
}

// Documents alike as segments are: compressible, but not all the same.
std::vector<std::string> Documents(int n) {
  std::vector<std::string> docs;
  for (int i = 0; i < n; ++i) {
    docs.push_back(fmt::format(
        R"({{"format":"json","version":1}})"
        "\n"
        R"({{"trace_id":"1-5f84c7a1-{:024x}","id":"{:016x}","name":"api","start_time":{},)"
        R"("end_time":{},"http":{{"request":{{"method":"GET","url":"https://example.com/items/{}"}}}}}})",
        i * 7919, i * 104729, 1700000000 + i, 1700000000.5 + i, i % 17));
  }
  return docs;
}

// Every record of a file, read in batches of `max`.
std::vector<std::string> ReadAll(int fd, const std::string& path, uint64_t size, size_t max,
                                 std::vector<uint64_t>* batch_ends = nullptr) {
  SpoolFileReader reader(fd, path);
  std::vector<std::string> got;
  uint64_t offset = 0;
  for (;;) {
    std::vector<std::string_view> records;
    SpoolFileReader::Outcome out = reader.Read(offset, size, max, records);
    for (std::string_view r : records) got.emplace_back(r);
    EXPECT_NE(out.stop, SpoolFileReader::Stop::kDamaged) << out.damage;
    EXPECT_NE(out.stop, SpoolFileReader::Stop::kReadError) << out.error.message();
    if (out.stop == SpoolFileReader::Stop::kDamaged ||
        out.stop == SpoolFileReader::Stop::kReadError) {
      break;
    }
    if (batch_ends) batch_ends->push_back(out.next);
    offset = out.next;
    if (out.stop == SpoolFileReader::Stop::kEnd) break;
  }
  return got;
}

TEST(SpoolFormatTest, BlocksHoldTheirEntriesInOrderCompressed) {
  const std::vector<std::string> docs = Documents(2000);
  const std::string entries = Entries(docs);
  std::string records;
  AppendBlockRecords(entries, records);
  // Many blocks (the entries are over 64 KiB), each smaller than its entries.
  EXPECT_LT(records.size(), entries.size() / 3);
  std::vector<std::string> got;
  size_t blocks = 0;
  for (size_t at = 0; at < records.size(); ++blocks) {
    const uint32_t length = coding::DecodeFixed32(records.data() + at);
    const std::string_view payload(records.data() + at + kRecordHeaderBytes, length);
    EXPECT_EQ(coding::DecodeFixed32(records.data() + at + 4),
              RecordCrc(records.data() + at, payload));
    EXPECT_EQ(static_cast<BlockCodec>(payload[0]), BlockCodec::kLz4);
    EXPECT_LE(coding::DecodeFixed32(payload.data() + 1), kBlockEntriesBytes);
    std::string scratch;
    std::vector<std::string_view> block;
    ASSERT_TRUE(DecodeBlock(payload, scratch, block));
    for (std::string_view e : block) got.emplace_back(e);
    at += kRecordHeaderBytes + length;
  }
  EXPECT_GT(blocks, entries.size() / kBlockEntriesBytes);
  EXPECT_EQ(got, docs);
}

TEST(SpoolFormatTest, IncompressibleAndLargeEntriesAreStoredAsTheyAre) {
  std::mt19937_64 rng(7);
  std::string noise(3 << 20, '\0');  // over a block, and over the 1 MiB read chunk
  for (char& c : noise) c = static_cast<char>(rng());
  const std::vector<std::string> payloads = {"", noise, "after", std::string(100, 'a')};
  std::string records;
  AppendBlockRecords(Entries(payloads), records);
  std::vector<std::string> got;
  std::vector<BlockCodec> codecs;
  for (size_t at = 0; at < records.size();) {
    const uint32_t length = coding::DecodeFixed32(records.data() + at);
    const std::string_view payload(records.data() + at + kRecordHeaderBytes, length);
    codecs.push_back(static_cast<BlockCodec>(payload[0]));
    std::string scratch;
    std::vector<std::string_view> block;
    ASSERT_TRUE(DecodeBlock(payload, scratch, block));
    for (std::string_view e : block) got.emplace_back(e);
    at += kRecordHeaderBytes + length;
  }
  EXPECT_TRUE(got == payloads);
  // The empty entry alone (the noise does not fit beside it), the noise
  // alone and stored, then the two small ones compressed together.
  EXPECT_EQ(codecs,
            (std::vector<BlockCodec>{BlockCodec::kStored, BlockCodec::kStored, BlockCodec::kLz4}));
}

TEST(SpoolFormatTest, ADamagedBlockDecodesToNothing) {
  std::string records;
  AppendBlockRecords(Entries(Documents(20)), records);
  const std::string_view payload(records.data() + kRecordHeaderBytes,
                                 coding::DecodeFixed32(records.data()));
  std::string scratch;
  std::vector<std::string_view> entries = {"kept"};
  std::string bad(payload);
  bad[0] = 7;  // no such codec
  EXPECT_FALSE(DecodeBlock(bad, scratch, entries));
  bad = std::string(payload);
  coding::EncodeFixed32(bad.data() + 1, coding::DecodeFixed32(bad.data() + 1) + 1);  // length
  EXPECT_FALSE(DecodeBlock(bad, scratch, entries));
  bad = std::string(payload.substr(0, payload.size() - 10));  // cut short
  EXPECT_FALSE(DecodeBlock(bad, scratch, entries));
  // Stored entries whose last length runs past the block.
  std::string stored(1, static_cast<char>(BlockCodec::kStored));
  std::string body = Entries({"one", "two"});
  body.resize(body.size() - 1);
  coding::PutFixed32(static_cast<uint32_t>(body.size()), stored);
  EXPECT_FALSE(DecodeBlock(stored + body, scratch, entries));
  EXPECT_FALSE(DecodeBlock(payload.substr(0, 3), scratch, entries));
  EXPECT_EQ(entries, (std::vector<std::string_view>{"kept"}));
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
  // Writes `file` and reads it: the records before the damage, which must
  // be a record failing its checksum at `at`.
  std::vector<std::string> ReadUpToChecksumDamage(const std::string& file, uint64_t at) {
    Write(file);
    SpoolFileReader reader(fd_, path_);
    std::vector<std::string_view> records;
    const SpoolFileReader::Outcome out = reader.Read(0, file.size(), 1000, records);
    EXPECT_EQ(out.stop, SpoolFileReader::Stop::kDamaged);
    EXPECT_EQ(out.next, at);
    EXPECT_EQ(out.damage, "a record that fails its checksum");
    return {records.begin(), records.end()};
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
  EXPECT_EQ(ReadUpToChecksumDamage(file, second), std::vector<std::string>{"first"});

  SpoolFileReader reader(fd_, path_);
  std::vector<std::string_view> records;
  SpoolFileReader::Outcome out =
      reader.Read(0, file.size() - 3, 10, records);  // the second is cut short
  EXPECT_EQ(out.damage, "a record length past the end of the data");
  records.clear();
  out = reader.Read(second, second + 5, 10, records);
  EXPECT_EQ(out.stop, SpoolFileReader::Stop::kDamaged);
  EXPECT_EQ(out.damage, "a truncated record header");
}

TEST_F(SpoolReaderTest, ABlocksFileIsReadInWholeBlocks) {
  const std::vector<std::string> docs = Documents(3000);
  const std::string file = BlocksFile(docs);
  Write(file);
  std::vector<uint64_t> ends;
  EXPECT_EQ(ReadAll(fd_, path_, file.size(), 1, &ends), docs);
  // A batch of at most one record still ends at a block's end: one batch a
  // block, each of many records.
  EXPECT_GT(ends.size(), 3u);
  EXPECT_LT(ends.size(), docs.size() / 50);
  EXPECT_EQ(ReadAll(fd_, path_, file.size(), 256), docs);
  // Reading on from a block's end, with a new reader (a restart at the
  // checkpoint): the magic is checked and the rest follows.
  SpoolFileReader reader(fd_, path_);
  std::vector<std::string_view> records;
  SpoolFileReader::Outcome out = reader.Read(ends[0], file.size(), 1000000, records);
  EXPECT_EQ(out.stop, SpoolFileReader::Stop::kEnd);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back(), docs.back());
  EXPECT_EQ(std::string(records.front()), docs[docs.size() - records.size()]);
}

TEST_F(SpoolReaderTest, ABlockLargerThanTheBufferIsRead) {
  std::mt19937_64 rng(11);
  std::string noise(3 << 20, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  const std::vector<std::string> payloads = {"small", noise, "after", noise.substr(5)};
  const std::string file = BlocksFile(payloads);
  Write(file);
  const std::vector<std::string> got = ReadAll(fd_, path_, file.size(), 10);
  EXPECT_TRUE(got == payloads);  // (not EXPECT_EQ: megabytes of noise)
}

TEST_F(SpoolReaderTest, ADamagedBlockIsNamedWhereItBegins) {
  std::string file = BlocksFile(Documents(40));
  const uint64_t second = file.size();
  file += BlocksFile(Documents(41)).substr(kFileHeaderBytes);
  file[second + kRecordHeaderBytes + 12] ^= 0x20;  // a compressed byte of the second block
  EXPECT_EQ(ReadUpToChecksumDamage(file, second).size(), 40u);
}

TEST_F(SpoolReaderTest, AFileOfRecordsIsReadFromPastItsMagic) {
  const std::string file = File({"one", "two"});
  Write(file);
  SpoolFileReader reader(fd_, path_);
  std::vector<std::string_view> records;
  const uint64_t second = kFileHeaderBytes + kRecordHeaderBytes + 3;
  SpoolFileReader::Outcome out = reader.Read(second, file.size(), 10, records);
  EXPECT_EQ(out.stop, SpoolFileReader::Stop::kEnd);
  EXPECT_EQ(records, (std::vector<std::string_view>{"two"}));
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
