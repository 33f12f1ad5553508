#include "auth/amz_time.h"

#include <fmt/format.h>
#include <time.h>

#include <array>

namespace roentgen::auth {
namespace {

struct Fields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
};

std::optional<int> Digits(std::string_view text, size_t at, size_t n) {
  if (at + n > text.size()) return std::nullopt;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

// Epoch seconds of valid fields, or nullopt (checked by a round trip).
std::optional<int64_t> ToEpoch(const Fields& f) {
  if (f.year < 1970 || f.month < 1 || f.month > 12 || f.day < 1 || f.day > 31 || f.hour > 23 ||
      f.minute > 59 || f.second > 59) {
    return std::nullopt;
  }
  struct tm tm {};
  tm.tm_year = f.year - 1900;
  tm.tm_mon = f.month - 1;
  tm.tm_mday = f.day;
  tm.tm_hour = f.hour;
  tm.tm_min = f.minute;
  tm.tm_sec = f.second;
  const time_t t = timegm(&tm);
  struct tm back {};
  gmtime_r(&t, &back);
  if (back.tm_mday != f.day || back.tm_mon != f.month - 1) return std::nullopt;  // Feb 30
  return static_cast<int64_t>(t);
}

Fields FromEpoch(int64_t epoch_seconds) {
  const time_t t = static_cast<time_t>(epoch_seconds);
  struct tm tm {};
  gmtime_r(&t, &tm);
  return {tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
}

}  // namespace

std::string FormatAmzDate(int64_t epoch_seconds) {
  const Fields f = FromEpoch(epoch_seconds);
  return fmt::format("{:04}{:02}{:02}T{:02}{:02}{:02}Z", f.year, f.month, f.day, f.hour, f.minute,
                     f.second);
}

std::optional<int64_t> ParseAmzDate(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  auto y = Digits(text, 0, 4), mo = Digits(text, 4, 2), d = Digits(text, 6, 2),
       h = Digits(text, 9, 2), mi = Digits(text, 11, 2), s = Digits(text, 13, 2);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  return ToEpoch({*y, *mo, *d, *h, *mi, *s});
}

std::optional<int64_t> ParseHttpDate(std::string_view text) {
  // "Sun, 30 Aug 2015 12:36:00 GMT"
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (text.size() != 29 || text.substr(3, 2) != ", " || text[7] != ' ' || text[11] != ' ' ||
      text[16] != ' ' || text[19] != ':' || text[22] != ':' || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  int month = 0;
  for (size_t i = 0; i < kMonths.size(); ++i) {
    if (text.substr(8, 3) == kMonths[i]) month = static_cast<int>(i) + 1;
  }
  auto d = Digits(text, 5, 2), y = Digits(text, 12, 4), h = Digits(text, 17, 2),
       mi = Digits(text, 20, 2), s = Digits(text, 23, 2);
  if (month == 0 || !d || !y || !h || !mi || !s) return std::nullopt;
  return ToEpoch({*y, month, *d, *h, *mi, *s});
}

std::string FormatIso8601(int64_t epoch_seconds) {
  const Fields f = FromEpoch(epoch_seconds);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", f.year, f.month, f.day, f.hour,
                     f.minute, f.second);
}

std::optional<int64_t> ParseIso8601(std::string_view text) {
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z') {
    return std::nullopt;
  }
  auto y = Digits(text, 0, 4), mo = Digits(text, 5, 2), d = Digits(text, 8, 2),
       h = Digits(text, 11, 2), mi = Digits(text, 14, 2), s = Digits(text, 17, 2);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  return ToEpoch({*y, *mo, *d, *h, *mi, *s});
}

}  // namespace roentgen::auth
