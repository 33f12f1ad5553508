// WriteBlock: rows → columns, documents → pages, skip indexes, footer.
#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <type_traits>
#include <unordered_map>

#include "common/bytes_hash.h"
#include "common/coding.h"
#include "store/block/block_writer_internal.h"
#include "store/block/document_ids.h"
#include "store/block/pointed_records.h"
#include "store/block/summary_columns.h"
#include "store/record_codec.h"
#include "xray/trace_id_order.h"

namespace roentgen::store::block {

uint64_t Checksum(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

std::string AnnotationColumnName(std::string_view key, AnnotationType type) {
  const char* tag = type == AnnotationType::kString   ? "s"
                    : type == AnnotationType::kNumber ? "d"
                                                      : "b";
  return fmt::format("annotation.{}:{}", tag, key);
}

void AppendAnnotationFilterKey(std::string_view key, const xray::AnnotationValue& value,
                               std::string& k) {
  k.append(key);
  k.push_back('\0');
  if (const auto* s = std::get_if<std::string>(&value)) {
    k.push_back('s');
    k.append(*s);
  } else if (const auto* d = std::get_if<double>(&value)) {
    k.push_back('d');
    coding::PutDouble(*d == 0 ? 0.0 : *d, k);  // -0 equals +0
  } else {
    k.push_back('b');
    k.push_back(std::get<bool>(value) ? '1' : '0');
  }
}

std::string AnnotationFilterKey(std::string_view key, const xray::AnnotationValue& value) {
  std::string k;
  AppendAnnotationFilterKey(key, value, k);
  return k;
}

namespace {

void AppendGraphEdgeKey(const xray::ServiceId& from, const xray::ServiceId& to, std::string& k) {
  for (std::string_view part :
       {std::string_view(from.name), std::string_view(from.type), std::string_view(to.name)}) {
    k.append(part);
    k.push_back('\0');
  }
  k.append(to.type);
}

}  // namespace

std::string GraphEdgeKey(const xray::ServiceId& from, const xray::ServiceId& to) {
  std::string k;
  AppendGraphEdgeKey(from, to, k);
  return k;
}

std::string_view ServiceFilterKey(std::string_view name, std::string_view type, bool any_type,
                                  std::string& k) {
  k.clear();
  k.push_back(any_type ? 'N' : 'T');
  k.append(name);
  if (!any_type) {
    k.push_back('\0');
    k.append(type);
  }
  return k;
}

void PutExtent(const Extent& e, std::string& out) {
  coding::PutVarint(e.offset, out);
  coding::PutVarint(e.size, out);
  coding::PutVarint(e.raw_size, out);
  coding::PutFixed64(e.checksum, out);
}

uint64_t DocumentDictionaryStride(uint64_t count, uint64_t total, size_t budget) {
  if (budget == 0 || count == 0 || total < 4 * static_cast<uint64_t>(budget)) return 0;
  const uint64_t average = std::max<uint64_t>(1, total / count);
  const uint64_t samples = std::max<uint64_t>(1, budget / average);
  return std::max<uint64_t>(1, count / samples);
}

bool DocumentDictionaryUsable(std::string_view dictionary) {
  constexpr std::string_view kZstdDictionaryMagic{"\x37\xA4\x30\xEC", 4};
  return dictionary.size() >= 1024 && !dictionary.starts_with(kZstdDictionaryMagic);
}

namespace {

class FileBuilder {
 public:
  explicit FileBuilder(int zstd_level) : level_(zstd_level), cctx_(ZSTD_createCCtx()) {
    out_.append(kMagic);
  }
  ~FileBuilder() {
    ZSTD_freeCCtx(cctx_);
    ZSTD_freeCCtx(dict_cctx_);
    ZSTD_freeCDict(cdict_);
  }
  FileBuilder(const FileBuilder&) = delete;
  FileBuilder& operator=(const FileBuilder&) = delete;

  // Compresses straight into the file's bytes with one reused context (a
  // context per chunk would allocate and initialize its tables every time);
  // the frames are the same as ZSTD_compress makes. `what` names the chunk in
  // the error when it is larger than a reader accepts (kMaxChunkRawBytes).
  Extent AddCompressed(std::string_view raw, std::string_view what) {
    if (raw.size() > kMaxChunkRawBytes) {
      if (status_.ok()) {
        status_ = Status::InvalidArgument(
            fmt::format("{} holds {} bytes, more than a block may ({}): write fewer rows", what,
                        raw.size(), kMaxChunkRawBytes));
      }
      return {};
    }
    if (cctx_ == nullptr) {
      if (status_.ok()) status_ = Status::Internal(fmt::format("{}: zstd: no context", what));
      return {};
    }
    char* frame = Scratch(ZSTD_compressBound(raw.size()));
    const size_t n = ZSTD_compressCCtx(cctx_, frame, scratch_size_, raw.data(), raw.size(), level_);
    return AppendFrame(frame, n, raw.size(), what);
  }
  // Compresses the document pages from now on against `dictionary` (a
  // zstd raw-content dictionary, copied into the CDict), each frame with
  // zstd's content checksum, so that a page read with any other dictionary
  // fails rather than reads wrong.
  void UseDocumentDictionary(std::string_view dictionary, std::string_view what) {
    cdict_ = ZSTD_createCDict(dictionary.data(), dictionary.size(), level_);
    dict_cctx_ = ZSTD_createCCtx();
    if (cdict_ == nullptr || dict_cctx_ == nullptr ||
        ZSTD_isError(ZSTD_CCtx_refCDict(dict_cctx_, cdict_)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(dict_cctx_, ZSTD_c_checksumFlag, 1))) {
      if (status_.ok()) status_ = Status::Internal(fmt::format("{}: zstd: no dictionary", what));
    }
  }
  Extent AddDocumentPage(std::string_view raw, std::string_view what) {
    if (cdict_ == nullptr) return AddCompressed(raw, what);
    if (raw.size() > kMaxChunkRawBytes || dict_cctx_ == nullptr) return AddCompressed(raw, what);
    char* frame = Scratch(ZSTD_compressBound(raw.size()));
    // The referenced dictionary and the checksum flag stay set across
    // frames (ZSTD_compress2 resets only the session).
    const size_t n = ZSTD_compress2(dict_cctx_, frame, scratch_size_, raw.data(), raw.size());
    return AppendFrame(frame, n, raw.size(), what);
  }
  Extent AddRaw(std::string_view bytes) {
    Extent e{out_.size(), bytes.size(), bytes.size(), Checksum(bytes)};
    out_.append(bytes);
    return e;
  }
  std::string& out() { return out_; }
  // The first failure of an Add, or OK.
  const Status& status() const { return status_; }

 private:
  // A buffer of at least `bytes` for a frame, reused: compressing into the
  // file's string would zero-fill a compressBound (about the raw size) of it
  // for every chunk, where the frame is a fraction of that.
  char* Scratch(size_t bytes) {
    if (scratch_size_ < bytes) {
      scratch_ = std::make_unique_for_overwrite<char[]>(bytes);
      scratch_size_ = bytes;
    }
    return scratch_.get();
  }
  // Appends the frame of `n` bytes (or the error `n`) compressed into the
  // scratch buffer.
  Extent AppendFrame(const char* frame, size_t n, size_t raw_size, std::string_view what) {
    if (ZSTD_isError(n)) {
      if (status_.ok()) {
        status_ = Status::Internal(fmt::format("{}: zstd: {}", what, ZSTD_getErrorName(n)));
      }
      return {};
    }
    const size_t offset = out_.size();
    out_.append(frame, n);
    return {offset, n, raw_size, Checksum(std::string_view(out_).substr(offset, n))};
  }

  int level_;
  ZSTD_CCtx* cctx_;
  ZSTD_CCtx* dict_cctx_ = nullptr;
  ZSTD_CDict* cdict_ = nullptr;
  std::unique_ptr<char[]> scratch_;
  size_t scratch_size_ = 0;
  std::string out_;
  Status status_;
};

struct PendingColumn {
  std::string name;
  ColumnEncoding encoding;
  std::string payload;
  std::optional<std::pair<int64_t, int64_t>> range;
};

std::optional<std::pair<int64_t, int64_t>> Range(const std::vector<int64_t>& v) {
  if (v.empty()) return std::nullopt;
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return std::make_pair(*lo, *hi);
}

// The annotation keys' maps hash with bytes::Hash (inline; keys are short).
struct AnnotationKeyHash {
  size_t operator()(std::string_view k) const { return static_cast<size_t>(bytes::Hash(k)); }
};
template <typename V>
using AnnotationKeyMap = std::unordered_map<std::string_view, V, AnnotationKeyHash>;

// Rows a chunk: the columns are gathered a chunk of rows at a time, every
// column over one chunk before the next, so that a chunk's records (a few KB
// each, in scattered heap) are read from the caches rather than from memory
// once per column (a cut's rows are tens of MB).
constexpr size_t kColumnChunkRows = 128;

std::vector<PendingColumn> BuildColumns(PointedRecords rows, uint32_t version) {
  const size_t n = rows.size();
  // A column: `gather` takes rows [begin, end) in order, `finish` makes the
  // payload (and range) once every row is gathered. They share the column's
  // state by pointer.
  struct ColumnBuilder {
    std::string name;
    ColumnEncoding encoding;
    std::function<void(size_t, size_t)> gather;
    std::function<void(PendingColumn&)> finish;
  };
  std::vector<ColumnBuilder> builders;
  auto column = [&](std::string_view name, ColumnEncoding enc,
                    std::function<void(size_t, size_t)> gather,
                    std::function<void(PendingColumn&)> finish) {
    builders.push_back(ColumnBuilder{std::string(name), enc, std::move(gather), std::move(finish)});
  };
  // A column of one value a row, of type T: gathered into a vector,
  // `encode(values, column)` makes the payload.
  auto add_values = [&]<typename T>(std::type_identity<T>, std::string_view name,
                                    ColumnEncoding enc, auto get, auto encode) {
    auto v = std::make_shared<std::vector<T>>();
    v->reserve(n);
    column(
        name, enc,
        [v, get, rows](size_t b, size_t e) {
          for (size_t i = b; i < e; ++i) v->push_back(get(rows[i]));
        },
        [v, encode](PendingColumn& c) { encode(*v, c); });
  };
  auto add_int64 = [&](std::string_view name, auto get) {
    add_values(std::type_identity<int64_t>(), name, ColumnEncoding::kInt64Delta, get,
               [](const std::vector<int64_t>& v, PendingColumn& c) {
                 EncodeInt64(v, c.payload);
                 c.range = Range(v);
               });
  };
  auto add_opt = [&](std::string_view name, auto get) {
    add_values(std::type_identity<std::optional<int64_t>>(), name, ColumnEncoding::kOptionalInt64,
               get, [](const std::vector<std::optional<int64_t>>& v, PendingColumn& c) {
                 EncodeOptionalInt64(v, c.payload);
               });
  };
  auto add_bool = [&](std::string_view name, auto get) {
    add_values(std::type_identity<bool>(), name, ColumnEncoding::kBool, get,
               [](const std::vector<bool>& v, PendingColumn& c) { EncodeBool(v, c.payload); });
  };
  auto add_dict = [&](std::string_view name, auto get) {
    auto dict = std::make_shared<DictStringEncoder>();
    dict->Reserve(n);
    column(
        name, ColumnEncoding::kDictString,
        [dict, get, rows](size_t b, size_t e) {
          for (size_t i = b; i < e; ++i) dict->Add(get(rows[i]));
        },
        [dict](PendingColumn& c) { dict->Finish(c.payload); });
  };
  // `get(row, values)` appends the row's values (views that outlive the
  // column: into the rows).
  struct ListState {
    std::vector<uint32_t> lengths;
    std::vector<std::string_view> row_values;
    DictStringEncoder dict;
  };
  auto add_list = [&](std::string_view name, auto get) {
    auto st = std::make_shared<ListState>();
    st->lengths.reserve(n);
    column(
        name, ColumnEncoding::kListDictString,
        [st, get, rows](size_t b, size_t e) {
          for (size_t i = b; i < e; ++i) {
            st->row_values.clear();
            get(rows[i], st->row_values);
            st->lengths.push_back(static_cast<uint32_t>(st->row_values.size()));
            for (std::string_view v : st->row_values) st->dict.Add(v);
          }
        },
        [st](PendingColumn& c) {
          coding::PutVarintRun(
              st->lengths.size(), [&st](size_t i) { return st->lengths[i]; }, c.payload);
          st->dict.Finish(c.payload);
        });
  };
  // kListBool: `get(row, values)` appends the row's flags.
  auto add_bool_list = [&](std::string_view name, auto get) {
    struct BoolListState {
      std::vector<uint32_t> lengths;
      std::vector<bool> values;
    };
    auto st = std::make_shared<BoolListState>();
    st->lengths.reserve(n);
    column(
        name, ColumnEncoding::kListBool,
        [st, get, rows](size_t b, size_t e) {
          for (size_t i = b; i < e; ++i) {
            const size_t before = st->values.size();
            get(rows[i], st->values);
            st->lengths.push_back(static_cast<uint32_t>(st->values.size() - before));
          }
        },
        [st](PendingColumn& c) { EncodeListBool(st->lengths, st->values, c.payload); });
  };
  // kBytes: `put(row, out)` appends the row's value to the payload itself,
  // after room for its length prefix, which is filled in once the value's
  // size is known (a value of another prefix size moves by the difference):
  // no copy of the value, and the payload is reserved for every row from the
  // first chunk's sizes rather than grown by doubling (tens of MB a cut).
  auto add_bytes = [&](std::string_view name, auto put) {
    auto payload = std::make_shared<std::string>();
    column(
        name, ColumnEncoding::kBytes,
        [payload, put, rows, n](size_t b, size_t e) {
          std::string& out = *payload;
          for (size_t i = b; i < e; ++i) {
            // Most values take 128 bytes to 16 KB: a two-byte prefix.
            constexpr size_t kGuessedPrefixBytes = 2;
            const size_t at = out.size();
            out.append(kGuessedPrefixBytes, '\0');
            put(rows[i], out);
            const size_t size = out.size() - at - kGuessedPrefixBytes;
            char prefix[coding::kMaxVarint64Bytes];
            const auto prefix_bytes =
                static_cast<size_t>(coding::EncodeVarint(prefix, size) - prefix);
            if (prefix_bytes < kGuessedPrefixBytes) {
              out.erase(at, kGuessedPrefixBytes - prefix_bytes);
            } else if (prefix_bytes > kGuessedPrefixBytes) {
              out.insert(at, prefix_bytes - kGuessedPrefixBytes, '\0');
            }
            std::memcpy(out.data() + at, prefix, prefix_bytes);
          }
          if (b == 0 && e < n) out.reserve(out.size() / e * n + out.size() / e * n / 8);
        },
        [payload](PendingColumn& c) { c.payload = std::move(*payload); });
  };
  auto strings = [](const std::vector<std::string>& s, std::vector<std::string_view>& out) {
    out.insert(out.end(), s.begin(), s.end());
  };

  {
    auto ids = std::make_shared<std::string>();
    ids->reserve(16 * n);
    column(
        col::kTraceId, ColumnEncoding::kFixed16,
        [ids, rows](size_t b, size_t e) {
          for (size_t i = b; i < e; ++i) ids->append(IdBytes(rows[i].summary.id));
        },
        [ids](PendingColumn& c) {
          c.range = TraceIdEpochRange(*ids);
          c.payload = std::move(*ids);
        });
    // Version 3 leaves the order to the reader (a sort of the ids).
    if (version < 3) {
      column(
          col::kIdOrder, ColumnEncoding::kFixed32, [](size_t, size_t) {},
          [rows, n](PendingColumn& c) {
            std::vector<uint32_t> order(n);
            for (size_t i = 0; i < n; ++i) order[i] = static_cast<uint32_t>(i);
            std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
              return IdBytes(rows[a].summary.id) < IdBytes(rows[b].summary.id);
            });
            EncodeFixed32(order, c.payload);
          });
    }
  }
  add_int64(col::kStart, [](const TraceRecord& r) { return r.summary.start_time_us; });
  add_opt(col::kDuration, [](const TraceRecord& r) { return r.summary.duration_us; });
  add_opt(col::kResponseTime, [](const TraceRecord& r) { return r.summary.response_time_us; });
  add_int64(col::kUpdated, [](const TraceRecord& r) { return r.summary.updated_us; });
  add_int64(col::kRevision,
            [](const TraceRecord& r) { return static_cast<int64_t>(r.summary.revision); });
  add_int64(col::kSegmentCount,
            [](const TraceRecord& r) { return static_cast<int64_t>(r.summary.segment_count); });
  add_bool(col::kFault, [](const TraceRecord& r) { return r.summary.has_fault; });
  add_bool(col::kError, [](const TraceRecord& r) { return r.summary.has_error; });
  add_bool(col::kThrottle, [](const TraceRecord& r) { return r.summary.has_throttle; });
  add_bool(col::kPartial, [](const TraceRecord& r) { return r.summary.is_partial; });
  add_bool(col::kIndexed, [](const TraceRecord& r) { return r.summary.indexed; });
  add_dict(col::kHttpMethod,
           [](const TraceRecord& r) { return std::string_view(r.summary.http.method); });
  add_dict(col::kHttpUrl,
           [](const TraceRecord& r) { return std::string_view(r.summary.http.url); });
  add_dict(col::kHttpUserAgent,
           [](const TraceRecord& r) { return std::string_view(r.summary.http.user_agent); });
  add_dict(col::kHttpClientIp,
           [](const TraceRecord& r) { return std::string_view(r.summary.http.client_ip); });
  add_opt(col::kHttpStatus, [](const TraceRecord& r) -> std::optional<int64_t> {
    if (!r.summary.http.status) return std::nullopt;
    return *r.summary.http.status;
  });
  add_dict(col::kRootName,
           [](const TraceRecord& r) { return std::string_view(r.summary.root_segment_name); });
  add_dict(col::kRootOrigin,
           [](const TraceRecord& r) { return std::string_view(r.summary.root_segment_origin); });
  add_list(col::kResourceArns,
           [strings](const TraceRecord& r, auto& out) { strings(r.summary.resource_arns, out); });
  add_list(col::kInstanceIds,
           [strings](const TraceRecord& r, auto& out) { strings(r.summary.instance_ids, out); });
  add_list(col::kAvailabilityZones, [strings](const TraceRecord& r, auto& out) {
    strings(r.summary.availability_zones, out);
  });
  {
    // The summary as `details` stores it: the value columns' fields blanked.
    // Version 2 keeps the graph out of `details` (in `graph`, as a record of
    // a blank summary), so that a read of summaries never touches it.
    static const graph::TraceGraph kNoGraph;
    static const xray::TraceSummary kBlankSummary;
    const bool graph_apart = version >= 2;
    add_bytes(col::kDetails, [graph_apart](const TraceRecord& r, std::string& out) {
      EncodeTraceRecordDetails(r.summary, graph_apart ? kNoGraph : r.graph, out);
    });
    if (graph_apart) {
      // Version 3: the observation times relative to the trace's start,
      // which the record's summary carries (graph_times.h), shifted as they
      // are encoded (no copy of the graph).
      const bool relative_times = version >= 3;
      auto relative = std::make_shared<xray::TraceSummary>();  // blank but for the start time
      add_bytes(col::kGraph, [relative_times, relative](const TraceRecord& r, std::string& out) {
        if (relative_times) {
          relative->start_time_us = r.summary.start_time_us;
          EncodeTraceRecordRelative(*relative, r.graph, relative->start_time_us, out);
        } else {
          EncodeTraceRecordDetails(kBlankSummary, r.graph, out);
        }
      });
    }
  }
  // Projections.
  add_list(col::kServiceName, [](const TraceRecord& r, auto& out) {
    for (const auto& s : r.summary.service_ids) out.push_back(s.name);
  });
  add_list(col::kServiceType, [](const TraceRecord& r, auto& out) {
    for (const auto& s : r.summary.service_ids) out.push_back(s.type);
  });
  add_list(col::kServiceAccount, [](const TraceRecord& r, auto& out) {
    for (const auto& s : r.summary.service_ids) out.push_back(s.account_id);
  });
  add_list(col::kEntryPointName, [](const TraceRecord& r, auto& out) {
    if (r.summary.entry_point) out.push_back(r.summary.entry_point->name);
  });
  add_list(col::kEntryPointType, [](const TraceRecord& r, auto& out) {
    if (r.summary.entry_point) out.push_back(r.summary.entry_point->type);
  });
  add_list(col::kUser, [](const TraceRecord& r, auto& out) {
    for (const auto& u : r.summary.users) out.push_back(u.user_name);
  });
  add_list(col::kGraphNodeName, [](const TraceRecord& r, auto& out) {
    for (const auto& node : r.graph.nodes) out.push_back(node.id.name);
  });
  add_list(col::kGraphNodeType, [](const TraceRecord& r, auto& out) {
    for (const auto& node : r.graph.nodes) out.push_back(node.id.type);
  });
  if (version >= 2) {
    add_list(col::kGraphNodeAlias, [strings](const TraceRecord& r, auto& out) {
      for (const auto& node : r.graph.nodes) strings(node.id.names, out);
    });
  }
  add_bool_list(col::kGraphNodeInferred, [](const TraceRecord& r, std::vector<bool>& out) {
    for (const auto& node : r.graph.nodes) out.push_back(node.inferred);
  });
  if (version >= 2) {
    // Per node, whether any observation has the flag (service(…) { fault }).
    auto add_node_flag = [&](std::string_view name, bool graph::Observation::*flag) {
      add_bool_list(name, [flag](const TraceRecord& r, std::vector<bool>& out) {
        for (const auto& node : r.graph.nodes) {
          out.push_back(std::any_of(node.observations.begin(), node.observations.end(),
                                    [&](const graph::Observation& o) { return o.*flag; }));
        }
      });
    };
    add_node_flag(col::kGraphNodeFault, &graph::Observation::fault);
    add_node_flag(col::kGraphNodeError, &graph::Observation::error);
    add_node_flag(col::kGraphNodeThrottle, &graph::Observation::throttle);
  }
  {
    // The edge keys of a chunk, one after another in one string of their own
    // (which the dictionary views: never appended to once viewed).
    struct EdgeState {
      std::vector<uint32_t> lengths;
      std::deque<std::string> keys;
      std::vector<size_t> ends;
      DictStringEncoder dict;
    };
    auto st = std::make_shared<EdgeState>();
    st->lengths.reserve(n);
    column(
        col::kGraphEdge, ColumnEncoding::kListDictString,
        [st, rows](size_t b, size_t e) {
          std::string& keys = st->keys.emplace_back();
          st->ends.clear();
          for (size_t i = b; i < e; ++i) {
            const graph::TraceGraph& g = rows[i].graph;
            for (const auto& edge : g.edges) {
              AppendGraphEdgeKey(g.nodes[edge.from].id, g.nodes[edge.to].id, keys);
              st->ends.push_back(keys.size());
            }
            st->lengths.push_back(static_cast<uint32_t>(g.edges.size()));
          }
          for (size_t j = 0, begin = 0; j < st->ends.size(); begin = st->ends[j++]) {
            st->dict.Add(std::string_view(keys).substr(begin, st->ends[j] - begin));
          }
        },
        [st](PendingColumn& c) {
          coding::PutVarintRun(
              st->lengths.size(), [&st](size_t i) { return st->lengths[i]; }, c.payload);
          st->dict.Finish(c.payload);
        });
  }
  // The rows each annotation key appears in, counted in the same passes.
  AnnotationKeyMap<size_t> key_rows;
  for (size_t b = 0; b < n; b += kColumnChunkRows) {
    const size_t e = std::min(n, b + kColumnChunkRows);
    for (ColumnBuilder& builder : builders) builder.gather(b, e);
    for (size_t i = b; i < e; ++i) {
      for (const auto& a : rows[i].summary.annotations) ++key_rows[a.key];
    }
  }
  std::vector<PendingColumn> cols;
  cols.reserve(builders.size());
  for (ColumnBuilder& builder : builders) {
    PendingColumn& c =
        cols.emplace_back(PendingColumn{std::move(builder.name), builder.encoding, {}, {}});
    builder.finish(c);
  }
  builders.clear();
  auto add = [&](std::string_view name, ColumnEncoding enc, auto&& encode) {
    PendingColumn c{std::string(name), enc, {}, std::nullopt};
    encode(c.payload);
    cols.push_back(std::move(c));
  };

  // Annotation value columns for the most frequent keys.
  std::vector<std::pair<std::string_view, size_t>> keys(key_rows.begin(), key_rows.end());
  // Most rows first, ties by key: an order of the keys alone, whatever the
  // hash map's.
  std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (keys.size() > kMaxAnnotationKeyColumns) keys.resize(kMaxAnnotationKeyColumns);
  std::sort(keys.begin(), keys.end());
  // One pass over the rows fills every chosen key's three lists (flat: the
  // values in row order, and each row's count).
  struct KeyColumns {
    std::vector<uint32_t> s_lengths, d_lengths, b_lengths;
    std::vector<std::string_view> s;
    std::vector<double> d;
    std::vector<bool> b;
  };
  std::vector<KeyColumns> key_columns(keys.size());
  AnnotationKeyMap<size_t> key_index;
  for (size_t k = 0; k < keys.size(); ++k) key_index.emplace(keys[k].first, k);
  for (size_t i = 0; i < n; ++i) {
    for (const auto& a : rows[i].summary.annotations) {
      const auto it = key_index.find(a.key);
      if (it == key_index.end()) continue;
      KeyColumns& kc = key_columns[it->second];
      for (const auto& v : a.values) {
        std::vector<uint32_t>* lengths;
        if (const auto* str = std::get_if<std::string>(&v.value)) {
          kc.s.push_back(*str);
          lengths = &kc.s_lengths;
        } else if (const auto* num = std::get_if<double>(&v.value)) {
          kc.d.push_back(*num);
          lengths = &kc.d_lengths;
        } else {
          kc.b.push_back(std::get<bool>(v.value));
          lengths = &kc.b_lengths;
        }
        if (lengths->empty()) lengths->resize(n);  // the first value of this type
        ++(*lengths)[i];
      }
    }
  }
  for (size_t k = 0; k < keys.size(); ++k) {
    const std::string_view key = keys[k].first;
    const KeyColumns& kc = key_columns[k];
    if (!kc.s_lengths.empty()) {
      add(AnnotationColumnName(key, AnnotationType::kString), ColumnEncoding::kListDictString,
          [&](std::string& o) { EncodeListDictString(kc.s_lengths, kc.s, o); });
    }
    if (!kc.d_lengths.empty()) {
      add(AnnotationColumnName(key, AnnotationType::kNumber), ColumnEncoding::kListDouble,
          [&](std::string& o) { EncodeListDouble(kc.d_lengths, kc.d, o); });
    }
    if (!kc.b_lengths.empty()) {
      add(AnnotationColumnName(key, AnnotationType::kBool), ColumnEncoding::kListBool,
          [&](std::string& o) { EncodeListBool(kc.b_lengths, kc.b, o); });
    }
  }
  return cols;
}

void EncodeDocuments(const std::vector<StoredDocument>& docs, std::string& out) {
  coding::PutVarint(docs.size(), out);
  for (const auto& d : docs) {
    coding::PutFixed64(d.entity_id.value, out);
    coding::PutSigned(d.received_us, out);
    coding::PutLengthPrefixed(d.raw, out);
  }
}

// The documents' dictionary (format version 3): whole documents picked at
// an even stride across the block, up to `budget` bytes, so that it holds
// what the block's documents repeat (field names, services, URLs) whatever
// part of the block a page comes from. Empty (no dictionary) for a block
// whose documents are under four budgets, and when the first bytes would
// read as a zstd dictionary header.
std::string SampleDocumentDictionary(std::span<const std::vector<StoredDocument>> documents,
                                     size_t budget) {
  uint64_t total = 0;
  uint64_t count = 0;
  for (const auto& row : documents) {
    for (const auto& d : row) {
      total += d.raw.size();
      ++count;
    }
  }
  const uint64_t stride = DocumentDictionaryStride(count, total, budget);
  if (stride == 0) return {};
  std::string dictionary;
  uint64_t index = 0;
  for (const auto& row : documents) {
    for (const auto& d : row) {
      if (index++ % stride != stride / 2) continue;
      if (dictionary.size() + d.raw.size() > budget) continue;
      dictionary.append(d.raw);
    }
  }
  if (!DocumentDictionaryUsable(dictionary)) return {};
  return dictionary;
}

Status WriteFileAtomically(const std::string& path, std::string_view bytes) {
  const std::string tmp = path + ".tmp";
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!fd.valid()) return ErrnoStatus(errno, "create " + tmp, tmp);
  auto fail = [&](std::string_view what) {
    const Status s = ErrnoStatus(errno, fmt::format("{} {}", what, tmp), tmp);
    std::remove(tmp.c_str());
    return s;
  };
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("write");
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return fail("fsync");
  fd.Reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("rename to " + path + ":");
  std::string dir = std::filesystem::path(path).parent_path().string();
  return SyncDir(dir.empty() ? "." : dir);
}

}  // namespace

