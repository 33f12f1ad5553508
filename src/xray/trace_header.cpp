#include "xray/trace_header.h"

#include <fmt/format.h>

namespace roentgen::xray {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Known keys are matched case-insensitively ("root=" is what some proxies send),
// so "Root" and "root" are the same field.
bool KeyIs(std::string_view key, std::string_view known) {
  if (key.size() != known.size()) return false;
  for (size_t i = 0; i < key.size(); ++i) {
    char a = key[i];
    char b = known[i];
    if (a >= 'A' && a <= 'Z') a = static_cast<char>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<char>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

// Printable form of a client-supplied value for an error message: at most 40
// bytes, control and non-ASCII bytes shown as \xNN.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  size_t n = 0;
  for (char c : s) {
    if (++n > 40) {
      out += "...";
      break;
    }
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) {
      out += fmt::format("\\x{:02x}", u);
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

Status Duplicate(std::string_view key) {
  return Status::InvalidArgument(fmt::format("trace header: duplicate {} field", key));
}

}  // namespace

Result<TraceHeader> TraceHeader::Parse(std::string_view header) {
  if (Trim(header).empty()) return Status::InvalidArgument("trace header: empty");
  TraceHeader h;
  bool seen_self = false;
  bool seen_lineage = false;
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string_view::npos) end = header.size();
    std::string_view field = Trim(header.substr(pos, end - pos));
    pos = end + 1;
    if (field.empty()) continue;  // "a=1;;b=2" and a trailing ';' are tolerated

    size_t eq = field.find('=');
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument(
          fmt::format("trace header: field {} has no '='", Quote(field)));
    }
    std::string_view key = Trim(field.substr(0, eq));
    std::string_view value = Trim(field.substr(eq + 1));
    if (key.empty()) {
      return Status::InvalidArgument(
          fmt::format("trace header: empty key in field {}", Quote(field)));
    }

    if (KeyIs(key, "Root")) {
      if (h.root) return Duplicate("Root");
      Result<TraceId> id = TraceId::Parse(value);
      if (!id.ok()) {
        return Status::InvalidArgument(
            fmt::format("trace header: bad Root {}: {}", Quote(value), id.status().message()));
      }
      h.root = *id;
    } else if (KeyIs(key, "Parent")) {
      if (h.parent) return Duplicate("Parent");
      Result<SegmentId> id = SegmentId::Parse(value);
      if (!id.ok()) {
        return Status::InvalidArgument(
            fmt::format("trace header: bad Parent {}: {}", Quote(value), id.status().message()));
      }
      h.parent = *id;
    } else if (KeyIs(key, "Sampled")) {
      if (h.sampled != SampledDecision::kUnset) return Duplicate("Sampled");
      if (value == "1") {
        h.sampled = SampledDecision::kSampled;
      } else if (value == "0") {
        h.sampled = SampledDecision::kNotSampled;
      } else if (value == "?") {
        h.sampled = SampledDecision::kRequested;
      } else {
        return Status::InvalidArgument(
            fmt::format("trace header: bad Sampled {}: must be 0, 1 or ?", Quote(value)));
      }
    } else if (KeyIs(key, "Self")) {
      if (seen_self) return Duplicate("Self");
      seen_self = true;
      h.self = value;
    } else if (KeyIs(key, "Lineage")) {
      if (seen_lineage) return Duplicate("Lineage");
      seen_lineage = true;
      h.lineage = value;
    } else {
      h.extra.emplace_back(std::string(key), std::string(value));
    }
  }
  return h;
}

std::string TraceHeader::ToString() const {
  std::string out;
  out.reserve(96);
  auto sep = [&out] {
    if (!out.empty()) out += ';';
  };
  if (root) {
    out += "Root=";
    root->AppendTo(out);
  }
  if (parent) {
    sep();
    out += "Parent=";
    parent->AppendTo(out);
  }
  if (sampled != SampledDecision::kUnset) {
    sep();
    out += "Sampled=";
    out += sampled == SampledDecision::kSampled      ? '1'
           : sampled == SampledDecision::kNotSampled ? '0'
                                                     : '?';
  }
  if (!self.empty()) {
    sep();
    out += "Self=";
    out += self;
  }
  if (!lineage.empty()) {
    sep();
    out += "Lineage=";
    out += lineage;
  }
  for (const auto& [k, v] : extra) {
    sep();
    out += k;
    out += '=';
    out += v;
  }
  return out;
}

}  // namespace roentgen::xray
