// The on-disk format of a spool directory (ingest/spool.h), shared by
// everything that writes or reads it: the spool's write, sync and consumer
// threads (spool.cpp), the record reader (spool_reader.h) and backups
// (spool_snapshot.h).
//
// A spool directory holds:
//  - files `<20-digit number>.spool`, numbered in log order, each an 8-byte
//    magic followed by records:
//        length (u32 LE) · crc32(length bytes · payload) (u32 LE) · payload
//    The checksum covers the length, so a damaged length is caught even when
//    the bytes it points at happen to check out. What a record's payload is
//    depends on the magic:
//      "RGSPOOL2" (what the spool writes by default): a block of entries,
//          codec (u8: 0 stored, 1 LZ4) · entries' length (u32 LE) · the
//          entries, LZ4-compressed (one LZ4 block) or stored as they are.
//          An entry is length (u32 LE) · payload: one appended record (a
//          datagram, a document). A block holds the entries of one written
//          group, up to kBlockEntriesBytes of them (one larger entry alone).
//          Similar JSON documents side by side compress about 5 times, so
//          a burst takes a fifth of the disk and of the spool's max_bytes.
//      "RGSPOOL1": one appended record per spool record (the layout written
//          with SpoolConfig::compress off, and by servers before blocks).
//    A record is at most kMaxRecordBytes (plus a block's framing); a larger
//    length is damage.
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
#include <vector>

namespace roentgen::ingest::spool_format {

inline constexpr char kMagic[8] = {'R', 'G', 'S', 'P', 'O', 'O', 'L', '1'};
inline constexpr char kBlocksMagic[8] = {'R', 'G', 'S', 'P', 'O', 'O', 'L', '2'};
inline constexpr uint64_t kFileHeaderBytes = sizeof(kMagic);
inline constexpr uint64_t kRecordHeaderBytes = 8;      // length · crc
inline constexpr uint64_t kMaxRecordBytes = 16 << 20;  // an appended record's limit
inline constexpr uint64_t kEntryHeaderBytes = 4;       // an entry's length
inline constexpr uint64_t kBlockHeaderBytes = 5;       // codec · entries' length
// A block gathers entries up to this many bytes (LZ4 finds most of its
// matches within a few documents: 64 KiB blocks compress segment documents
// within 3% of 1 MiB ones).
inline constexpr uint64_t kBlockEntriesBytes = 64 << 10;
// The longest payload a record of either format holds; longer is damage.
inline constexpr uint64_t kMaxPayloadBytes =
    kMaxRecordBytes + kEntryHeaderBytes + kBlockHeaderBytes;
enum class BlockCodec : uint8_t { kStored = 0, kLz4 = 1 };
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

// Appends `prefix` followed by `payload` as one entry (the appenders'
// framing of a group; the write thread then encodes the group).
void AppendEntry(std::string_view prefix, std::string_view payload, std::string& out);

// Appends the entries of `entries` (back to back, as AppendEntry frames
// them) to `out` as checksummed records of blocks ("RGSPOOL2" files),
// LZ4-compressed where that makes them smaller.
void AppendBlockRecords(std::string_view entries, std::string& out);
// The same as one checksummed record per entry ("RGSPOOL1" files).
void AppendPlainRecords(std::string_view entries, std::string& out);

// Appends the entries of a block record's payload to `entries`, as views
// into `scratch` (where the block is decoded); false, appending none, when
// the block is damaged.
bool DecodeBlock(std::string_view payload, std::string& scratch,
                 std::vector<std::string_view>& entries);

std::string EncodeCheckpoint(Position position);
// The position a checkpoint holds; nothing when its bytes are damaged.
std::optional<Position> DecodeCheckpoint(std::string_view bytes);

}  // namespace roentgen::ingest::spool_format
