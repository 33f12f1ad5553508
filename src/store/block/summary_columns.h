// Block files of trace records: the writer and the reader of the immutable
// columnar files (layout: block_format.h; reference: docs/storage.md, "The
// block file format") that the block engine builds on.
//
// Rows are TraceRecords sorted by (summary.start_time_us, trace id bytes),
// one per trace, each with the trace's stored documents. Columns (names in
// `col`):
//   value columns, which ReadRecords reassembles into exactly the records
//   written: trace id, start, duration, response time, updated, revision,
//   segment count, the five flags, http (method, url, user agent, client ip,
//   status), root segment name and origin, resource ARNs, instance ids and
//   availability zones (lists), `details`: the rest of the summary
//   (annotations with their services, users, service ids, entry point, root
//   causes) in record_codec's encoding with the fields above blanked, and
//   `graph` (format version 2; version 1 keeps the graph in `details`): the
//   trace graph, as a record of a blank summary, so that a read of summaries
//   never decompresses the graphs;
//   projection columns, redundant copies for predicates that skip decoding
//   `details`: service names, types and accounts (lists, parallel), the
//   entry point's name and type (lists of 0 or 1), user names, the
//   graph's node names, types and inferred flags (parallel lists), the
//   nodes' other names (version 2: `graph.node_alias`, every node's
//   ServiceId::names in node order, so that the names and aliases together
//   are every name service("x") matches), whether any of each node's
//   observations is a fault, an error, a throttle (version 2: parallel
//   lists of bools) and its edges (GraphEdgeKey), and
//   per annotation key (the block's
//   kMaxAnnotationKeyColumns most frequent keys) one value list column per
//   value type the key takes in the block (AnnotationColumnName);
//   `id_order` (versions 1 and 2): the rows in trace-id order (a
//   permutation), for lookups by id; version 3 sorts the ids when the
//   reader is first asked for its TraceIdIndex.
// Skip indexes: min/max start and updated times, and bloom filters over trace
// ids, annotation (key, value), service (name, type) and name alone, users.
// Named sections (BlockWriteOptions::sections) carry what the layers above
// keep per block; the format gives them no meaning.
//
// Thread safety: WriteBlock is a pure function of its arguments plus the
// file it writes. A BlockReader is immutable after Open: every method may be
// called from any thread at once (reads use pread). It keeps the file open
// and the bloom filters in memory, and its TraceIdIndex once first read (the
// block never changes). Columns are read and decoded per call, unless the
// reader was opened with a ColumnCache: decoded columns are then shared
// through it (bounded, least recently used first out), so repeated point
// reads and scans of a block do not decompress them again. A ColumnCache is
// thread-safe and must outlive the readers that use it.
// Errors: Corruption for any damage, naming the file, the section and the
// byte offset; IOError and the like (common/files.h) for the file system.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/files.h"
#include "common/mutex.h"
#include "common/status.h"
#include "store/block/block_format.h"
#include "store/block/bloom.h"
#include "store/block/columns.h"
#include "store/store.h"

