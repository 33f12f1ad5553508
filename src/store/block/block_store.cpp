#include "store/block/block_store.h"

#include <fmt/format.h>
#include <rocksdb/db.h>
#include <rocksdb/utilities/checkpoint.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "common/coding.h"
#include "common/disk_space.h"
#include "common/files.h"
#include "common/mutex.h"
#include "common/periodic_thread.h"
#include "common/thread_name.h"
#include "common/thread_priority.h"
#include "filter/column_predicates.h"
#include "store/block/block_merge.h"
#include "store/block/rollup_section.h"
#include "store/block/summary_columns.h"
#include "store/read_failure.h"
#include "store/rocksdb/index_plan.h"
#include "xray/trace_id_order.h"

namespace roentgen::store::block {
namespace {

namespace fs = std::filesystem;

// The section of a block that carries what the engine counts at open.
constexpr std::string_view kCountsSection = "roentgen.counts";

std::string BlockFileName(uint64_t id) { return fmt::format("{:020d}.blk", id); }

// A block file's id, or nothing for another name.
std::optional<uint64_t> ParseBlockFileName(const std::string& name) {
  if (name.size() != 24 || !name.ends_with(".blk")) return std::nullopt;
  uint64_t id = 0;
  for (size_t i = 0; i < 20; ++i) {
    if (name[i] < '0' || name[i] > '9') return std::nullopt;
    id = id * 10 + static_cast<uint64_t>(name[i] - '0');
  }
  return id;
}

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  if (s.IsNoSpace()) return Status::ResourceExhausted(fmt::format("{}: {}", what, s.ToString()));
  if (s.IsCorruption()) return Status::Corruption(fmt::format("{}: {}", what, s.ToString()));
  return Status::IOError(fmt::format("{}: {}", what, s.ToString()));
}

Status CheckNamespace(std::string_view ns) {
  if (ns.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("config namespace must not contain a NUL byte");
  }
  return Status::Ok();
}

// A thread's scans decode their block rows into the record of its previous
// scan: each page of GetTraceSummaries is a scan of its own, and decoding a
// page's rows into a new record spent about as much in allocating and freeing
// its strings and vectors as in decoding.
thread_local TraceRecord block_scan_kept_record;

// Takes the thread's kept record for one scan and gives it back after it. A
// scan started from another's callback finds none kept and makes its own.
class BlockScanRecord {
 public:
  BlockScanRecord() : record(std::move(block_scan_kept_record)) {}
  ~BlockScanRecord() { block_scan_kept_record = std::move(record); }
  BlockScanRecord(const BlockScanRecord&) = delete;
  BlockScanRecord& operator=(const BlockScanRecord&) = delete;

