// Golden corpus for the segment parser (tests/testdata/segments/).
//
//   valid/NAME.json    a document that must parse; NAME.expected holds the parsed
//                      model rendered by Render() below (only fields that are set).
//   invalid/NAME.json  a document that must be rejected; NAME.error holds the
//                      ErrorCode, the message and the reported id.
//
// Paths are relative to the repository root (ctest runs tests there). To rewrite
// the expected files after an intended change, run with ROENTGEN_UPDATE_GOLDEN=1
// and review the diff.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "xray/segment_parser.h"

namespace roentgen::xray {
namespace {

namespace fs = std::filesystem;

const fs::path kCorpus = "tests/testdata/segments";

std::string Quote(const std::string& s) { return nlohmann::json(s).dump(); }

class Renderer {
 public:
  std::string Take() { return std::move(out_); }

  void Document(size_t index, const SegmentDocument& doc, std::string_view whole_input) {
    out_ += fmt::format("document {}\n", index);
    if (doc.raw == whole_input) {
      Line("", "raw", "<whole input>");
    } else {
      Line("", "raw", Quote(doc.raw));
    }
    Entity(fmt::format("[{}].", index), doc.entity);
  }

 private:
  void Line(const std::string& prefix, std::string_view key, const std::string& value) {
    out_ += prefix;
    out_ += key;
    out_ += '=';
    out_ += value;
    out_ += '\n';
  }
  void Str(const std::string& prefix, std::string_view key, const std::string& value) {
    if (!value.empty()) Line(prefix, key, Quote(value));
  }
  void Flag(const std::string& prefix, std::string_view key, bool value) {
    if (value) Line(prefix, key, "true");
  }

  void Entity(const std::string& p, const xray::Entity& e) {
    Str(p, "name", e.name);
    Line(p, "id", e.id.ToString());
    if (e.trace_id) Line(p, "trace_id", e.trace_id->ToString());
    if (e.parent_id) Line(p, "parent_id", e.parent_id->ToString());
    Line(p, "start_time_us", std::to_string(e.start_time_us));
    if (e.end_time_us) Line(p, "end_time_us", std::to_string(*e.end_time_us));
    Flag(p, "in_progress", e.in_progress);
    Str(p, "type", e.type);
    Str(p, "origin", e.origin);
    Str(p, "resource_arn", e.resource_arn);
    Str(p, "user", e.user);
    Str(p, "namespace", e.namespace_);
    for (size_t i = 0; i < e.precursor_ids.size(); ++i) {
      Line(p, fmt::format("precursor_ids[{}]", i), e.precursor_ids[i].ToString());
    }
    if (e.traced) Line(p, "traced", *e.traced ? "true" : "false");
    Flag(p, "error", e.error);
    Flag(p, "throttle", e.throttle);
    Flag(p, "fault", e.fault);
    if (e.cause) Cause(p + "cause.", *e.cause);
    if (e.http) Http(p + "http.", *e.http);
    if (e.aws) Aws(p + "aws.", *e.aws);
    if (e.sql) Sql(p + "sql.", *e.sql);
    Str(p, "service.version", e.service_version);
    Str(p, "service_json", e.service_json);
    for (const Annotation& a : e.annotations) {
      std::string value;
      if (const auto* s = std::get_if<std::string>(&a.value)) value = "string:" + Quote(*s);
      if (const auto* d = std::get_if<double>(&a.value)) value = fmt::format("number:{}", *d);
      if (const auto* b = std::get_if<bool>(&a.value)) value = *b ? "bool:true" : "bool:false";
      Line(p, "annotations." + a.key, value);
    }
    Str(p, "metadata_json", e.metadata_json);
    for (size_t i = 0; i < e.subsegments.size(); ++i) {
      Entity(fmt::format("{}subsegments[{}].", p, i), e.subsegments[i]);
    }
  }

  void Cause(const std::string& p, const xray::Cause& c) {
    Str(p, "exception_id_ref", c.exception_id_ref);
    Str(p, "working_directory", c.working_directory);
    for (size_t i = 0; i < c.paths.size(); ++i)
      Line(p, fmt::format("paths[{}]", i), Quote(c.paths[i]));
    for (size_t i = 0; i < c.exceptions.size(); ++i) {
      const ExceptionInfo& x = c.exceptions[i];
      std::string q = fmt::format("{}exceptions[{}].", p, i);
      Str(q, "id", x.id);
      Str(q, "message", x.message);
      Str(q, "type", x.type);
      Flag(q, "remote", x.remote);
      if (x.truncated) Line(q, "truncated", std::to_string(x.truncated));
      if (x.skipped) Line(q, "skipped", std::to_string(x.skipped));
      Str(q, "cause", x.cause);
      for (size_t j = 0; j < x.stack.size(); ++j) {
        const StackFrame& f = x.stack[j];
        std::string r = fmt::format("{}stack[{}].", q, j);
        Str(r, "path", f.path);
        if (f.line) Line(r, "line", std::to_string(*f.line));
        Str(r, "label", f.label);
      }
    }
  }

