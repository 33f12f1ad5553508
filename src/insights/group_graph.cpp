#include "insights/group_graph.h"

#include <fmt/format.h>

#include <limits>
#include <memory>
#include <utility>

#include "filter/filter.h"

namespace roentgen::insights {
namespace {

class RollupView final : public GroupGraphView {
 public:
  explicit RollupView(const graph::RollupStore& rollups) : rollups_(rollups) {}
  graph::ServiceGraphResult Query(int64_t start_us, int64_t end_us) const override {
    return rollups_.QueryServiceGraph(start_us, end_us);
  }

 private:
  const graph::RollupStore& rollups_;
};

class ScannedView final : public GroupGraphView {
 public:
  ScannedView() : local_(LocalConfig()) {}
  graph::RollupStore& local() { return local_; }
  graph::ServiceGraphResult Query(int64_t start_us, int64_t end_us) const override {
    return local_.QueryServiceGraph(start_us, end_us);
  }

 private:
  static graph::RollupConfig LocalConfig() {
    graph::RollupConfig config;
    config.retention_us = std::numeric_limits<int64_t>::max() / 4;  // never expired
    return config;
  }
  graph::RollupStore local_;
};

}  // namespace

Result<std::unique_ptr<GroupGraphView>> GroupGraphs::Load(const api::Group& group, int64_t start_us,
                                                          int64_t end_us) const {
  std::shared_ptr<const filter::CompiledFilter> filter;
  const std::string expression = group.filter_expression.value_or("");
  if (!expression.empty()) {
    Result<filter::CompiledFilter> compiled = filter::CompileFilter(expression, &groups_);
    if (!compiled.ok()) {
      return Status::InvalidArgument(fmt::format("group '{}': its FilterExpression: {}", group.name,
                                                 compiled.status().message()));
    }
    if (!compiled->MatchesAll()) {
      filter = std::make_shared<const filter::CompiledFilter>(std::move(*compiled));
    }
  }
  if (!filter && !rollups_.rebuilding()) {
    return std::unique_ptr<GroupGraphView>(std::make_unique<RollupView>(rollups_));
  }

  auto view = std::make_unique<ScannedView>();
  store::ScanOptions scan;
  scan.start_us = start_us;
  scan.end_us = end_us;
  scan.time_range_type = store::TimeRangeType::kService;  // by start time, like the rollups
  scan.filter = filter;
  scan.return_graph = true;  // rolled up
  scan.max_examined = max_scanned_;
  Result<store::ScanProgress> progress =
      store_.Scan(scan, [&](const store::TraceRecord& record, int64_t) {
        view->local().Add(record.graph, +1);
        return true;
      });
  if (!progress.ok()) return progress.status();
  const bool over = progress->stopped_at.has_value();
  if (over) {
    return Status::ResourceExhausted(fmt::format(
        "group '{}': more than {} traces to scan in the range", group.name, max_scanned_));
  }
  return std::unique_ptr<GroupGraphView>(std::move(view));
}

}  // namespace roentgen::insights
