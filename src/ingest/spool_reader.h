// Reads the records of one spool file (ingest/spool_format.h) up to a given
// end, in batches of views into the reader's buffers, checking each
// record's length and checksum: the appended records themselves, taken out
// of their blocks in a file of blocks. Used by the spool's consumer thread and by
// spool snapshots (backups), so both read the log the same way.
//
// Thread safety: one thread per reader.
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace roentgen::ingest {

// Reads up to `size` bytes at `offset` of `fd`; fewer only at the end of the
// file. `path` names the file in errors (IOError).
Result<size_t> ReadAt(int fd, char* out, size_t size, uint64_t offset, const std::string& path);

class SpoolFileReader {
 public:
  // Reads `fd` (borrowed: it must stay open while the reader is used).
  SpoolFileReader(int fd, std::string path);

  enum class Stop {
    kBatchFull,  // `max` records were read
    kEnd,        // the records reach `end`
    kRefill,     // the next record is not in the buffer: give up the views, then read on
    kDamaged,    // the data at `next` is not a whole record that checks out
    kReadError,  // the file could not be read at `next` (`error`)
  };
  struct Outcome {
    Stop stop = Stop::kEnd;
    uint64_t next = 0;   // the offset after the last record read (where damage begins)
    std::string damage;  // what is wrong at `next`, for kDamaged
    Status error;        // for kReadError
  };

  // Fills `records`, empty at the call, with the appended records in
  // [offset, end), at most `max`, or in a file of blocks as many more as
  // its last block holds (a batch ends where a block does, so `next` is
  // always a place to read on from). The file's magic is checked at the
  // first call; an `offset` inside it goes past it. The views stay valid
  // until the next call.
  Outcome Read(uint64_t offset, uint64_t end, size_t max, std::vector<std::string_view>& records);

 private:
  // Makes [from, from + want) readable in buf_ (fewer bytes at `end`); on a
  // failed or short read, the reason.
  Status Fill(uint64_t from, uint64_t want, uint64_t end);
  bool Buffered(uint64_t offset, uint64_t n) const {
    return offset >= buf_offset_ && offset + n <= buf_offset_ + buf_.size();
  }

  enum class Format { kUnknown, kRecords, kBlocks };

  const int fd_;
  const std::string path_;
  Format format_ = Format::kUnknown;
  std::string buf_;  // file bytes [buf_offset_, buf_offset_ + buf_.size())
  uint64_t buf_offset_ = 0;
  // The blocks decoded by one Read (its views point into them), reused.
  std::deque<std::string> blocks_;  // a deque: growing it moves none
};

}  // namespace roentgen::ingest
