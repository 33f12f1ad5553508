#include "ingest/spool_format.h"

#include <fmt/format.h>
#include <lz4.h>
#include <zlib.h>

#include <charconv>
#include <cstring>

#include "common/coding.h"

namespace roentgen::ingest::spool_format {
namespace {

uint32_t Crc(uint32_t crc, const char* data, size_t size) {
  return static_cast<uint32_t>(crc32_z(crc, reinterpret_cast<const Bytef*>(data), size));
}

}  // namespace

std::string FileName(uint64_t number) {
  return fmt::format("{:0{}}{}", number, kFileNameDigits, kFileSuffix);
}

std::optional<uint64_t> ParseFileName(std::string_view name) {
  if (name.size() != kFileNameDigits + kFileSuffix.size() || !name.ends_with(kFileSuffix)) {
    return std::nullopt;
  }
  uint64_t number = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + kFileNameDigits, number);
  if (ec != std::errc() || end != name.data() + kFileNameDigits) return std::nullopt;
  return number;
}

uint32_t RecordCrc(const char* length_bytes, std::string_view payload) {
  return Crc(Crc(0, length_bytes, 4), payload.data(), payload.size());
}

void AppendEntry(std::string_view prefix, std::string_view payload, std::string& out) {
  coding::PutFixed32(static_cast<uint32_t>(prefix.size() + payload.size()), out);
  out.append(prefix);
  out.append(payload);
}

namespace {

// The length of the entry at `at` of `entries`, framing included (the
// appenders framed them: they are whole).
size_t FramedEntryBytes(std::string_view entries, size_t at) {
  return kEntryHeaderBytes + coding::DecodeFixed32(entries.data() + at);
}

// Begins a record at the end of `out`: its header's place, returned, is
// filled in by SealRecord once the payload after it is appended.
size_t BeginRecord(std::string& out) {
  const size_t at = out.size();
  out.append(kRecordHeaderBytes, '\0');
  return at;
}
void SealRecord(std::string& out, size_t at) {
  char* header = out.data() + at;
  const size_t length = out.size() - at - kRecordHeaderBytes;
  coding::EncodeFixed32(header, static_cast<uint32_t>(length));
  coding::EncodeFixed32(header + 4,
                        RecordCrc(header, std::string_view(header + kRecordHeaderBytes, length)));
}

}  // namespace

void AppendBlockRecords(std::string_view entries, std::string& out) {
  for (size_t at = 0; at < entries.size();) {
    // A block: whole entries up to kBlockEntriesBytes, at least one.
    size_t end = at + FramedEntryBytes(entries, at);
    while (end < entries.size() &&
           end + FramedEntryBytes(entries, end) - at <= kBlockEntriesBytes) {
      end += FramedEntryBytes(entries, end);
    }
    const std::string_view raw = entries.substr(at, end - at);
    const size_t record = BeginRecord(out);
    const size_t header = out.size();
    out.append(kBlockHeaderBytes, '\0');
    coding::EncodeFixed32(out.data() + header + 1, static_cast<uint32_t>(raw.size()));
    // Room for the raw entries: when LZ4 cannot make them smaller it stops
    // (returns 0) and they are stored as they are.
    out.resize(out.size() + raw.size());
    char* body = out.data() + header + kBlockHeaderBytes;
    const int compressed = LZ4_compress_default(raw.data(), body, static_cast<int>(raw.size()),
                                                static_cast<int>(raw.size()) - 1);
    if (compressed > 0) {
      out[header] = static_cast<char>(BlockCodec::kLz4);
      out.resize(header + kBlockHeaderBytes + static_cast<size_t>(compressed));
    } else {
      out[header] = static_cast<char>(BlockCodec::kStored);
      std::memcpy(body, raw.data(), raw.size());
    }
    SealRecord(out, record);
    at = end;
  }
}

void AppendPlainRecords(std::string_view entries, std::string& out) {
  for (size_t at = 0; at < entries.size();) {
    const size_t framed = FramedEntryBytes(entries, at);
    const size_t record = BeginRecord(out);
    out.append(entries.substr(at + kEntryHeaderBytes, framed - kEntryHeaderBytes));
    SealRecord(out, record);
    at += framed;
  }
}

bool DecodeBlock(std::string_view payload, std::string& scratch,
                 std::vector<std::string_view>& entries) {
  if (payload.size() < kBlockHeaderBytes) return false;
  const auto codec = static_cast<BlockCodec>(payload[0]);
  const size_t raw_bytes = coding::DecodeFixed32(payload.data() + 1);
  const std::string_view body = payload.substr(kBlockHeaderBytes);
  if (raw_bytes > kMaxRecordBytes + kEntryHeaderBytes) return false;
  std::string_view raw;
  switch (codec) {
    case BlockCodec::kStored:
      if (body.size() != raw_bytes) return false;
      scratch.assign(body);
      raw = scratch;
      break;
    case BlockCodec::kLz4: {
      scratch.resize(raw_bytes);
      const int got = LZ4_decompress_safe(
          body.data(), scratch.data(), static_cast<int>(body.size()), static_cast<int>(raw_bytes));
      if (got < 0 || static_cast<size_t>(got) != raw_bytes) return false;
      raw = scratch;
      break;
    }
    default:
      return false;
  }
  if (raw.empty()) return false;  // a block holds at least one entry
  const size_t first = entries.size();
  size_t at = 0;
  while (at < raw.size()) {
    if (raw.size() - at < kEntryHeaderBytes) break;
    const size_t length = coding::DecodeFixed32(raw.data() + at);
    if (length > raw.size() - at - kEntryHeaderBytes) break;
    entries.push_back(raw.substr(at + kEntryHeaderBytes, length));
    at += kEntryHeaderBytes + length;
  }
  if (at == raw.size()) return true;
  entries.resize(first);
  return false;
}

std::string EncodeCheckpoint(Position position) {
  std::string bytes;
  bytes.reserve(kCheckpointBytes);
  coding::PutFixed64(position.file, bytes);
  coding::PutFixed64(position.offset, bytes);
  coding::PutFixed32(Crc(0, bytes.data(), 16), bytes);
  return bytes;
}

std::optional<Position> DecodeCheckpoint(std::string_view bytes) {
  if (bytes.size() != kCheckpointBytes) return std::nullopt;
  if (coding::DecodeFixed32(bytes.data() + 16) != Crc(0, bytes.data(), 16)) return std::nullopt;
  return Position{coding::DecodeFixed64(bytes.data()), coding::DecodeFixed64(bytes.data() + 8)};
}

}  // namespace roentgen::ingest::spool_format
