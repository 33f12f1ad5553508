// The on-disk format of a spool directory (ingest/spool.h), shared by
// everything that writes or reads it: the spool's write, sync and consumer
// threads (spool.cpp), the record reader (spool_reader.h) and backups
// (spool_snapshot.h).
//
// A spool directory holds:
//  - files `<20-digit number>.spool`, numbered in log order, each the 8-byte
//    magic "RGSPOOL1" followed by records:
//        length (u32 LE) · crc32(length bytes · payload) (u32 LE) · payload
//    The checksum covers the length, so a damaged length is caught even when
//    the bytes it points at happen to check out. A record is at most
//    kMaxRecordBytes; a larger length is damage.
//  - `checkpoint`: file number (u64 LE) · offset (u64 LE) · crc32 of those 16
//    bytes (u32 LE). Every record before that position has been stored. It is
//    replaced by writing `checkpoint.tmp`, fdatasync and rename.
//
// Numbers are encoded by common/coding.h.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace roentgen::ingest::spool_format {

inline constexpr char kMagic[8] = {'R', 'G', 'S', 'P', 'O', 'O', 'L', '1'};
inline constexpr uint64_t kFileHeaderBytes = sizeof(kMagic);
inline constexpr uint64_t kRecordHeaderBytes = 8;      // length · crc
inline constexpr uint64_t kMaxRecordBytes = 16 << 20;  // larger lengths are damage
inline constexpr std::string_view kFileSuffix = ".spool";
inline constexpr size_t kFileNameDigits = 20;
inline constexpr std::string_view kCheckpointName = "checkpoint";
inline constexpr size_t kCheckpointBytes = 20;

// A place in the log: a file and a byte offset in it.
struct Position {
  uint64_t file = 0;
  uint64_t offset = 0;
  auto operator<=>(const Position&) const = default;
};

// "00000000000000000042.spool" for 42.
std::string FileName(uint64_t number);
// The number of a spool file's name; nothing for other names.
std::optional<uint64_t> ParseFileName(std::string_view name);

// The checksum of a record whose 4 length bytes are at `length_bytes`.
uint32_t RecordCrc(const char* length_bytes, std::string_view payload);

// Appends `payload` framed as a record, its checksum left zero for
// ChecksumRecords to fill in (so the thread that frames stays lean).
void AppendRecordUnchecksummed(std::string_view payload, std::string& out);
// The same with the payload `prefix` followed by `payload`, without joining
// them first.
void AppendRecordUnchecksummed(std::string_view prefix, std::string_view payload, std::string& out);
// Fills in the checksum of every record of `group` (records framed by
// AppendRecordUnchecksummed, back to back).
void ChecksumRecords(std::string& group);

std::string EncodeCheckpoint(Position position);
// The position a checkpoint holds; nothing when its bytes are damaged.
std::optional<Position> DecodeCheckpoint(std::string_view bytes);

}  // namespace roentgen::ingest::spool_format
