// JSON text helpers for the hand-written documents.
#include <cmath>
#include <cstdio>

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
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
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
  char buf[32];
  int n;
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    n = std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    n = std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  out.append(buf, static_cast<size_t>(n));
}

void AppendEpochSeconds(std::string& out, double seconds) {
  char buf[32];
  int n = std::snprintf(buf, sizeof buf, "%.6f", seconds);
  out.append(buf, static_cast<size_t>(n));
}

bool IsValidJson(std::string_view text) { return nlohmann::json::accept(text); }

double EpochSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

double NowSeconds() { return EpochSeconds(std::chrono::system_clock::now()); }

}  // namespace roentgen::sdk::detail
