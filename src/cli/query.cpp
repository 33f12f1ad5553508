#include "cli/query.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>
#include <ostream>

#include "cli/api_client.h"
#include "common/clock.h"

namespace roentgen::cli {
namespace {

using nlohmann::json;

struct ApiAnswer {
  int status = 0;
  json body;
};

// POST /TraceSummaries with `request`; an error status names what went wrong
// with the connection. The caller inspects HTTP status and body.
Result<ApiAnswer> PostTraceSummaries(const ServerUrl& server, const ApiClientOptions& options,
                                     const json& request) {
  Result<ApiReply> reply = PostJson(server, "/TraceSummaries", request.dump(), options);
  if (!reply.ok()) return reply.status();
  ApiAnswer answer;
  answer.status = reply->status;
  answer.body = json::parse(reply->body, nullptr, /*allow_exceptions=*/false);
  if (answer.body.is_discarded()) {
    return Status::IOError(
        fmt::format("the server answered HTTP {} with a body that is not JSON", answer.status));
  }
  return answer;
}

std::string StatusColumn(const json& s) {
  std::string text;
  if (auto http = s.find("Http"); http != s.end() && http->contains("HttpStatus")) {
    text = fmt::format("{} ", (*http)["HttpStatus"].get<int>());
  }
  if (s.value("HasFault", false)) return text + "FAULT";
  if (s.value("HasThrottle", false)) return text + "THROTTLE";
  if (s.value("HasError", false)) return text + "ERROR";
  return text + "OK";
}

std::string AnnotationValueText(const json& v) {
  if (v.contains("StringValue")) return v["StringValue"].get<std::string>();
  if (v.contains("NumberValue")) return fmt::format("{}", v["NumberValue"].get<double>());
  if (v.contains("BooleanValue")) return v["BooleanValue"].get<bool>() ? "true" : "false";
  return "?";
}

std::string AnnotationsColumn(const json& s) {
  std::string text;
  auto annotations = s.find("Annotations");
  if (annotations == s.end() || !annotations->is_object()) return text;
  for (const auto& [key, values] : annotations->items()) {
    if (!text.empty()) text += ' ';
    text += key;
    text += '=';
    bool first = true;
    for (const json& v : values) {
      if (!first) text += '|';
      first = false;
      text += AnnotationValueText(v.value("AnnotationValue", json::object()));
    }
  }
  return text;
}

}  // namespace

Result<double> ParseTimestamp(std::string_view text) {
  std::string s(text);
  char* end = nullptr;
  double number = std::strtod(s.c_str(), &end);
  if (!s.empty() && end == s.c_str() + s.size() && std::isfinite(number)) return number;

  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return Status::InvalidArgument(fmt::format(
        "\"{}\": expected epoch seconds or an ISO 8601 UTC time like 2026-11-25T14:00:00Z", s));
  }
  double fraction = 0;
  std::string_view rest = std::string_view(s).substr(consumed);
  if (!rest.empty() && rest.front() == '.') {
    size_t digits = 1;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    fraction = std::strtod(std::string(rest.substr(0, digits)).c_str(), nullptr);
    rest.remove_prefix(digits);
  }
  if (rest != "Z") {
    return Status::InvalidArgument(fmt::format("\"{}\": the time must be UTC and end with Z", s));
  }
  if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
      tm.tm_min > 59 || tm.tm_sec > 60) {
    return Status::InvalidArgument(fmt::format("\"{}\": a date or time field is out of range", s));
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<double>(timegm(&tm)) + fraction;
}

std::string FormatTimestamp(double epoch_seconds) {
  auto whole = static_cast<std::time_t>(std::floor(epoch_seconds));
  int millis = static_cast<int>(std::lround((epoch_seconds - whole) * 1000));
  if (millis == 1000) {
    ++whole;
    millis = 0;
  }
  std::tm tm{};
  gmtime_r(&whole, &tm);
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

std::string SummaryTableHeader() {
  return fmt::format("{:<35}  {:<23}  {:>9}  {:<12}  {}", "TRACE ID", "START (UTC)", "RESPONSE",
                     "STATUS", "ANNOTATIONS");
}

std::string FormatSummaryRow(const json& s) {
  std::string response = "-";
  if (auto rt = s.find("ResponseTime"); rt != s.end() && rt->is_number()) {
    response = fmt::format("{:.3f}s", rt->get<double>());
  }
  double start = s.value("StartTime", 0.0);
  return fmt::format("{:<35}  {:<23}  {:>9}  {:<12}  {}", s.value("Id", std::string("?")),
                     start > 0 ? FormatTimestamp(start) : "-", response, StatusColumn(s),
                     AnnotationsColumn(s));
}

int RunQuery(const QueryConfig& config, std::ostream& out, std::ostream& err) {
  Result<ServerUrl> server = ParseServerUrl(config.server);
  if (!server.ok()) {
    err << "error: --server: " << server.status().message() << "\n";
    return 1;
  }
  if (!config.ca_file.empty() && !server->https) {
    err << "error: --ca-file is for an https:// server; --server " << config.server
        << " is plain HTTP\n";
    return 1;
  }
  const ApiClientOptions options{.ca_file = config.ca_file};
  const double now = Clock::System().NowMicros() / 1e6;
  const double to = config.to_epoch_seconds.value_or(now);
  const double from =
      config.from_epoch_seconds.value_or(to - static_cast<double>(config.since.count()));

  json request = {{"StartTime", from}, {"EndTime", to}};
  if (!config.expression.empty()) request["FilterExpression"] = config.expression;

  size_t printed = 0;
  if (!config.json) out << SummaryTableHeader() << "\n";
  while (printed < config.limit) {
    Result<ApiAnswer> reply = PostTraceSummaries(*server, options, request);
    if (!reply.ok()) {
      err << "error: " << reply.status().message() << "\n";
      return 1;
    }
    if (reply->status != 200) {
      const json& body = reply->body;
      std::string type = body.value("__type", std::string("error"));
      std::string message = body.value("message", body.value("Message", std::string()));
      err << "error: " << type << ": " << message << "\n";
      return reply->status >= 400 && reply->status < 500 ? 2 : 1;
    }
    const json& page = reply->body;
    for (const json& summary : page.value("TraceSummaries", json::array())) {
      if (printed == config.limit) break;
      out << (config.json ? summary.dump() : FormatSummaryRow(summary)) << "\n";
      ++printed;
    }
    auto token = page.find("NextToken");
    if (token == page.end() || !token->is_string() || token->get<std::string>().empty()) break;
    request["NextToken"] = *token;
  }
  if (!config.json) err << printed << (printed == 1 ? " trace\n" : " traces\n");
  return 0;
}

}  // namespace roentgen::cli