namespace roentgen::store::block {

namespace col {
inline constexpr std::string_view kTraceId = "trace_id";
inline constexpr std::string_view kIdOrder = "id_order";
inline constexpr std::string_view kStart = "start_us";
inline constexpr std::string_view kDuration = "duration_us";
inline constexpr std::string_view kResponseTime = "response_time_us";
inline constexpr std::string_view kUpdated = "updated_us";
inline constexpr std::string_view kRevision = "revision";
inline constexpr std::string_view kSegmentCount = "segment_count";
inline constexpr std::string_view kFault = "fault";
inline constexpr std::string_view kError = "error";
inline constexpr std::string_view kThrottle = "throttle";
inline constexpr std::string_view kPartial = "partial";
inline constexpr std::string_view kIndexed = "indexed";
inline constexpr std::string_view kHttpMethod = "http.method";
inline constexpr std::string_view kHttpUrl = "http.url";
inline constexpr std::string_view kHttpUserAgent = "http.user_agent";
inline constexpr std::string_view kHttpClientIp = "http.client_ip";
inline constexpr std::string_view kHttpStatus = "http.status";
inline constexpr std::string_view kRootName = "root.name";
inline constexpr std::string_view kRootOrigin = "root.origin";
inline constexpr std::string_view kResourceArns = "resource_arns";
inline constexpr std::string_view kInstanceIds = "instance_ids";
inline constexpr std::string_view kAvailabilityZones = "availability_zones";
inline constexpr std::string_view kDetails = "details";
inline constexpr std::string_view kGraph = "graph";  // format version 2
inline constexpr std::string_view kServiceName = "service.name";
inline constexpr std::string_view kServiceType = "service.type";
inline constexpr std::string_view kServiceAccount = "service.account";
inline constexpr std::string_view kEntryPointName = "entry_point.name";  // 0 or 1 value a row
inline constexpr std::string_view kEntryPointType = "entry_point.type";
inline constexpr std::string_view kUser = "user";
inline constexpr std::string_view kGraphNodeName = "graph.node_name";
inline constexpr std::string_view kGraphNodeType = "graph.node_type";
inline constexpr std::string_view kGraphNodeInferred = "graph.node_inferred";  // kListBool
// Format version 2: every node's other names (ServiceId::names), in node order.
inline constexpr std::string_view kGraphNodeAlias = "graph.node_alias";
// Format version 2, kListBool parallel to the node names: whether any of the
// node's observations has the flag (what service("x") { fault } tests).
inline constexpr std::string_view kGraphNodeFault = "graph.node_fault";
inline constexpr std::string_view kGraphNodeError = "graph.node_error";
inline constexpr std::string_view kGraphNodeThrottle = "graph.node_throttle";
// One value per edge: GraphEdgeKey(caller, callee).
inline constexpr std::string_view kGraphEdge = "graph.edge";
}  // namespace col

inline constexpr size_t kMaxAnnotationKeyColumns = 64;

enum class AnnotationType { kString, kNumber, kBool };
// The `graph.edge` value of an edge: caller name · 0 · caller type · 0 ·
// callee name · 0 · callee type.
std::string GraphEdgeKey(const xray::ServiceId& from, const xray::ServiceId& to);

// "annotation.s:<key>" (kListDictString), "annotation.d:<key>" (kListDouble),
// "annotation.b:<key>" (kListBool).
std::string AnnotationColumnName(std::string_view key, AnnotationType type);
// The bloom key of an annotation value: key · 0 · tag (s, d, b) · value (the
// string; the double's bits, fixed64, -0 as +0; "0"/"1").
std::string AnnotationFilterKey(std::string_view key, const xray::AnnotationValue& value);

struct BlockWriteOptions {
  int zstd_level = 3;
  size_t target_page_raw_bytes = kTargetPageRawBytes;
  // Named sections the block carries for the layers above (e.g. the engine's
  // per-block rollup delta): each stored as a compressed, checksummed chunk
  // and read back whole by BlockReader::ReadSection. Names must be distinct.
  std::vector<std::pair<std::string, std::string>> sections;
  // kOldestFormatVersion..kFormatVersion (block_format.h); older versions
  // are written only to test that readers still read them.
  uint32_t format_version = kFormatVersion;
  // Format version 3: the most bytes of documents, sampled across the
  // block, that the pages are compressed against (a zstd raw-content
  // dictionary stored once in the block); 0 writes none. A block whose
  // documents are under four times this has none either.
  size_t document_dictionary_bytes = kDocumentDictionaryBytes;
};

// Writes `rows` (sorted by start time then trace id, ids distinct) and their
// documents (`documents_by_row[i]` belongs to rows[i]; same size) as a block
// file at `path`, atomically: a temporary file beside it, fsync, rename, fsync
// of the directory. InvalidArgument for unsorted rows, a repeated trace id, a
// size mismatch, a graph edge to a missing node, more than kMaxRows rows,
// repeated section names, or a
// column, page or section larger than a
// reader accepts (kMaxChunkRawBytes, kMaxFooterBytes); Internal if zstd
// fails; file-system errors as
// common/files.h maps them. An existing file at `path` is replaced.
Status WriteBlock(std::span<const TraceRecord> rows,
                  std::span<const std::vector<StoredDocument>> documents_by_row,
                  const std::string& path, const BlockWriteOptions& options = {});
// The same, with the rows given by address (a head's cut).
Status WriteBlock(std::span<const TraceRecord* const> rows,
                  std::span<const std::vector<StoredDocument>> documents_by_row,
                  const std::string& path, const BlockWriteOptions& options = {});

struct Extent {
  uint64_t offset = 0;
  uint64_t size = 0;      // stored bytes
  uint64_t raw_size = 0;  // after decompression
  uint64_t checksum = 0;
};

struct ColumnInfo {
  std::string name;
  ColumnEncoding encoding = ColumnEncoding::kBytes;
  uint64_t rows = 0;
  Extent extent;
  // min/max: of the values for int64 columns; for `trace_id`, of the ids'
  // epoch parts (TraceIdEpochRange).
  bool has_range = false;
  int64_t min = 0;
  int64_t max = 0;
};

struct BlockStats {
  uint64_t rows = 0;
  int64_t min_start_us = 0;
  int64_t max_start_us = 0;
  int64_t min_updated_us = 0;
  int64_t max_updated_us = 0;
};

// A trace id's 16 bytes, as the trace id column and the blooms hold them.
inline std::string_view IdBytes(const xray::TraceId& id) {
  return {reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size()};
}

// The smallest and largest epoch part (xray::TraceId::epoch_part, the ids'
// bytes [0, 4) big-endian) of a `trace_id` column's payload (16 bytes an id),
// nothing for no ids: the column's range in the footer. X-Ray SDKs begin a
// trace id with the second the trace started, so a block cut from a head
// spans a few seconds of them, and a point read of a new trace (whose epoch
// part is now) skips every older block without a bloom probe.
std::optional<std::pair<int64_t, int64_t>> TraceIdEpochRange(std::string_view ids);

// A trace id to look for in many blocks: its epoch part and bloom hash
// computed once.
struct TraceProbe {
  explicit TraceProbe(const xray::TraceId& trace_id)
      : id(trace_id), epoch(trace_id.epoch_part()), hash(BloomHash(IdBytes(trace_id))) {}
  xray::TraceId id;
  uint32_t epoch = 0;
  uint64_t hash = 0;
};

// Trace id → row: the id column and its sorted permutation.
class TraceIdIndex {
 public:
  TraceIdIndex(Fixed16Column ids, std::vector<uint32_t> order)
      : ids_(std::move(ids)), order_(std::move(order)) {}
  std::optional<uint32_t> Find(const xray::TraceId& id) const;
  size_t size() const { return order_.size(); }
  // Row `row`'s 16 id bytes (row < size()).
  std::string_view IdBytesAt(uint32_t row) const { return ids_.Get(row); }

