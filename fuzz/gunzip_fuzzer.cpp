// Fuzzes the bounded gunzip of request bodies (api::Gunzip, Content-Encoding:
// gzip): the input as a gzip stream, and the input gzip-compressed by zlib
// (one member, then two concatenated).
//
// Invariants: output never exceeds the cap; compressing then gunzipping
// gives the input back; a cap below the input's size is ResourceExhausted.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "api/gunzip.h"
#include "fuzz_check.h"

using namespace roentgen;

namespace {

constexpr size_t kCap = 1 << 20;

std::string Gzip(std::string_view data) {
  z_stream zs{};
  FUZZ_CHECK(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                          Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  FUZZ_CHECK(deflate(&zs, Z_FINISH) == Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  Result<std::string> raw = api::Gunzip(input, kCap);
  if (raw.ok()) {
    FUZZ_CHECK(raw->size() <= kCap);
  } else {
    FUZZ_CHECK(raw.status().code() == StatusCode::kInvalidArgument ||
               raw.status().code() == StatusCode::kResourceExhausted);
  }

  const std::string once = Gzip(input);
  Result<std::string> back = api::Gunzip(once, kCap);
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(*back == input);
  Result<std::string> twice = api::Gunzip(once + once, kCap);
  FUZZ_CHECK(twice.ok());
  FUZZ_CHECK(*twice == std::string(input) + std::string(input));
  if (!input.empty()) {
    Result<std::string> capped = api::Gunzip(once, input.size() - 1);
    FUZZ_CHECK(!capped.ok() && capped.status().code() == StatusCode::kResourceExhausted);
  }
  return 0;
}