  TraceRecord record;
};

std::string ConfigKey(std::string_view ns, std::string_view key) {
  std::string k(ns);
  k.push_back('\0');
  k.append(key);
  return k;
}

// A live block as readers see it. Immutable: a change to its superseded rows
// replaces the handle, so a snapshot keeps the rows as they were.
struct BlockHandle {
  BlockMeta meta;
  std::shared_ptr<const BlockReader> reader;
  uint64_t documents = 0;
  std::vector<uint32_t> superseded;  // sorted, unique
};

bool Contains(const std::vector<uint32_t>& sorted, uint32_t row) {
  return std::binary_search(sorted.begin(), sorted.end(), row);
}

std::vector<uint32_t> MergeRows(const std::vector<uint32_t>& a, std::vector<uint32_t> b) {
  std::sort(b.begin(), b.end());
  std::vector<uint32_t> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// What a read sees: the live blocks (ascending id) and the rows the heads'
// versions hide (by block, sorted).
struct View {
  std::vector<std::shared_ptr<const BlockHandle>> blocks;
  std::unordered_map<uint64_t, std::vector<uint32_t>> head_hidden;

  bool Hidden(const BlockHandle& b, uint32_t row) const {
    if (Contains(b.superseded, row)) return true;
    auto it = head_hidden.find(b.meta.id);
    return it != head_hidden.end() && Contains(it->second, row);
  }
};

// The rows of a block that satisfy `c`, read from its columns without
// decoding records; nothing when the columns cannot tell (the key has no
// annotation columns in the block, a condition without a column). The
// conditions are those ChooseIndex finds: each is required by the filter, so
// a row outside the set cannot match.
Result<std::optional<Bitmap>> RowsSatisfying(const BlockReader& reader, const IndexCondition& c) {
  const size_t n = reader.row_count();
  Bitmap rows(n);
  auto any_in_list = [&](const std::vector<uint32_t>& offsets, auto&& is_match) -> Status {
    if (offsets.size() != n + 1) {
      return Status::Corruption(
          fmt::format("block {}: a list column disagrees with its row count", reader.path()));
    }
    for (size_t r = 0; r < n; ++r) {
      for (uint32_t j = offsets[r]; j < offsets[r + 1]; ++j) {
        if (is_match(j)) {
          rows.Set(r);
          break;
        }
      }
    }
    return Status::Ok();
  };
  // Rows whose string list holds `value`: one dictionary look-up, then codes.
  auto strings = [&](std::string_view column, std::string_view value) -> Status {
    Result<std::shared_ptr<const ListDictStringColumn>> list =
        reader.ReadColumn<ListDictStringColumn>(column);
    if (!list.ok()) {
      // The block has no value of that type for the key: no row matches.
      return list.status().code() == StatusCode::kNotFound ? Status::Ok() : list.status();
    }
    const std::optional<uint32_t> code = (*list)->values.Find(value);
    if (!code) return Status::Ok();
    const std::vector<uint32_t>& codes = (*list)->values.codes;
    return any_in_list((*list)->offsets, [&](uint32_t j) { return codes[j] == *code; });
  };
  switch (c.kind) {
    case IndexCondition::Kind::kAnnotationEquals: {
      if (!reader.HasAnnotationColumns(c.key)) return std::optional<Bitmap>();
      if (const auto* text = std::get_if<std::string>(&c.value)) {
        RG_RETURN_IF_ERROR(strings(AnnotationColumnName(c.key, AnnotationType::kString), *text));
      } else if (const auto* number = std::get_if<double>(&c.value)) {
        auto list = reader.ReadColumn<ListDoubleColumn>(
            AnnotationColumnName(c.key, AnnotationType::kNumber));
        if (list.ok()) {
          const std::vector<double>& values = (*list)->values;
          RG_RETURN_IF_ERROR(
              any_in_list((*list)->offsets, [&](uint32_t j) { return values[j] == *number; }));
        } else if (list.status().code() != StatusCode::kNotFound) {
          return list.status();
        }
      } else {
        const bool want = std::get<bool>(c.value);
        auto list =
            reader.ReadColumn<ListBoolColumn>(AnnotationColumnName(c.key, AnnotationType::kBool));
        if (list.ok()) {
          const Bitmap& values = (*list)->values;
          RG_RETURN_IF_ERROR(
              any_in_list((*list)->offsets, [&](uint32_t j) { return values.Get(j) == want; }));
        } else if (list.status().code() != StatusCode::kNotFound) {
          return list.status();
        }
      }
      return std::optional<Bitmap>(std::move(rows));
    }
    case IndexCondition::Kind::kUser:
      RG_RETURN_IF_ERROR(strings(col::kUser, c.text));
      return std::optional<Bitmap>(std::move(rows));
    case IndexCondition::Kind::kFault:
    case IndexCondition::Kind::kError:
    case IndexCondition::Kind::kThrottle: {
      const std::string_view name = c.kind == IndexCondition::Kind::kFault   ? col::kFault
                                    : c.kind == IndexCondition::Kind::kError ? col::kError
                                                                             : col::kThrottle;
      auto flags = reader.ReadColumn<BoolColumn>(name);
      if (!flags.ok()) return flags.status();
      if ((*flags)->values.size() != n) {
        return Status::Corruption(
            fmt::format("block {}: column {} disagrees with its row count", reader.path(), name));
      }
      return std::optional<Bitmap>((*flags)->values);
    }
    case IndexCondition::Kind::kHttpStatus: {
      auto status = reader.ReadColumn<OptionalInt64Column>(col::kHttpStatus);
      if (!status.ok()) return status.status();
      if ((*status)->values.size() != n) {
        return Status::Corruption(fmt::format("block {}: column {} disagrees with its row count",
                                              reader.path(), col::kHttpStatus));
      }
      for (size_t r = 0; r < n; ++r) {
        if ((*status)->Get(r) == std::optional<int64_t>(c.http_status)) rows.Set(r);
      }
      return std::optional<Bitmap>(std::move(rows));
    }
    case IndexCondition::Kind::kServiceName:
      // The graph nodes' names and other names (a version 1 block lacks the
      // latter, and the columns cannot tell).
      return reader.RowsWithGraphNodeNamed(c.text);
  }
  return std::optional<Bitmap>();
}

class BlockStoreImpl final : public BlockStore {
 public:
  BlockStoreImpl(std::string dir, const BlockStoreOptions& options)
      : dir_(std::move(dir)),
        blocks_dir_(dir_ + "/blocks"),
        options_(options),
        clock_(options.clock != nullptr ? *options.clock : Clock::System()),
        cache_(std::make_unique<ColumnCache>(options.read_cache_bytes)) {}

  ~BlockStoreImpl() override {
    retention_.reset();  // a run in progress finishes first
    {
      MutexLock lock(cutter_mu_);
      stopping_ = true;
    }
    cutter_cv_.SignalAll();
    compact_cv_.SignalAll();
    room_cv_.SignalAll();
    if (cutter_.joinable()) cutter_.join();
    if (compactor_.joinable()) compactor_.join();
    if (options_.flush_at_close) (void)CutAll(true);
    (void)SaveRollupCorrections();  // best effort: a start reads what is not saved
  }

  Status Init() {
    std::error_code ec;
    fs::create_directories(blocks_dir_, ec);
    if (ec) return Status::IOError(fmt::format("create {}: {}", blocks_dir_, ec.message()));
    Result<std::unique_ptr<Manifest>> manifest = Manifest::Open(blocks_dir_, options_.manifest);
    if (!manifest.ok()) return manifest.status();
    manifest_ = std::move(*manifest);
    const ManifestState state = manifest_->State();

    // Files no durable edit names: a cut that crashed before its edit, or a
    // block removed whose file outlived the edit.
    for (const fs::directory_entry& entry : fs::directory_iterator(blocks_dir_, ec)) {
      const std::string name = entry.path().filename().string();
      const std::optional<uint64_t> id = ParseBlockFileName(name);
      const bool stray = (id && !state.blocks.contains(*id)) ||
                         (name.ends_with(".blk.tmp") && ParseBlockFileName(name.substr(0, 24)));
      if (stray) fs::remove(entry.path(), ec);
    }
    if (ec) return Status::IOError(fmt::format("list {}: {}", blocks_dir_, ec.message()));

    std::vector<std::shared_ptr<const BlockHandle>> blocks;
    for (const auto& [id, live] : state.blocks) {
      Result<std::shared_ptr<const BlockHandle>> h = OpenHandle(live.meta, live.superseded);
      if (!h.ok()) return h.status();
      blocks.push_back(std::move(*h));
    }

    rocksdb::Options ro;
    ro.create_if_missing = true;
    ro.max_open_files = 64;
    ro.keep_log_file_num = 2;
    rocksdb::DB* db = nullptr;
    const std::string config_dir = dir_ + "/config";
    if (Status s = FromRocks(rocksdb::DB::Open(ro, config_dir, &db), "open " + config_dir);
        !s.ok()) {
      return s;
    }
    config_.reset(db);

    const size_t shards = std::max<size_t>(1, options_.shards);
    for (size_t i = 0; i < shards; ++i) heads_.push_back(std::make_unique<Head>(options_.head));
    {
      MutexLock lock(view_mu_);
      blocks_ = std::move(blocks);
    }
    cutter_ = std::thread([this] {
      SetCurrentThreadName("rg-block-cut");
      CutterLoop();
    });
    if (options_.compaction) {
      compactor_ = std::thread([this] {
        SetCurrentThreadName("rg-block-compact");
        // Below the writers (nice 19): a round can wait for a lull, while a
        // backlog indexed more slowly fills the spools. Best effort.
        if (!IdleCurrentThreadPriority().ok()) (void)LowerCurrentThreadPriority();
        CompactorLoop();
      });
    }
    if (options_.retention_us > 0) {
      retention_ = std::make_unique<PeriodicThread>(
          "rg-retention", std::chrono::microseconds(options_.retention_interval_us), [this] {
            const int64_t cutoff = clock_.NowMicros() - options_.retention_us;
            if (Status s = DeleteOlderThan(cutoff); !s.ok()) {
              spdlog::warn("block store: retention (cutoff {} us) failed: {}; retried in {} s",
                           cutoff, s.ToString(), options_.retention_interval_us / 1'000'000);
            }
          });
    }
    return Status::Ok();
  }

  // ---- writes ----

  Status Write(WriteBatch batch) override {
    if (disk_full_.load()) {
      return Status::Unavailable(
          "the block store refuses writes: its disk is full (a cut failed for lack of space); "
          "retry once space is freed");
    }
    WaitForHeadRoom();
    // The batch split by shard before the write lock is taken: each head is
    // given its records by pointer and moves them in, so a record is moved
    // once (a move walks tens of strings and vectors); a caller that moved
    // the batch in pays no copy. A part's new_traces says which of its
    // traces the writer knows to be new.
    struct BatchTrace {
      xray::TraceId id;
      bool is_new = false;
    };
    struct ShardPart {
      Head::Records records;
      std::vector<bool> new_traces;
    };
    std::vector<BatchTrace> batch_traces;
    batch_traces.reserve(batch.traces.size());
    std::vector<ShardPart> parts(heads_.size());
    for (size_t i = 0; i < batch.traces.size(); ++i) {
      const xray::TraceId& id = batch.traces[i].summary.id;
      const bool is_new = i < batch.new_traces.size() && batch.new_traces[i];
      batch_traces.push_back(BatchTrace{id, is_new});
      ShardPart& part = parts[ShardOf(id)];
      part.records.traces.push_back(&batch.traces[i]);
      part.new_traces.push_back(is_new);
    }
    for (const DocumentWrite& d : batch.documents)
      parts[ShardOf(d.trace_id)].records.documents.push_back(d);

    MutexLock write_lock(write_mu_);
    // Documents of a trace whose record the batch lacks keep the stored record.
    std::vector<TraceRecord> kept;
    {
      // The writer lists documents in the order of their traces, which one
      // pass over both checks; in another order, the batch's ids sorted (not
      // a hash set: no allocation per trace) tell the documents to look at.
      size_t next = 0;
      for (const DocumentWrite& d : batch.documents) {
        while (next < batch_traces.size() && batch_traces[next].id != d.trace_id) ++next;
        if (next == batch_traces.size()) break;
      }
      const bool out_of_order = next == batch_traces.size() && !batch.documents.empty();
      std::vector<xray::TraceId> recorded;
      if (out_of_order) {
        recorded.reserve(batch_traces.size());
        for (const BatchTrace& t : batch_traces) recorded.push_back(t.id);
        std::sort(recorded.begin(), recorded.end(), xray::TraceIdWordLess());
      }
      const xray::TraceId* last = nullptr;  // a trace's documents are mostly adjacent
      for (const DocumentWrite& d :
           out_of_order ? std::span(batch.documents) : std::span<const DocumentWrite>()) {
        if (last != nullptr && *last == d.trace_id) continue;
        last = &d.trace_id;
        if (std::binary_search(recorded.begin(), recorded.end(), d.trace_id,
                               xray::TraceIdWordLess())) {
          continue;
        }
        if (std::any_of(kept.begin(), kept.end(),
                        [&](const TraceRecord& r) { return r.summary.id == d.trace_id; })) {
          continue;
        }
        Result<TraceRecord> existing = GetTrace(d.trace_id);
        if (!existing.ok()) {
          if (existing.status().code() == StatusCode::kNotFound) {
            return Status::InvalidArgument("a document of trace " + d.trace_id.ToString() +
                                           " came without the trace's record, and the store "
                                           "holds no record of it");
          }
          return existing.status();
        }
        kept.push_back(std::move(*existing));
      }
    }

    // The older versions of traces the heads do not hold, read from the
    // blocks before the view lock is taken. Writes are serialized and only a
    // trace in a head reaches a new block, so what is read here stays the
    // newest row (retention may remove it meanwhile: the commit then leaves
    // it out of the edit; compaction may move it: it is read again below).
    // Traces the writer knows to be new have none.
    std::unordered_map<xray::TraceId, std::optional<OlderVersion>, xray::TraceIdHash> olders;
    {
      // The heads are asked first, the blocks' list taken after: a trace
      // that leaves its head in between has its new block in the list.
      std::vector<xray::TraceId> unknown;
      for (const BatchTrace& t : batch_traces) {
        if (!t.is_new) unknown.push_back(t.id);
      }
      for (const TraceRecord& r : kept) unknown.push_back(r.summary.id);
      std::sort(unknown.begin(), unknown.end(), xray::TraceIdWordLess());
      unknown.erase(std::unique(unknown.begin(), unknown.end()), unknown.end());
      std::erase_if(unknown, [&](const xray::TraceId& id) { return HeadFor(id).Contains(id); });
      if (!unknown.empty()) {
        View view = TakeBlocksView();
        for (const xray::TraceId& id : unknown) {
          Result<std::optional<OlderVersion>> o = FindNewest(view, id);
          if (!o.ok()) {
            write_errors_.Count(o.status());
            return o.status();
          }
          olders.emplace(id, std::move(*o));
        }
      }
    }

    for (TraceRecord& r : kept) {  // `kept` no longer grows: the pointers stay valid
      ShardPart& part = parts[ShardOf(r.summary.id)];
      part.records.traces.push_back(&r);
      part.new_traces.push_back(false);
    }
    struct Shared {
      std::atomic<size_t> left{0};
      std::function<void()> on_durable;
    };
    std::shared_ptr<Shared> shared;
    size_t touched = 0;
    for (const ShardPart& p : parts) touched += p.records.traces.empty() ? 0 : 1;
    if (batch.on_durable && touched > 0) {
      shared = std::make_shared<Shared>();
      shared->left = touched;
      shared->on_durable = batch.on_durable;
      for (ShardPart& p : parts) {
        if (p.records.traces.empty()) continue;
        p.records.on_durable = [shared] {
          if (shared->left.fetch_sub(1) == 1) shared->on_durable();
        };
      }
    }

    if (options_.after_write_lookup) options_.after_write_lookup();
    bool over_bound = false;
    {
      MutexLock view_lock(view_mu_);
      // A trace that left its head since the look-up above (its block was
      // committed) has its newest row in that block: read it now, before any
      // head changes, so the batch applies whole or not at all.
      // Likewise a row read from a block that compaction has replaced since
      // (its trace's row is now in the output): read again.
      View view;
      bool have_view = false;
      for (size_t s = 0; s < parts.size(); ++s) {
        for (size_t i = 0; i < parts[s].records.traces.size(); ++i) {
          if (parts[s].new_traces[i]) continue;
          const xray::TraceId& id = parts[s].records.traces[i]->summary.id;
          if (auto o = olders.find(id);
              o != olders.end() && o->second && !LiveLocked(o->second->row.block_id)) {
            olders.erase(o);
          }
          if (olders.contains(id) || heads_[s]->Contains(id)) continue;
          if (!have_view) {
            view.blocks = blocks_;
            have_view = true;
          }
          Result<std::optional<OlderVersion>> o = FindNewest(view, id);
          if (!o.ok()) {
            write_errors_.Count(o.status());
            return o.status();
          }
          olders.emplace(id, std::move(*o));
        }
      }
      const int64_t now = clock_.NowMicros();
      for (size_t s = 0; s < parts.size(); ++s) {
        if (parts[s].records.traces.empty()) continue;
        Status applied = heads_[s]->ApplyRecords(
            std::move(parts[s].records), now,
            [&](const xray::TraceId& id) -> Result<std::optional<OlderVersion>> {
              auto it = olders.find(id);
              if (it == olders.end()) return std::optional<OlderVersion>();
              return std::move(it->second);
            });
        // Cannot fail after the checks above (documents have records, older
        // versions are read): a failure here would leave the batch partly
        // applied, so it is reported as an internal error.
        if (!applied.ok()) {
          write_errors_.Count(applied);
          return Status::Internal("block store: a head refused part of a batch: " +
                                  applied.ToString());
        }
        if (heads_[s]->stats().memory_bytes > options_.head.max_bytes) {
          over_bound = true;
        }
      }
    }
    if (over_bound) WakeCutter();
    if (batch.on_durable && touched == 0) batch.on_durable();  // nothing to make durable
    return Status::Ok();
  }

  // ---- point reads ----

  Result<std::vector<StoredDocument>> GetDocuments(const xray::TraceId& id) override {
    const TraceProbe probe(id);
    View view;
    {
      MutexLock lock(view_mu_);
      if (auto docs = HeadFor(id).GetDocuments(id)) return std::move(*docs);
      view.blocks = BlocksMayContainLocked(probe);
    }
    Result<std::optional<std::pair<const BlockHandle*, uint32_t>>> row = FindRow(view, probe);
    if (!row.ok()) return row.status();
    if (!*row) return std::vector<StoredDocument>();
    Result<std::vector<StoredDocument>> docs = (*row)->first->reader->ReadDocuments((*row)->second);
    if (!docs.ok()) return ReadFailed(docs.status());
    return docs;
  }

  Result<TraceRecord> GetTrace(const xray::TraceId& id) override {
    const TraceProbe probe(id);
    View view;
    {
      MutexLock lock(view_mu_);
      if (auto record = HeadFor(id).GetTrace(id)) return std::move(*record);
      view.blocks = BlocksMayContainLocked(probe);
    }
    Result<std::optional<std::pair<const BlockHandle*, uint32_t>>> row = FindRow(view, probe);
    if (!row.ok()) return row.status();
    if (!*row) return Status::NotFound("no such trace " + id.ToString());
    Result<TraceRecord> record = (*row)->first->reader->ReadRecord((*row)->second);
    if (!record.ok()) return ReadFailed(record.status());
    return record;
  }

  // ---- scans ----

  Result<ScanProgress> Scan(const ScanOptions& options, const ScanCallback& callback) override {
    ScanProgress progress;
    if (options.start_us >= options.end_us) return progress;
    const bool by_event = options.time_range_type == TimeRangeType::kEvent;
    auto sort_time = [&](const TraceRecord& r) {
      return by_event ? r.summary.updated_us : r.summary.start_time_us;
    };
    // (time, id) is after the cursor in the scan's order.
    auto after_cursor = [&](int64_t t, const xray::TraceId& id) {
      if (!options.resume_after) return true;
      const auto key = std::tie(t, id);
      const auto cursor = std::tie(options.resume_after->time_us, options.resume_after->trace_id);
      return options.descending ? key < cursor : cursor < key;
    };
    auto in_range = [&](int64_t t) { return t >= options.start_us && t < options.end_us; };

    // The heads' versions are shared, not copied (Head::Select).
    std::vector<std::shared_ptr<const TraceRecord>> head_records;
    View view;
    {
      MutexLock lock(view_mu_);
      view.blocks = blocks_;
      for (const std::unique_ptr<Head>& head : heads_) {
        for (auto& [block, rows] : head->SupersededRows()) {
          std::vector<uint32_t>& hidden = view.head_hidden[block];
          hidden.insert(hidden.end(), rows.begin(), rows.end());
        }
        // The filter is decided here, on the head's own record, so only the
        // matches are held (a head holds tens of thousands of traces).
        for (std::shared_ptr<const TraceRecord>& r : head->Select([&](const TraceRecord& r) {
               const int64_t t = sort_time(r);
               return in_range(t) && after_cursor(t, r.summary.id) &&
                      (!options.searchable_only || r.summary.indexed) &&
                      (options.filter == nullptr || options.filter->Matches(r));
             })) {
          head_records.push_back(std::move(r));
        }
      }
    }
    for (auto& [block, rows] : view.head_hidden) std::sort(rows.begin(), rows.end());
    if (options.on_snapshot) options.on_snapshot();

    // A condition every match satisfies (the RocksDB engine's index planner
    // finds it), checked against the blocks' bloom filters where they have
    // one: an annotation equality or a user; and the names every match's
    // graph must have a node called (service(…), edge(…)), checked against
    // the service filter of the blocks that hold the nodes' other names.
    std::optional<IndexCondition> required;
    std::vector<filter::NumberPredicate> numbers;
    std::vector<std::string> service_names;
    std::vector<filter::Field> node_flags;
    if (options.filter) {
      required = ChooseIndex(options.filter->bound());
      numbers = filter::RequiredNumberPredicates(options.filter->bound());
      service_names = filter::RequiredServiceNames(options.filter->bound());
      node_flags = filter::RequiredNodeFlags(options.filter->bound());
      // The required service(…) condition is among the names.
      if (required && required->kind == IndexCondition::Kind::kServiceName) required.reset();
    }
    auto may_match = [&](const BlockReader& reader) {
      for (const std::string& name : service_names) {
        if (!reader.MayContainGraphNodeNamed(name)) return false;
      }
      if (!required) return true;
      switch (required->kind) {
        case IndexCondition::Kind::kAnnotationEquals:
          return reader.MayContainAnnotation(required->key, required->value);
        case IndexCondition::Kind::kUser:
          return reader.MayContainUser(required->text);
        default:
          return true;
      }
    };

    // The scan merges ordered sources, one per block that may hold matches
    // and one for the heads' versions, pulling (time, id) keys lazily: a
    // first page looks at the first rows of each source only. Each source
    // lists its entries in ascending (time, id) order; a descending scan
    // walks them from the end.
    struct Source {
      int block = -1;  // index in view.blocks; -1: head_records
      // False: a block not read yet, whose time and id are a bound of its
      // keys in scan order (see open_source).
      bool opened = true;
      std::shared_ptr<const Int64Column> times;
      std::shared_ptr<const Fixed16Column> ids;
      // Block rows lo..hi-1 (sorted by start), or `entries` (block rows, or
      // indexes into head_records).
      bool contiguous = false;
      uint32_t lo = 0, hi = 0;
      std::vector<uint32_t> entries;
      // Block rows that may match (the filter's required condition and
      // service names, decided on the columns); absent: any row may.
      std::optional<Bitmap> may;
      // The columns of the filter's number predicates (one per `numbers`)
      // and searchable_only's: checked a row at a time as the merge reaches
      // it, so a page resuming in a large block costs the rows it visits,
      // not a pass over the whole block.
      std::vector<std::shared_ptr<const OptionalInt64Column>> number_columns;
      std::shared_ptr<const BoolColumn> indexed;
      // The columns its records are decoded from, read at its first decode.
      std::unique_ptr<BlockReader::RecordColumns> record_columns;
      size_t k = 0;  // next position in scan order
      // The current entry, once settled.
      int64_t time = 0;
      xray::TraceId id;
      uint32_t row = 0;

      size_t size() const { return contiguous ? hi - lo : entries.size(); }
      uint32_t At(size_t pos, bool descending) const {
        const size_t i = descending ? size() - 1 - pos : pos;
        return contiguous ? lo + static_cast<uint32_t>(i) : entries[i];
      }
    };
    auto key_of = [&](const Source& s, uint32_t entry, int64_t& t, xray::TraceId& id) {
      if (s.block < 0) {
        t = sort_time(*head_records[entry]);
        id = head_records[entry]->summary.id;
      } else {
        t = s.times->values[entry];
        id = xray::TraceId::FromBinary(reinterpret_cast<const uint8_t*>(s.ids->Get(entry).data()));
      }
    };
    // The block row may match, as far as the columns tell.
    auto row_may_match = [&](const Source& s, uint32_t row) {
      if (s.may && !s.may->Get(row)) return false;
      if (s.indexed && !s.indexed->values.Get(row)) return false;
      for (size_t i = 0; i < s.number_columns.size(); ++i) {
        if (!numbers[i].Matches(s.number_columns[i]->Get(row))) return false;
      }
      return true;
    };
    // Moves `s` to its next entry that is in range, visible and after the
    // cursor; false when it has none.
    auto settle = [&](Source& s) {
      for (; s.k < s.size(); ++s.k) {
        const uint32_t e = s.At(s.k, options.descending);
        if (s.block >= 0 && !row_may_match(s, e)) continue;
        if (s.block >= 0 && view.Hidden(*view.blocks[s.block], e)) continue;
        key_of(s, e, s.time, s.id);
        if (!in_range(s.time) || !after_cursor(s.time, s.id)) continue;
        s.row = e;
        return true;
      }
      return false;
    };

    std::vector<Source> sources;
    if (!head_records.empty()) {
      Source s;
      s.entries.resize(head_records.size());
      for (uint32_t i = 0; i < s.entries.size(); ++i) s.entries[i] = i;
      std::sort(s.entries.begin(), s.entries.end(), [&](uint32_t a, uint32_t b) {
        return std::make_tuple(sort_time(*head_records[a]), head_records[a]->summary.id) <
               std::make_tuple(sort_time(*head_records[b]), head_records[b]->summary.id);
      });
      sources.push_back(std::move(s));
    }
    // A block's source is opened (its sort and id columns read, its rows
    // ruled in or out on the columns) only when the merge reaches it: until
    // then it sits in the heap at a bound of its keys (its sort-time range
    // clamped to the scan's range and cursor, with the id that comes first
    // in scan order), so a first page that fills from the newest blocks
    // never reads the others.
    auto open_source = [&](Source& s) -> Status {
      const BlockHandle& h = *view.blocks[s.block];
      s.opened = true;
      if (options_.on_scan_block_opened) options_.on_scan_block_opened(h.meta.id);
      Result<std::shared_ptr<const Int64Column>> times =
          h.reader->ReadColumn<Int64Column>(by_event ? col::kUpdated : col::kStart);
      if (!times.ok()) return times.status();
      Result<std::shared_ptr<const Fixed16Column>> ids =
          h.reader->ReadColumn<Fixed16Column>(col::kTraceId);
      if (!ids.ok()) return ids.status();
      s.times = std::move(*times);
      s.ids = std::move(*ids);
      if (s.times->values.size() != h.meta.rows || s.ids->data.size() != 16 * h.meta.rows) {
        return Status::Corruption(
            fmt::format("block {}: columns disagree with its row count", h.reader->path()));
      }
      if (required) {
        Result<std::optional<Bitmap>> rows = RowsSatisfying(*h.reader, *required);
        if (!rows.ok()) return rows.status();
        s.may = std::move(*rows);
      }
      for (const std::string& name : service_names) {
        Result<std::optional<Bitmap>> rows = h.reader->RowsWithGraphNodeNamed(name);
        if (!rows.ok()) return rows.status();
        if (!*rows) continue;  // a version 1 block: every row may
        if (s.may) {
          s.may->And(**rows);
        } else {
          s.may = std::move(*rows);
        }
      }
      // service(…) { fault }: some node must have a faulty observation (the
      // columns do not pair the flag with the named node: a superset).
      for (const filter::Field flag : node_flags) {
        const std::string_view column = flag == filter::Field::kFault   ? col::kGraphNodeFault
                                        : flag == filter::Field::kError ? col::kGraphNodeError
                                                                        : col::kGraphNodeThrottle;
        Result<std::optional<Bitmap>> rows = h.reader->RowsWithGraphNodeFlag(column);
        if (!rows.ok()) return rows.status();
        if (!*rows) continue;
        if (s.may) {
          s.may->And(**rows);
        } else {
          s.may = std::move(*rows);
        }
      }
      for (const filter::NumberPredicate& p : numbers) {
        const std::string_view name = p.field == filter::Field::kResponseTime ? col::kResponseTime
                                      : p.field == filter::Field::kDuration   ? col::kDuration
                                                                              : col::kHttpStatus;
        Result<std::shared_ptr<const OptionalInt64Column>> values =
            h.reader->ReadColumn<OptionalInt64Column>(name);
        if (!values.ok()) return values.status();
        if ((*values)->values.size() != h.meta.rows || (*values)->present.size() != h.meta.rows) {
          return Status::Corruption(
              fmt::format("block {}: columns disagree with its row count", h.reader->path()));
        }
        s.number_columns.push_back(std::move(*values));
      }
      if (options.searchable_only) {
        Result<std::shared_ptr<const BoolColumn>> indexed =
            h.reader->ReadColumn<BoolColumn>(col::kIndexed);
        if (!indexed.ok()) return indexed.status();
        if ((*indexed)->values.size() != h.meta.rows) {
          return Status::Corruption(
              fmt::format("block {}: columns disagree with its row count", h.reader->path()));
        }
        s.indexed = std::move(*indexed);
      }
      const std::vector<int64_t>& t = s.times->values;
      if (!by_event) {
        // Rows are sorted by (start, id): the range is a run of them.
        s.contiguous = true;
        s.lo = static_cast<uint32_t>(std::lower_bound(t.begin(), t.end(), options.start_us) -
                                     t.begin());
        s.hi =
            static_cast<uint32_t>(std::lower_bound(t.begin(), t.end(), options.end_us) - t.begin());
      } else {
        for (uint32_t row = 0; row < h.meta.rows; ++row) {
          if (in_range(t[row]) && row_may_match(s, row)) s.entries.push_back(row);
        }
        std::sort(s.entries.begin(), s.entries.end(), [&](uint32_t x, uint32_t y) {
          if (t[x] != t[y]) return t[x] < t[y];
          return s.ids->Get(x) < s.ids->Get(y);  // the id's bytes order its TraceId
        });
      }
      // A resumed scan starts after the cursor: the entries are in ascending
      // (time, id) order, so it is found by binary search instead of walking
      // (and skipping) every entry a previous page returned.
      if (options.resume_after) {
        const auto cursor = std::tie(options.resume_after->time_us, options.resume_after->trace_id);
        const size_t n = s.size();
        size_t lo_i = 0, hi_i = n;
        // First index (ascending) whose key is after the cursor (ascending
        // scan) or at or after it (descending scan).
        while (lo_i < hi_i) {
          const size_t mid = lo_i + (hi_i - lo_i) / 2;
          int64_t mt = 0;
          xray::TraceId mid_id;
          key_of(s, s.contiguous ? s.lo + static_cast<uint32_t>(mid) : s.entries[mid], mt, mid_id);
          const auto key = std::tie(mt, mid_id);
          const bool before = options.descending ? key < cursor : !(cursor < key);
          if (before) {
            lo_i = mid + 1;
          } else {
            hi_i = mid;
          }
        }
        s.k = options.descending ? n - lo_i : lo_i;
      }
      return Status::Ok();
    };
    for (size_t b = 0; b < view.blocks.size(); ++b) {
      const BlockHandle& h = *view.blocks[b];
      if (h.meta.rows == 0) continue;
      const int64_t lo = by_event ? h.meta.min_updated_us : h.meta.min_start_us;
      const int64_t hi = by_event ? h.meta.max_updated_us : h.meta.max_start_us;
      if (hi < options.start_us || lo >= options.end_us) continue;
      // A block wholly at or before the cursor (in scan order) holds nothing.
      if (options.resume_after && (options.descending ? lo > options.resume_after->time_us
                                                      : hi < options.resume_after->time_us)) {
        continue;
      }
      if (!may_match(*h.reader)) continue;
      Source s;
      s.block = static_cast<int>(b);
      s.opened = false;
      if (options.descending) {
        s.time = std::min(hi, options.end_us - 1);
        if (options.resume_after) s.time = std::min(s.time, options.resume_after->time_us);
        s.id.bytes.fill(0xff);
      } else {
        s.time = std::max(lo, options.start_us);
        if (options.resume_after) s.time = std::max(s.time, options.resume_after->time_us);
      }
      sources.push_back(std::move(s));
    }

    // Sources with entries left, as a heap whose top is next in scan order.
    auto later = [&](size_t a, size_t b) {  // b comes before a
      const auto ka = std::tie(sources[a].time, sources[a].id);
      const auto kb = std::tie(sources[b].time, sources[b].id);
      return options.descending ? ka < kb : kb < ka;
    };
    std::vector<size_t> heap;
    for (size_t i = 0; i < sources.size(); ++i) {
      if (!sources[i].opened || settle(sources[i])) heap.push_back(i);
    }
    std::make_heap(heap.begin(), heap.end(), later);
    // Opens the blocks at the top of the heap until the top is a settled
    // entry (or the heap is empty).
    auto open_top = [&]() -> Status {
      while (!heap.empty() && !sources[heap.front()].opened) {
        std::pop_heap(heap.begin(), heap.end(), later);
        Source& s = sources[heap.back()];
        RG_RETURN_IF_ERROR(open_source(s));
        if (settle(s)) {
          std::push_heap(heap.begin(), heap.end(), later);
        } else {
          heap.pop_back();
        }
      }
      return Status::Ok();
    };

    const filter::CompiledFilter* filter = options.filter.get();
    const bool with_graph = options.return_graph || (filter != nullptr && filter->NeedsGraph());
    // A block row is decoded only when the merge reaches it, into one record
    // reused from row to row and from scan to scan (its strings and vectors
    // keep their storage): a page of GetTraceSummaries decodes the 101 rows
    // it looks at, not runs decoded ahead, and no record is allocated anew.
    // A head's version is read in place (it may carry its graph: allowed
    // without return_graph, see ScanOptions), its match decided at the
    // snapshot.
    BlockScanRecord scratch;
    for (;;) {
      if (Status st = open_top(); !st.ok()) return ReadFailed(st);
      if (heap.empty()) break;
      Source& s = sources[heap.front()];
      const ScanCursor position{s.time, s.id};
      if (options.max_examined != 0 && progress.examined == options.max_examined) {
        progress.stopped_at = position;
        break;
      }
      std::pop_heap(heap.begin(), heap.end(), later);
      const uint32_t row = s.row;
      // The source's next entry is settled before this one is decoded, so
      // that the decoding overlaps the loading of the next row's randomly
      // placed bytes (PrefetchRecord): the next row decoded is most often
      // the same block's.
      ++s.k;
      const bool more = settle(s);
      const TraceRecord* head_record = nullptr;
      TraceRecord* record = nullptr;
      if (s.block < 0) {
        head_record = head_records[row].get();
      } else {
        const BlockReader& reader = *view.blocks[s.block]->reader;
        if (s.record_columns == nullptr) {
          s.record_columns = std::make_unique<BlockReader::RecordColumns>();
          if (Status st = reader.ReadRecordColumns(with_graph, *s.record_columns); !st.ok()) {
            return ReadFailed(st);
          }
        }
        if (more) BlockReader::PrefetchRecord(*s.record_columns, s.row);
        record = &scratch.record;
        if (Status st = reader.DecodeRecord(*s.record_columns, row, *record); !st.ok()) {
          return ReadFailed(st);
        }
      }
      if (more) {
        std::push_heap(heap.begin(), heap.end(), later);
      } else {
        heap.pop_back();
        // Its columns go back to the cache's sole keeping (a scan over many
        // blocks would otherwise hold every block's columns to its end).
        s.record_columns.reset();
      }
      const bool match =
          head_record != nullptr || ((!options.searchable_only || record->summary.indexed) &&
                                     (filter == nullptr || filter->Matches(*record)));
      if (match) {
        if (head_record == nullptr && !options.return_graph) {
          record->graph.nodes.clear();
          record->graph.edges.clear();
        }
        if (!callback(head_record != nullptr ? *head_record : *record, position.time_us)) {
          progress.stopped_at = position;
          break;
        }
      }
      ++progress.examined;
      progress.last = position;
    }
    return progress;
  }

  // ---- config ----

  Status PutConfig(std::string_view ns, std::string_view key, std::string_view value) override {
    RG_RETURN_IF_ERROR(CheckNamespace(ns));
    MutexLock lock(config_mu_);
    return Counted(write_errors_,
                   FromRocks(config_->Put(SyncWrite(), ConfigKey(ns, key),
                                          rocksdb::Slice(value.data(), value.size())),
                             "writing config"));
  }

  Result<std::string> GetConfig(std::string_view ns, std::string_view key) override {
    RG_RETURN_IF_ERROR(CheckNamespace(ns));
    std::string value;
    rocksdb::Status s = config_->Get(rocksdb::ReadOptions(), ConfigKey(ns, key), &value);
    if (s.IsNotFound()) return Status::NotFound(fmt::format("config {}/{} not found", ns, key));
    if (!s.ok()) return Counted(read_errors_, FromRocks(s, "reading config"));
    return value;
  }

  Status DeleteConfig(std::string_view ns, std::string_view key) override {
    RG_RETURN_IF_ERROR(CheckNamespace(ns));
    const std::string k = ConfigKey(ns, key);
    MutexLock lock(config_mu_);
    std::string existing;
    rocksdb::Status s = config_->Get(rocksdb::ReadOptions(), k, &existing);
    if (s.IsNotFound()) return Status::NotFound(fmt::format("config {}/{} not found", ns, key));
    if (!s.ok()) return Counted(read_errors_, FromRocks(s, "reading config"));
    return Counted(write_errors_, FromRocks(config_->Delete(SyncWrite(), k), "deleting config"));
  }

  Result<std::vector<std::pair<std::string, std::string>>> ListConfig(
      std::string_view ns) override {
    RG_RETURN_IF_ERROR(CheckNamespace(ns));
    const std::string prefix = ConfigKey(ns, "");
    std::unique_ptr<rocksdb::Iterator> it(config_->NewIterator(rocksdb::ReadOptions()));
    std::vector<std::pair<std::string, std::string>> entries;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      entries.emplace_back(it->key().ToString().substr(prefix.size()), it->value().ToString());
    }
    if (!it->status().ok()) return Counted(read_errors_, FromRocks(it->status(), "listing config"));
    return entries;
  }

  // ---- retention ----

  Status DeleteOlderThan(int64_t cutoff_us) override {
    std::vector<std::function<void()>> durable;
    Status s = DeleteOlderThanLocked(cutoff_us, durable);
    for (auto& f : durable) f();  // outside every lock of the store
    return s;
  }

  Status DeleteOlderThanLocked(int64_t cutoff_us, std::vector<std::function<void()>>& durable) {
    MutexLock cut_lock(cut_mu_);  // no cut in flight: no version is sealed
    ManifestEdit edit;
    std::vector<std::shared_ptr<const BlockHandle>> blocks;
    {
      MutexLock lock(view_mu_);
      blocks = blocks_;
    }
    std::set<uint64_t> removed;
    for (const auto& h : blocks) {
      if (h->meta.rows == 0 || h->meta.max_start_us < cutoff_us) {
        edit.removed.push_back(h->meta.id);
        removed.insert(h->meta.id);
      } else if (h->meta.min_start_us < cutoff_us) {
        // Straddles the cutoff: its older rows are hidden until compaction
        // drops them.
        Result<Int64Column> starts = h->reader->ReadInt64(col::kStart);
        if (!starts.ok()) return ReadFailed(starts.status());
        if (starts->values.size() != h->meta.rows) {
          return ReadFailed(Status::Corruption(fmt::format(
              "block {}: start column disagrees with its row count", h->reader->path())));
        }
        for (uint32_t row = 0; row < h->meta.rows; ++row) {
          if (starts->values[row] < cutoff_us && !Contains(h->superseded, row)) {
            edit.superseded[h->meta.id].push_back(row);
          }
        }
      }
    }
    Status result;
    {
      MutexLock write_lock(write_mu_);
      MutexLock lock(view_mu_);
      for (const std::unique_ptr<Head>& head : heads_) {
        Head::Dropped dropped = head->DropOlderThan(cutoff_us);
        // The rows those versions replaced must not show again.
        for (const RowRef& r : dropped.superseded) {
          if (!removed.contains(r.block_id) && LiveLocked(r.block_id)) {
            edit.superseded[r.block_id].push_back(r.row);
          }
        }
        for (auto& f : dropped.durable) durable.push_back(std::move(f));
      }
      for (auto& [id, rows] : edit.superseded) {
        std::sort(rows.begin(), rows.end());
        rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
      }
      if (!edit.removed.empty() || !edit.superseded.empty()) {
        result = manifest_->Apply(edit);
        if (!result.ok()) {
          write_errors_.Count(result);
          // The blocks stay; the rows of dropped head versions are hidden in
          // memory at least (the spools replay them after a restart).
          edit.removed.clear();
        }
        ApplyToBlocksLocked(edit);
      }
    }
    for (uint64_t id : edit.removed) {
      std::error_code ec;
      fs::remove(BlockPath(id), ec);
    }
    return result;
  }

  // ---- stats, checkpoint, flush ----

  StoreStats Stats() override {
    StoreStats stats;
    uint64_t live_rows = 0;
    double documents = 0;
    uint64_t head_documents = 0;
    {
      MutexLock lock(view_mu_);
      for (const auto& h : blocks_) {
        const uint64_t live = h->meta.rows - std::min<uint64_t>(h->meta.rows, h->superseded.size());
        live_rows += live;
        if (h->meta.rows > 0) {
          documents += static_cast<double>(h->documents) * static_cast<double>(live) /
                       static_cast<double>(h->meta.rows);
        }
        stats.disk_bytes += h->meta.bytes;
        stats.read_cache_bytes += h->reader->trace_index_bytes();
      }
      uint64_t hidden = 0;
      for (const std::unique_ptr<Head>& head : heads_) {
        const Head::Stats hs = head->stats();
        stats.traces += hs.traces;
        stats.unflushed_bytes += hs.memory_bytes;
        head_documents += hs.documents;
        for (const auto& [block, rows] : head->SupersededRows()) hidden += rows.size();
      }
      stats.traces += live_rows - std::min(live_rows, hidden);
    }
    stats.documents = static_cast<uint64_t>(documents) + head_documents;
    stats.read_cache_bytes += cache_->bytes();
    stats.disk_bytes += manifest_->LogBytes() + DirBytes(dir_ + "/config");
    stats.disk_full = disk_full_.load();
    stats.read_only = stats.disk_full;
    stats.writes_stalled = writers_waiting_for_room_.load() > 0;
    stats.write_errors = write_errors_.Get();
    stats.read_errors = read_errors_.Get();
    return stats;
  }

  Status Checkpoint(const std::string& dir) override {
    std::error_code ec;
    if (fs::exists(dir, ec)) {
      return Status::AlreadyExists(fmt::format("checkpoint: {} already exists", dir));
    }
    const fs::path parent = fs::path(dir).parent_path();
    if (!parent.empty() && !fs::is_directory(parent, ec)) {
      return Status::NotFound(fmt::format("checkpoint: {} is not a directory", parent.string()));
    }
    if (disk_full_.load()) {
      return Status::Unavailable(
          "checkpoint: the store refuses writes now (its disk is full), so it cannot cut its "
          "heads for a copy; retry once writes resume");
    }
    RG_RETURN_IF_ERROR(Flush());
    MutexLock cut_lock(cut_mu_);  // the blocks and the manifest hold still
    const std::string blocks_copy = dir + "/blocks";
    fs::create_directories(blocks_copy, ec);
    if (ec)
      return Status::IOError(fmt::format("checkpoint: create {}: {}", blocks_copy, ec.message()));
    auto fail = [&](Status s) {
      std::error_code ignored;
      fs::remove_all(dir, ignored);
      return s;
    };
    const ManifestState state = manifest_->State();
    ManifestEdit added, superseded;
    for (const auto& [id, live] : state.blocks) {
      Result<uint64_t> linked =
          LinkOrCopyFile(BlockPath(id), blocks_copy + "/" + BlockFileName(id));
      if (!linked.ok()) return fail(linked.status());
      added.added.push_back(live.meta);
      if (!live.superseded.empty()) superseded.superseded[id] = live.superseded;
    }
    {
      Result<std::unique_ptr<Manifest>> copy = Manifest::Open(blocks_copy);
      if (!copy.ok()) return fail(copy.status());
      if (!added.added.empty()) {
        if (Status s = (*copy)->Apply(added); !s.ok()) return fail(s);
      }
      if (!superseded.superseded.empty()) {
        if (Status s = (*copy)->Apply(superseded); !s.ok()) return fail(s);
      }
    }
    rocksdb::Checkpoint* raw = nullptr;
    if (Status s = FromRocks(rocksdb::Checkpoint::Create(config_.get(), &raw), "checkpoint");
        !s.ok()) {
      return fail(s);
    }
    std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
    if (Status s = FromRocks(checkpoint->CreateCheckpoint(dir + "/config", 0),
                             "checkpoint of the config into " + dir);
        !s.ok()) {
      return fail(s);
    }
    return SyncDir(dir);
  }

  Status Flush() override { return CutAll(true); }

  // The sum of the live blocks' rollup sections, less their superseded
  // rows (rollup_section.h), as of one manifest state; the heads must be
  // empty (at open they are: their writes come back by the spools' replay).
  Result<std::optional<PersistedRollups>> LoadRollups(
      int64_t hourly_before_us = std::numeric_limits<int64_t>::min(),
      size_t max_minute_bytes = std::numeric_limits<size_t>::max()) override {
    std::vector<RollupSource> sources;
    {
      MutexLock cut_lock(cut_mu_);
      for (const std::unique_ptr<Head>& head : heads_) {
        if (head->stats().traces != 0) {
          return Status::InvalidArgument(
              "LoadRollups: the heads hold writes not in a block yet; load the rollups before "
              "the first write (or Flush first)");
        }
      }
      sources = RollupSources();
    }
    MutexLock lock(corrections_mu_);
    Status file_damage;
    if (!corrections_loaded_) {
      Result<SavedCorrections> saved = ReadSavedCorrections(blocks_dir_);
      if (saved.ok()) {
        corrections_ = std::move(*saved);
      } else if (saved.status().code() == StatusCode::kCorruption) {
        file_damage = saved.status();  // its rows are read instead
      } else {
        return ReadFailed(saved.status());
      }
      corrections_loaded_ = true;
    }
    const int64_t fold_below_minute =
        hourly_before_us == std::numeric_limits<int64_t>::min()
            ? hourly_before_us
            : graph::RollupHourStart(graph::RollupMinuteOf(hourly_before_us));
    Result<PersistedRollups> summed =
        SumBlockRollups(sources, corrections_, fold_below_minute, max_minute_bytes);
    if (!summed.ok()) return ReadFailed(summed.status());
    if (!file_damage.ok()) summed->damaged.push_back(file_damage);
    for (const Status& damaged : summed->damaged) read_errors_.Count(damaged);
    return std::optional<PersistedRollups>(std::move(*summed));
  }

  Status SaveRollupCorrections() override {
    const std::vector<RollupSource> sources = RollupSources();
    MutexLock lock(corrections_mu_);
    if (!corrections_loaded_) {
      // A damaged file is replaced.
      Result<SavedCorrections> saved = ReadSavedCorrections(blocks_dir_);
      if (saved.ok()) corrections_ = std::move(*saved);
      corrections_loaded_ = true;
    }
    Result<bool> changed = UpdateSavedCorrections(sources, corrections_);
    if (!changed.ok()) return ReadFailed(changed.status());
    if (!*changed) return Status::Ok();
    Status written = WriteSavedCorrections(blocks_dir_, corrections_);
    if (!written.ok()) write_errors_.Count(written);
    return written;
  }

  Result<uint64_t> Compact() override {
    MutexLock lock(compact_mu_);
    return CompactRound();
  }

 private:
  // Failed operations by cause.
  class ErrorCounts {
   public:
    void Count(const Status& s) {
      switch (s.code()) {
        case StatusCode::kResourceExhausted:
          ++disk_full_;
          break;
        case StatusCode::kCorruption:
          ++corruption_;
          break;
        default:
          ++io_error_;
          break;  // callers count failures of I/O only
      }
    }
    StoreErrorCounts Get() const {
      return StoreErrorCounts{disk_full_.load(), io_error_.load(), corruption_.load()};
    }

   private:
    std::atomic<uint64_t> disk_full_{0}, io_error_{0}, corruption_{0};
  };

  static Status Counted(ErrorCounts& counts, Status s) {
    if (!s.ok()) counts.Count(s);
    return s;
  }
  // A block read that fails: counted, logged, and a damaged one worded as
  // every engine words it (read_failure.h).
  Status ReadFailed(Status s) {
    return read_failure_log_.Report(Counted(read_errors_, std::move(s)));
  }

  static rocksdb::WriteOptions SyncWrite() {
    rocksdb::WriteOptions w;
    w.sync = true;
    return w;
  }

  static uint64_t DirBytes(const std::string& dir) {
    uint64_t bytes = 0;
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(dir, ec)) {
      std::error_code size_ec;
      if (e.is_regular_file(size_ec)) bytes += e.file_size(size_ec);
    }
    return bytes;
  }

