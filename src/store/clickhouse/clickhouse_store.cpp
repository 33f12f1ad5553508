#include "store/clickhouse/clickhouse_store.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <climits>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "common/thread_name.h"
#include "graph/trace_graph.h"
#include "store/clickhouse/clickhouse_schema.h"
#include "store/clickhouse/filter_sql.h"
#include "store/clickhouse/rowbinary.h"
#include "store/record_codec.h"
#include "xray/segment_parser.h"
#include "xray/trace.h"

namespace roentgen::store::clickhouse {
namespace {

// The newest row of a key: the greatest version, then the last stamped.
constexpr const char* kTraceNewest = "tuple(version, inserted_us)";
constexpr const char* kDocNewest = "tuple(doc_version, inserted_us)";
// Trace ids per `IN (…)` list: well inside ClickHouse's max_query_size
// (256 KiB) even when every byte of an id needs an escape.
constexpr size_t kIdsPerQuery = 2000;
constexpr int64_t kDayUs = 86'400'000'000;

// The part of a scan's range one page query reads. A scan by start time
// reads `trace_times` (keyed by start time) in windows from the range's
// leading edge, each four times as wide as the one before: ClickHouse reads
// a window's key range only, so a first page costs what the newest minute
// holds rather than the whole range, and a scan of every match reads each
// row about once. Scans by update time read their whole range at once.
class ScanWindows {
 public:
  static constexpr int64_t kFirstWidthUs = 60'000'000;

  ScanWindows(const ScanOptions& o, bool windowed)
      : start_(o.start_us), end_(o.end_us), descending_(o.descending) {
    if (!windowed) {
      lo_ = start_;
      hi_ = end_;
      return;
    }
    int64_t edge = descending_ ? end_ : start_;
    if (o.resume_after) {  // nothing to read before the cursor
      const int64_t t = o.resume_after->time_us;
      edge = descending_ ? std::clamp(t + (t < end_ ? 1 : 0), start_, end_)
                         : std::clamp(t, start_, end_);
    }
    Place(edge);
  }

  int64_t lo() const { return lo_; }
  int64_t hi() const { return hi_; }
  // Whether this window reaches the far end of the range.
  bool last() const { return descending_ ? lo_ == start_ : hi_ == end_; }
  // The next window, past this one.
  void Next() {
    width_ = width_ > INT64_MAX / 4 ? INT64_MAX : width_ * 4;
    Place(descending_ ? lo_ : hi_);
  }

 private:
  // A window of width_ from `edge` into the range, cut at its end (the
  // distances in unsigned arithmetic: the range may span all of int64).
  void Place(int64_t edge) {
    if (descending_) {
      hi_ = edge;
      const bool rest = static_cast<uint64_t>(hi_) - static_cast<uint64_t>(start_) <=
                        static_cast<uint64_t>(width_);
      lo_ = rest ? start_ : hi_ - width_;
    } else {
      lo_ = edge;
      const bool rest =
          static_cast<uint64_t>(end_) - static_cast<uint64_t>(lo_) <= static_cast<uint64_t>(width_);
      hi_ = rest ? end_ : lo_ + width_;
    }
  }

