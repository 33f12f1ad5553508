// Private to the segment parser: the character rules X-Ray applies to names and
// annotation keys, and code-point counting for its length limits.
//
// Inputs are valid UTF-8 (simdjson checks every document before these run).
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace roentgen::xray::parse {

// Number of Unicode code points in valid UTF-8 text.
size_t CountCodePoints(std::string_view utf8);

// True when X-Ray allows `cp` in a segment name: letters, digits, whitespace and
// _ . : / % & # = + \ - @. ASCII is checked exactly. Outside ASCII, letters and
// digits are approximated as "every code point that is not a control, a space,
// punctuation, a symbol, a surrogate or private use" by the blocks holding those
// (Latin-1 punctuation, General Punctuation through Misc. Symbols and Arrows,
// CJK punctuation, half/full-width forms' punctuation, emoji and symbol planes);
// Unicode spaces count as whitespace.
bool IsNameCodePoint(char32_t cp);

// Empty when `name` is a valid segment name, else the reason
// ("must not be empty", "is 201 characters, over the 200 limit",
// "character '!' (U+0021) is not allowed").
std::string CheckName(std::string_view name);

// Empty when `key` is a valid annotation key (1 to 500 of ASCII letters, digits,
// '_' and '.'), else the reason.
std::string CheckAnnotationKey(std::string_view key);

// Printable rendering of client text for messages: at most `max_bytes` bytes
// (cut at a character boundary, then "..."), quotes and controls escaped.
std::string QuoteForMessage(std::string_view text, size_t max_bytes = 64);

}  // namespace roentgen::xray::parse
