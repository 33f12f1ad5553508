// JSON text helpers for the hand-written documents.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "sdk_internal.h"

namespace roentgen::sdk::detail {

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the run of characters copied as they are
  for (size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void AppendJsonNumber(std::string& out, double v) {
  // The shortest text that reads back as the same double.
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? static_cast<size_t>(end - buf) : 0);
}

void AppendEpochSeconds(std::string& out, double seconds) {
  // Seconds with six decimals (microseconds), without printf's cost on the
  // hot path.
  auto micros = static_cast<int64_t>(std::llround(seconds * 1e6));
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, micros / 1'000'000);
  out.append(buf, static_cast<size_t>(end - buf));
  out.push_back('.');
  int64_t frac = micros % 1'000'000;
  char digits[6];
  for (int i = 5; i >= 0; --i, frac /= 10) digits[i] = static_cast<char>('0' + frac % 10);
  out.append(digits, 6);
}

bool IsValidJson(std::string_view text) { return nlohmann::json::accept(text); }

double EpochSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

double NowSeconds() { return EpochSeconds(std::chrono::system_clock::now()); }

}  // namespace roentgen::sdk::detail
