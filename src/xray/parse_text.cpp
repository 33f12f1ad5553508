#include "xray/parse_text.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "xray/segment.h"

namespace roentgen::xray::parse {
namespace {

// Decodes the code point starting at s[i] (valid UTF-8) and advances i.
char32_t NextCodePoint(std::string_view s, size_t& i) {
  auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) {
    ++i;
    return b0;
  }
  int extra = b0 >= 0xf0 ? 3 : b0 >= 0xe0 ? 2 : 1;
  char32_t cp = b0 & (0x3f >> extra);
  ++i;
  for (int k = 0; k < extra && i < s.size(); ++k, ++i) {
    cp = (cp << 6) | (static_cast<unsigned char>(s[i]) & 0x3f);
  }
  return cp;
}

bool IsUnicodeSpace(char32_t cp) {
  return cp == 0x85 || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

// Blocks (or parts) made of controls, punctuation, symbols, surrogates, private use.
bool IsNonLetterBlock(char32_t cp) {
  struct Range {
    char32_t lo, hi;
  };
  static constexpr Range kRanges[] = {
      {0x80, 0xbf},      // C1 controls, Latin-1 punctuation and symbols
      {0xd7, 0xd7},      // ×
      {0xf7, 0xf7},      // ÷
      {0x2000, 0x2bff},  // General Punctuation … Misc. Symbols and Arrows
      {0x2e00, 0x2e7f},  // Supplemental Punctuation
      {0x3000, 0x303f},  // CJK Symbols and Punctuation
      {0xd800, 0xf8ff},  // surrogates, private use
      {0xfe10, 0xfe1f},  // vertical forms
      {0xfe30, 0xfe4f},  // CJK compatibility forms
      {0xfe50, 0xfe6f},  // small form variants
      {0xfeff, 0xfeff},  // byte order mark
      {0xff00, 0xff0f},  // full-width punctuation
      {0xff1a, 0xff20},    {0xff3b, 0xff40}, {0xff5b, 0xff65}, {0xfff0, 0xffff},  // specials
      {0x1f000, 0x1faff},   // mahjong, cards, emoji, symbols
      {0xe0000, 0x10ffff},  // tags, supplementary private use
  };
  for (const Range& r : kRanges) {
    if (cp >= r.lo && cp <= r.hi) return true;
  }
  return false;
}

constexpr bool IsAsciiAlnum(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// IsNameCodePoint for ASCII.
constexpr bool IsNameAscii(char32_t cp) {
  if (IsAsciiAlnum(cp)) return true;
  switch (cp) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '\f':
    case '\v':
    case '_':
    case '.':
    case ':':
    case '/':
    case '%':
    case '&':
    case '#':
    case '=':
    case '+':
    case '\\':
    case '-':
    case '@':
      return true;
    default:
      return false;
  }
}

}  // namespace

size_t CountCodePoints(std::string_view utf8) {
  size_t n = 0;
  for (char c : utf8) {
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++n;
  }
  return n;
}

bool IsNameCodePoint(char32_t cp) {
  if (cp < 0x80) return IsNameAscii(cp);
  if (IsUnicodeSpace(cp)) return true;
  return !IsNonLetterBlock(cp);
}

namespace {

// The ASCII bytes IsNameCodePoint allows, as a table.
constexpr std::array<bool, 128> kNameAscii = [] {
  std::array<bool, 128> t{};
  for (char32_t c = 0; c < 128; ++c) t[c] = IsNameAscii(c);
  return t;
}();

}  // namespace

std::string CheckName(std::string_view name) {
  if (name.empty()) return "must not be empty";
  // Nearly every name is short ASCII: a byte at a time against the table, then
  // a byte is a character. Anything else takes the code-point walk below.
  if (name.size() <= kMaxNameChars && std::all_of(name.begin(), name.end(), [](char c) {
        const auto b = static_cast<unsigned char>(c);
        return b < 0x80 && kNameAscii[b];
      })) {
    return {};
  }
  size_t chars = 0;
  for (size_t i = 0; i < name.size();) {
    char32_t cp = NextCodePoint(name, i);
    ++chars;
    if (!IsNameCodePoint(cp)) {
      if (cp >= 0x20 && cp < 0x7f) {
        return fmt::format(
            "character '{}' (U+{:04X}) is not allowed (letters, digits, "
            "whitespace and _ . : / % & # = + \\ - @)",
            static_cast<char>(cp), static_cast<uint32_t>(cp));
      }
      return fmt::format(
          "character U+{:04X} is not allowed (letters, digits, whitespace and "
          "_ . : / % & # = + \\ - @)",
          static_cast<uint32_t>(cp));
    }
  }
  if (chars > kMaxNameChars) {
    return fmt::format("is {} characters, over the {} limit", chars, kMaxNameChars);
  }
  return {};
}

std::string CheckAnnotationKey(std::string_view key) {
  if (key.empty()) return "must not be empty";
  if (key.size() > kMaxAnnotationKeyChars) {
    return fmt::format("is {} characters, over the {} limit", CountCodePoints(key),
                       kMaxAnnotationKeyChars);
  }
  for (char c : key) {
    if (!IsAsciiAlnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') {
      return "may hold only letters, digits, '_' and '.'";
    }
  }
  return {};
}

std::string QuoteForMessage(std::string_view text, size_t max_bytes) {
  std::string out = "\"";
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    char32_t cp = NextCodePoint(text, i);
    if (i > max_bytes) {
      out += "...";
      break;
    }
    if (cp == '"' || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp < 0x20 || cp == 0x7f) {
      out += fmt::format("\\u{:04x}", static_cast<uint32_t>(cp));
    } else {
      out.append(text.substr(start, i - start));
    }
  }
  out += '"';
  return out;
}

}  // namespace roentgen::xray::parse