  int64_t start_, end_;
  bool descending_;
  int64_t width_ = kFirstWidthUs;
  int64_t lo_ = 0, hi_ = 0;
};
// Milliseconds since 2020-01-01, the low 40 bits of a record's version
// (enough until 2054).
constexpr int64_t kVersionEpochMs = 1'577'836'800'000;
constexpr uint64_t kVersionTimeBits = 40;
constexpr uint64_t kCountBits = 12;  // documents, complete documents (saturating)

std::string ChInt(int64_t v) {
  if (v == INT64_MIN) return "toInt64('-9223372036854775808')";
  return std::to_string(v);
}

std::string IdLiteral(const xray::TraceId& id) {
  return QuoteString(std::string_view(reinterpret_cast<const char*>(id.bytes.data()), 16));
}

Result<xray::TraceId> IdFromColumn(std::string_view bytes) {
  if (bytes.size() != 16) {
    return Status::Corruption(fmt::format("stored trace id of {} bytes", bytes.size()));
  }
  return xray::TraceId::FromBinary(reinterpret_cast<const uint8_t*>(bytes.data()));
}

// `IN (…)` lists of at most kIdsPerQuery ids.
std::vector<std::string> IdLists(const std::vector<xray::TraceId>& ids) {
  std::vector<std::string> lists;
  for (size_t i = 0; i < ids.size(); i += kIdsPerQuery) {
    std::string list = "(";
    for (size_t j = i; j < std::min(ids.size(), i + kIdsPerQuery); ++j) {
      if (j != i) list += ',';
      list += IdLiteral(ids[j]);
    }
    list += ')';
    lists.push_back(std::move(list));
  }
  return lists;
}

// A write's error as store.h words it: ClickHouse out of disk or memory is a
// condition that clears (Unavailable), like an unreachable server.
Status WriteError(const Status& s) {
  if (s.code() == StatusCode::kResourceExhausted) return Status::Unavailable(s.message());
  return s;
}

struct StoredDoc {
  uint64_t entity = 0;
  int64_t received_us = 0;
  bool complete = false;
  std::string raw;
};

struct ExistingTrace {
  bool indexed = true;
  int64_t created_us = 0;
  uint32_t revision = 0;
};

uint64_t Saturate(size_t n) { return std::min<uint64_t>(n, (uint64_t{1} << kCountBits) - 1); }

// More documents, then more of them complete, win; then the writer's time.
uint64_t RecordVersion(size_t documents, size_t complete, int64_t stamp_us) {
  const uint64_t ms =
      static_cast<uint64_t>(std::max<int64_t>(0, stamp_us / 1000 - kVersionEpochMs));
  return (Saturate(documents) << (kVersionTimeBits + kCountBits)) |
         (Saturate(complete) << kVersionTimeBits) | (ms & ((uint64_t{1} << kVersionTimeBits) - 1));
}

void AppendTraceRow(const TraceRecord& record, uint64_t version, int64_t stamp, int64_t created_us,
                    std::string& out) {
  const xray::TraceSummary& s = record.summary;
  RowBinaryWriter w(out);
  w.String(std::string_view(reinterpret_cast<const char*>(s.id.bytes.data()), 16));
  w.Int64(s.start_time_us);
  w.Int64(s.updated_us);
  w.UInt64(version);
  w.Int64(stamp);
  w.Int64(created_us);
  w.UInt32(s.revision);
  w.UInt8(s.indexed ? 1 : 0);
  w.UInt8(s.duration_us ? 1 : 0);
  w.Int64(s.duration_us.value_or(0));
  w.UInt8(s.response_time_us ? 1 : 0);
  w.Int64(s.response_time_us.value_or(0));
  w.UInt8(s.has_fault ? 1 : 0);
  w.UInt8(s.has_error ? 1 : 0);
  w.UInt8(s.has_throttle ? 1 : 0);
  w.UInt8(s.is_partial ? 1 : 0);
  w.UInt8(s.http.status ? 1 : 0);
  w.Int32(s.http.status.value_or(0));
  w.String(s.http.method);
  w.String(s.http.url);
  w.String(s.http.user_agent);
  w.String(s.http.client_ip);
  w.ArraySize(s.users.size());
  for (const xray::TraceUser& u : s.users) w.String(u.user_name);
  std::vector<std::string_view> names;
  for (const graph::Node& n : record.graph.nodes) {
    names.push_back(n.id.name);
    for (const std::string& alias : n.id.names) names.push_back(alias);
  }
  w.ArraySize(names.size());
  for (std::string_view n : names) w.String(n);
  w.ArraySize(s.annotations.size());
  for (const xray::TraceAnnotation& a : s.annotations) w.String(a.key);
  std::vector<std::string> pairs;
  for (const xray::TraceAnnotation& a : s.annotations) {
    for (const xray::TraceAnnotationValue& v : a.values) {
      if (const std::string* text = std::get_if<std::string>(&v.value)) {
        std::string pair = a.key;
        pair.push_back('\0');
        pair += *text;
        pairs.push_back(std::move(pair));
      }
    }
  }
  w.ArraySize(pairs.size());
  for (const std::string& p : pairs) w.String(p);
  std::string encoded;
  EncodeTraceRecord(record, encoded);
  w.String(encoded);
}

constexpr const char* kTraceColumns =
    "trace_id, start_us, updated_us, version, inserted_us, created_us, revision, indexed, "
    "has_duration, "
    "duration_us, has_response_time, response_time_us, fault, error, throttle, partial, "
    "has_http_status, http_status, http_method, http_url, http_user_agent, http_client_ip, "
    "users, node_names, annotation_keys, annotation_strings, record";

// The client options of a store over `url`: through Distributed tables, an
// INSERT returns once every shard has its rows (the argument of "Writes, and
// why nodes agree" holds per shard), and a subquery over a Distributed table
// inside a query over one reads each shard's own local table (a trace's rows
// all live on one shard, so the shard answers for it alone).
ClickHouseClientOptions StoreClientOptions(const ClickHouseStoreOptions& options) {
  ClickHouseClientOptions client = options.client;
  if (!options.url.cluster.empty()) {
    client.settings.emplace_back("insert_distributed_sync", "1");
    client.settings.emplace_back("distributed_product_mode", "local");
  }
  return client;
}

class ClickHouseStore final : public Store {
 public:
  explicit ClickHouseStore(const ClickHouseStoreOptions& options)
      : options_(options),
        clock_(options.clock != nullptr ? *options.clock : Clock::System()),
        client_(options.url.Servers().front(), StoreClientOptions(options)),
        local_suffix_(options.url.cluster.empty() ? "" : std::string(kShardTableSuffix)) {
    if (!options.url.cluster.empty()) {
      for (ClickHouseUrl& server : options.url.Servers()) {
        servers_.push_back(std::make_unique<ClickHouseClient>(std::move(server), options.client));
      }
    }
  }

  ~ClickHouseStore() override {
    {
      MutexLock lock(mu_);
      stopping_ = true;
    }
    stop_cv_.SignalAll();
    if (retention_thread_.joinable()) retention_thread_.join();
  }

  Status Open() {
    if (options_.url.cluster.empty()) {
      RG_RETURN_IF_ERROR(MigrateSchema(client_, SchemaMigrations()));
    } else {
      RG_RETURN_IF_ERROR(OpenCluster());
    }
    if (options_.retention_us > 0) {
      retention_thread_ = std::thread([this] {
        SetCurrentThreadName("rg-ch-retain");
        RetentionLoop();
      });
    }
    return Status::Ok();
  }

  Status Write(WriteBatch batch) override {
    Status s = DoWrite(batch);
    if (!s.ok()) {
      CountError(s, /*write=*/true);
      return s;
    }
    if (batch.on_durable) batch.on_durable();
    return s;
  }

