#include "ingest/spool_reader.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <utility>

#include "common/coding.h"
#include "ingest/spool_format.h"

namespace roentgen::ingest {
namespace {

using namespace spool_format;

constexpr uint64_t kReadChunk = 1 << 20;  // bytes read from a file at once

}  // namespace

Result<size_t> ReadAt(int fd, char* out, size_t size, uint64_t offset, const std::string& path) {
  size_t got = 0;
  while (got < size) {
    ssize_t n = ::pread(fd, out + got, size - got, static_cast<off_t>(offset + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(
          fmt::format("spool: read {}: {}", path, std::system_category().message(errno)));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return got;
}

SpoolFileReader::SpoolFileReader(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}

Status SpoolFileReader::Fill(uint64_t from, uint64_t want, uint64_t end) {
  want = std::min(want, end - from);
  buf_.resize(want);
  Result<size_t> got = ReadAt(fd_, buf_.data(), want, from, path_);
  buf_offset_ = from;
  if (!got.ok() || *got < want) {
    buf_.clear();
    return got.ok() ? Status::IOError(fmt::format("{} is shorter than recorded", path_))
                    : got.status();
  }
  return Status::Ok();
}

SpoolFileReader::Outcome SpoolFileReader::Read(uint64_t offset, uint64_t end, size_t max,
                                               std::vector<std::string_view>& records) {
  auto damaged = [&](uint64_t at, std::string why) {
    return Outcome{Stop::kDamaged, at, std::move(why), {}};
  };
  auto read_error = [&](uint64_t at, Status s) {
    return Outcome{Stop::kReadError, at, {}, std::move(s)};
  };
  if (format_ == Format::kUnknown) {
    if (!Buffered(0, kFileHeaderBytes)) {
      if (Status s = Fill(0, kFileHeaderBytes, end); !s.ok()) return read_error(offset, s);
      if (buf_.size() < kFileHeaderBytes) return damaged(offset, "not a spool file");
    }
    if (std::memcmp(buf_.data(), kMagic, sizeof(kMagic)) == 0) {
      format_ = Format::kRecords;
    } else if (std::memcmp(buf_.data(), kBlocksMagic, sizeof(kBlocksMagic)) == 0) {
      format_ = Format::kBlocks;
    } else {
      return damaged(offset, "not a spool file");
    }
  }
  offset = std::max(offset, kFileHeaderBytes);
  const bool blocks = format_ == Format::kBlocks;
  const uint64_t max_payload = blocks ? kMaxPayloadBytes : kMaxRecordBytes;
  size_t blocks_used = 0;
  // Views into buf_ (a file of records) must be given up before it is
  // filled again; a block's entries live in blocks_.
  auto must_refill = [&] { return !blocks && !records.empty(); };
  while (offset < end) {
    if (records.size() >= max) return {Stop::kBatchFull, offset, {}, {}};
    if (end - offset < kRecordHeaderBytes) return damaged(offset, "a truncated record header");
    if (!Buffered(offset, kRecordHeaderBytes)) {
      if (must_refill()) return {Stop::kRefill, offset, {}, {}};
      if (Status s = Fill(offset, kReadChunk, end); !s.ok()) return read_error(offset, s);
    }
    const char* header = buf_.data() + (offset - buf_offset_);
    const uint64_t length = coding::DecodeFixed32(header);
    if (length > max_payload || offset + kRecordHeaderBytes + length > end) {
      return damaged(offset, "a record length past the end of the data");
    }
    if (!Buffered(offset, kRecordHeaderBytes + length)) {
      if (must_refill()) return {Stop::kRefill, offset, {}, {}};
      if (Status s = Fill(offset, std::max(kReadChunk, kRecordHeaderBytes + length), end);
          !s.ok()) {
        return read_error(offset, s);
      }
      header = buf_.data();
    }
    const std::string_view payload(header + kRecordHeaderBytes, length);
    if (coding::DecodeFixed32(header + 4) != RecordCrc(header, payload)) {
      return damaged(offset, "a record that fails its checksum");
    }
    if (blocks) {
      if (blocks_used == blocks_.size()) blocks_.emplace_back();
      std::string& scratch = blocks_[blocks_used++];
      // A block of one large record keeps no more than a usual one's memory.
      if (scratch.capacity() > 4 * kBlockEntriesBytes) scratch = std::string();
      if (!DecodeBlock(payload, scratch, records)) {
        return damaged(offset, "a block whose records cannot be decoded");
      }
    } else {
      records.push_back(payload);
    }
    offset += kRecordHeaderBytes + length;
  }
  return {Stop::kEnd, offset, {}, {}};
}

}  // namespace roentgen::ingest
