#include "cli/flags.h"

#include <fmt/format.h>

#include <charconv>

namespace roentgen::cli {
namespace {

constexpr int64_t kMaxSeconds = 100LL * 365 * 24 * 3600;

struct Unit {
  char symbol;
  int64_t seconds;
};
constexpr Unit kUnits[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};

}  // namespace

Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  if (text.empty()) return Status::InvalidArgument("empty duration");
  auto invalid = [text](std::string_view why) {
    return Status::InvalidArgument(
        fmt::format("invalid duration '{}': {} (use e.g. 30d, 12h, 90m, 45s, 1h30m)", text, why));
  };
  int64_t total = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    if (rest.front() < '0' || rest.front() > '9') return invalid("expected a number");
    int64_t number = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), number);
    if (ec == std::errc::result_out_of_range) return invalid("too large");
    if (ec != std::errc() || end == rest.data()) return invalid("expected a number");
    rest.remove_prefix(end - rest.data());
    if (rest.empty()) return invalid("missing unit");
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (u.symbol == rest.front()) unit = &u;
    }
    if (unit == nullptr) return invalid(fmt::format("unknown unit '{}'", rest.front()));
    rest.remove_prefix(1);
    if (number > kMaxSeconds / unit->seconds) return invalid("too large");
    total += number * unit->seconds;
    if (total > kMaxSeconds) return invalid("too large");
  }
  return std::chrono::seconds(total);
}

std::string FormatDuration(std::chrono::seconds duration) {
  int64_t left = duration.count();
  if (left == 0) return "0s";
  std::string out;
  if (left < 0) {
    out = "-";
    left = -left;
  }
  for (const Unit& u : kUnits) {
    if (left >= u.seconds) {
      out += fmt::format("{}{}", left / u.seconds, u.symbol);
      left %= u.seconds;
    }
  }
  return out;
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto invalid = [text](std::string_view why) {
    return Status::InvalidArgument(
        fmt::format("invalid listen address '{}': {} (use HOST:PORT, e.g. 127.0.0.1:2000 or "
                    "[::1]:2000)",
                    text, why));
  };
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return invalid("missing ':PORT'");
  std::string_view host = text.substr(0, colon);
  std::string_view port_text = text.substr(colon + 1);
  if (host.starts_with('[')) {
    if (!host.ends_with(']') || host.size() < 3) return invalid("unbalanced brackets");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return invalid("put an IPv6 host in brackets");
  }
  if (host.empty()) return invalid("missing host");
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return invalid("the port must be a number from 0 to 65535");
  }
  return ListenAddress{std::string(host), static_cast<uint16_t>(port)};
}

}  // namespace roentgen::cli
