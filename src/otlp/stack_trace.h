// Parses the `exception.stacktrace` attribute of an OpenTelemetry exception
// event into X-Ray stack frames ({path, line, label}).
//
// Recognised line shapes (one frame per line; other lines, such as the
// exception's own first line or "Caused by:", are skipped):
//   JavaScript  "    at label (path:line:column)"  /  "    at path:line:column"
//   Java        "\tat package.Class.method(File.java:42)"
//   Python      "  File \"path\", line 42, in label"
//   .NET        "   at Namespace.Class.Method() in /path/File.cs:line 42"
// Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace roentgen::otlp {

struct StackFrame {
  std::string path;
  std::optional<int> line;
  std::string label;
  bool operator==(const StackFrame&) const = default;
};

struct ParsedStack {
  std::vector<StackFrame> frames;  // at most max_frames, innermost first
  int truncated = 0;               // frames recognised but left out
};

// One line → a frame, or nullopt if the line is not a frame in a known shape.
std::optional<StackFrame> ParseStackLine(std::string_view line);

ParsedStack ParseStackTrace(std::string_view text, size_t max_frames);

}  // namespace roentgen::otlp
