// Bounded gzip decompression for request bodies (Content-Encoding: gzip).
//
// The output is capped, so a small compressed body that expands enormously
// (a "zip bomb") is refused after at most `max_output_bytes` of work, not after
// allocating all of it. Pure function; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "common/status.h"

namespace roentgen::api {

// Decompresses one or more concatenated gzip members.
// Errors: InvalidArgument if the input is not a complete, valid gzip stream
// (bad header, bad checksum, truncated, trailing garbage); ResourceExhausted if
// the output would exceed `max_output_bytes`.
Result<std::string> Gunzip(std::string_view compressed, size_t max_output_bytes);

}  // namespace roentgen::api