  std::string BlockPath(uint64_t id) const { return blocks_dir_ + "/" + BlockFileName(id); }

  size_t ShardOf(const xray::TraceId& id) const { return xray::TraceIdHash()(id) % heads_.size(); }
  Head& HeadFor(const xray::TraceId& id) const { return *heads_[ShardOf(id)]; }

  // The live blocks as the rollups' sum sees them, as of one manifest state.
  std::vector<RollupSource> RollupSources() {
    std::vector<RollupSource> sources;
    MutexLock lock(view_mu_);
    for (const auto& h : blocks_) {
      sources.push_back(RollupSource{h->meta.id, h->reader, h->superseded});
    }
    return sources;
  }

  bool LiveLocked(uint64_t id) const REQUIRES(view_mu_) {
    return std::any_of(blocks_.begin(), blocks_.end(),
                       [&](const auto& h) { return h->meta.id == id; });
  }

  // The live blocks whose trace-id filter admits `id`, oldest first: a point
  // read of a trace the blocks do not hold (every new trace the ingest
  // writer looks up) copies no block handle.
  std::vector<std::shared_ptr<const BlockHandle>> BlocksMayContainLocked(const TraceProbe& probe)
      REQUIRES(view_mu_) {
    std::vector<std::shared_ptr<const BlockHandle>> out;
    for (const auto& b : blocks_) {
      if (b->reader->MayContainTrace(probe)) out.push_back(b);
    }
    return out;
  }

