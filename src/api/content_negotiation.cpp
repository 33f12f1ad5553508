#include "api/content_negotiation.h"

#include <charconv>
#include <optional>

namespace roentgen::api {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// The q value of one element's parameters ("q=0.5;…"): 1 when absent,
// nullopt when malformed.
std::optional<double> QValue(std::string_view params) {
  while (!params.empty()) {
    const size_t semi = params.find(';');
    std::string_view param = Trim(params.substr(0, semi));
    params = semi == std::string_view::npos ? std::string_view() : params.substr(semi + 1);
    const size_t eq = param.find('=');
    if (eq == std::string_view::npos || !EqualsIgnoreCase(Trim(param.substr(0, eq)), "q")) {
      continue;
    }
    const std::string_view value = Trim(param.substr(eq + 1));
    double q = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), q);
    if (ec != std::errc() || end != value.data() + value.size() || !(q >= 0 && q <= 1)) {
      return std::nullopt;
    }
    return q;
  }
  return 1.0;
}

}  // namespace

AcceptedCodings ParseAcceptEncoding(std::string_view accept_encoding) {
  std::optional<double> brotli, gzip, any;
  while (!accept_encoding.empty()) {
    const size_t comma = accept_encoding.find(',');
    const std::string_view element = accept_encoding.substr(0, comma);
    accept_encoding =
        comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
    const size_t semi = element.find(';');
    const std::string_view coding = Trim(element.substr(0, semi));
    if (coding.empty()) continue;
    const std::optional<double> q =
        QValue(semi == std::string_view::npos ? std::string_view() : element.substr(semi + 1));
    if (!q) continue;
    if (EqualsIgnoreCase(coding, "br")) {
      brotli = q;
    } else if (EqualsIgnoreCase(coding, "gzip") || EqualsIgnoreCase(coding, "x-gzip")) {
      gzip = q;
    } else if (coding == "*") {
      any = q;
    }
  }
  auto accepted = [&any](const std::optional<double>& listed) {
    const std::optional<double>& q = listed ? listed : any;
    return q.has_value() && *q > 0;
  };
  return AcceptedCodings{accepted(brotli), accepted(gzip)};
}

bool IfNoneMatchMatches(std::string_view if_none_match, std::string_view etag) {
  if (Trim(if_none_match) == "*") return true;
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  // entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; etagc excludes DQUOTE but not
  // commas, so the list is read tag by tag rather than split at commas.
  size_t i = 0;
  while (i < if_none_match.size()) {
    const char c = if_none_match[i];
    if (IsSpace(c) || c == ',') {
      ++i;
      continue;
    }
    if (if_none_match.substr(i).starts_with("W/")) i += 2;
    if (i >= if_none_match.size() || if_none_match[i] != '"') {
      // Not an entity tag: skip to the next element.
      const size_t comma = if_none_match.find(',', i);
      if (comma == std::string_view::npos) break;
      i = comma + 1;
      continue;
    }
    const size_t close = if_none_match.find('"', i + 1);
    if (close == std::string_view::npos) break;
    if (if_none_match.substr(i, close - i + 1) == etag) return true;
    i = close + 1;
  }
  return false;
}

}  // namespace roentgen::api
