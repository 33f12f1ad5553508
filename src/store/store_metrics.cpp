#include "store/store_metrics.h"

namespace roentgen::store {
namespace {

constexpr char kWriteErrors[] = "roentgen_store_write_errors_total";
constexpr char kWriteErrorsHelp[] =
    "Store writes (batches) that failed, by reason: disk_full (refused until space is freed), "
    "io_error, corruption.";
constexpr char kReadErrors[] = "roentgen_store_read_errors_total";
constexpr char kReadErrorsHelp[] =
    "Store reads refused because they met damaged data (corruption) or an I/O error.";

// Brings `counter` up to `value` (the store counts; the counter only adds).
void Advance(Counter& counter, uint64_t value) {
  const uint64_t now = counter.Value();
  if (value > now) counter.Inc(value - now);
}

}  // namespace

StoreMetrics::StoreMetrics(Store& store, MetricsRegistry& metrics)
    : store_(store),
      traces_(metrics.GetGauge("roentgen_store_traces", "Stored traces (estimate).")),
      documents_(metrics.GetGauge("roentgen_store_documents",
                                  "Stored segment and subsegment documents (estimate).")),
      disk_bytes_(metrics.GetGauge("roentgen_store_disk_bytes",
                                   "Bytes the store occupies on disk, its write log included.")),
      unflushed_bytes_(metrics.GetGauge("roentgen_store_memtable_bytes",
                                        "Written bytes held in memory, not yet in the store's "
                                        "files.")),
      read_cache_bytes_(metrics.GetGauge("roentgen_store_block_cache_bytes",
                                         "Memory caching stored data for reads.")),
      backlog_bytes_(metrics.GetGauge(
          "roentgen_store_pending_compaction_bytes",
          "Bytes the store's background reorganisation (compaction) must still rewrite; "
          "growing without end means ingest outruns it.")),
      background_jobs_(metrics.GetGauge("roentgen_store_running_compactions",
                                        "Background reorganisation jobs (compactions) running "
                                        "now.")),
      writes_stalled_(metrics.GetGauge(
          "roentgen_store_writes_stalled",
          "1 while the store slows or stops writes to let its background work catch up.")),
      read_only_(metrics.GetGauge(
          "roentgen_store_read_only",
          "1 while the store refuses writes after a fault (a full disk, an I/O error); "
          "reads go on.")),
      disk_full_(metrics.GetGauge("roentgen_disk_full",
                                  "1 while the disk under a component is full and its writes "
                                  "are refused, by component (store, udp_spool, otlp_spool, "
                                  "api_spool).",
                                  {{"component", "store"}})),
      write_errors_{
          &metrics.GetCounter(kWriteErrors, kWriteErrorsHelp, {{"reason", "disk_full"}}),
          &metrics.GetCounter(kWriteErrors, kWriteErrorsHelp, {{"reason", "io_error"}}),
          &metrics.GetCounter(kWriteErrors, kWriteErrorsHelp, {{"reason", "corruption"}})},
      read_errors_{&metrics.GetCounter(kReadErrors, kReadErrorsHelp, {{"reason", "corruption"}}),
                   &metrics.GetCounter(kReadErrors, kReadErrorsHelp, {{"reason", "io_error"}})} {}

void StoreMetrics::Refresh() {
  const StoreStats s = store_.Stats();
  auto set = [](Gauge& g, uint64_t v) { g.Set(static_cast<int64_t>(v)); };
  set(traces_, s.traces);
  set(documents_, s.documents);
  set(disk_bytes_, s.disk_bytes);
  set(unflushed_bytes_, s.unflushed_bytes);
  set(read_cache_bytes_, s.read_cache_bytes);
  set(backlog_bytes_, s.backlog_bytes);
  set(background_jobs_, s.background_jobs);
  writes_stalled_.Set(s.writes_stalled ? 1 : 0);
  read_only_.Set(s.read_only ? 1 : 0);
  disk_full_.Set(s.disk_full ? 1 : 0);
  std::lock_guard lock(counters_mu_);
  Advance(*write_errors_[0], s.write_errors.disk_full);
  Advance(*write_errors_[1], s.write_errors.io_error);
  Advance(*write_errors_[2], s.write_errors.corruption);
  Advance(*read_errors_[0], s.read_errors.corruption);
  Advance(*read_errors_[1], s.read_errors.io_error);
}

}  // namespace roentgen::store