  View TakeBlocksView() {
    View view;
    MutexLock lock(view_mu_);
    view.blocks = blocks_;
    return view;
  }

  Result<std::shared_ptr<const BlockHandle>> OpenHandle(const BlockMeta& meta,
                                                        std::vector<uint32_t> superseded) {
    Result<std::unique_ptr<BlockReader>> reader =
        BlockReader::Open(BlockPath(meta.id), cache_.get());
    if (!reader.ok()) return ReadFailed(reader.status());
    auto h = std::make_shared<BlockHandle>();
    h->meta = meta;
    if (Result<std::string> counts = (*reader)->ReadSection(kCountsSection); counts.ok()) {
      coding::Reader in(*counts);
      uint64_t documents = 0;
      if (!in.Varint(documents)) {
        return ReadFailed(Status::Corruption(
            fmt::format("block {}: damaged {} section", (*reader)->path(), kCountsSection)));
      }
      h->documents = documents;
    } else if (counts.status().code() != StatusCode::kNotFound) {
      return ReadFailed(counts.status());
    }
    h->reader = std::move(*reader);
    h->superseded = std::move(superseded);
    return std::shared_ptr<const BlockHandle>(std::move(h));
  }

  // The trace's newest row that is not hidden, newest block first.
  Result<std::optional<std::pair<const BlockHandle*, uint32_t>>> FindRow(const View& view,
                                                                         const TraceProbe& probe) {
    for (auto it = view.blocks.rbegin(); it != view.blocks.rend(); ++it) {
      const BlockHandle& h = **it;
      Result<std::optional<uint32_t>> row = h.reader->FindTrace(probe);
      if (!row.ok()) return ReadFailed(row.status());
      if (!*row || view.Hidden(h, **row)) continue;
      return std::optional<std::pair<const BlockHandle*, uint32_t>>(std::make_pair(&h, **row));
    }
    return std::optional<std::pair<const BlockHandle*, uint32_t>>();
  }