  void Http(const std::string& p, const xray::Http& h) {
    if (h.request) {
      const HttpRequest& r = *h.request;
      std::string q = p + "request.";
      Line(q, "present", "true");
      Str(q, "method", r.method);
      Str(q, "url", r.url);
      Str(q, "user_agent", r.user_agent);
      Str(q, "client_ip", r.client_ip);
      Flag(q, "x_forwarded_for", r.x_forwarded_for);
      Flag(q, "traced", r.traced);
    }
    if (h.response) {
      std::string q = p + "response.";
      Line(q, "present", "true");
      if (h.response->status) Line(q, "status", std::to_string(*h.response->status));
      if (h.response->content_length) {
        Line(q, "content_length", std::to_string(*h.response->content_length));
      }
    }
  }

  void Aws(const std::string& p, const AwsInfo& a) {
    Str(p, "account_id", a.account_id);
    Str(p, "operation", a.operation);
    Str(p, "region", a.region);
    Str(p, "request_id", a.request_id);
    Str(p, "table_name", a.table_name);
    Str(p, "queue_url", a.queue_url);
    if (a.retries) Line(p, "retries", std::to_string(*a.retries));
    Str(p, "function_name", a.function_name);
    Str(p, "ec2_instance_id", a.ec2_instance_id);
    Str(p, "availability_zone", a.availability_zone);
    Str(p, "raw_json", a.raw_json);
  }

  void Sql(const std::string& p, const xray::Sql& s) {
    Str(p, "url", s.url);
    Str(p, "connection_string", s.connection_string);
    Str(p, "sanitized_query", s.sanitized_query);
    Str(p, "database_type", s.database_type);
    Str(p, "database_version", s.database_version);
    Str(p, "driver_version", s.driver_version);
    Str(p, "user", s.user);
    Str(p, "preparation", s.preparation);
  }

  std::string out_;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<fs::path> JsonFiles(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool UpdateMode() { return std::getenv("ROENTGEN_UPDATE_GOLDEN") != nullptr; }

void CompareOrUpdate(const fs::path& expected_path, const std::string& actual) {
  if (UpdateMode()) {
    std::ofstream(expected_path, std::ios::binary) << actual;
    return;
  }
  ASSERT_TRUE(fs::exists(expected_path)) << expected_path << " is missing";
  EXPECT_EQ(ReadFile(expected_path), actual);
}

std::string RenderAll(const std::vector<SegmentDocument>& docs, std::string_view input) {
  Renderer r;
  for (size_t i = 0; i < docs.size(); ++i) r.Document(i, docs[i], input);
  return r.Take();
}

TEST(GoldenSegmentsTest, ValidDocumentsParseToTheExpectedModel) {
  ASSERT_TRUE(fs::is_directory(kCorpus)) << "run from the repository root";
  std::vector<fs::path> files = JsonFiles(kCorpus / "valid");
  EXPECT_GE(files.size(), 25u);
  SegmentParser parser;  // one parser for all files: reuse must not leak state
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.string());
    std::string input = ReadFile(file);
    std::vector<SegmentDocument> docs;
    ParseFailure failure;
    ASSERT_TRUE(parser.Parse(input, docs, failure))
        << ParseErrorCode(failure.error) << ": " << failure.message;
    ASSERT_FALSE(docs.empty());
    std::string rendered = RenderAll(docs, input);
    CompareOrUpdate(fs::path(file).replace_extension(".expected"), rendered);

    // Each stored unit, parsed again from its raw text, gives the same entity.
    for (size_t i = 0; i < docs.size(); ++i) {
      std::vector<SegmentDocument> again;
      ASSERT_TRUE(parser.Parse(docs[i].raw, again, failure)) << failure.message;
      ASSERT_EQ(again.size(), 1u);
      Renderer a;
      a.Document(i, again[0], docs[i].raw);
      Renderer b;
      b.Document(i, docs[i], docs[i].raw);
      EXPECT_EQ(a.Take(), b.Take());
    }
  }
}

TEST(GoldenSegmentsTest, InvalidDocumentsAreRejectedWithTheExpectedError) {
  ASSERT_TRUE(fs::is_directory(kCorpus)) << "run from the repository root";
  std::vector<fs::path> files = JsonFiles(kCorpus / "invalid");
  EXPECT_GE(files.size(), 20u);
  SegmentParser parser;
  for (const fs::path& file : files) {
    SCOPED_TRACE(file.string());
    std::string input = ReadFile(file);
    std::vector<SegmentDocument> docs;
    ParseFailure failure;
    ASSERT_FALSE(parser.Parse(input, docs, failure));
    EXPECT_TRUE(docs.empty());
    std::string rendered = fmt::format("code={}\nmessage={}\nid={}\n",
                                       ParseErrorCode(failure.error), failure.message, failure.id);
    CompareOrUpdate(fs::path(file).replace_extension(".error"), rendered);
  }
}

}  // namespace
}  // namespace roentgen::xray
