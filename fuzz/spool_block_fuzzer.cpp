// Fuzzes the spool's reading of its files (src/ingest/spool_format.h,
// spool_reader.h), which meet whatever a crash or a damaged disk left. The
// first byte picks the input's use: 0, a block record's payload
// (DecodeBlock); otherwise a whole spool file read through SpoolFileReader
// in batches of that byte's number of records.
//
// Invariants: a block that decodes re-encodes (AppendBlockRecords) to
// records whose blocks decode to the same entries; the reader moves forward
// only, never past the end, and stops with what it read before damage.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/coding.h"
#include "fuzz_check.h"
#include "ingest/spool_format.h"
#include "ingest/spool_reader.h"

using namespace roentgen;
using namespace roentgen::ingest;
using namespace roentgen::ingest::spool_format;

namespace {

void FuzzBlock(std::string_view payload) {
  std::string scratch;
  std::vector<std::string_view> entries;
  if (!DecodeBlock(payload, scratch, entries)) {
    FUZZ_CHECK(entries.empty());
    return;
  }
  FUZZ_CHECK(!entries.empty());
  std::string raw;
  for (std::string_view e : entries) AppendEntry({}, e, raw);
  std::string records;
  AppendBlockRecords(raw, records);
  std::vector<std::string> again;
  for (size_t at = 0; at < records.size();) {
    FUZZ_CHECK(records.size() - at >= kRecordHeaderBytes);
    const uint32_t length = coding::DecodeFixed32(records.data() + at);
    const std::string_view block(records.data() + at + kRecordHeaderBytes, length);
    FUZZ_CHECK(coding::DecodeFixed32(records.data() + at + 4) ==
               RecordCrc(records.data() + at, block));
    std::string block_scratch;
    std::vector<std::string_view> decoded;
    FUZZ_CHECK(DecodeBlock(block, block_scratch, decoded));
    for (std::string_view e : decoded) again.emplace_back(e);
    at += kRecordHeaderBytes + length;
  }
  FUZZ_CHECK(again.size() == entries.size());
  for (size_t i = 0; i < entries.size(); ++i) FUZZ_CHECK(again[i] == entries[i]);
}

void FuzzFile(std::string_view bytes, size_t max) {
  const int fd = ::memfd_create("spool", 0);
  if (fd < 0) return;
  if (::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) {
    ::close(fd);
    return;
  }
  SpoolFileReader reader(fd, "fuzz.spool");
  uint64_t offset = 0;
  for (int calls = 0; calls < 10000; ++calls) {
    std::vector<std::string_view> records;
    const SpoolFileReader::Outcome out = reader.Read(offset, bytes.size(), max, records);
    FUZZ_CHECK(out.next <= bytes.size());
    FUZZ_CHECK(out.next >= offset);
    for (std::string_view r : records) FUZZ_CHECK(r.size() <= kMaxRecordBytes + kEntryHeaderBytes);
    if (out.stop == SpoolFileReader::Stop::kDamaged) FUZZ_CHECK(!out.damage.empty());
    if (out.stop == SpoolFileReader::Stop::kEnd || out.stop == SpoolFileReader::Stop::kDamaged ||
        out.stop == SpoolFileReader::Stop::kReadError) {
      break;
    }
    FUZZ_CHECK(out.next > offset);  // a full batch or a refill has read something
    offset = out.next;
  }
  ::close(fd);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] == 0) {
    FuzzBlock(rest);
  } else {
    FuzzFile(rest, data[0]);
  }
  return 0;
}