  Result<std::optional<OlderVersion>> FindNewest(const View& view, const xray::TraceId& id) {
    Result<std::optional<std::pair<const BlockHandle*, uint32_t>>> row =
        FindRow(view, TraceProbe(id));
    if (!row.ok()) return row.status();
    if (!*row) return std::optional<OlderVersion>();
    Result<std::vector<StoredDocument>> docs = (*row)->first->reader->ReadDocuments((*row)->second);
    if (!docs.ok()) return ReadFailed(docs.status());
    return std::optional<OlderVersion>(
        OlderVersion{RowRef{(*row)->first->meta.id, (*row)->second}, std::move(*docs)});
  }

  // Applies a committed edit to the readers' blocks (the files of added
  // blocks are opened by the caller).
  void ApplyToBlocksLocked(const ManifestEdit& edit) REQUIRES(view_mu_) {
    std::set<uint64_t> removed(edit.removed.begin(), edit.removed.end());
    std::erase_if(blocks_, [&](const auto& h) { return removed.contains(h->meta.id); });
    for (auto& h : blocks_) {
      auto it = edit.superseded.find(h->meta.id);
      if (it == edit.superseded.end()) continue;
      auto updated = std::make_shared<BlockHandle>(*h);
      updated->superseded = MergeRows(h->superseded, it->second);
      h = std::move(updated);
    }
  }

