// Tag rules and the TagService. See tags.h.
#include "api/tags.h"

#include <fmt/format.h>
#include <locale.h>
#include <wctype.h>

#include <algorithm>
#include <optional>
#include <set>

#include "api/json_io.h"

namespace roentgen::api {
namespace {

// The C library's Unicode character classes (glibc has C.UTF-8 built in),
// created once and never freed: classification with a locale_t is
// thread-safe and does not depend on the process's locale.
locale_t UnicodeLocale() {
  static const locale_t locale = newlocale(LC_CTYPE_MASK, "C.UTF-8", locale_t{});
  return locale;
}

// The code point at `text[*pos]`, advancing *pos; nullopt for bytes that are
// not UTF-8.
std::optional<char32_t> NextCodePoint(std::string_view text, size_t* pos) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(*pos);
  size_t length = 0;
  char32_t cp = 0;
  if (lead < 0x80) {
    ++*pos;
    return lead;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2;
    cp = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    cp = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    cp = lead & 0x07;
  } else {
    return std::nullopt;
  }
  if (*pos + length > text.size()) return std::nullopt;
  for (size_t i = 1; i < length; ++i) {
    const unsigned char b = byte(*pos + i);
    if ((b & 0xC0) != 0x80) return std::nullopt;
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
  static constexpr char32_t kMinForLength[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMinForLength[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    return std::nullopt;
  }
  *pos += length;
  return cp;
}

bool AllowedInTag(char32_t cp) {
  if (cp < 0x80) {
    const char c = static_cast<char>(cp);
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ' ||
           c == '_' || c == '.' || c == ':' || c == '/' || c == '=' || c == '+' || c == '-' ||
           c == '@';
  }
  const locale_t locale = UnicodeLocale();
  if (locale == locale_t{}) return false;
  const auto wc = static_cast<wint_t>(cp);
  return iswalnum_l(wc, locale) || iswspace_l(wc, locale);
}

// The text's length in code points, or an InvalidArgument naming `path` for a
// character a tag may not hold.
Result<size_t> TagTextLength(std::string_view text, std::string_view path) {
  size_t pos = 0;
  size_t length = 0;
  while (pos < text.size()) {
    const size_t at = pos;
    std::optional<char32_t> cp = NextCodePoint(text, &pos);
    if (!cp) return Status::InvalidArgument(fmt::format("{}: is not valid UTF-8", path));
    if (!AllowedInTag(*cp)) {
      return Status::InvalidArgument(fmt::format(
          "{}: the character '{}' is not allowed; tags may hold letters, digits, white space "
          "and _ . : / = + - @",
          path, text.substr(at, pos - at)));
    }
    ++length;
  }
  return length;
}

bool IsReservedKey(std::string_view key) {
  if (key.size() < 4) return false;
  return (key[0] == 'a' || key[0] == 'A') && (key[1] == 'w' || key[1] == 'W') &&
         (key[2] == 's' || key[2] == 'S') && key[3] == ':';
}

}  // namespace

Status ValidateTagKey(std::string_view key, std::string_view path) {
  Result<size_t> length = TagTextLength(key, path);
  if (!length.ok()) return length.status();
  if (*length == 0 || *length > kMaxTagKeyLength) {
    return Status::InvalidArgument(
        fmt::format("{}: must be 1 to {} characters long", path, kMaxTagKeyLength));
  }
  if (IsReservedKey(key)) {
    return Status::InvalidArgument(fmt::format("{}: the aws: prefix is reserved", path));
  }
  return Status::Ok();
}

Status ValidateTagValue(std::string_view value, std::string_view path) {
  Result<size_t> length = TagTextLength(value, path);
  if (!length.ok()) return length.status();
  if (*length > kMaxTagValueLength) {
    return Status::InvalidArgument(
        fmt::format("{}: at most {} characters long", path, kMaxTagValueLength));
  }
  return Status::Ok();
}

Result<TagList> ParseTagList(simdjson::dom::array array, std::string_view path) {
  if (array.size() > kMaxTagsPerRequest) {
    return Status::InvalidArgument(fmt::format("{}: at most {} tags per request, got {}", path,
                                               kMaxTagsPerRequest, array.size()));
  }
  TagList tags;
  std::set<std::string_view> seen;
  size_t i = 0;
  for (simdjson::dom::element e : array) {
    const std::string item = fmt::format("{}[{}]", path, i++);
    simdjson::dom::object tag;
    if (e.get(tag) != simdjson::SUCCESS) {
      return Status::InvalidArgument(fmt::format("{}: must be an object", item));
    }
    const std::string key_path = item + ".Key";
    const std::string value_path = item + ".Value";
    Field<std::string_view> key = GetString(tag, "Key", key_path);
    if (!key.ok()) return key.status();
    if (!key->has_value()) return Status::InvalidArgument(key_path + ": required");
    Field<std::string_view> value = GetString(tag, "Value", value_path);
    if (!value.ok()) return value.status();
    if (!value->has_value()) return Status::InvalidArgument(value_path + ": required");
    RG_RETURN_IF_ERROR(ValidateTagKey(**key, key_path));
    RG_RETURN_IF_ERROR(ValidateTagValue(**value, value_path));
    if (!seen.insert(**key).second) {
      return Status::InvalidArgument(
          fmt::format("{}: the key '{}' appears more than once", key_path, **key));
    }
    tags.emplace_back(std::string(**key), std::string(**value));
  }
  return tags;
}

Result<std::vector<std::string>> ParseTagKeys(simdjson::dom::array array, std::string_view path) {
  if (array.size() > kMaxTagsPerRequest) {
    return Status::InvalidArgument(fmt::format("{}: at most {} keys per request, got {}", path,
                                               kMaxTagsPerRequest, array.size()));
  }
  std::vector<std::string> keys;
  size_t i = 0;
  for (simdjson::dom::element e : array) {
    const std::string item = fmt::format("{}[{}]", path, i++);
    std::string_view key;
    if (e.get(key) != simdjson::SUCCESS) {
      return Status::InvalidArgument(fmt::format("{}: must be a string", item));
    }
    RG_RETURN_IF_ERROR(ValidateTagKey(key, item));
    keys.emplace_back(key);
  }
  return keys;
}

Status CheckNewResourceTags(const TagList& tags, std::string_view path) {
  if (tags.size() > kMaxTagsPerResource) {
    return Status::InvalidArgument(fmt::format("{}: a resource may have at most {} tags, got {}",
                                               path, kMaxTagsPerResource, tags.size()));
  }
  return Status::Ok();
}

void TagService::Register(std::shared_ptr<TaggableResources> kind) {
  kinds_.push_back(std::move(kind));
}

Result<TaggableResources*> TagService::KindOf(std::string_view arn) const {
  for (const auto& kind : kinds_) {
    if (kind->ClaimsArn(arn)) return kind.get();
  }
  return Status::NotFound(
      fmt::format("ResourceARN: no taggable resource has the ARN '{}'", arn.substr(0, 400)));
}

Result<TagList> TagService::List(std::string_view arn) const {
  Result<TaggableResources*> kind = KindOf(arn);
  if (!kind.ok()) return kind.status();
  return (*kind)->Tags(arn);
}

Status TagService::Tag(std::string_view arn, const TagList& tags) {
  Result<TaggableResources*> kind = KindOf(arn);
  if (!kind.ok()) return kind.status();
  return (*kind)->EditTags(arn, [&](TagList current) -> Result<TagList> {
    // Not a structured binding: clang 14 cannot capture one in the lambda.
    for (const auto& added : tags) {
      auto it = std::find_if(current.begin(), current.end(),
                             [&](const auto& tag) { return tag.first == added.first; });
      if (it != current.end()) {
        it->second = added.second;
      } else {
        current.push_back(added);
      }
    }
    if (current.size() > kMaxTagsPerResource) {
      return Status::ResourceExhausted(fmt::format(
          "Tags: a resource may have at most {} tags; this request would leave it with {}",
          kMaxTagsPerResource, current.size()));
    }
    return current;
  });
}

Status TagService::Untag(std::string_view arn, const std::vector<std::string>& keys) {
  Result<TaggableResources*> kind = KindOf(arn);
  if (!kind.ok()) return kind.status();
  return (*kind)->EditTags(arn, [&](TagList current) -> Result<TagList> {
    std::erase_if(current, [&](const auto& tag) {
      return std::find(keys.begin(), keys.end(), tag.first) != keys.end();
    });
    return current;
  });
}

}  // namespace roentgen::api
