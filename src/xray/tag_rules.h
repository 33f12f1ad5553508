// X-Ray's rules for resource tags (docs/api.md "Tags"), shared by every kind of
// taggable resource (groups, sampling rules) and by the API that parses tag
// lists (api/tags.h):
//  - at most kMaxTagsPerResource (50) tags on a resource; a request lists at
//    most kMaxTagsPerRequest (200) tags or keys;
//  - a key is 1–128 characters, a value 0–256 (characters = Unicode code
//    points); both may hold Unicode letters and digits, white space and
//    _ . : / = + - @ (AWS's tag pattern [\p{L}\p{Z}\p{N}_.:/=+\-@]*; the
//    Unicode classes are the C library's C.UTF-8 tables);
//  - keys are case-sensitive ("Team" and "team" are two tags); a key starting
//    with "aws:" in any case is reserved for AWS and refused;
//  - a key appears once per resource.
// Errors are InvalidArgument naming the field (`path`, "Tags[3].Key: …").
//
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace roentgen::xray {

using TagList = std::vector<std::pair<std::string, std::string>>;  // key, value

inline constexpr size_t kMaxTagsPerResource = 50;
inline constexpr size_t kMaxTagsPerRequest = 200;
inline constexpr size_t kMaxTagKeyLength = 128;
inline constexpr size_t kMaxTagValueLength = 256;

Status ValidateTagKey(std::string_view key, std::string_view path);
Status ValidateTagValue(std::string_view value, std::string_view path);

// The tags a resource is stored with: at most kMaxTagsPerResource, each key
// and value valid (`path`[i].Key / .Value in messages), no key twice.
Status ValidateResourceTags(const TagList& tags, std::string_view path);

}  // namespace roentgen::xray