 private:
  Fixed16Column ids_;
  std::vector<uint32_t> order_;
};

// Decoded columns of any number of blocks, up to `capacity_bytes` (the
// decompressed payload plus 8 bytes a row, an estimate of the decoded form);
// the least recently used go first. A column larger than the capacity is
// not kept. 0 keeps nothing.
class ColumnCache {
 public:
  explicit ColumnCache(uint64_t capacity_bytes) : capacity_(capacity_bytes) {}
  ColumnCache(const ColumnCache&) = delete;
  ColumnCache& operator=(const ColumnCache&) = delete;

  uint64_t capacity() const { return capacity_; }
  uint64_t bytes() const;
  size_t entries() const;
  uint64_t hits() const;
  uint64_t misses() const;

  // For BlockReader: `owner` is a reader's id, the value a decoded column of
  // the type that the column's encoding decodes to.
  std::shared_ptr<const void> Get(uint64_t owner, std::string_view column);
  void Put(uint64_t owner, std::string_view column, std::shared_ptr<const void> value,
           uint64_t bytes);
  void EraseOwner(uint64_t owner);

 private:
  struct Entry {
    uint64_t owner = 0;
    std::string column;
    std::shared_ptr<const void> value;
    uint64_t bytes = 0;
  };
  using Key = std::pair<uint64_t, std::string>;
  using KeyView = std::pair<uint64_t, std::string_view>;
  struct KeyLess {
    using is_transparent = void;
    static KeyView View(const Key& k) { return {k.first, k.second}; }
    static KeyView View(const KeyView& k) { return k; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return View(a) < View(b);
    }
  };
  void EvictLocked() REQUIRES(mu_);

