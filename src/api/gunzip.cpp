#include "api/gunzip.h"

#include <fmt/format.h>
#include <zlib.h>

#include <algorithm>

namespace roentgen::api {
namespace {

constexpr size_t kChunk = 64 * 1024;

// Owns a zlib inflate stream.
class Inflater {
 public:
  Inflater() = default;
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;
  ~Inflater() {
    if (initialized_) inflateEnd(&zs_);
  }
  bool Init() {
    initialized_ = inflateInit2(&zs_, 16 + MAX_WBITS) == Z_OK;  // 16: gzip wrapper only
    return initialized_;
  }
  z_stream& stream() { return zs_; }

 private:
  z_stream zs_{};
  bool initialized_ = false;
};

}  // namespace

Result<std::string> Gunzip(std::string_view compressed, size_t max_output_bytes) {
  Inflater inflater;
  if (!inflater.Init()) return Status::Internal("zlib inflateInit2 failed");
  z_stream& zs = inflater.stream();
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  zs.avail_in = static_cast<uInt>(compressed.size());
  if (compressed.size() != zs.avail_in) {
    return Status::ResourceExhausted("compressed body too large");
  }

  std::string out;
  while (true) {
    // Grow by at most one chunk, never past the cap plus one byte (the extra
    // byte tells "exactly at the cap" from "over it").
    size_t room = std::min(kChunk, max_output_bytes + 1 - out.size());
    size_t old_size = out.size();
    out.resize(old_size + room);
    zs.next_out = reinterpret_cast<Bytef*>(out.data() + old_size);
    zs.avail_out = static_cast<uInt>(room);
    int rc = inflate(&zs, Z_NO_FLUSH);
    out.resize(old_size + (room - zs.avail_out));
    if (out.size() > max_output_bytes) {
      return Status::ResourceExhausted(
          fmt::format("decompressed body exceeds {} bytes", max_output_bytes));
    }
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) return out;
      // Another gzip member follows (RFC 1952 allows concatenation).
      if (inflateReset(&zs) != Z_OK) return Status::Internal("zlib inflateReset failed");
      continue;
    }
    if (rc == Z_BUF_ERROR && zs.avail_out != 0) {
      // No progress possible with room to write: the input ended mid-stream.
      return Status::InvalidArgument("truncated gzip body");
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      return Status::InvalidArgument(
          fmt::format("invalid gzip body: {}", zs.msg != nullptr ? zs.msg : "inflate error"));
    }
  }
}

}  // namespace roentgen::api
