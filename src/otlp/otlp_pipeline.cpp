// The OTLP entry points bound to the ingest pipeline (kept apart from
// otlp_http.cpp so the OTLP code can be tested without linking the pipeline).
#include "otlp/otlp_http.h"

namespace roentgen::otlp {

DocumentSink PipelineSink(ingest::Pipeline& pipeline) {
  return [&pipeline](std::vector<std::string> documents, ingest::Pipeline::SubmitCallback done) {
    pipeline.Submit(std::move(documents), std::move(done));
  };
}

void RegisterOtlpHttp(api::Router& router, ingest::Pipeline& pipeline, MetricsRegistry& metrics) {
  RegisterOtlpHttp(router, PipelineSink(pipeline), metrics);
}

}  // namespace roentgen::otlp
