#include "otlp/stack_trace.h"

#include <algorithm>
#include <charconv>

namespace roentgen::otlp {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::optional<int> ToInt(std::string_view s) {
  int v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "path:line:column" or "path:line" (JavaScript locations; the path may itself
// contain ':' as in "file:///x.js" or "node:internal/…").
StackFrame SplitJsLocation(std::string_view loc) {
  StackFrame f;
  size_t last = loc.rfind(':');
  if (last != std::string_view::npos && AllDigits(loc.substr(last + 1))) {
    std::string_view head = loc.substr(0, last);
    size_t prev = head.rfind(':');
    if (prev != std::string_view::npos && AllDigits(head.substr(prev + 1))) {
      f.path = std::string(head.substr(0, prev));
      f.line = ToInt(head.substr(prev + 1));
    } else {
      f.path = std::string(head);
      f.line = ToInt(loc.substr(last + 1));
    }
  } else {
    f.path = std::string(loc);
  }
  return f;
}

std::optional<StackFrame> ParsePython(std::string_view s) {
  // File "path", line 42, in label
  constexpr std::string_view kFile = "File \"";
  if (!s.starts_with(kFile)) return std::nullopt;
  s.remove_prefix(kFile.size());
  size_t quote = s.find('"');
  if (quote == std::string_view::npos) return std::nullopt;
  StackFrame f;
  f.path = std::string(s.substr(0, quote));
  std::string_view rest = s.substr(quote + 1);
  constexpr std::string_view kLine = ", line ";
  if (rest.starts_with(kLine)) {
    rest.remove_prefix(kLine.size());
    size_t comma = rest.find(',');
    f.line = ToInt(rest.substr(0, comma));
    constexpr std::string_view kIn = ", in ";
    if (comma != std::string_view::npos && rest.substr(comma).starts_with(kIn)) {
      f.label = std::string(Trim(rest.substr(comma + kIn.size())));
    }
  }
  return f;
}

std::optional<StackFrame> ParseAtLine(std::string_view s) {
  s.remove_prefix(3);  // "at "
  s = Trim(s);
  if (s.empty()) return std::nullopt;
  // .NET: "Label(args) in path:line N"
  size_t in = s.rfind(" in ");
  size_t line_kw = s.rfind(":line ");
  if (in != std::string_view::npos && line_kw != std::string_view::npos && line_kw > in) {
    StackFrame f;
    f.label = std::string(s.substr(0, in));
    f.path = std::string(s.substr(in + 4, line_kw - in - 4));
    f.line = ToInt(s.substr(line_kw + 6));
    return f;
  }
  if (s.back() == ')') {
    size_t open = s.rfind('(');
    if (open == std::string_view::npos) return std::nullopt;
    std::string_view label = s.substr(0, open);
    std::string_view loc = s.substr(open + 1, s.size() - open - 2);
    if (!label.empty() && label.back() == ' ') {
      // JavaScript: "label (path:line:col)"
      StackFrame f = SplitJsLocation(loc);
      f.label = std::string(Trim(label));
      return f;
    }
    // Java: "pkg.Class.method(File.java:42)" / "(Native Method)" / "(Unknown Source)"
    StackFrame f;
    f.label = std::string(label);
    size_t colon = loc.rfind(':');
    if (colon != std::string_view::npos && AllDigits(loc.substr(colon + 1))) {
      f.path = std::string(loc.substr(0, colon));
      f.line = ToInt(loc.substr(colon + 1));
    } else {
      f.path = std::string(loc);
    }
    return f;
  }
  // JavaScript without a function name: "path:line:col"
  return SplitJsLocation(s);
}

}  // namespace

std::optional<StackFrame> ParseStackLine(std::string_view line) {
  std::string_view s = Trim(line);
  if (s.starts_with("at ")) return ParseAtLine(s);
  if (s.starts_with("File \"")) return ParsePython(s);
  return std::nullopt;
}

ParsedStack ParseStackTrace(std::string_view text, size_t max_frames) {
  ParsedStack out;
  bool python = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    std::optional<StackFrame> frame = ParseStackLine(line);
    if (!frame) continue;
    if (Trim(line).starts_with("File \"")) python = true;
    out.frames.push_back(std::move(*frame));
  }
  // Python prints the outermost call first; X-Ray lists the innermost first.
  if (python) std::reverse(out.frames.begin(), out.frames.end());
  if (out.frames.size() > max_frames) {
    out.truncated = static_cast<int>(out.frames.size() - max_frames);
    out.frames.resize(max_frames);
  }
  return out;
}

}  // namespace roentgen::otlp