  const uint64_t capacity_;
  mutable Mutex mu_;
  std::list<Entry> lru_ GUARDED_BY(mu_);  // most recently used first
  std::map<Key, std::list<Entry>::iterator, KeyLess> index_ GUARDED_BY(mu_);
  uint64_t bytes_ GUARDED_BY(mu_) = 0;
  uint64_t hits_ GUARDED_BY(mu_) = 0;
  uint64_t misses_ GUARDED_BY(mu_) = 0;
};

class BlockReader {
 public:
  // `cache` (optional) must outlive the reader.
  static Result<std::unique_ptr<BlockReader>> Open(const std::string& path,
                                                   ColumnCache* cache = nullptr);
  ~BlockReader();
  BlockReader(const BlockReader&) = delete;
  BlockReader& operator=(const BlockReader&) = delete;

  const std::string& path() const { return path_; }
  const BlockStats& stats() const { return stats_; }
  uint64_t row_count() const { return stats_.rows; }
  const std::vector<ColumnInfo>& columns() const { return columns_; }
  const ColumnInfo* FindColumn(std::string_view name) const;
  uint64_t file_bytes() const { return file_bytes_; }
  uint32_t format_version() const { return format_version_; }

  // A column's payload, checksummed and decompressed (columns.h decodes it).
  Result<std::string> ReadColumnPayload(const ColumnInfo& column) const;
  // A column's stored bytes (one zstd frame), checksummed, for a reader
  // that decompresses it as a stream (compaction, block_merge.h).
  Result<std::string> ReadColumnStored(const ColumnInfo& column) const;
  // Typed reads: Corruption if the column is missing (for the value columns)
  // or has another encoding. A projection column that is absent reads as
  // NotFound (an annotation key without a column in this block).
  Result<Int64Column> ReadInt64(std::string_view name) const;
  Result<OptionalInt64Column> ReadOptionalInt64(std::string_view name) const;
  Result<BoolColumn> ReadBool(std::string_view name) const;
  Result<DictStringColumn> ReadDictString(std::string_view name) const;
  Result<BytesColumn> ReadBytes(std::string_view name) const;
  Result<ListDictStringColumn> ReadListDictString(std::string_view name) const;
  Result<ListDoubleColumn> ReadListDouble(std::string_view name) const;
  Result<ListBoolColumn> ReadListBool(std::string_view name) const;
  Result<Fixed16Column> ReadFixed16(std::string_view name) const;
  Result<Fixed32Column> ReadFixed32(std::string_view name) const;
  // A column shared with the cache (decoded once while it stays cached): T
  // is one of the column types above, checked against the column's encoding
  // like the typed reads.
  template <typename T>
  Result<std::shared_ptr<const T>> ReadColumn(std::string_view name) const;
  // Whether the block has value columns for annotation `key` (any type);
  // otherwise a predicate on it must decode `details`.
  bool HasAnnotationColumns(std::string_view key) const;