  // Cuts what is due (everything with `all`) in every head into blocks.
  Status CutAll(bool all) {
    std::vector<std::function<void()>> durable;
    Status st = CutAllLocked(all, durable);
    cut_failing_ = !st.ok();
    room_cv_.SignalAll();
    for (auto& f : durable) f();  // outside every lock of the store
    return st;
  }

  bool HeadsOverHardBound() const {
    for (const std::unique_ptr<Head>& head : heads_) {
      if (head->stats().memory_bytes > 2 * options_.head.max_bytes) return true;
    }
    return false;
  }

  // A write waits while a head holds more than twice its bound: the cutter,
  // woken, frees it a block at a time, so memory stays bounded when writes
  // outrun the cut (what waits stays in the spools, on disk). No wait once
  // the store stops, or while cuts fail: a failed cut leaves its versions in
  // the heads, and blocking every write on it would stall ingest for good.
  void WaitForHeadRoom() {
    if (!HeadsOverHardBound()) return;
    writers_waiting_for_room_.fetch_add(1);
    WakeCutter();
    {
      MutexLock lock(cutter_mu_);
      while (!stopping_ && !cut_failing_ && HeadsOverHardBound()) {
        room_cv_.WaitFor(cutter_mu_, std::chrono::milliseconds(100));
      }
    }
    writers_waiting_for_room_.fetch_sub(1);
  }

  Status CutAllLocked(bool all, std::vector<std::function<void()>>& durable) {
    MutexLock cut_lock(cut_mu_);
    Status first;
    bool cut_something = false;
    bool heads_empty = true;
    for (size_t s = 0; s < heads_.size(); ++s) {
      if (heads_[s]->stats().traces == 0) continue;
      heads_empty = false;
      std::shared_ptr<const Cut> cut =
          heads_[s]->TakeCut(manifest_->NewBlockId(), clock_.NowMicros(), all);
      if (cut->empty()) continue;
      Status st = CommitCutLocked(*heads_[s], *cut, durable);
      if (!st.ok()) {
        heads_[s]->Abandoned(*cut);
        write_errors_.Count(st);
        if (st.code() == StatusCode::kResourceExhausted) disk_full_ = true;
        if (first.ok()) first = st;
      } else {
        cut_something = true;
      }
    }
    // The disk had room again (or nothing waits for it): writes resume.
    if (first.ok() && (cut_something || heads_empty)) disk_full_ = false;
    return first;
  }

