#include "xray/document_id.h"

#include <cstring>
#include <optional>

namespace roentgen::xray {
namespace {

size_t SkipSpace(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

struct JsonString {
  std::string_view text;  // between the quotes, escapes as written
  bool escaped() const { return text.find('\\') != std::string_view::npos; }
};

// The string whose opening quote is at `i`; moves `i` past its closing quote.
// Nullopt when the text ends inside it. memchr finds each quote (a string
// may be megabytes of metadata); one after an odd run of backslashes is
// escaped. Each run is looked at once, so this is linear.
std::optional<JsonString> ReadString(std::string_view s, size_t& i) {
  size_t j = i + 1;
  while (true) {
    const void* quote = std::memchr(s.data() + j, '"', s.size() - j);
    if (quote == nullptr) return std::nullopt;
    const size_t k = static_cast<size_t>(static_cast<const char*>(quote) - s.data());
    size_t backslashes = 0;
    while (k - backslashes > i + 1 && s[k - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) {
      JsonString out{s.substr(i + 1, k - i - 1)};
      i = k + 1;
      return out;
    }
    j = k + 1;
  }
}

bool Reportable(const JsonString& id) {
  if (id.escaped() || id.text.empty() || id.text.size() > kMaxReportedIdChars) return false;
  for (char c : id.text) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

}  // namespace

std::string ScanDocumentId(std::string_view s) {
  size_t i = SkipSpace(s, 0);
  if (i < s.size() && s[i] == '[') i = SkipSpace(s, i + 1);  // an array: its first element
  if (i >= s.size() || s[i] != '{') return {};

  // From the object's opening brace to its end: depth 1 is its own members.
  int depth = 0;
  bool expect_key = false;  // the next string at depth 1 is a member's name
  while (i < s.size()) {
    i = s.find_first_of("\"{}[],", i);
    if (i == std::string_view::npos) return {};
    switch (s[i]) {
      case '"': {
        std::optional<JsonString> str = ReadString(s, i);
        if (!str) return {};
        if (depth != 1 || !expect_key) continue;  // a value, or text inside one
        expect_key = false;
        i = SkipSpace(s, i);
        if (i >= s.size() || s[i] != ':') return {};
        if (str->text != "id") continue;  // written with escapes, it is not recognized
        i = SkipSpace(s, i + 1);
        if (i >= s.size() || s[i] != '"') return {};  // not a string: nothing to report
        std::optional<JsonString> id = ReadString(s, i);
        if (!id || !Reportable(*id)) return {};
        return std::string(id->text);
      }
      case '{':
        if (++depth == 1) expect_key = true;
        break;
      case '[':
        ++depth;
        break;
      case '}':
      case ']':
        if (--depth <= 0) return {};  // the object ended without an id
        break;
      case ',':
        if (depth == 1) expect_key = true;
        break;
    }
    ++i;
  }
  return {};
}

}  // namespace roentgen::xray
