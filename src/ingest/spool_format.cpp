#include "ingest/spool_format.h"

#include <fmt/format.h>
#include <zlib.h>

#include <charconv>

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

void AppendRecordUnchecksummed(std::string_view payload, std::string& out) {
  AppendRecordUnchecksummed({}, payload, out);
}

void AppendRecordUnchecksummed(std::string_view prefix, std::string_view payload,
                               std::string& out) {
  coding::PutFixed32(static_cast<uint32_t>(prefix.size() + payload.size()), out);
  coding::PutFixed32(0, out);
  out.append(prefix);
  out.append(payload);
}

void ChecksumRecords(std::string& group) {
  for (size_t at = 0; at + kRecordHeaderBytes <= group.size();) {
    char* header = group.data() + at;
    const uint32_t length = coding::DecodeFixed32(header);
    coding::EncodeFixed32(header + 4,
                          RecordCrc(header, std::string_view(header + kRecordHeaderBytes, length)));
    at += kRecordHeaderBytes + length;
  }
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
