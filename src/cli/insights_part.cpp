#include "cli/insights_part.h"

#include <spdlog/spdlog.h>

#include "common/clock.h"
#include "insights/insights_api.h"

namespace roentgen::cli {

InsightsPart::InsightsPart(store::Store& store, graph::RollupStore& rollups)
    : groups_(store), graphs_(store, rollups, groups_) {}

Result<std::unique_ptr<InsightsPart>> InsightsPart::Start(const InsightsPartConfig& config,
                                                          store::Store& store,
                                                          graph::RollupStore& rollups,
                                                          MetricsRegistry& metrics) {
  std::unique_ptr<InsightsPart> part(new InsightsPart(store, rollups));
  const bool shared = store.DerivesRecords();
  if (shared) {
    part->insights_ = insights::InsightStore::OpenShared(store);
    part->lease_ = std::make_unique<insights::LeaderLease>(
        store, insights::NewProcessId(),
        std::chrono::duration_cast<std::chrono::microseconds>(config.interval).count());
    spdlog::info(
        "insights: the store is shared by several servers: the detector runs on one of them at a "
        "time (this server's lease id: {})",
        part->lease_->process_id());
  } else {
    Result<std::unique_ptr<insights::InsightStore>> opened = insights::InsightStore::Open(store);
    if (!opened.ok()) return opened.status();
    part->insights_ = std::move(*opened);
  }
  if (!config.webhook_url.empty()) {
    insights::WebhookConfig webhook;
    webhook.url = config.webhook_url;
    Result<std::unique_ptr<insights::WebhookNotifier>> started =
        insights::WebhookNotifier::Start(std::move(webhook), metrics);
    if (!started.ok()) return started.status();
    part->webhook_ = std::move(*started);
    spdlog::info("insight events of groups with notifications on are POSTed to {}",
                 config.webhook_url);
  }
  part->detector_ = std::make_unique<insights::Detector>(
      part->groups_, part->graphs_, *part->insights_, metrics, part->webhook_.get());
  Result<std::unique_ptr<insights::Scheduler>> scheduler = insights::Scheduler::Start(
      *part->detector_, Clock::System(),
      std::chrono::duration_cast<std::chrono::milliseconds>(config.interval), part->lease_.get());
  if (!scheduler.ok()) return scheduler.status();
  part->scheduler_ = std::move(*scheduler);
  return part;
}

InsightsPart::~InsightsPart() {
  // The timer first (no evaluation runs after), then the notifier.
  scheduler_.reset();
  if (lease_ != nullptr) {
    // Hands the detector over now rather than after the lease runs out.
    if (Status s = lease_->Resign(); !s.ok()) {
      spdlog::warn("insights: could not withdraw this server's lease: {}", s.message());
    }
  }
  webhook_.reset();
}

void InsightsPart::AddRoutes(api::Router& router) {
  insights::RegisterInsightsApis(router, *insights_, groups_, graphs_, Clock::System());
}

}  // namespace roentgen::cli
