#include "xray/segment_parser.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <cstring>
#include <optional>

#include "xray/document_id.h"
#include "xray/parse_entity.h"
#include "xray/parse_reader.h"

namespace roentgen::xray {

using parse::EntityLevel;
using parse::JsonReader;
namespace od = simdjson::ondemand;

std::string_view ParseErrorCode(ParseError e) {
  switch (e) {
    case ParseError::kTooLarge:
      return "TooLarge";
    case ParseError::kMalformedJson:
      return "MalformedJson";
    case ParseError::kMissingField:
      return "MissingField";
    case ParseError::kInvalidField:
      return "InvalidField";
    case ParseError::kInvalidId:
      return "InvalidId";
  }
  return "Unknown";
}

struct SegmentParser::Impl {
  static constexpr size_t kCapacity = kMaxDocumentBytes + simdjson::SIMDJSON_PADDING;

  od::parser parser{kMaxDocumentBytes};
  // The document is copied here so simdjson can read past its end safely.
  std::unique_ptr<char[]> buffer{new char[kCapacity]};
  std::vector<parse::PathPart> path;  // JsonReader's path, kept to reuse its capacity

  bool ParseCopied(std::string_view json, const DocumentSink& out, ParseFailure& failure,
                   std::optional<size_t>& failed_element);
  bool ParseArray(JsonReader& r, od::array& arr, std::string_view json, const DocumentSink& out,
                  std::optional<size_t>& failed_element);
  // Best effort, after a failure: the `id` string of the document (or of its
  // element `element`), or empty.
  std::string FindId(size_t size, std::optional<size_t> element);
};

bool SegmentParser::Impl::ParseArray(JsonReader& r, od::array& arr, std::string_view json,
                                     const DocumentSink& out,
                                     std::optional<size_t>& failed_element) {
  size_t index = 0;
  for (auto element : arr) {
    od::value value;
    if (!r.Element(element, value)) return false;
    failed_element = index;
    JsonReader::PathScope at(r, index++);
    const char* begin = r.RawBegin(value);
    od::object obj;
    bool is_object = false;
    if (!r.OpenObject(value, "", obj, is_object)) return false;
    if (!is_object) return r.FailHere(ParseError::kInvalidField, "must be an object");
    SegmentDocument& doc = out.Next();
    if (!parse::ReadEntity(r, obj, EntityLevel::kArrayElement, 0, doc.entity)) return false;
    std::string_view raw;
    if (!r.RawEnd(begin, raw)) return false;
    doc.raw = json.substr(static_cast<size_t>(raw.data() - buffer.get()), raw.size());
  }
  failed_element.reset();
  if (index == 0) {
    return r.FailHere(ParseError::kInvalidField, "must not be an empty array of subsegments");
  }
  return true;
}

bool SegmentParser::Impl::ParseCopied(std::string_view json, const DocumentSink& out,
                                      ParseFailure& failure,
                                      std::optional<size_t>& failed_element) {
  od::document doc;
  auto report = [&failure](const JsonReader& r) {
    failure.error = r.error();
    failure.message = r.message();
    return false;
  };
  auto stage1 = [&failure](simdjson::error_code err) {
    failure.error = ParseError::kMalformedJson;
    failure.message = err == simdjson::EMPTY
                          ? std::string("malformed JSON: the document is empty")
                          : fmt::format("malformed JSON: {}", simdjson::error_message(err));
    return false;
  };
  if (auto err = parser.iterate(buffer.get(), json.size(), kCapacity).get(doc)) {
    return stage1(err);
  }
  JsonReader r(doc, buffer.get(), path);
  od::json_type type;
  if (auto err = doc.type().get(type)) return stage1(err);
  if (type == od::json_type::object) {
    od::object obj;
    if (auto err = doc.get_object().get(obj)) {
      r.Malformed(err);
      return report(r);
    }
    SegmentDocument& entity_doc = out.Next();
    if (!parse::ReadEntity(r, obj, EntityLevel::kDocument, 0, entity_doc.entity)) return report(r);
    entity_doc.raw = json;
  } else if (type == od::json_type::array) {
    od::array arr;
    if (auto err = doc.get_array().get(arr)) {
      r.Malformed(err);
      return report(r);
    }
    if (!ParseArray(r, arr, json, out, failed_element)) return report(r);
  } else {
    r.FailHere(ParseError::kInvalidField,
               "must be a JSON object (a segment) or an array of subsegments");
    return report(r);
  }
  const char* trailing = nullptr;
  if (doc.current_location().get(trailing) != simdjson::OUT_OF_BOUNDS) {
    failure.error = ParseError::kMalformedJson;
    failure.message = "malformed JSON: more content after the document";
    return false;
  }
  return true;
}

std::string SegmentParser::Impl::FindId(size_t size, std::optional<size_t> element) {
  od::document doc;
  if (parser.iterate(buffer.get(), size, kCapacity).get(doc) != simdjson::SUCCESS) return {};
  od::object obj;
  if (element) {
    od::array arr;
    if (doc.get_array().get(arr) != simdjson::SUCCESS) return {};
    size_t index = 0;
    bool found = false;
    for (auto item : arr) {
      if (item.error() != simdjson::SUCCESS) return {};
      if (index++ != *element) continue;
      if (item.get_object().get(obj) != simdjson::SUCCESS) return {};
      found = true;
      break;
    }
    if (!found) return {};
  } else if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return {};
  }
  std::string_view id;
  if (obj.find_field_unordered("id").get_string().get(id) != simdjson::SUCCESS) return {};
  if (id.size() > 64) return {};
  return std::string(id);
}