  // Writes the cut's block and commits it; the callbacks of the writes now
  // durable are appended to `durable` for the caller to run.
  Status CommitCutLocked(Head& head, const Cut& cut, std::vector<std::function<void()>>& durable)
      REQUIRES(cut_mu_) {
    const std::string path = BlockPath(cut.block_id);
    uint64_t document_count = 0;
    for (const std::vector<StoredDocument>& docs : cut.documents) document_count += docs.size();
    BlockWriteOptions wo;
    wo.zstd_level = options_.zstd_level;
    std::string counts;
    coding::PutVarint(document_count, counts);
    wo.sections.emplace_back(std::string(kCountsSection), std::move(counts));
    const std::vector<const TraceRecord*> rows = cut.RowPointers();
    wo.sections.emplace_back(std::string(kRollupSection),
                             EncodeRollupSection(RollupsOfPointedRecords(rows)));
    Status written = WriteBlock(rows, cut.documents, path, wo);
    auto discard = [&](Status s) {
      std::error_code ec;
      fs::remove(path, ec);
      return s;
    };
    if (!written.ok()) return discard(written);
    if (options_.before_cut_commit) {
      if (Status hooked = options_.before_cut_commit(path); !hooked.ok()) return discard(hooked);
    }
    Result<std::unique_ptr<BlockReader>> reader = BlockReader::Open(path, cache_.get());
    if (!reader.ok()) return discard(reader.status());
    const BlockStats& bs = (*reader)->stats();
    BlockMeta meta;
    meta.id = cut.block_id;
    meta.rows = bs.rows;
    meta.bytes = (*reader)->file_bytes();
    meta.min_start_us = bs.min_start_us;
    meta.max_start_us = bs.max_start_us;
    meta.min_updated_us = bs.min_updated_us;
    meta.max_updated_us = bs.max_updated_us;

    ManifestEdit edit;
    edit.added.push_back(meta);
    {
      MutexLock lock(view_mu_);
      for (const std::optional<RowRef>& supersedes : cut.supersedes) {
        // A row retention removed meanwhile has nothing left to supersede.
        if (supersedes && LiveLocked(supersedes->block_id)) {
          edit.superseded[supersedes->block_id].push_back(supersedes->row);
        }
      }
    }
    for (auto& [id, rows] : edit.superseded) {
      std::sort(rows.begin(), rows.end());
      rows.erase(std::unique(rows.begin(), rows.end()), rows.end());
    }
    if (Status s = manifest_->Apply(edit); !s.ok()) return discard(s);

    auto handle = std::make_shared<BlockHandle>();
    handle->meta = meta;
    handle->reader = std::move(*reader);
    handle->documents = document_count;
    {
      MutexLock lock(view_mu_);
      ManifestEdit supersede_only;
      supersede_only.superseded = edit.superseded;
      ApplyToBlocksLocked(supersede_only);
      blocks_.push_back(std::move(handle));  // ids grow: blocks_ stays sorted
      for (auto& f : head.CommitCut(cut)) durable.push_back(std::move(f));
    }
    return Status::Ok();
  }

  // ---- compaction ----

