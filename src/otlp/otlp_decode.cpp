#include "otlp/otlp_decode.h"

#include <fmt/format.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/hex.h"
#include "roentgen/otlp/rpc_status.pb.h"

namespace roentgen::otlp {
namespace {

using nlohmann::json;

std::string Base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Replaces the hex id under `camel` (or `snake`) in `obj` by its base64 form,
// which protobuf's JSON parser expects for bytes fields.
Status RewriteId(json& obj, const char* camel, const char* snake, std::string_view where) {
  for (const char* key : {camel, snake}) {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_string()) continue;
    const std::string& hex = it->get_ref<const std::string&>();
    if (hex.size() % 2 != 0) {
      return Status::InvalidArgument(fmt::format(
          "{}.{}: \"{}\" is not an even number of hex digits", where, camel, hex.substr(0, 64)));
    }
    std::vector<uint8_t> bytes(hex.size() / 2);
    if (!DecodeHex(hex, bytes)) {
      return Status::InvalidArgument(
          fmt::format("{}.{}: \"{}\" is not hex", where, camel, hex.substr(0, 64)));
    }
    *it = Base64(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  return Status::Ok();
}

json* Member(json& obj, const char* camel, const char* snake) {
  if (!obj.is_object()) return nullptr;
  for (const char* key : {camel, snake}) {
    auto it = obj.find(key);
    if (it != obj.end() && it->is_array()) return &*it;
  }
  return nullptr;
}

Status RewriteSpan(json& span, const std::string& where) {
  RG_RETURN_IF_ERROR(RewriteId(span, "traceId", "trace_id", where));
  RG_RETURN_IF_ERROR(RewriteId(span, "spanId", "span_id", where));
  RG_RETURN_IF_ERROR(RewriteId(span, "parentSpanId", "parent_span_id", where));
  json* links = Member(span, "links", "links");
  if (links == nullptr) return Status::Ok();
  for (size_t l = 0; l < links->size(); ++l) {
    json& link = (*links)[l];
    if (!link.is_object()) continue;
    std::string lwhere = fmt::format("{}.links[{}]", where, l);
    RG_RETURN_IF_ERROR(RewriteId(link, "traceId", "trace_id", lwhere));
    RG_RETURN_IF_ERROR(RewriteId(link, "spanId", "span_id", lwhere));
  }
  return Status::Ok();
}

Status RewriteIds(json& root) {
  json* resources = Member(root, "resourceSpans", "resource_spans");
  if (resources == nullptr) return Status::Ok();
  for (size_t r = 0; r < resources->size(); ++r) {
    json* scopes = Member((*resources)[r], "scopeSpans", "scope_spans");
    if (scopes == nullptr) continue;
    for (size_t s = 0; s < scopes->size(); ++s) {
      json* spans = Member((*scopes)[s], "spans", "spans");
      if (spans == nullptr) continue;
      for (size_t i = 0; i < spans->size(); ++i) {
        json& span = (*spans)[i];
        if (!span.is_object()) continue;
        RG_RETURN_IF_ERROR(
            RewriteSpan(span, fmt::format("resourceSpans[{}].scopeSpans[{}].spans[{}]", r, s, i)));
      }
    }
  }
  return Status::Ok();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::optional<Encoding> EncodingFromContentType(std::string_view content_type) {
  std::string_view media = content_type.substr(0, content_type.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  while (!media.empty() && media.front() == ' ') media.remove_prefix(1);
  std::string lower = Lower(media);
  if (lower == "application/x-protobuf") return Encoding::kProtobuf;
  if (lower == "application/json") return Encoding::kJson;
  return std::nullopt;
}

std::string_view ContentType(Encoding encoding) {
  return encoding == Encoding::kProtobuf ? "application/x-protobuf" : "application/json";
}

Status DecodeRequest(std::string_view body, Encoding encoding, ExportTraceServiceRequest& request) {
  if (encoding == Encoding::kProtobuf) {
    if (!request.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
      return Status::InvalidArgument("body is not a valid protobuf ExportTraceServiceRequest");
    }
    return Status::Ok();
  }
  json root = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) return Status::InvalidArgument("body is not valid JSON");
  if (!root.is_object()) return Status::InvalidArgument("body must be a JSON object");
  RG_RETURN_IF_ERROR(RewriteIds(root));
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  std::string text = root.dump(-1, ' ', false, json::error_handler_t::replace);
  auto status = google::protobuf::util::JsonStringToMessage(text, &request, options);
  if (!status.ok()) {
    return Status::InvalidArgument(
        fmt::format("body is not a valid OTLP/JSON ExportTraceServiceRequest: {}",
                    status.message().as_string()));
  }
  return Status::Ok();
}

namespace {
google::protobuf::ArenaOptions ArenaOptionsFor(size_t body_bytes) {
  // Decoded messages take a few times the wire bytes; blocks of 4 MB at most
  // keep a huge body from reserving more than it needs at once.
  google::protobuf::ArenaOptions options;
  options.start_block_size = std::clamp<size_t>(body_bytes * 4, 4096, 4 << 20);
  options.max_block_size = 4 << 20;
  return options;
}
}  // namespace

ArenaRequest::ArenaRequest(size_t body_bytes)
    : arena_(ArenaOptionsFor(body_bytes)),
      request_(google::protobuf::Arena::CreateMessage<ExportTraceServiceRequest>(&arena_)) {}

std::string EncodeResponse(const ExportTraceServiceResponse& response, Encoding encoding) {
  if (encoding == Encoding::kProtobuf) return response.SerializeAsString();
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(response, &out);
  return out;
}

std::string EncodeError(int grpc_code, std::string_view message, Encoding encoding) {
  RpcStatus status;
  status.set_code(grpc_code);
  status.set_message(std::string(message));
  if (encoding == Encoding::kProtobuf) return status.SerializeAsString();
  std::string out;
  (void)google::protobuf::util::MessageToJsonString(status, &out);
  return out;
}

}  // namespace roentgen::otlp