namespace {

Status WriteBlockOfRows(PointedRecords rows,
                        std::span<const std::vector<StoredDocument>> documents_by_row,
                        const std::string& path, const BlockWriteOptions& options) {
  if (rows.size() != documents_by_row.size()) {
    return Status::InvalidArgument(fmt::format("block {}: {} rows but documents for {}", path,
                                               rows.size(), documents_by_row.size()));
  }
  if (options.format_version < kOldestFormatVersion || options.format_version > kFormatVersion) {
    return Status::InvalidArgument(
        fmt::format("block {}: format version {} (writers write {} to {})", path,
                    options.format_version, kOldestFormatVersion, kFormatVersion));
  }
  if (rows.size() > kMaxRows) {
    return Status::InvalidArgument(
        fmt::format("block {}: {} rows, more than {}", path, rows.size(), kMaxRows));
  }
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& a = rows[i - 1].summary;
    const auto& b = rows[i].summary;
    if (std::make_pair(a.start_time_us, IdBytes(a.id)) >=
        std::make_pair(b.start_time_us, IdBytes(b.id))) {
      return Status::InvalidArgument(fmt::format(
          "block {}: rows {} and {} are not sorted by (start time, trace id) or repeat a trace",
          path, i - 1, i));
    }
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const graph::TraceGraph& g = rows[i].graph;
    for (const auto& e : g.edges) {
      if (e.from >= g.nodes.size() || e.to >= g.nodes.size()) {
        return Status::InvalidArgument(
            fmt::format("block {}: row {} has an edge to a missing node", path, i));
      }
    }
  }
  for (size_t i = 0; i < options.sections.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (options.sections[i].first == options.sections[j].first) {
        return Status::InvalidArgument(
            fmt::format("block {}: section {} appears twice", path, options.sections[i].first));
      }
    }
  }
  // Sorted by words, not memcmp: only repeats are looked for.
  std::vector<xray::TraceId> ids(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) ids[i] = rows[i].summary.id;
  std::sort(ids.begin(), ids.end(), xray::TraceIdWordLess());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) {
    return Status::InvalidArgument(fmt::format("block {}: a trace id appears twice", path));
  }

  FileBuilder file(options.zstd_level);
  std::string footer;
  BlockStats stats;
  stats.rows = rows.size();
  if (!rows.empty()) {
    stats.min_start_us = rows.front().summary.start_time_us;
    stats.max_start_us = rows.back().summary.start_time_us;
    stats.min_updated_us = stats.max_updated_us = rows.front().summary.updated_us;
    for (const auto& r : rows) {
      stats.min_updated_us = std::min(stats.min_updated_us, r.summary.updated_us);
      stats.max_updated_us = std::max(stats.max_updated_us, r.summary.updated_us);
    }
  }
  coding::PutVarint(stats.rows, footer);
  coding::PutSigned(stats.min_start_us, footer);
  coding::PutSigned(stats.max_start_us, footer);
  coding::PutSigned(stats.min_updated_us, footer);
  coding::PutSigned(stats.max_updated_us, footer);

  std::vector<PendingColumn> cols = BuildColumns(rows, options.format_version);
  coding::PutVarint(cols.size(), footer);
  for (const auto& c : cols) {
    const Extent e = file.AddCompressed(c.payload, "column " + c.name);
    coding::PutLengthPrefixed(c.name, footer);
    footer.push_back(static_cast<char>(c.encoding));
    coding::PutVarint(rows.size(), footer);
    PutExtent(e, footer);
    footer.push_back(c.range ? 1 : 0);
    if (c.range) {
      coding::PutSigned(c.range->first, footer);
      coding::PutSigned(c.range->second, footer);
    }
  }

  // Version 3: the documents' dictionary, before the pages.
  std::string dictionary_dir;
  std::string dictionary;
  if (options.format_version >= 3) {
    dictionary = SampleDocumentDictionary(documents_by_row, options.document_dictionary_bytes);
    dictionary_dir.push_back(dictionary.empty() ? 0 : 1);
    if (!dictionary.empty()) {
      PutExtent(file.AddCompressed(dictionary, "document dictionary"), dictionary_dir);
      file.UseDocumentDictionary(dictionary, "document dictionary");
    }
  }

  // Document pages: runs of whole rows, cut after ~target raw bytes.
  std::string pages_dir;
  size_t page_count = 0;
  std::string page;
  size_t page_first = 0;
  auto flush = [&](size_t next_row) {
    const Extent e = file.AddDocumentPage(page, fmt::format("document page at row {}", page_first));
    coding::PutVarint(page_first, pages_dir);
    PutExtent(e, pages_dir);
    ++page_count;
    page.clear();
    page_first = next_row;
  };
  std::string trace_text;  // reused: no string a row
  for (size_t i = 0; i < rows.size(); ++i) {
    if (options.format_version >= 3) {
      trace_text.clear();
      rows[i].summary.id.AppendTo(trace_text);
      coding::PutVarint(documents_by_row[i].size(), page);
      for (const StoredDocument& d : documents_by_row[i]) PutDocumentEliding(d, trace_text, page);
    } else {
      EncodeDocuments(documents_by_row[i], page);
    }
    if (page.size() >= options.target_page_raw_bytes) flush(i + 1);
  }
  if (page_first < rows.size()) flush(rows.size());
  coding::PutVarint(page_count, footer);
  footer.append(pages_dir);

  // Named sections, before the skip indexes (the filters stay last in the
  // data region, next to the footer that locates them).
  std::string sections_dir;
  coding::PutVarint(options.sections.size(), sections_dir);
  for (const auto& [name, bytes] : options.sections) {
    const Extent e = file.AddCompressed(bytes, "section " + name);
    coding::PutLengthPrefixed(name, sections_dir);
    PutExtent(e, sections_dir);
  }

  // Skip indexes.
  BloomFilterBuilder trace_ids, annotations, services, users;
  std::string key;  // reused: the keys are hashed, not kept
  for (const auto& r : rows) {
    trace_ids.Add(IdBytes(r.summary.id));
    for (const auto& a : r.summary.annotations) {
      for (const auto& v : a.values) {
        key.clear();
        AppendAnnotationFilterKey(a.key, v.value, key);
        annotations.Add(key);
      }
    }
    for (const auto& s : r.summary.service_ids) {
      services.Add(ServiceFilterKey(s.name, s.type, false, key));
      services.Add(ServiceFilterKey(s.name, {}, true, key));
    }
    if (options.format_version >= 2) {
      // Every name service("x") matches: the graph nodes' names and aliases.
      for (const auto& node : r.graph.nodes) {
        services.Add(ServiceFilterKey(node.id.name, {}, true, key));
        for (const auto& alias : node.id.names)
          services.Add(ServiceFilterKey(alias, {}, true, key));
      }
    }
    for (const auto& u : r.summary.users) users.Add(u.user_name);
  }
  const std::pair<FilterKind, const BloomFilterBuilder*> filters[] = {
      {FilterKind::kTraceId, &trace_ids},
      {FilterKind::kAnnotation, &annotations},
      {FilterKind::kService, &services},
      {FilterKind::kUser, &users}};
  coding::PutVarint(std::size(filters), footer);
  for (const auto& [kind, builder] : filters) {
    const Extent e = file.AddRaw(builder->Finish());
    footer.push_back(static_cast<char>(kind));
    coding::PutVarint(builder->key_count(), footer);
    PutExtent(e, footer);
  }
  footer.append(sections_dir);
  footer.append(dictionary_dir);
  if (!file.status().ok()) {
    return Status(file.status().code(), fmt::format("block {}: {}", path, file.status().message()));
  }
  if (footer.size() > kMaxFooterBytes) {
    return Status::InvalidArgument(
        fmt::format("block {}: a footer of {} bytes, more than a block may ({}): write fewer rows",
                    path, footer.size(), kMaxFooterBytes));
  }

  std::string& out = file.out();
  out.append(footer);
  coding::PutFixed32(static_cast<uint32_t>(footer.size()), out);
  coding::PutFixed64(Checksum(footer), out);
  coding::PutFixed32(options.format_version, out);
  out.append(kMagic);
  return WriteFileAtomically(path, out);
}

}  // namespace

Status WriteBlock(std::span<const TraceRecord> rows,
                  std::span<const std::vector<StoredDocument>> documents_by_row,
                  const std::string& path, const BlockWriteOptions& options) {
  const std::vector<const TraceRecord*> addresses = AddressesOf(rows);
  return WriteBlockOfRows(PointedRecords(addresses), documents_by_row, path, options);
}

Status WriteBlock(std::span<const TraceRecord* const> rows,
                  std::span<const std::vector<StoredDocument>> documents_by_row,
                  const std::string& path, const BlockWriteOptions& options) {
  return WriteBlockOfRows(PointedRecords(rows), documents_by_row, path, options);
}

}  // namespace roentgen::store::block
