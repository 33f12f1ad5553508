#include "otlp/export_service.h"

#include <fmt/format.h>

#include <memory>
#include <utility>

namespace roentgen::otlp {
namespace {

struct PendingDocument {
  std::string id;
  size_t span_count;
};

void SetPartialSuccess(int64_t rejected, int64_t total, const std::vector<std::string>& errors,
                       bool truncated, ExportTraceServiceResponse& response) {
  if (rejected == 0) return;
  std::string message = fmt::format("{} of {} spans rejected", rejected, total);
  for (size_t i = 0; i < errors.size(); ++i) message += (i == 0 ? ": " : "; ") + errors[i];
  if (truncated) message += "; ...";
  auto* partial = response.mutable_partial_success();
  partial->set_rejected_spans(rejected);
  partial->set_error_message(std::move(message));
}

}  // namespace

ExportService::TransportMetrics ExportService::MakeMetrics(MetricsRegistry& m,
                                                           const char* transport) {
  auto rejected = [&](const char* reason) {
    return &m.GetCounter("roentgen_otlp_spans_rejected_total",
                         "OTLP spans not stored, by transport and reason",
                         {{"transport", transport}, {"reason", reason}});
  };
  return TransportMetrics{
      &m.GetCounter("roentgen_otlp_spans_received_total", "OTLP spans received, by transport",
                    {{"transport", transport}}),
      rejected("invalid_span"), rejected("rejected_document"), rejected("storage"),
      &m.GetCounter("roentgen_otlp_documents_total",
                    "X-Ray documents translated from OTLP spans and submitted, by transport",
                    {{"transport", transport}})};
}

ExportService::ExportService(DocumentSink sink, MetricsRegistry& metrics, TranslatorOptions options)
    : sink_(std::move(sink)),
      options_(std::move(options)),
      http_(MakeMetrics(metrics, "http")),
      grpc_(MakeMetrics(metrics, "grpc")) {}

void ExportService::Export(const ExportTraceServiceRequest& request, Transport transport,
                           ExportCallback done) {
  TransportMetrics& m = Metrics(transport);
  Translation t = Translate(request, options_);
  m.received->Inc(static_cast<uint64_t>(t.total_spans));
  m.invalid->Inc(static_cast<uint64_t>(t.rejected_spans));
  if (t.documents.empty()) {
    ExportTraceServiceResponse response;
    SetPartialSuccess(t.rejected_spans, t.total_spans, t.errors, t.errors_truncated, response);
    done(Status::Ok(), std::move(response));
    return;
  }
  std::vector<std::string> documents;
  std::vector<PendingDocument> pending;
  documents.reserve(t.documents.size());
  pending.reserve(t.documents.size());
  for (TranslatedDocument& d : t.documents) {
    documents.push_back(std::move(d.json));
    pending.push_back({std::move(d.id), d.span_count});
  }
  m.documents->Inc(documents.size());
  sink_(std::move(documents),
        [&m, pending = std::move(pending), total = t.total_spans, rejected = t.rejected_spans,
         errors = std::move(t.errors), truncated = t.errors_truncated,
         max_errors = options_.max_error_lines, done = std::move(done)](
            Status status, std::vector<ingest::DocumentOutcome> outcomes) mutable {
          if (!status.ok()) {
            int64_t lost = 0;
            for (const PendingDocument& p : pending) lost += static_cast<int64_t>(p.span_count);
            m.storage->Inc(static_cast<uint64_t>(lost));
            done(std::move(status), ExportTraceServiceResponse());
            return;
          }
          int64_t refused = 0;
          for (size_t i = 0; i < outcomes.size() && i < pending.size(); ++i) {
            if (outcomes[i].accepted) continue;
            refused += static_cast<int64_t>(pending[i].span_count);
            if (errors.size() < max_errors) {
              errors.push_back(fmt::format(
                  "span {}{}: {}: {}", pending[i].id,
                  pending[i].span_count > 1
                      ? fmt::format(" (with {} nested spans)", pending[i].span_count - 1)
                      : "",
                  outcomes[i].error_code, outcomes[i].message));
            } else {
              truncated = true;
            }
          }
          m.rejected->Inc(static_cast<uint64_t>(refused));
          ExportTraceServiceResponse response;
          SetPartialSuccess(rejected + refused, total, errors, truncated, response);
          done(Status::Ok(), std::move(response));
        });
}

}  // namespace roentgen::otlp