  Result<std::vector<StoredDocument>> GetDocuments(const xray::TraceId& id) override {
    Result<std::string> answer = client_.Query(
        fmt::format("SELECT entity_id, argMax(received_us, {0}), argMax(raw, {0}) FROM documents"
                    " WHERE trace_id = {1} GROUP BY entity_id ORDER BY entity_id FORMAT RowBinary",
                    kDocNewest, IdLiteral(id)));
    if (!answer.ok()) return ReadFailed(answer.status());
    std::vector<StoredDocument> out;
    RowBinaryReader r(*answer);
    while (!r.done()) {
      StoredDocument d;
      std::string_view raw;
      if (!r.UInt64(d.entity_id.value) || !r.Int64(d.received_us) || !r.String(raw)) {
        return ReadFailed(r.Error("documents of " + id.ToString()));
      }
      d.raw = std::string(raw);
      out.push_back(std::move(d));
    }
    return out;
  }

  Result<TraceRecord> GetTrace(const xray::TraceId& id) override {
    Result<std::string> answer = client_.Query(
        fmt::format("SELECT argMax(record, {}) FROM traces WHERE trace_id = {} GROUP BY trace_id"
                    " FORMAT RowBinary",
                    kTraceNewest, IdLiteral(id)));
    if (!answer.ok()) return ReadFailed(answer.status());
    if (answer->empty()) return Status::NotFound("no such trace");
    RowBinaryReader r(*answer);
    std::string_view bytes;
    if (!r.String(bytes)) return ReadFailed(r.Error("record of " + id.ToString()));
    Result<TraceRecord> record = DecodeTraceRecord(bytes);
    if (!record.ok()) {
      return ReadFailed(Status::Corruption(
          fmt::format("record of trace {}: {}", id.ToString(), record.status().message())));
    }
    return record;
  }

  Result<ScanProgress> Scan(const ScanOptions& options, const ScanCallback& callback) override;

  Status PutConfig(std::string_view ns, std::string_view key, std::string_view value) override {
    return InsertConfig(ns, key, value, false);
  }

  Result<std::string> GetConfig(std::string_view ns, std::string_view key) override {
    Result<std::string> answer = client_.Query(
        fmt::format("SELECT argMax(value, version), argMax(deleted, version) FROM config"
                    " WHERE ns = {} AND key = {} GROUP BY ns, key FORMAT RowBinary",
                    QuoteString(ns), QuoteString(key)));
    if (!answer.ok()) return ReadFailed(answer.status());
    RowBinaryReader r(*answer);
    std::string_view value;
    uint8_t deleted = 0;
    if (!answer->empty() && (!r.String(value) || !r.UInt8(deleted))) {
      return ReadFailed(r.Error("config"));
    }
    if (answer->empty() || deleted != 0) {
      return Status::NotFound(fmt::format("no config {}/{}", ns, key));
    }
    return std::string(value);
  }

  Status DeleteConfig(std::string_view ns, std::string_view key) override {
    Result<std::string> current = GetConfig(ns, key);
    if (!current.ok()) return current.status();
    return InsertConfig(ns, key, "", true);
  }

  Result<std::vector<std::pair<std::string, std::string>>> ListConfig(
      std::string_view ns) override {
    Result<std::string> answer = client_.Query(
        fmt::format("SELECT key, v FROM (SELECT key, argMax(value, version) AS v,"
                    " argMax(deleted, version) AS d FROM config WHERE ns = {} GROUP BY key)"
                    " WHERE d = 0 ORDER BY key FORMAT RowBinary",
                    QuoteString(ns)));
    if (!answer.ok()) return ReadFailed(answer.status());
    std::vector<std::pair<std::string, std::string>> out;
    RowBinaryReader r(*answer);
    while (!r.done()) {
      std::string_view key, value;
      if (!r.String(key) || !r.String(value)) return ReadFailed(r.Error("config list"));
      out.emplace_back(std::string(key), std::string(value));
    }
    return out;
  }

  Status DeleteOlderThan(int64_t cutoff_us) override;

  StoreStats Stats() override;
  // Each Write derives the records of its traces from every document stored
  // of them, whichever node wrote them (above).
  bool DerivesRecords() const override { return true; }

 private:
  Status DoWrite(const WriteBatch& batch);
  Status ReadDocuments(
      const std::vector<xray::TraceId>& ids,
      std::unordered_map<xray::TraceId, std::vector<StoredDoc>, xray::TraceIdHash>& out);
  Status ReadExisting(const std::vector<xray::TraceId>& ids,
                      std::unordered_map<xray::TraceId, ExistingTrace, xray::TraceIdHash>& out);
  Status OpenCluster();
  // The clients of the servers whose local tables hold the rows: each
  // server of a cluster, else the one server.
  std::vector<ClickHouseClient*> Shards() {
    if (servers_.empty()) return {&client_};
    std::vector<ClickHouseClient*> out;
    for (const auto& s : servers_) out.push_back(s.get());
    return out;
  }
  Status DeleteOlderThanOn(ClickHouseClient& client, int64_t cutoff_us);
  Status WaitForMutations(ClickHouseClient& client, std::string_view table);
  void RetentionLoop();

  Status InsertConfig(std::string_view ns, std::string_view key, std::string_view value,
                      bool deleted) {
    std::string rows;
    RowBinaryWriter w(rows);
    w.String(ns);
    w.String(key);
    w.String(value);
    w.UInt8(deleted ? 1 : 0);
    w.UInt64(static_cast<uint64_t>(NextStamps(1)));
    return client_.Insert("INSERT INTO config (ns, key, value, deleted, version) FORMAT RowBinary",
                          rows);
  }

  // `n` consecutive stamps (microseconds of the system clock, never repeated
  // by this store): the first is returned.
  int64_t NextStamps(size_t n) {
    MutexLock lock(stamp_mu_);
    const int64_t now = Clock::System().NowMicros();
    const int64_t first = std::max(now, last_stamp_ + 1);
    last_stamp_ = first + static_cast<int64_t>(n) - 1;
    return first;
  }