  // Skip indexes: false means no row of the block matches.
  // By the `trace_id` column's epoch range (when the block has one), then
  // the bloom filter.
  bool MayContainTrace(const TraceProbe& probe) const;
  bool MayContainTrace(const xray::TraceId& id) const { return MayContainTrace(TraceProbe(id)); }
  bool MayContainAnnotation(std::string_view key, const xray::AnnotationValue& value) const;
  // An empty `type` matches any type.
  bool MayContainService(std::string_view name, std::string_view type = {}) const;
  // Whether a row may have a graph node answering to `name` (its name or one
  // of its other names: what service("name") matches); always true for a
  // version 1 block, whose filter lacks the other names.
  bool MayContainGraphNodeNamed(std::string_view name) const;
  // The rows with a graph node answering to `name`, from `graph.node_name`
  // and `graph.node_alias`; nothing for a version 1 block (no alias column:
  // the columns cannot tell).
  Result<std::optional<Bitmap>> RowsWithGraphNodeNamed(std::string_view name) const;
  // The rows with a graph node whose observations have the flag of `column`
  // (col::kGraphNodeFault, kGraphNodeError, kGraphNodeThrottle); nothing
  // for a version 1 block.
  Result<std::optional<Bitmap>> RowsWithGraphNodeFlag(std::string_view column) const;
  bool MayContainUser(std::string_view user) const;
  bool OverlapsStart(int64_t start_us, int64_t end_us) const;  // [start, end)

  // Decoded and checked on the first call, then kept for the reader's life.
  Result<std::shared_ptr<const TraceIdIndex>> ReadTraceIdIndex() const;
  // Bytes of the kept TraceIdIndex (0 before the first ReadTraceIdIndex).
  uint64_t trace_index_bytes() const;
  // The row of `id`, or nothing; checks MayContainTrace first.
  Result<std::optional<uint32_t>> FindTrace(const TraceProbe& probe) const;
  Result<std::optional<uint32_t>> FindTrace(const xray::TraceId& id) const {
    return FindTrace(TraceProbe(id));
  }

  // The records of `rows` (any order, each < row_count()), in that order,
  // in `out` (resized to rows.size(); the records it held are overwritten,
  // their storage reused); decodes each needed column once. With `with_graph` false the graphs are
  // left empty and (version 2) the `graph` column is not read at all.
  Status ReadRecords(std::span<const uint32_t> rows, std::vector<TraceRecord>& out,
                     bool with_graph = true) const;
  // The columns a record is reassembled from, read once (shared with the
  // cache) for any number of DecodeRecord calls: a scan decodes each record
  // only when its merge reaches it, into a record it reuses.
  struct RecordColumns {
    bool with_graph = false;
    std::shared_ptr<const Fixed16Column> ids;
    std::shared_ptr<const Int64Column> start, updated, revision, segments;
    std::shared_ptr<const OptionalInt64Column> duration, response, status;
    std::shared_ptr<const BoolColumn> fault, error, throttle, partial, indexed;
    std::shared_ptr<const DictStringColumn> method, url, agent, client_ip, root_name, root_origin;
    std::shared_ptr<const ListDictStringColumn> arns, instances, zones;
    std::shared_ptr<const BytesColumn> details;
    std::shared_ptr<const BytesColumn> graphs;  // version 2 with_graph only
    TraceRecord graph_holder;                   // the decoded `graph` column's row
  };
  // With `with_graph` false the graphs are left empty and (version 2) the
  // `graph` column is not read.
  Status ReadRecordColumns(bool with_graph, RecordColumns& out) const;
  // Row `row` (< row_count()) of `columns` (this reader's) into `out`, its
  // storage reused.
  Status DecodeRecord(RecordColumns& columns, uint32_t row, TraceRecord& out) const;
  // Starts loading into the CPU cache what DecodeRecord of `row` (< the
  // columns' rows) reads at random: its `details` bytes and, in the string
  // columns, its dictionary entries (a dictionary is sorted, not in row
  // order). A scan calls it for the row it decodes next, one record of work
  // ahead; it changes nothing.
  static void PrefetchRecord(const RecordColumns& columns, uint32_t row);
  Result<TraceRecord> ReadRecord(uint32_t row) const;
  // Every record of the block, in row order.
  Status ReadAllRecords(std::vector<TraceRecord>& out, bool with_graph = true) const;
  Result<std::vector<StoredDocument>> ReadDocuments(uint32_t row) const;
  // Every row's documents, in row order (each page decompressed once: for
  // compaction, which rewrites the whole block).
  Result<std::vector<std::vector<StoredDocument>>> ReadAllDocuments() const;