  // One round: plans merges on the live blocks as they are now and runs
  // them one after another.
  Result<uint64_t> CompactRound() REQUIRES(compact_mu_) {
    std::vector<std::shared_ptr<const BlockHandle>> blocks = TakeBlocksView().blocks;
    std::vector<std::vector<std::shared_ptr<const BlockHandle>>> groups;
    std::set<uint64_t> planned;
    const size_t fanin = options_.compaction_fanin;  // at least 2 (Open)
    std::map<uint32_t, std::vector<std::shared_ptr<const BlockHandle>>> by_level;
    for (const auto& h : blocks) by_level[h->meta.level].push_back(h);
    for (auto& [level, list] : by_level) {
      // Adjacent in time: a run of blocks in order of their first start.
      std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) {
        return std::tie(a->meta.min_start_us, a->meta.id) <
               std::tie(b->meta.min_start_us, b->meta.id);
      });
      for (size_t i = 0; i + fanin <= list.size();) {
        uint64_t bytes = 0;
        for (size_t j = i; j < i + fanin; ++j) bytes += list[j]->meta.bytes;
        if (bytes > options_.compaction_max_bytes) {
          ++i;
          continue;
        }
        groups.emplace_back(list.begin() + static_cast<std::ptrdiff_t>(i),
                            list.begin() + static_cast<std::ptrdiff_t>(i + fanin));
        for (size_t j = i; j < i + fanin; ++j) planned.insert(list[j]->meta.id);
        i += fanin;
      }
    }
    // A block much of which is superseded (late versions, retention's
    // straddling rows) is rewritten alone to reclaim their space.
    for (const auto& h : blocks) {
      if (planned.contains(h->meta.id) || h->superseded.empty()) continue;
      if (static_cast<double>(h->superseded.size()) >=
          options_.compaction_rewrite_superseded * static_cast<double>(h->meta.rows)) {
        groups.push_back({h});
      }
    }
    uint64_t replaced = 0;
    Status first;
    for (const auto& group : groups) {
      // A merge that fails leaves its inputs as they were; the others go on.
      Result<bool> merged = Merge(group);
      if (!merged.ok()) {
        if (first.ok()) first = merged.status();
        continue;
      }
      if (*merged) replaced += group.size();
    }
    if (!first.ok()) return first;
    return replaced;
  }

  // Merges `inputs` (handles as they were when planned) into one block of
  // the next level (the same level for a block rewritten alone), by columns
  // (block_merge.h) unless an input's format is older. False when
  // retention removed an input meanwhile (nothing changes).
  Result<bool> Merge(const std::vector<std::shared_ptr<const BlockHandle>>& inputs)
      REQUIRES(compact_mu_) {
    // Newest input first: should two inputs hold a visible row of one trace,
    // the newer block's row is kept and the other maps to it.
    std::vector<std::shared_ptr<const BlockHandle>> order = inputs;
    std::sort(order.begin(), order.end(),
              [](const auto& a, const auto& b) { return a->meta.id > b->meta.id; });
    uint32_t level = 0;
    for (const auto& h : inputs) level = std::max(level, h->meta.level);
    if (inputs.size() > 1) ++level;

    // Every input row superseded: the inputs go without an output.
    std::optional<BlockMeta> meta;
    std::shared_ptr<BlockHandle> handle;
    const uint64_t out_id = manifest_->NewBlockId();
    const std::string path = BlockPath(out_id);
    auto discard = [&](Status s) {
      std::error_code ec;
      fs::remove(path, ec);
      write_errors_.Count(s);
      return s;
    };
    // Per input block: the output row of each row (-1: dropped).
    std::unordered_map<uint64_t, std::vector<int64_t>> slot;
    uint64_t out_rows = 0;
    uint64_t document_count = 0;
    std::vector<BlockMergeInput> merge_inputs;
    for (const auto& h : order) {
      merge_inputs.push_back(BlockMergeInput{h->reader.get(), h->superseded});
    }
    if (options_.compaction_by_columns && CanMergeBlockColumns(merge_inputs)) {
      for (const auto& h : order) {
        if (h->reader->row_count() != h->meta.rows) {
          return ReadFailed(Status::Corruption(
              fmt::format("block {}: rows disagree with its manifest entry", h->reader->path())));
        }
      }
      BlockMergeOptions mo;
      mo.zstd_level = options_.compaction_zstd_level;
      mo.target_page_raw_bytes = options_.compaction_page_raw_bytes;
      mo.counts_section = std::string(kCountsSection);
      mo.rollup_section = std::string(kRollupSection);
      Result<BlockMergeResult> merged = MergeBlockColumns(merge_inputs, path, mo);
      if (!merged.ok()) {
        // Damage in an input is a read error; anything else, the output's.
        if (merged.status().code() != StatusCode::kCorruption) return discard(merged.status());
        std::error_code ec;
        fs::remove(path, ec);
        return ReadFailed(merged.status());
      }
      out_rows = merged->rows;
      document_count = merged->documents;
      for (size_t i = 0; i < order.size(); ++i) {
        slot[order[i]->meta.id] = std::move(merged->output_row[i]);
      }
    } else {
      // By records: every row decoded, for inputs of an older format
      // (block_merge.h) and when compaction_by_columns is off; the same
      // output file.
      struct Kept {
        TraceRecord record;
        std::vector<StoredDocument> documents;
      };
      std::vector<Kept> kept;
      std::unordered_map<xray::TraceId, size_t, xray::TraceIdHash> by_trace;
      for (const auto& h : order) {
        std::vector<TraceRecord> records;
        if (Status st = h->reader->ReadAllRecords(records, true); !st.ok()) return ReadFailed(st);
        Result<std::vector<std::vector<StoredDocument>>> docs = h->reader->ReadAllDocuments();
        if (!docs.ok()) return ReadFailed(docs.status());
        if (records.size() != h->meta.rows || docs->size() != h->meta.rows) {
          return ReadFailed(Status::Corruption(
              fmt::format("block {}: rows disagree with its manifest entry", h->reader->path())));
        }
        std::vector<int64_t>& slots = slot[h->meta.id];
        slots.assign(h->meta.rows, -1);
        for (uint32_t row = 0; row < h->meta.rows; ++row) {
          if (Contains(h->superseded, row)) continue;
          auto [it, inserted] = by_trace.try_emplace(records[row].summary.id, kept.size());
          slots[row] = static_cast<int64_t>(it->second);
          if (!inserted) continue;
          kept.push_back(Kept{std::move(records[row]), std::move((*docs)[row])});
        }
      }
      // Output rows in (start, trace id) order.
      std::vector<size_t> order_out(kept.size());
      for (size_t i = 0; i < order_out.size(); ++i) order_out[i] = i;
      std::sort(order_out.begin(), order_out.end(), [&](size_t a, size_t b) {
        const auto& x = kept[a].record.summary;
        const auto& y = kept[b].record.summary;
        return std::tie(x.start_time_us, x.id) < std::tie(y.start_time_us, y.id);
      });
      std::vector<int64_t> row_of(kept.size());
      std::vector<TraceRecord> records;
      std::vector<std::vector<StoredDocument>> documents;
      records.reserve(kept.size());
      documents.reserve(kept.size());
      for (size_t i = 0; i < order_out.size(); ++i) {
        Kept& k = kept[order_out[i]];
        row_of[order_out[i]] = static_cast<int64_t>(i);
        document_count += k.documents.size();
        records.push_back(std::move(k.record));
        documents.push_back(std::move(k.documents));
      }
      kept.clear();
      for (auto& [id, slots] : slot) {
        for (int64_t& s : slots) s = s < 0 ? -1 : row_of[static_cast<size_t>(s)];
      }
      out_rows = records.size();
      if (!records.empty()) {
        BlockWriteOptions wo;
        wo.zstd_level = options_.compaction_zstd_level;
        wo.target_page_raw_bytes = options_.compaction_page_raw_bytes;
        std::string counts;
        coding::PutVarint(document_count, counts);
        wo.sections.emplace_back(std::string(kCountsSection), std::move(counts));
        wo.sections.emplace_back(std::string(kRollupSection),
                                 EncodeRollupSection(RollupsOfRecords(records)));
        if (Status st = WriteBlock(records, documents, path, wo); !st.ok()) return discard(st);
      }
    }
    if (out_rows > 0) {
      Result<std::unique_ptr<BlockReader>> reader = BlockReader::Open(path, cache_.get());
      if (!reader.ok()) return discard(reader.status());
      const BlockStats& bs = (*reader)->stats();
      meta.emplace();
      meta->id = out_id;
      meta->rows = bs.rows;
      meta->bytes = (*reader)->file_bytes();
      meta->min_start_us = bs.min_start_us;
      meta->max_start_us = bs.max_start_us;
      meta->min_updated_us = bs.min_updated_us;
      meta->max_updated_us = bs.max_updated_us;
      meta->level = level;
      handle = std::make_shared<BlockHandle>();
      handle->meta = *meta;
      handle->reader = std::move(*reader);
      handle->documents = document_count;
      if (options_.before_compaction_commit) {
        if (Status st = options_.before_compaction_commit(path); !st.ok()) {
          std::error_code ec;
          fs::remove(path, ec);
          return st;
        }
      }
    }
    // An output row whose input row maps there.
    auto output_row = [&](const RowRef& r) -> std::optional<RowRef> {
      auto it = slot.find(r.block_id);
      if (it == slot.end()) return r;  // not an input
      if (r.row >= it->second.size() || it->second[r.row] < 0) return std::nullopt;
      return RowRef{out_id, static_cast<uint32_t>(it->second[r.row])};
    };

    {
      // No cut or retention in flight: the inputs' superseded rows hold
      // still. Writes go on (a write that read an older version from an input
      // reads it again once the inputs are gone, see Write), and the heads
      // are remapped under view_mu_ with the swap, after every write that
      // could have seen the inputs.
      MutexLock cut_lock(cut_mu_);
      ManifestEdit edit;
      if (meta) edit.added.push_back(*meta);
      {
        MutexLock lock(view_mu_);
        for (const auto& in : inputs) {
          auto it = std::find_if(blocks_.begin(), blocks_.end(),
                                 [&](const auto& h) { return h->meta.id == in->meta.id; });
          if (it == blocks_.end()) {
            // Retention removed it: its rows must not come back.
            std::error_code ec;
            fs::remove(path, ec);
            return false;
          }
          edit.removed.push_back(in->meta.id);
          // Rows superseded since the plan (a cut of a late version,
          // retention) stay superseded in the output.
          for (uint32_t row : (*it)->superseded) {
            if (Contains(in->superseded, row)) continue;
            if (std::optional<RowRef> to = output_row(RowRef{in->meta.id, row})) {
              edit.superseded[out_id].push_back(to->row);
            }
          }
        }
      }
      if (auto it = edit.superseded.find(out_id); it != edit.superseded.end()) {
        std::sort(it->second.begin(), it->second.end());
        it->second.erase(std::unique(it->second.begin(), it->second.end()), it->second.end());
        if (handle) handle->superseded = it->second;
      }
      if (Status st = manifest_->Apply(edit); !st.ok()) return discard(st);
      MutexLock lock(view_mu_);
      std::set<uint64_t> removed(edit.removed.begin(), edit.removed.end());
      std::erase_if(blocks_, [&](const auto& h) { return removed.contains(h->meta.id); });
      if (handle) {
        blocks_.push_back(std::move(handle));
        std::sort(blocks_.begin(), blocks_.end(),
                  [](const auto& a, const auto& b) { return a->meta.id < b->meta.id; });
      }
      for (const std::unique_ptr<Head>& head : heads_) head->RemapRows(output_row);
    }
    // The edit is durable: the inputs' files go. A reader still holding one
    // reads on through its open descriptor.
    for (const auto& in : inputs) {
      std::error_code ec;
      fs::remove(BlockPath(in->meta.id), ec);
    }
    return true;
  }

  void CompactorLoop() {
    for (;;) {
      {
        MutexLock lock(cutter_mu_);
        if (stopping_) return;
        compact_cv_.WaitFor(cutter_mu_, std::chrono::microseconds(options_.compaction_interval_us));
        if (stopping_) return;
      }
      MutexLock lock(compact_mu_);
      (void)CompactRound();  // errors are counted; the inputs stay for the next round
      // Rows superseded since the last round: their rollups saved, so a
      // start need not read them. Errors are counted; retried next round.
      (void)SaveRollupCorrections();
    }
  }

  // Asks the cutter for a pass now (a head passed its bound). The request is
  // kept until the cutter takes it, so one made while it cuts is not lost.
  void WakeCutter() {
    {
      MutexLock lock(cutter_mu_);
      cut_requested_ = true;
    }
    cutter_cv_.SignalAll();
  }

  void CutterLoop() {
    for (;;) {
      {
        MutexLock lock(cutter_mu_);
        if (stopping_) return;
        if (!cut_requested_) {
          cutter_cv_.WaitFor(cutter_mu_, std::chrono::microseconds(options_.cut_interval_us));
        }
        cut_requested_ = false;
        if (stopping_) return;
      }
      (void)CutAll(false);  // errors are counted; the versions wait for the next pass
    }
  }

  const std::string dir_;
  const std::string blocks_dir_;
  const BlockStoreOptions options_;
  const Clock& clock_;
  // Before blocks_: the readers drop their entries when they close.
  const std::unique_ptr<ColumnCache> cache_;
  std::unique_ptr<Manifest> manifest_;
  std::unique_ptr<rocksdb::DB> config_;
  std::vector<std::unique_ptr<Head>> heads_;  // fixed after Init

  // Lock order: compact_mu_, cut_mu_, write_mu_, view_mu_ (then a head's own
  // lock). Compaction's commit takes cut_mu_ then view_mu_, never write_mu_,
  // so writes do not wait for its manifest edit.
  Mutex compact_mu_;  // one compaction round at a time
  // One cut (or retention, or checkpoint, or compaction's commit) at a time.
  Mutex cut_mu_ ACQUIRED_AFTER(compact_mu_);
  Mutex write_mu_ ACQUIRED_AFTER(cut_mu_);  // writes one at a time: a batch is atomic across shards
  // What readers see: the live blocks, and (with the heads) which rows hide.
  // Held while a batch is applied to the heads and while a commit swaps a
  // cut's versions for its block, so a snapshot sees neither half-done.
  Mutex view_mu_ ACQUIRED_AFTER(write_mu_);
  std::vector<std::shared_ptr<const BlockHandle>> blocks_ GUARDED_BY(view_mu_);
  Mutex config_mu_;  // read-modify-write of config keys

  Mutex cutter_mu_;
  CondVar cutter_cv_;
  CondVar room_cv_;  // on cutter_mu_: a cut ended (writes waiting for room look again)
  std::atomic<bool> cut_failing_{false};  // the last cut failed
  std::atomic<int> writers_waiting_for_room_{0};
  CondVar compact_cv_;  // on cutter_mu_
  bool stopping_ GUARDED_BY(cutter_mu_) = false;
  bool cut_requested_ GUARDED_BY(cutter_mu_) = false;
  std::thread cutter_;
  std::thread compactor_;
  std::unique_ptr<PeriodicThread> retention_;

  // The saved rollups of superseded rows (rollup_section.h), as last read
  // or written.
  Mutex corrections_mu_ ACQUIRED_AFTER(view_mu_);
  SavedCorrections corrections_ GUARDED_BY(corrections_mu_);
  bool corrections_loaded_ GUARDED_BY(corrections_mu_) = false;

  std::atomic<bool> disk_full_{false};
  ErrorCounts write_errors_, read_errors_;
  ReadFailureLog read_failure_log_;
};

}  // namespace

namespace {

// Says what an operator must do, as the RocksDB engine says it at start-up.
Status OpenFailed(const Status& s, const std::string& dir) {
  switch (s.code()) {
    case StatusCode::kResourceExhausted:
      return Status(s.code(),
                    fmt::format("cannot open the store in {}: the disk is full ({}); free "
                                "space on it or move the data dir to a larger disk ({})",
                                dir, DescribeDiskSpace(dir), s.message()));
    case StatusCode::kCorruption:
      return Status(s.code(),
                    fmt::format("cannot open the store in {}: it is damaged ({}); restore "
                                "the data dir from a backup",
                                dir, s.message()));
    default:
      return Status(s.code(), fmt::format("cannot open the store in {}: {}", dir, s.message()));
  }
}

}  // namespace

Result<std::unique_ptr<BlockStore>> BlockStore::Open(const std::string& dir,
                                                     const BlockStoreOptions& options) {
  if (options.shards == 0) return Status::InvalidArgument("block store: shards must be at least 1");
  if (options.compaction_fanin < 2) {
    return Status::InvalidArgument("block store: compaction_fanin must be at least 2");
  }
  if (options.compaction && options.compaction_interval_us <= 0) {
    return Status::InvalidArgument("block store: compaction_interval_us must be positive");
  }
  if (options.retention_us > 0 && options.retention_interval_us <= 0) {
    return Status::InvalidArgument("block store: retention_interval_us must be positive");
  }
  auto store = std::make_unique<BlockStoreImpl>(dir, options);
  if (Status s = store->Init(); !s.ok()) return OpenFailed(s, dir);
  return std::unique_ptr<BlockStore>(std::move(store));
}

}  // namespace roentgen::store::block