SegmentParser::SegmentParser() : impl_(std::make_unique<Impl>()) {
  // Size the parser's buffers once, for the largest document accepted. On
  // failure iterate() retries the allocation and reports it per document.
  [[maybe_unused]] simdjson::error_code err = impl_->parser.allocate(kMaxDocumentBytes);
}

SegmentParser::~SegmentParser() = default;

bool SegmentParser::Parse(std::string_view json, std::vector<SegmentDocument>& out,
                          ParseFailure& failure) {
  const size_t first_new = out.size();
  if (ParseInto(
          json, [&out]() -> SegmentDocument& { return out.emplace_back(); }, failure)) {
    return true;
  }
  out.erase(out.begin() + static_cast<std::ptrdiff_t>(first_new), out.end());
  return false;
}

bool SegmentParser::ParseWith(std::string_view json, DocumentSink sink, ParseFailure& failure) {
  failure.id.clear();
  if (json.size() > kMaxDocumentBytes) {
    failure.error = ParseError::kTooLarge;
    failure.message =
        fmt::format("document is {} bytes, over the {}-byte limit", json.size(), kMaxDocumentBytes);
    // Not parsed (the buffers hold kMaxDocumentBytes), but the sender learns
    // which segment was refused.
    failure.id = ScanDocumentId(json);
    return false;
  }
  std::memcpy(impl_->buffer.get(), json.data(), json.size());
  std::memset(impl_->buffer.get() + json.size(), 0, simdjson::SIMDJSON_PADDING);

  std::optional<size_t> failed_element;
  if (impl_->ParseCopied(json, sink, failure, failed_element)) return true;
  failure.id = impl_->FindId(json.size(), failed_element);
  return false;
}

Result<std::string_view> SplitDaemonDatagram(std::string_view datagram) {
  size_t newline = datagram.find('\n');
  if (newline == std::string_view::npos) {
    return Status::InvalidArgument(
        "daemon datagram: no newline after the header line {\"format\":\"json\",\"version\":1}");
  }
  std::string_view header = datagram.substr(0, newline);
  std::string_view document = datagram.substr(newline + 1);
  if (!header.empty() && header.back() == '\r') header.remove_suffix(1);

  // What the SDKs send; anything else gets a full parse.
  if (header != R"({"format":"json","version":1})" &&
      header != R"({"format": "json", "version": 1})") {
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (parser.parse(header.data(), header.size()).get(root) != simdjson::SUCCESS) {
      return Status::InvalidArgument("daemon datagram: the header line is not JSON");
    }
    simdjson::dom::object obj;
    if (root.get_object().get(obj) != simdjson::SUCCESS) {
      return Status::InvalidArgument("daemon datagram: the header line is not a JSON object");
    }
    std::string_view format;
    if (obj["format"].get_string().get(format) != simdjson::SUCCESS || format != "json") {
      return Status::InvalidArgument("daemon datagram: the header's format must be \"json\"");
    }
    int64_t version = 0;
    if (obj["version"].get_int64().get(version) != simdjson::SUCCESS || version != 1) {
      return Status::InvalidArgument("daemon datagram: the header's version must be 1");
    }
  }
  if (document.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return Status::InvalidArgument("daemon datagram: no document after the header line");
  }
  return document;
}

}  // namespace roentgen::xray