  // A named section's bytes (BlockWriteOptions::sections); NotFound if the
  // block has none of that name.
  Result<std::string> ReadSection(std::string_view name) const;
  std::vector<std::string> section_names() const;

  // Where the file's bytes go (block_layout.cpp): one part per column, the
  // document pages together, each named section, the bloom filters and the
  // rest (magics, footer, trailer), stored and raw bytes.
  struct LayoutPart {
    std::string kind;  // "column", "documents", "section", "filters", "footer"
    std::string name;
    uint64_t stored_bytes = 0;
    uint64_t raw_bytes = 0;
  };
  std::vector<LayoutPart> Layout() const;
  // The extent of the documents' dictionary (format version 3), if any.
  const std::optional<Extent>& document_dictionary() const { return document_dictionary_; }

  // The document pages, for compaction (block_merge.h), which reads them
  // one at a time: their count, each page's first row (increasing from 0),
  // and page `page`'s raw bytes, decompressed with the block's document
  // dictionary when it has one (block_documents.cpp).
  size_t document_page_count() const { return pages_.size(); }
  uint64_t document_page_first_row(size_t page) const { return pages_[page].first; }
  Result<std::string> ReadDocumentPage(size_t page, std::string_view what) const;

 private:
  // Row `row`'s trace id as text (xray::TraceId::ToString), from the
  // `trace_id` column: what version 3 pages leave out of the documents.
  Result<std::string> TraceIdText(uint64_t row) const;
  BlockReader() = default;
  Status ParseFooter(std::string_view footer, uint64_t footer_start);
  // `size` bytes at `offset`, unchecked (the magics and the trailer).
  Result<std::string> ReadAt(uint64_t offset, uint64_t size, std::string_view what) const;
  // The stored bytes of `e`, checksum verified.
  Result<std::string> ReadExtent(const Extent& e, std::string_view what) const;
  Result<std::string> ReadCompressed(const Extent& e, std::string_view what) const;
  Result<std::string> ReadTyped(std::string_view name, ColumnEncoding encoding) const;
  // Into `out` (resized): `rows`, or every row with `all`.
  Status ReadRecordsImpl(std::span<const uint32_t> rows, bool all, std::vector<TraceRecord>& out,
                         bool with_graph) const;

  uint64_t id_ = 0;  // distinct per reader of the process: its cache entries' owner
  ColumnCache* cache_ = nullptr;
  mutable Mutex index_mu_;
  mutable std::shared_ptr<const TraceIdIndex> trace_index_ GUARDED_BY(index_mu_);
  std::string path_;
  UniqueFd fd_;
  uint64_t file_bytes_ = 0;
  uint32_t format_version_ = kFormatVersion;
  BlockStats stats_;
  std::vector<ColumnInfo> columns_;
  std::vector<std::pair<uint64_t, Extent>> pages_;        // first row, extent
  std::vector<std::pair<std::string, Extent>> sections_;  // name, extent
  std::optional<Extent> document_dictionary_;
  // The dictionary, digested for decompression once first needed; an opaque
  // ZSTD_DDict (block_documents.cpp).
  mutable Mutex dictionary_mu_;
  mutable std::shared_ptr<const void> document_ddict_ GUARDED_BY(dictionary_mu_);
  BloomFilter trace_filter_, annotation_filter_, service_filter_, user_filter_;
  // The `trace_id` column's range (TraceIdEpochRange); absent in blocks
  // written before it was kept, which only the bloom filter skips.
  std::optional<std::pair<uint32_t, uint32_t>> trace_epochs_;
};

}  // namespace roentgen::store::block
