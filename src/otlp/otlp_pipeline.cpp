// The OTLP entry points bound to the ingest pipeline (kept apart from
// otlp_http.cpp so the OTLP code can be tested without linking the pipeline).
#include <memory>

#include "otlp/otlp_http.h"

namespace roentgen::otlp {

DocumentSink PipelineSink(ingest::Pipeline& pipeline) {
  return [&pipeline](std::vector<std::string> documents, ingest::Pipeline::SubmitCallback done) {
    pipeline.Submit(std::move(documents), std::move(done));
  };
}

DocumentSink SpoolSink(ingest::Spool& spool) {
  return [&spool](std::vector<std::string> documents, ingest::Pipeline::SubmitCallback done) {
    const size_t n = documents.size();
    auto answer = std::make_shared<ingest::Pipeline::SubmitCallback>(std::move(done));
    auto outcomes = [n](bool accepted) {
      std::vector<ingest::DocumentOutcome> out(n);
      for (ingest::DocumentOutcome& o : out) o.accepted = accepted;
      return out;
    };
    Status appended = spool.AppendDurable(documents, [answer, outcomes](Status durable) {
      (*answer)(durable, outcomes(durable.ok()));
    });
    if (!appended.ok()) (*answer)(std::move(appended), outcomes(false));
  };
}

void RegisterOtlpHttp(api::Router& router, ingest::Pipeline& pipeline, MetricsRegistry& metrics) {
  RegisterOtlpHttp(router, PipelineSink(pipeline), metrics);
}

}  // namespace roentgen::otlp
