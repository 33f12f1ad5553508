#include "xray/tag_rules.h"

#include <fmt/format.h>
#include <locale.h>
#include <wctype.h>

#include <optional>
#include <set>

namespace roentgen::xray {
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

Status ValidateResourceTags(const TagList& tags, std::string_view path) {
  if (tags.size() > kMaxTagsPerResource) {
    return Status::InvalidArgument(fmt::format("{}: a resource may have at most {} tags, got {}",
                                               path, kMaxTagsPerResource, tags.size()));
  }
  std::set<std::string_view> seen;
  for (size_t i = 0; i < tags.size(); ++i) {
    const std::string key_path = fmt::format("{}[{}].Key", path, i);
    RG_RETURN_IF_ERROR(ValidateTagKey(tags[i].first, key_path));
    RG_RETURN_IF_ERROR(ValidateTagValue(tags[i].second, fmt::format("{}[{}].Value", path, i)));
    if (!seen.insert(tags[i].first).second) {
      return Status::InvalidArgument(
          fmt::format("{}: the key '{}' appears more than once", key_path, tags[i].first));
    }
  }
  return Status::Ok();
}

}  // namespace roentgen::xray
