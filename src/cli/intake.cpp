#include "cli/intake.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

#include "otlp/otlp_http.h"

namespace roentgen::cli {
namespace {

// The configuration of the spool DATA_DIR/<name>-spool.
ingest::SpoolConfig SpoolConfigFor(const ServeConfig& config, const char* name,
                                   uint64_t max_bytes) {
  ingest::SpoolConfig spool_config;
  spool_config.name = name;
  spool_config.dir =
      (std::filesystem::path(config.data_dir) / fmt::format("{}-spool", name)).string();
  spool_config.max_bytes = max_bytes;
  spool_config.low_priority_consumer = config.low_priority_indexing;
  spool_config.file_bytes = std::clamp<uint64_t>(max_bytes / 16, 4096, uint64_t{64} << 20);
  return spool_config;
}

// A spool under the data dir whose consumer submits to `pipeline`; null when
// `max_bytes` is 0 (no spool).
Result<std::unique_ptr<ingest::Spool>> OpenSpool(const ServeConfig& config, const char* name,
                                                 uint64_t max_bytes,
                                                 ingest::Pipeline::SpooledRecord kind,
                                                 ingest::Pipeline& pipeline,
                                                 MetricsRegistry& metrics) {
  if (max_bytes == 0) return std::unique_ptr<ingest::Spool>();
  auto spool = std::make_unique<ingest::Spool>(
      SpoolConfigFor(config, name, max_bytes),
      [&pipeline, kind](const std::vector<std::string_view>& records, ingest::SpoolDone done) {
        pipeline.SubmitSpooled(records, kind, std::move(done));
      },
      metrics);
  RG_RETURN_IF_ERROR(spool->Open());
  return spool;
}

}  // namespace

Result<std::unique_ptr<Intake>> Intake::Start(const ServeConfig& config, store::Store& store,
                                              graph::RollupStore& rollups,
                                              ingest::IndexingPolicy& indexing,
                                              MetricsRegistry& metrics) {
  std::unique_ptr<Intake> intake(new Intake());
  ingest::PipelineConfig pipeline_config = config.pipeline;
  // A store that derives records is shared with other servers, whose writes
  // these rollups would never see (cli/store_part.h: answered from scans).
  pipeline_config.rollups = store.DerivesRecords() ? nullptr : &rollups;
  pipeline_config.indexing = &indexing;
  pipeline_config.low_priority_writers = config.low_priority_indexing;
  intake->pipeline_ = std::make_unique<ingest::Pipeline>(pipeline_config, store, metrics);
  RG_RETURN_IF_ERROR(intake->pipeline_->Start());

  Result<std::unique_ptr<ingest::Spool>> udp =
      OpenSpool(config, "udp", config.udp_spool_max_bytes,
                ingest::Pipeline::SpooledRecord::kDaemonDatagram, *intake->pipeline_, metrics);
  if (!udp.ok()) return udp.status();
  intake->udp_spool_ = std::move(udp).value();
  Result<std::unique_ptr<ingest::Spool>> otlp =
      OpenSpool(config, "otlp", config.otlp_spool_max_bytes,
                ingest::Pipeline::SpooledRecord::kDocument, *intake->pipeline_, metrics);
  if (!otlp.ok()) return otlp.status();
  intake->otlp_spool_ = std::move(otlp).value();
  if (config.api_spool_max_bytes != 0) {
    ingest::SpoolConfig spool_config = SpoolConfigFor(config, "api", config.api_spool_max_bytes);
    // A request waits for the consumer to hand its documents to the writers.
    spool_config.low_priority_consumer = false;
    intake->api_spool_ =
        std::make_unique<ingest::PutSpool>(std::move(spool_config), *intake->pipeline_, metrics);
    RG_RETURN_IF_ERROR(intake->api_spool_->Open());
  }
  return intake;
}

Intake::~Intake() {
  // The spools hand their backlog to the pipeline, so they stop while it
  // still takes records. Spelled out (the members' order gives the same) so
  // that reordering them cannot change it.
  api_spool_.reset();
  otlp_spool_.reset();
  udp_spool_.reset();
  pipeline_.reset();
}

void Intake::OnDatagram(std::string_view datagram) {
  if (udp_spool_ != nullptr) {
    (void)udp_spool_->Append(datagram);  // a drop is counted by the spool
  } else {
    pipeline_->OnDatagram(datagram);
  }
}

ingest::SubmitSink Intake::PutSink() {
  return api_spool_ ? api_spool_->Sink() : ingest::PipelineSubmitSink(*pipeline_);
}

otlp::DocumentSink Intake::OtlpSink() {
  return otlp_spool_ ? otlp::SpoolSink(*otlp_spool_) : otlp::PipelineSink(*pipeline_);
}

}  // namespace roentgen::cli
