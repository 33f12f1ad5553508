#include "otlp/otlp_http.h"

#include <memory>
#include <string>

#include "otlp/otlp_decode.h"

namespace roentgen::otlp {
namespace {

// gRPC status codes used in google.rpc.Status bodies.
constexpr int kGrpcInvalidArgument = 3;
constexpr int kGrpcInternal = 13;
constexpr int kGrpcUnavailable = 14;

struct HttpState {
  ExportService service;
  MetricsRegistry& metrics;
  Counter& Requests(int status) {
    return metrics.GetCounter("roentgen_otlp_http_requests_total",
                              "OTLP/HTTP export requests handled, by response status",
                              {{"status", std::to_string(status)}});
  }
};

api::HttpResponse Reply(HttpState& state, int status, std::string body, Encoding encoding) {
  state.Requests(status).Inc();
  api::HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.content_type = std::string(ContentType(encoding));
  return r;
}

void Handle(const std::shared_ptr<HttpState>& state, const api::HttpRequest& request,
            api::Responder respond) {
  std::optional<Encoding> encoding = EncodingFromContentType(request.Header("content-type"));
  if (!encoding) {
    std::string message = "unsupported content type \"" +
                          std::string(request.Header("content-type")) +
                          "\": use application/x-protobuf or application/json";
    respond(Reply(*state, 415, EncodeError(kGrpcInvalidArgument, message, Encoding::kJson),
                  Encoding::kJson));
    return;
  }
  ArenaRequest decoded(request.body.size());
  if (Status status = DecodeRequest(request.body, *encoding, decoded.request()); !status.ok()) {
    respond(Reply(*state, 400, EncodeError(kGrpcInvalidArgument, status.message(), *encoding),
                  *encoding));
    return;
  }
  Encoding enc = *encoding;
  state->service.Export(decoded.request(), Transport::kHttp,
                        [state, enc, respond = std::move(respond)](
                            Status status, ExportTraceServiceResponse response) {
                          if (!status.ok()) {
                            bool retryable = status.code() == StatusCode::kUnavailable ||
                                             status.code() == StatusCode::kResourceExhausted ||
                                             status.code() == StatusCode::kIOError;
                            int http = retryable ? 503 : 500;
                            respond(Reply(*state, http,
                                          EncodeError(retryable ? kGrpcUnavailable : kGrpcInternal,
                                                      status.message(), enc),
                                          enc));
                            return;
                          }
                          respond(Reply(*state, 200, EncodeResponse(response, enc), enc));
                        });
}

}  // namespace

void RegisterOtlpHttp(api::Router& router, DocumentSink sink, MetricsRegistry& metrics,
                      TranslatorOptions options) {
  auto state = std::make_shared<HttpState>(
      HttpState{ExportService(std::move(sink), metrics, std::move(options)), metrics});
  router.Add("POST", kOtlpHttpTracesPath,
             [state](const api::HttpRequest& request, api::Responder respond) {
               Handle(state, request, std::move(respond));
             });
}

}  // namespace roentgen::otlp