  Status ReadFailed(const Status& s) {
    CountError(s, /*write=*/false);
    return s;
  }

  void CountError(const Status& s, bool write) {
    MutexLock lock(mu_);
    StoreErrorCounts& counts = write ? write_errors_ : read_errors_;
    switch (s.code()) {
      case StatusCode::kCorruption:
        ++counts.corruption;
        break;
      case StatusCode::kUnavailable:
      case StatusCode::kResourceExhausted:
        ++counts.disk_full;
        break;
      default:
        ++counts.io_error;
        break;
    }
  }

  const ClickHouseStoreOptions options_;
  const Clock& clock_;
  // Every query and insert: the first server of the URL (through the
  // Distributed tables in a cluster).
  ClickHouseClient client_;
  // The local tables' names end in this ("" on a single server).
  const std::string local_suffix_;
  // Each server of the cluster (empty on a single server): schema
  // migrations, retention and stats work on their local tables.
  std::vector<std::unique_ptr<ClickHouseClient>> servers_;
  Mutex stamp_mu_;
  int64_t last_stamp_ GUARDED_BY(stamp_mu_) = 0;
  // Held from stamping a batch's trace rows until ClickHouse has them, so
  // that this store inserts rows in the order of their stamps (merges keep
  // the last inserted of equal versions, reads the last stamped).
  Mutex insert_mu_;
  Mutex mu_;
  CondVar stop_cv_;
  bool stopping_ GUARDED_BY(mu_) = false;
  StoreErrorCounts write_errors_ GUARDED_BY(mu_);
  StoreErrorCounts read_errors_ GUARDED_BY(mu_);
  std::thread retention_thread_;
};

Status ClickHouseStore::DoWrite(const WriteBatch& batch) {
  if (batch.documents.empty() && batch.traces.empty()) return Status::Ok();
  xray::SegmentParser parser;
  std::vector<xray::SegmentDocument> parsed;
  xray::ParseFailure failure;

  // 1. The documents, in one INSERT: once it returns, every later read of
  // any node sees them (the argument of docs/storage.md).
  std::vector<xray::TraceId> ids;
  std::unordered_set<xray::TraceId, xray::TraceIdHash> seen;
  if (!batch.documents.empty()) {
    std::string rows;
    RowBinaryWriter w(rows);
    const int64_t stamp = NextStamps(batch.documents.size());
    for (size_t i = 0; i < batch.documents.size(); ++i) {
      const DocumentWrite& d = batch.documents[i];
      parsed.clear();
      bool complete = parser.Parse(d.raw, parsed, failure) && !parsed.empty();
      for (const xray::SegmentDocument& p : parsed) complete = complete && !p.entity.in_progress;
      const uint64_t received =
          static_cast<uint64_t>(std::clamp<int64_t>(d.received_us, 0, (int64_t{1} << 62) - 1));
      w.String(std::string_view(reinterpret_cast<const char*>(d.trace_id.bytes.data()), 16));
      w.UInt64(d.entity_id.value);
      w.Int64(d.received_us);
      w.UInt8(complete ? 1 : 0);
      w.UInt64((complete ? uint64_t{1} << 62 : 0) | received);
      w.Int64(stamp + static_cast<int64_t>(i));
      w.String(d.raw);
      if (seen.insert(d.trace_id).second) ids.push_back(d.trace_id);
    }
    Status s = client_.Insert(
        "INSERT INTO documents (trace_id, entity_id, received_us, complete, doc_version,"
        " inserted_us, raw) FORMAT RowBinary",
        rows);
    if (!s.ok()) return WriteError(s);
  }
  // The last record of each trace in the batch wins.
  std::unordered_map<xray::TraceId, const TraceRecord*, xray::TraceIdHash> given;
  for (const TraceRecord& r : batch.traces) {
    given[r.summary.id] = &r;
    if (seen.insert(r.summary.id).second) ids.push_back(r.summary.id);
  }

  // 2. Every document of the touched traces, as stored now (this batch's
  // and every other node's written before), and what the traces were.
  std::unordered_map<xray::TraceId, std::vector<StoredDoc>, xray::TraceIdHash> docs;
  RG_RETURN_IF_ERROR(WriteError(ReadDocuments(ids, docs)));
  std::unordered_map<xray::TraceId, ExistingTrace, xray::TraceIdHash> existing;
  RG_RETURN_IF_ERROR(WriteError(ReadExisting(ids, existing)));

  // 3. Each trace's record: computed from its documents when they all parse
  // (as the ingest writer computes it), else the batch's as given.
  struct Row {
    TraceRecord record;
    size_t documents = 0;
    size_t complete = 0;
    std::optional<int64_t> created_us;
  };
  std::vector<Row> rows;
  std::vector<xray::ReceivedDocument> received;
  for (const xray::TraceId& id : ids) {
    const auto given_it = given.find(id);
    const TraceRecord* from_batch = given_it == given.end() ? nullptr : given_it->second;
    const auto existing_it = existing.find(id);
    const ExistingTrace* before = existing_it == existing.end() ? nullptr : &existing_it->second;
    const std::vector<StoredDoc>& stored = docs[id];
    Row row;
    row.documents = stored.size();
    for (const StoredDoc& d : stored) row.complete += d.complete ? 1 : 0;
    if (before != nullptr) row.created_us = before->created_us;

    received.clear();
    bool parses = !stored.empty();
    for (const StoredDoc& d : stored) {
      parsed.clear();
      if (!parser.Parse(d.raw, parsed, failure)) {
        parses = false;
        break;
      }
      for (xray::SegmentDocument& p : parsed) {
        received.push_back(xray::ReceivedDocument{std::move(p), d.received_us});
      }
    }
    if (parses) {
      std::vector<const xray::ReceivedDocument*> pointers;
      for (const xray::ReceivedDocument& d : received) pointers.push_back(&d);
      const xray::AssembledTrace assembled = xray::AssembleTrace(id, pointers);
      row.record = TraceRecord{xray::Summarize(assembled), graph::DeriveTraceGraph(assembled)};
      row.record.summary.id = id;
      if (from_batch != nullptr) {
        row.record.summary.revision = from_batch->summary.revision;
        row.record.summary.updated_us = from_batch->summary.updated_us;
        row.record.summary.indexed = from_batch->summary.indexed;
      } else if (before != nullptr) {
        Result<TraceRecord> old = GetTrace(id);
        if (!old.ok()) return WriteError(old.status());
        row.record.summary.revision = old->summary.revision + 1;
        row.record.summary.updated_us = clock_.NowMicros();
        row.record.summary.indexed = old->summary.indexed;
      } else {
        row.record.summary.revision = 1;
        row.record.summary.updated_us = clock_.NowMicros();
      }
      // Decided once, when the trace was first stored (whichever node did).
      // Each write of a stored trace takes the next revision, whichever node
      // wrote the last one (writers that derive nothing send revision 1).
      if (before != nullptr) {
        row.record.summary.indexed = before->indexed;
        row.record.summary.revision = std::max(row.record.summary.revision, before->revision + 1);
      }
    } else if (from_batch != nullptr) {
      row.record = *from_batch;
    } else {
      continue;  // documents that do not parse, without a record: the record stays
    }
    rows.push_back(std::move(row));
  }
  if (rows.empty()) return Status::Ok();

  // 4. The records, in one INSERT, stamped in the order they are inserted.
  MutexLock lock(insert_mu_);
  const int64_t stamp = NextStamps(rows.size());
  std::string data;
  for (size_t i = 0; i < rows.size(); ++i) {
    const int64_t row_stamp = stamp + static_cast<int64_t>(i);
    AppendTraceRow(rows[i].record, RecordVersion(rows[i].documents, rows[i].complete, row_stamp),
                   row_stamp, rows[i].created_us.value_or(row_stamp), data);
  }
  return WriteError(
      client_.Insert(fmt::format("INSERT INTO traces ({}) FORMAT RowBinary", kTraceColumns), data));
}

Status ClickHouseStore::ReadDocuments(
    const std::vector<xray::TraceId>& ids,
    std::unordered_map<xray::TraceId, std::vector<StoredDoc>, xray::TraceIdHash>& out) {
  for (const std::string& list : IdLists(ids)) {
    Result<std::string> answer = client_.Query(fmt::format(
        "SELECT trace_id, entity_id, argMax(received_us, {0}), argMax(complete, {0}),"
        " argMax(raw, {0}) FROM documents WHERE trace_id IN {1} GROUP BY trace_id, entity_id"
        " FORMAT RowBinary",
        kDocNewest, list));
    if (!answer.ok()) return answer.status();
    RowBinaryReader r(*answer);
    while (!r.done()) {
      std::string_view id_bytes, raw;
      StoredDoc d;
      uint8_t complete = 0;
      if (!r.String(id_bytes) || !r.UInt64(d.entity) || !r.Int64(d.received_us) ||
          !r.UInt8(complete) || !r.String(raw)) {
        return r.Error("documents of the batch's traces");
      }
      Result<xray::TraceId> id = IdFromColumn(id_bytes);
      if (!id.ok()) return id.status();
      d.complete = complete != 0;
      d.raw = std::string(raw);
      out[*id].push_back(std::move(d));
    }
  }
  // In entity order, so that assembly does not depend on ClickHouse's order.
  for (auto& [id, list] : out) {
    std::sort(list.begin(), list.end(),
              [](const StoredDoc& a, const StoredDoc& b) { return a.entity < b.entity; });
  }
  return Status::Ok();
}

Status ClickHouseStore::ReadExisting(
    const std::vector<xray::TraceId>& ids,
    std::unordered_map<xray::TraceId, ExistingTrace, xray::TraceIdHash>& out) {
  for (const std::string& list : IdLists(ids)) {
    Result<std::string> answer =
        client_.Query(fmt::format("SELECT trace_id, argMax(indexed, {0}), argMax(created_us, {0}),"
                                  " argMax(revision, {0}) FROM traces"
                                  " WHERE trace_id IN {1} GROUP BY trace_id FORMAT RowBinary",
                                  kTraceNewest, list));
    if (!answer.ok()) return answer.status();
    RowBinaryReader r(*answer);
    while (!r.done()) {
      std::string_view id_bytes;
      uint8_t indexed = 0;
      ExistingTrace e;
      if (!r.String(id_bytes) || !r.UInt8(indexed) || !r.Int64(e.created_us) ||
          !r.UInt32(e.revision)) {
        return r.Error("records of the batch's traces");
      }
      Result<xray::TraceId> id = IdFromColumn(id_bytes);
      if (!id.ok()) return id.status();
      e.indexed = indexed != 0;
      out[*id] = e;
    }
  }
  return Status::Ok();
}

Result<ScanProgress> ClickHouseStore::Scan(const ScanOptions& options,
                                           const ScanCallback& callback) {
  ScanProgress progress;
  if (options.start_us >= options.end_us) return progress;
  const char* time_column =
      options.time_range_type == TimeRangeType::kEvent ? "updated_us" : "start_us";
  const char* dir = options.descending ? "DESC" : "ASC";
  const std::string pushdown =
      options.filter == nullptr ? std::string() : PushdownCondition(options.filter->bound());
  // Traces created after this are not seen (docs/storage.md: what a scan sees).
  const int64_t snapshot = NextStamps(1);
  const bool with_graph =
      options.return_graph || (options.filter != nullptr && options.filter->NeedsGraph());

  // A filter that requires one user or string annotation reads the rows of
  // that value in `trace_values` (keyed by value, then start time: its rows
  // alone, in order, so no windows); others read `trace_times`, by start
  // time in windows, by update time at once.
  const bool by_start = options.time_range_type != TimeRangeType::kEvent;
  const std::string indexed_value =
      options.filter != nullptr && by_start ? IndexedValue(options.filter->bound()) : "";
  ScanWindows window(options, by_start && indexed_value.empty());
  // The rows of the window after `after`, in scan order, that satisfy what
  // the filter implies (in `trace_values`, that they hold its value; the
  // rest is decided on the newest records).
  auto conditions = [&](const std::optional<ScanCursor>& from) {
    std::string c = fmt::format("{} < {}", time_column, ChInt(window.hi()));
    if (window.lo() != INT64_MIN) {
      c += fmt::format(" AND {} >= {}", time_column, ChInt(window.lo()));
    }
    if (from) {
      const char* op = options.descending ? "<" : ">";
      c += fmt::format(" AND ({0} {1} {2} OR ({0} = {2} AND trace_id {1} {3}))", time_column, op,
                       ChInt(from->time_us), IdLiteral(from->trace_id));
    }
    if (!indexed_value.empty())
      return fmt::format("value = {} AND {}", QuoteString(indexed_value), c);
    c += fmt::format(" AND created_us <= {}", snapshot);
    if (options.searchable_only) c += " AND indexed = 1";
    if (!pushdown.empty()) c += " AND " + pushdown;
    return c;
  };
  const char* candidates = indexed_value.empty() ? "trace_times" : "trace_values";

  // A trace is answered at its newest row, in that row's place: a page takes
  // the next rows in scan order (ClickHouse keeps the LIMIT's top rows, it
  // groups nothing), then reads the newest record of each of their traces
  // and answers those whose newest row is the one in the page (same sort
  // time). Older rows are passed over; the newest row satisfies the pushdown
  // whenever the filter matches it, so no matching trace is missed.
  std::optional<ScanCursor> after = options.resume_after;
  std::unordered_set<xray::TraceId, xray::TraceIdHash> visited;
  size_t page = 32;
  bool first_page = true;
  TraceRecord record;
  struct Newest {
    int64_t time_us = 0;
    int64_t created_us = 0;
    std::string record;
  };
  for (;;) {
    Result<std::string> answer = client_.Query(
        fmt::format("SELECT trace_id, {0} FROM {1} WHERE {2} ORDER BY {0} {3}, trace_id {3}"
                    " LIMIT {4} FORMAT RowBinary",
                    time_column, candidates, conditions(after), dir, page));
    if (!answer.ok()) return ReadFailed(answer.status());
    std::vector<ScanCursor> positions;
    RowBinaryReader r(*answer);
    while (!r.done()) {
      std::string_view id_bytes;
      ScanCursor c;
      if (!r.String(id_bytes) || !r.Int64(c.time_us)) return ReadFailed(r.Error("scan page"));
      Result<xray::TraceId> id = IdFromColumn(id_bytes);
      if (!id.ok()) return ReadFailed(id.status());
      c.trace_id = *id;
      positions.push_back(c);
    }
    // The window holds no more rows after these; the range none when it
    // is the last window.
    const bool window_done = positions.size() < page;
    const bool last_page = window_done && window.last();
    if (positions.empty()) {
      if (last_page) return progress;
      window.Next();
      continue;
    }
    if (first_page) {
      first_page = false;
      if (options.on_snapshot) options.on_snapshot();
    }

    // The newest record of each trace of the page.
    std::vector<xray::TraceId> ids;
    for (const ScanCursor& c : positions) ids.push_back(c.trace_id);
    std::unordered_map<xray::TraceId, Newest, xray::TraceIdHash> newest;
    for (const std::string& list : IdLists(ids)) {
      Result<std::string> bytes = client_.Query(fmt::format(
          "SELECT trace_id, argMax({0}, {1}), argMax(created_us, {1}), argMax(record, {1})"
          " FROM traces WHERE trace_id IN {2} GROUP BY trace_id FORMAT RowBinary",
          time_column, kTraceNewest, list));
      if (!bytes.ok()) return ReadFailed(bytes.status());
      RowBinaryReader rr(*bytes);
      while (!rr.done()) {
        std::string_view id_bytes, encoded;
        Newest n;
        if (!rr.String(id_bytes) || !rr.Int64(n.time_us) || !rr.Int64(n.created_us) ||
            !rr.String(encoded)) {
          return ReadFailed(rr.Error("scan records"));
        }
        Result<xray::TraceId> id = IdFromColumn(id_bytes);
        if (!id.ok()) return ReadFailed(id.status());
        n.record = std::string(encoded);
        newest[*id] = std::move(n);
      }
    }

    // The page's rows by place: a newest row among them is met in its place.
    std::set<std::pair<int64_t, xray::TraceId>> in_page;
    for (const ScanCursor& c : positions) in_page.emplace(c.time_us, c.trace_id);
    for (const ScanCursor& position : positions) {
      after = position;
      auto it = newest.find(position.trace_id);
      if (it == newest.end() || it->second.created_us > snapshot) {  // deleted since, or new
        progress.last = position;
        continue;
      }
      // A row of an older version: the trace is answered at its newest
      // row's place. That place lies ahead or behind. Ahead, a later page
      // meets it, unless this page is the range's last and the newest
      // version was written after it was read: then the trace is decided
      // here. Behind, it was met already, or the newest version moved it
      // there while the scan ran (then this scan misses it).
      const int64_t sort_time = it->second.time_us;
      if (sort_time != position.time_us) {
        const bool ahead =
            options.descending ? sort_time < position.time_us : sort_time > position.time_us;
        const bool in_range = sort_time >= options.start_us && sort_time < options.end_us;
        if (!ahead || !last_page || !in_range ||
            in_page.count({sort_time, position.trace_id}) != 0) {
          progress.last = position;
          continue;
        }
      }
      // Several rows of one version in one place (not yet merged), or a
      // trace whose sort time moved while the scan ran: answered once.
      if (!visited.insert(position.trace_id).second) {
        progress.last = position;
        continue;
      }
      if (options.max_examined != 0 && progress.examined == options.max_examined) {
        progress.stopped_at = position;
        return progress;
      }
      Status decoded = DecodeTraceRecordInto(it->second.record, record, with_graph);
      if (!decoded.ok()) {
        return ReadFailed(Status::Corruption(fmt::format(
            "record of trace {}: {}", position.trace_id.ToString(), decoded.message())));
      }
      const bool match = (!options.searchable_only || record.summary.indexed) &&
                         (options.filter == nullptr || options.filter->Matches(record));
      if (match) {
        if (!options.return_graph) record.graph = {};
        if (!callback(record, sort_time)) {
          progress.stopped_at = position;
          return progress;
        }
      }
      ++progress.examined;
      progress.last = position;
    }
    if (last_page) break;
    if (window_done) {
      window.Next();
    } else {
      page = std::min(page * 2, std::max<size_t>(options_.scan_page_rows, 1));
    }
  }
  return progress;
}

Status ClickHouseStore::WaitForMutations(ClickHouseClient& client, std::string_view table) {
  const auto deadline = std::chrono::steady_clock::now() + options_.client.query_timeout;
  for (;;) {
    Result<std::string> answer = client.Query(
        fmt::format("SELECT count() FROM system.mutations WHERE database = {} AND table = {}"
                    " AND is_done = 0",
                    QuoteString(client.url().database), QuoteString(table)));
    if (!answer.ok()) return answer.status();
    if (*answer == "0\n") return Status::Ok();
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::IOError(fmt::format("retention: the deletion in {} is still running", table));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Status ClickHouseStore::DeleteOlderThan(int64_t cutoff_us) {
  // A trace's rows all live on one shard: each shard deletes its own old
  // traces from its local tables (mutations and partitions are local).
  for (ClickHouseClient* shard : Shards()) {
    Status s = DeleteOlderThanOn(*shard, cutoff_us);
    if (!s.ok()) {
      if (servers_.empty()) return s;
      return Status(s.code(),
                    fmt::format("retention on {}: {}", shard->url().ToString(), s.message()));
    }
  }
  return Status::Ok();
}

Status ClickHouseStore::DeleteOlderThanOn(ClickHouseClient& client, int64_t cutoff_us) {
  const std::string traces = "traces" + local_suffix_;
  const std::string documents = "documents" + local_suffix_;
  const std::string trace_times = "trace_times" + local_suffix_;
  const std::string trace_values = "trace_values" + local_suffix_;
  // The traces to delete, fixed in a table of their own: a mutation's
  // subquery is evaluated part by part, so it must not read the table the
  // mutations change.
  std::mt19937_64 random(std::random_device{}());
  const std::string doomed = fmt::format("retention_{:016x}", random());
  RG_RETURN_IF_ERROR(client.Execute(
      fmt::format("CREATE TABLE {} ENGINE = TinyLog AS SELECT trace_id FROM {} GROUP BY trace_id"
                  " HAVING argMax(start_us, {}) < {}",
                  doomed, traces, kTraceNewest, ChInt(cutoff_us))));
  Status status = [&]() -> Status {
    Result<std::string> count = client.Query(fmt::format("SELECT count() FROM {}", doomed));
    if (!count.ok()) return count.status();
    // Whole days older than the cutoff go at once (rows of traces still
    // young there are only their older versions).
    for (const std::string& table : {trace_times, trace_values, traces}) {
      Result<std::string> days = client.Query(
          fmt::format("SELECT intDiv(start_us, toInt64({0})) AS day FROM {2} GROUP BY day"
                      " HAVING max(start_us) < {1} FORMAT TabSeparated",
                      kDayUs, ChInt(cutoff_us), table));
      if (!days.ok()) return days.status();
      std::string_view rest = *days;
      while (!rest.empty()) {
        const size_t end = rest.find('\n');
        const std::string_view day = rest.substr(0, end);
        if (!day.empty()) {
          RG_RETURN_IF_ERROR(
              client.Execute(fmt::format("ALTER TABLE {} DROP PARTITION {}", table, day)));
        }
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end + 1);
      }
    }
    if (*count == "0\n") return Status::Ok();
    // Documents first and records last: their deletion must finish while
    // the records say which traces are old, should this run stop halfway.
    for (const std::string& table : {documents, trace_times, trace_values, traces}) {
      RG_RETURN_IF_ERROR(client.Execute(fmt::format(
          "ALTER TABLE {} DELETE WHERE trace_id IN (SELECT trace_id FROM {})", table, doomed)));
      RG_RETURN_IF_ERROR(WaitForMutations(client, table));
    }
    return Status::Ok();
  }();
  Status dropped = client.Execute("DROP TABLE IF EXISTS " + doomed);
  return status.ok() ? dropped : status;
}

StoreStats ClickHouseStore::Stats() {
  StoreStats stats;
  for (ClickHouseClient* shard : Shards()) {
    Result<std::string> answer = shard->Query(fmt::format(
        "SELECT table, sum(rows), sum(bytes_on_disk) FROM system.parts WHERE database = {}"
        " AND active GROUP BY table FORMAT RowBinary",
        QuoteString(shard->url().database)));
    if (!answer.ok()) continue;
    RowBinaryReader r(*answer);
    while (!r.done()) {
      std::string_view table;
      uint64_t rows = 0, bytes = 0;
      if (!r.String(table) || !r.UInt64(rows) || !r.UInt64(bytes)) break;
      if (table == "documents" + local_suffix_) stats.documents += rows;
      if (table == "traces" + local_suffix_) stats.traces += rows;
      stats.disk_bytes += bytes;
    }
  }
  MutexLock lock(mu_);
  stats.write_errors = write_errors_;
  stats.read_errors = read_errors_;
  return stats;
}

Status ClickHouseStore::OpenCluster() {
  const std::string& cluster = options_.url.cluster;
  // Every server of the cluster must be listed, so that each gets its local
  // tables: each listed server names its own place in the cluster (is_local).
  std::set<std::pair<uint32_t, uint32_t>> listed;
  std::string entries;
  size_t servers = 0;  // of the cluster, as the last server listed has it
  for (ClickHouseClient* server : Shards()) {
    // Without the database, which need not exist yet.
    Result<std::string> answer = server->QueryWithoutDatabase(
        fmt::format("SELECT shard_num, replica_num, is_local, host_name, port FROM system.clusters"
                    " WHERE cluster = {} ORDER BY shard_num, replica_num FORMAT TabSeparated",
                    QuoteString(cluster)));
    if (!answer.ok()) return answer.status();
    if (answer->empty()) {
      return Status::InvalidArgument(
          fmt::format("{}: no cluster '{}' in its remote_servers config (system.clusters)",
                      server->url().ToString(), cluster));
    }
    std::optional<std::pair<uint32_t, uint32_t>> self;
    entries.clear();
    servers = 0;
    std::string_view rest = *answer;
    while (!rest.empty()) {
      const size_t end = rest.find('\n');
      std::string_view line = rest.substr(0, end);
      rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
      uint32_t fields[3] = {0, 0, 0};
      std::string_view cursor = line;
      for (uint32_t& f : fields) {
        auto [ptr, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), f);
        if (ec != std::errc() || ptr == cursor.data() + cursor.size() || *ptr != '\t') {
          return Status::Corruption(fmt::format("{}: system.clusters row '{}' unreadable",
                                                server->url().ToString(), std::string(line)));
        }
        cursor = cursor.substr(ptr - cursor.data() + 1);
      }
      std::string where(cursor);
      std::replace(where.begin(), where.end(), '\t', ':');
      entries += fmt::format("{}shard {} replica {} ({})", entries.empty() ? "" : ", ", fields[0],
                             fields[1], where);
      ++servers;
      if (fields[2] != 0) self = std::make_pair(fields[0], fields[1]);
    }
    if (!self) {
      return Status::InvalidArgument(fmt::format(
          "{} is not a server of cluster '{}' (whose servers are {}): list the HTTP address of "
          "each of its servers in the URL",
          server->url().ToString(), cluster, entries));
    }
    if (!listed.insert(*self).second) {
      return Status::InvalidArgument(
          fmt::format("{} is listed twice in the URL (shard {} replica {} of cluster '{}')",
                      server->url().ToString(), self->first, self->second, cluster));
    }
  }
  if (listed.size() != servers) {
    return Status::InvalidArgument(fmt::format(
        "{}: cluster '{}' has {} servers ({}) but the URL lists {}: list the HTTP address of "
        "each, so that every one gets the tables",
        options_.url.ToString(), cluster, servers, entries, listed.size()));
  }
  const std::vector<Migration> migrations = ShardedSchemaMigrations(cluster, options_.url.database);
  for (ClickHouseClient* server : Shards()) {
    Status s = MigrateSchema(*server, migrations);
    if (!s.ok()) {
      return Status(s.code(), fmt::format("{}: {}", server->url().ToString(), s.message()));
    }
  }
  // Through the Distributed tables every shard answers (a server of the
  // cluster whose config names other servers than the one asked fails here).
  for (const char* table : {"documents", "traces", "trace_times", "trace_values", "config"}) {
    Result<std::string> answer =
        client_.Query(fmt::format("SELECT count() FROM {} WHERE 0", table));
    if (!answer.ok()) {
      return Status(answer.status().code(),
                    fmt::format("cluster '{}': a shard does not answer for {}: {}", cluster, table,
                                answer.status().message()));
    }
  }
  return Status::Ok();
}

void ClickHouseStore::RetentionLoop() {
  MutexLock lock(mu_);
  while (!stopping_) {
    stop_cv_.WaitFor(mu_, std::chrono::microseconds(options_.retention_interval_us));
    if (stopping_) break;
    const int64_t cutoff = clock_.NowMicros() - options_.retention_us;
    mu_.Unlock();
    Status s = DeleteOlderThan(cutoff);
    mu_.Lock();
    if (!s.ok())
      spdlog::warn("clickhouse retention: {} (tried again in the next round)", s.ToString());
  }
}

}  // namespace

Result<std::unique_ptr<Store>> OpenClickHouseStore(const ClickHouseStoreOptions& options) {
  auto store = std::make_unique<ClickHouseStore>(options);
  RG_RETURN_IF_ERROR(store->Open());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace roentgen::store::clickhouse
