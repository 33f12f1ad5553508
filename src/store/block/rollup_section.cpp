// The block's rollup section: encoding and decoding. See rollup_section.h.
#include "store/block/rollup_section.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/bytes_hash.h"
#include "common/coding.h"
#include "common/files.h"
#include "store/block/graph_times.h"
#include "store/block/pointed_records.h"
#include "store/record_codec.h"

namespace roentgen::store::block {
namespace {

constexpr uint64_t kRollupSectionVersion = 1;
// Beyond any minute of an int64 microsecond time (about ±1.5e11).
constexpr int64_t kMaxRollupMinute = int64_t{1} << 40;

void PutRollupHistogram(const graph::SparseHistogram& h, std::string& out) {
  coding::PutVarint(h.size(), out);
  uint32_t previous = 0;
  bool first = true;
  for (const auto& [bucket, count] : h.entries()) {
    coding::PutVarint(first ? bucket : bucket - previous, out);
    coding::PutSigned(count, out);
    previous = bucket;
    first = false;
  }
}

void PutRollupCell(const graph::Cell& c, std::string& out) {
  coding::PutVarint(static_cast<uint64_t>(c.observations), out);
  coding::PutSigned(c.roots, out);
  coding::PutSigned(c.counters.ok, out);
  coding::PutSigned(c.counters.throttle, out);
  coding::PutSigned(c.counters.error_other, out);
  coding::PutSigned(c.counters.fault, out);
  coding::PutSigned(c.counters.total, out);
  coding::PutSigned(c.counters.response_us, out);
  coding::PutSigned(c.first_start_us, out);
  coding::PutSigned(c.last_end_us, out);
  PutRollupHistogram(c.response_time, out);
}

// A reader of the section that knows its keys.
class RollupSectionReader : public coding::Reader {
 public:
  using coding::Reader::Reader;

  bool Histogram(graph::SparseHistogram& h) {
    uint64_t n = 0;
    if (!Varint(n)) return false;
    if (n > graph::kHistogramBuckets) return Fail("histogram has more entries than buckets");
    // Each entry takes at least two bytes: more is damage, not a reason to
    // reserve.
    if (n > remaining() / 2) return Fail("histogram entries exceed the section");
    h.Reserve(n);
    uint64_t bucket = 0;
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t delta = 0;
      int64_t count = 0;
      if (!Varint(delta) || !Signed(count)) return false;
      if (i > 0 && delta == 0) return Fail("histogram buckets not ascending");
      bucket += delta;
      if (bucket >= graph::kHistogramBuckets) return Fail("histogram bucket out of range");
      if (count == 0) return Fail("histogram entry with a zero count");
      h.Append(static_cast<uint16_t>(bucket), count);
    }
    return true;
  }

  bool CellBody(graph::Cell& c) {
    uint64_t observations = 0;
    if (!Varint(observations)) return false;
    if (observations == 0 ||
        observations > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Fail("cell without observations");
    }
    c.observations = static_cast<int64_t>(observations);
    if (!Signed(c.roots) || !Signed(c.counters.ok) || !Signed(c.counters.throttle) ||
        !Signed(c.counters.error_other) || !Signed(c.counters.fault) || !Signed(c.counters.total) ||
        !Signed(c.counters.response_us) || !Signed(c.first_start_us) || !Signed(c.last_end_us)) {
      return false;
    }
    return Histogram(c.response_time);
  }

  bool KeyIndex(size_t keys, uint64_t& index) {
    if (!Varint(index)) return false;
    if (index >= keys) return Fail("service key index out of range");
    return true;
  }
};

// Adds `sign` times the graphs of `rows` of the block (all rows but the
// sorted `skip` when `rows` is null). The graph is in one column (`graph`
// from format version 2, `details` before), so no other column is decoded.
Status AddRowGraphs(const BlockReader& reader, const std::vector<uint32_t>* rows,
                    const std::vector<uint32_t>& skip, int64_t sign,
                    graph::RollupMinutes& minutes) {
  const std::string_view column = reader.format_version() >= 2 ? col::kGraph : col::kDetails;
  Result<std::shared_ptr<const BytesColumn>> graphs = reader.ReadColumn<BytesColumn>(column);
  if (!graphs.ok()) return graphs.status();
  TraceRecord record;
  auto add = [&](uint32_t row) -> Status {
    if (row >= reader.row_count()) {
      return Status::Corruption(fmt::format("block {}: superseded row {} of {} rows", reader.path(),
                                            row, reader.row_count()));
    }
    if (Status s = DecodeTraceRecordInto((*graphs)->Get(row), record, true); !s.ok()) {
      return Status::Corruption(
          fmt::format("block {}: row {}: column {}: {}", reader.path(), row, column, s.message()));
    }
    if (reader.format_version() >= 3) {
      AbsolutizeGraphTimes(record.graph, record.summary.start_time_us);
    }
    graph::AddToRollupMinutes(minutes, record.graph, sign);
    return Status::Ok();
  };
  if (rows != nullptr) {
    for (uint32_t row : *rows) RG_RETURN_IF_ERROR(add(row));
    return Status::Ok();
  }
  for (uint32_t row = 0; row < reader.row_count(); ++row) {
    if (std::binary_search(skip.begin(), skip.end(), row)) continue;
    RG_RETURN_IF_ERROR(add(row));
  }
  return Status::Ok();
}

}  // namespace

namespace {

// A service key as views into the rows' nodes (which outlive the sum).
struct RollupKeyView {
  std::string_view name, type, account_id;
  bool operator==(const RollupKeyView& o) const {
    return bytes::Equal(name, o.name) && bytes::Equal(type, o.type) &&
           bytes::Equal(account_id, o.account_id);
  }
};
struct RollupKeyViewHash {
  size_t operator()(const RollupKeyView& k) const {
    uint64_t x = bytes::Hash(k.name);
    x = x * 0x9e3779b97f4a7c15ull ^ bytes::Hash(k.type);
    return static_cast<size_t>(x * 0x9e3779b97f4a7c15ull ^ bytes::Hash(k.account_id));
  }
};

// A cell of the sum: a minute and one key index (a node) or two (an edge;
// `to` is kRollupNoKey for a node).
constexpr uint32_t kRollupNoKey = std::numeric_limits<uint32_t>::max();
struct RollupCellKey {
  int64_t minute;
  uint32_t from, to;
  bool operator==(const RollupCellKey&) const = default;
};
struct RollupCellKeyHash {
  size_t operator()(const RollupCellKey& k) const {
    uint64_t x = static_cast<uint64_t>(k.minute) * 0x9e3779b97f4a7c15ull;
    x ^= (uint64_t{k.from} << 32 | k.to) * 0xc2b2ae3d27d4eb4full;
    return static_cast<size_t>(x ^ (x >> 29));
  }
};

// A cell being summed: the histograms' buckets are collected and counted
// once at the end (SparseHistogram::Add keeps its entries sorted, an insert
// per new bucket).
struct RollupCellSum {
  graph::NodeCell nc;  // an edge's in .cell; its flags unused
  std::vector<uint16_t> response_buckets;
  std::vector<uint16_t> duration_buckets;

  // Cell::AddObservation with sign +1, but for the histograms.
  void Add(const graph::Observation& obs, std::optional<int64_t> trace_duration_us, bool root) {
    graph::Cell& c = nc.cell;
    c.counters.Add(obs, +1);
    ++c.observations;
    if (root) ++c.roots;
    c.first_start_us = std::min(c.first_start_us, obs.start_us);
    if (obs.end_us) {
      c.last_end_us = std::max(c.last_end_us, *obs.end_us);
      response_buckets.push_back(RollupBucket(*obs.end_us - obs.start_us));
      if (trace_duration_us) duration_buckets.push_back(RollupBucket(*trace_duration_us));
    }
  }
  void Finish() {
    Count(response_buckets, nc.cell.response_time);
    Count(duration_buckets, nc.cell.duration);
  }

 private:
  // Sorted by two counting passes (low byte, then high) where a cell has
  // many buckets: an introsort of thousands of u16s per cell was a third of
  // RollupsOfRecords.
  static void SortBuckets(std::vector<uint16_t>& buckets) {
    if (buckets.size() < 256) {
      std::sort(buckets.begin(), buckets.end());
      return;
    }
    std::vector<uint16_t> other(buckets.size());
    for (int shift = 0; shift < 16; shift += 8) {
      std::array<uint32_t, 257> start{};
      for (uint16_t b : buckets) ++start[((b >> shift) & 0xff) + 1];
      for (size_t d = 1; d < start.size(); ++d) start[d] += start[d - 1];
      for (uint16_t b : buckets) other[start[(b >> shift) & 0xff]++] = b;
      buckets.swap(other);
    }
  }
  static uint16_t RollupBucket(int64_t duration_us) {
    return static_cast<uint16_t>(
        std::min(graph::HistogramBucket(duration_us), graph::kHistogramBuckets - 1));
  }
  static void Count(std::vector<uint16_t>& buckets, graph::SparseHistogram& h) {
    SortBuckets(buckets);
    for (size_t i = 0; i < buckets.size();) {
      size_t j = i + 1;
      while (j < buckets.size() && buckets[j] == buckets[i]) ++j;
      h.Append(buckets[i], static_cast<int64_t>(j - i));
      i = j;
    }
    buckets = {};
  }
};

}  // namespace

// What graph::AddToRollupMinutes does row by row, with each node's key
// looked up once per row (by views, no copy of its strings) and the cells
// found by integer keys; the histograms are counted and the ordered maps of
// the result filled once at the end, in key order. The observations are added in the same order, so
// every cell (the flags of a node's last observation included) comes out
// as AddToRollupMinutes makes it.
namespace {

graph::RollupMinutes RollupsOfRows(const PointedRecords& rows) {
  std::unordered_map<RollupKeyView, uint32_t, RollupKeyViewHash> key_index;
  std::vector<RollupKeyView> keys;
  std::unordered_map<RollupCellKey, uint32_t, RollupCellKeyHash> cell_index;
  std::vector<RollupCellKey> cell_keys;
  std::vector<RollupCellSum> cells;
  std::vector<uint32_t> node_keys;  // the row's nodes' key indexes
  auto cell_of = [&](int64_t start_us, uint32_t from, uint32_t to) -> RollupCellSum& {
    const RollupCellKey k{graph::RollupMinuteOf(start_us), from, to};
    auto [it, added] = cell_index.try_emplace(k, static_cast<uint32_t>(cells.size()));
    if (added) {
      cell_keys.push_back(k);
      cells.emplace_back();
    }
    return cells[it->second];
  };
  for (const TraceRecord& row : rows) {
    const graph::TraceGraph& g = row.graph;
    node_keys.clear();
    for (const graph::Node& node : g.nodes) {
      const RollupKeyView view{node.id.name, node.id.type, node.id.account_id};
      auto [it, added] = key_index.try_emplace(view, static_cast<uint32_t>(keys.size()));
      if (added) keys.push_back(view);
      node_keys.push_back(it->second);
    }
    const std::optional<int64_t> duration = graph::TraceDurationUs(g);
    for (size_t n = 0; n < g.nodes.size(); ++n) {
      const graph::Node& node = g.nodes[n];
      for (const graph::Observation& obs : node.observations) {
        RollupCellSum& sum = cell_of(obs.start_us, node_keys[n], kRollupNoKey);
        sum.nc.inferred = node.inferred;
        sum.nc.client = node.client;
        sum.Add(obs, duration, node.root);
      }
    }
    for (const graph::Edge& edge : g.edges) {
      for (const graph::Observation& obs : edge.observations) {
        cell_of(obs.start_us, node_keys[edge.from], node_keys[edge.to])
            .Add(obs, std::nullopt, false);
      }
    }
  }
  // The keys' ranks in ServiceKey order, so that cells sort by integers.
  std::vector<uint32_t> by_key(keys.size());
  for (uint32_t i = 0; i < by_key.size(); ++i) by_key[i] = i;
  std::sort(by_key.begin(), by_key.end(), [&](uint32_t a, uint32_t b) {
    return std::tie(keys[a].name, keys[a].type, keys[a].account_id) <
           std::tie(keys[b].name, keys[b].type, keys[b].account_id);
  });
  std::vector<uint32_t> rank(keys.size());
  std::vector<graph::ServiceKey> service_keys(keys.size());
  for (uint32_t r = 0; r < by_key.size(); ++r) {
    rank[by_key[r]] = r;
    const RollupKeyView& k = keys[by_key[r]];
    service_keys[by_key[r]] =
        graph::ServiceKey{std::string(k.name), std::string(k.type), std::string(k.account_id)};
  }
  // Per minute, the nodes (to == kRollupNoKey sorts them last: nodes and
  // edges go to different maps, each filled in its key order).
  std::vector<uint32_t> order(cells.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  auto ranked = [&](uint32_t i) {
    const RollupCellKey& k = cell_keys[i];
    return std::make_tuple(k.minute, k.to == kRollupNoKey ? 0 : 1, rank[k.from],
                           k.to == kRollupNoKey ? 0 : rank[k.to]);
  };
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return ranked(a) < ranked(b); });
  graph::RollupMinutes minutes;
  for (uint32_t i : order) {
    const RollupCellKey& k = cell_keys[i];
    graph::GraphAggregate& agg = minutes.try_emplace(minutes.end(), k.minute)->second;
    cells[i].Finish();
    if (k.to == kRollupNoKey) {
      agg.InsertNodeCell(service_keys[k.from], std::move(cells[i].nc));
    } else {
      agg.InsertEdgeCell({service_keys[k.from], service_keys[k.to]}, std::move(cells[i].nc.cell));
    }
  }
  return minutes;
}

}  // namespace

graph::RollupMinutes RollupsOfRecords(std::span<const TraceRecord> rows) {
  // One instantiation of the sums, over addresses: with two, the compiler
  // no longer inlined the cells' Add into either.
  const std::vector<const TraceRecord*> addresses = AddressesOf(rows);
  return RollupsOfRows(PointedRecords(addresses));
}

graph::RollupMinutes RollupsOfPointedRecords(std::span<const TraceRecord* const> rows) {
  return RollupsOfRows(PointedRecords(rows));
}

std::string EncodeRollupSection(const graph::RollupMinutes& minutes) {
  std::map<graph::ServiceKey, uint64_t> keys;
  for (const auto& [minute, agg] : minutes) {
    for (const auto& [key, nc] : agg.nodes()) keys.emplace(key, 0);
    for (const auto& [key, cell] : agg.edges()) {
      keys.emplace(key.first, 0);
      keys.emplace(key.second, 0);
    }
  }
  std::string out;
  coding::PutVarint(kRollupSectionVersion, out);
  coding::PutVarint(keys.size(), out);
  uint64_t next = 0;
  for (auto& [key, index] : keys) {
    index = next++;
    coding::PutLengthPrefixed(key.name, out);
    coding::PutLengthPrefixed(key.type, out);
    coding::PutLengthPrefixed(key.account_id, out);
  }
  size_t non_empty = 0;
  for (const auto& [minute, agg] : minutes) non_empty += agg.empty() ? 0 : 1;
  coding::PutVarint(non_empty, out);
  bool first = true;
  int64_t previous = 0;
  for (const auto& [minute, agg] : minutes) {
    if (agg.empty()) continue;
    if (first) {
      coding::PutSigned(minute, out);
    } else {
      coding::PutVarint(static_cast<uint64_t>(minute - previous), out);
    }
    first = false;
    previous = minute;
    coding::PutVarint(agg.nodes().size(), out);
    for (const auto& [key, nc] : agg.nodes()) {
      coding::PutVarint(keys.at(key), out);
      out.push_back(static_cast<char>((nc.inferred ? 1 : 0) | (nc.client ? 2 : 0)));
      PutRollupCell(nc.cell, out);
      PutRollupHistogram(nc.cell.duration, out);
    }
    coding::PutVarint(agg.edges().size(), out);
    for (const auto& [key, cell] : agg.edges()) {
      coding::PutVarint(keys.at(key.first), out);
      coding::PutVarint(keys.at(key.second), out);
      PutRollupCell(cell, out);
    }
  }
  return out;
}

Result<graph::RollupMinutes> DecodeRollupSection(std::string_view bytes, std::string_view what) {
  RollupSectionReader in(bytes);
  auto corrupt = [&](std::string_view why) {
    in.Fail(why);
    return Status::Corruption(
        fmt::format("{}: damaged {} section: {}", what, kRollupSection, in.error()));
  };
  uint64_t version = 0;
  if (!in.Varint(version)) return corrupt("no version");
  if (version != kRollupSectionVersion) {
    return corrupt(fmt::format("unknown rollup section version {}", version));
  }
  uint64_t key_count = 0;
  if (!in.Varint(key_count)) return corrupt("no key count");
  // Each key takes at least 3 bytes: a count beyond that is damage.
  if (key_count > in.remaining() / 3) return corrupt("key count exceeds the section");
  std::vector<graph::ServiceKey> keys;
  keys.reserve(key_count);
  for (uint64_t i = 0; i < key_count; ++i) {
    std::string_view name, type, account;
    if (!in.LengthPrefixed(name) || !in.LengthPrefixed(type) || !in.LengthPrefixed(account)) {
      return corrupt("truncated service key");
    }
    graph::ServiceKey key{std::string(name), std::string(type), std::string(account)};
    if (!keys.empty() && !(keys.back() < key)) return corrupt("service keys not ascending");
    keys.push_back(std::move(key));
  }
  uint64_t minute_count = 0;
  if (!in.Varint(minute_count)) return corrupt("no minute count");
  if (minute_count > in.remaining()) return corrupt("minute count exceeds the section");
  graph::RollupMinutes minutes;
  int64_t minute = 0;
  for (uint64_t m = 0; m < minute_count; ++m) {
    if (m == 0) {
      if (!in.Signed(minute)) return corrupt("truncated minute");
    } else {
      uint64_t delta = 0;
      if (!in.Varint(delta)) return corrupt("truncated minute");
      if (delta == 0) return corrupt("minutes not ascending");
      if (delta > static_cast<uint64_t>(2 * kMaxRollupMinute))
        return corrupt("minute out of range");
      minute += static_cast<int64_t>(delta);
    }
    if (minute < -kMaxRollupMinute || minute > kMaxRollupMinute) {
      return corrupt("minute out of range");
    }
    graph::GraphAggregate& agg = minutes[minute];
    uint64_t nodes = 0;
    if (!in.Varint(nodes)) return corrupt("truncated node count");
    if (nodes > key_count) return corrupt("more nodes than keys");
    uint64_t previous = 0;
    for (uint64_t i = 0; i < nodes; ++i) {
      uint64_t index = 0;
      uint8_t flags = 0;
      if (!in.KeyIndex(keys.size(), index) || !in.Byte(flags)) return corrupt("truncated node");
      if (i > 0 && index <= previous) return corrupt("nodes not ascending");
      if (flags > 3) return corrupt("unknown node flags");
      previous = index;
      graph::NodeCell nc;
      nc.inferred = (flags & 1) != 0;
      nc.client = (flags & 2) != 0;
      if (!in.CellBody(nc.cell) || !in.Histogram(nc.cell.duration)) return corrupt("bad node");
      if (!agg.InsertNodeCell(keys[index], std::move(nc))) return corrupt("repeated node");
    }
    uint64_t edges = 0;
    if (!in.Varint(edges)) return corrupt("truncated edge count");
    if (edges > in.remaining()) return corrupt("edge count exceeds the section");
    std::pair<uint64_t, uint64_t> previous_edge{0, 0};
    for (uint64_t i = 0; i < edges; ++i) {
      std::pair<uint64_t, uint64_t> e;
      if (!in.KeyIndex(keys.size(), e.first) || !in.KeyIndex(keys.size(), e.second)) {
        return corrupt("truncated edge");
      }
      if (i > 0 && e <= previous_edge) return corrupt("edges not ascending");
      previous_edge = e;
      graph::Cell cell;
      if (!in.CellBody(cell)) return corrupt("bad edge");
      if (!agg.InsertEdgeCell({keys[e.first], keys[e.second]}, std::move(cell))) {
        return corrupt("repeated edge");
      }
    }
    if (agg.empty()) return corrupt("empty minute");
  }
  if (in.remaining() != 0) return corrupt("bytes after the last minute");
  return minutes;
}

std::string EncodeSavedCorrections(const SavedCorrections& saved) {
  std::string out;
  coding::PutVarint(kRollupSectionVersion, out);
  coding::PutVarint(saved.size(), out);
  for (const auto& [id, entry] : saved) {
    coding::PutVarint(id, out);
    coding::PutVarint(entry.rows.size(), out);
    uint32_t previous = 0;
    for (size_t i = 0; i < entry.rows.size(); ++i) {
      coding::PutVarint(i == 0 ? entry.rows[i] : entry.rows[i] - previous, out);
      previous = entry.rows[i];
    }
    coding::PutLengthPrefixed(entry.section, out);
  }
  coding::PutFixed64(Checksum(out), out);
  return out;
}

Result<SavedCorrections> DecodeSavedCorrections(std::string_view bytes, std::string_view what) {
  auto corrupt = [&](std::string_view why) {
    return Status::Corruption(
        fmt::format("{}: damaged saved rollups of superseded rows: {}", what, why));
  };
  if (bytes.size() < 8) return corrupt("shorter than its checksum");
  const std::string_view body = bytes.substr(0, bytes.size() - 8);
  if (coding::DecodeFixed64(bytes.data() + body.size()) != Checksum(body)) {
    return corrupt("checksum mismatch");
  }
  coding::Reader in(body);
  uint64_t version = 0, count = 0;
  if (!in.Varint(version) || version != kRollupSectionVersion) return corrupt("unknown version");
  if (!in.Varint(count) || count > in.remaining()) return corrupt("bad entry count");
  SavedCorrections saved;
  uint64_t previous_id = 0;
  for (uint64_t e = 0; e < count; ++e) {
    uint64_t id = 0, rows = 0;
    if (!in.Varint(id) || (e > 0 && id <= previous_id)) return corrupt("block ids not ascending");
    previous_id = id;
    if (!in.Varint(rows) || rows > in.remaining()) return corrupt("bad row count");
    SavedCorrection entry;
    entry.rows.reserve(rows);
    uint64_t row = 0;
    for (uint64_t r = 0; r < rows; ++r) {
      uint64_t delta = 0;
      if (!in.Varint(delta) || (r > 0 && delta == 0)) return corrupt("rows not ascending");
      row += delta;
      if (row >= kMaxRows) return corrupt("row out of range");
      entry.rows.push_back(static_cast<uint32_t>(row));
    }
    std::string_view section;
    if (!in.LengthPrefixed(section)) return corrupt(in.error());
    entry.section = std::string(section);
    saved.emplace(id, std::move(entry));
  }
  if (in.remaining() != 0) return corrupt("bytes after the last entry");
  return saved;
}

Result<SavedCorrections> ReadSavedCorrections(const std::string& dir) {
  const std::string path = dir + "/" + std::string(kSavedCorrectionsFile);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return SavedCorrections{};
    return ErrnoStatus(errno, "open " + path, path);
  }
  std::string bytes;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read " + path, path);
    }
    if (n == 0) break;
    bytes.append(buf, static_cast<size_t>(n));
  }
  return DecodeSavedCorrections(bytes, path);
}

Status WriteSavedCorrections(const std::string& dir, const SavedCorrections& saved) {
  const std::string path = dir + "/" + std::string(kSavedCorrectionsFile);
  const std::string tmp = path + ".tmp";
  const std::string bytes = EncodeSavedCorrections(saved);
  {
    UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) return ErrnoStatus(errno, "create " + tmp, tmp);
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        ::unlink(tmp.c_str());
        return ErrnoStatus(err, "write " + tmp, tmp);
      }
      done += static_cast<size_t>(n);
    }
    if (::fdatasync(fd.get()) != 0) {
      const int err = errno;
      ::unlink(tmp.c_str());
      return ErrnoStatus(err, "fdatasync " + tmp, tmp);
    }
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    return ErrnoStatus(err, "rename " + tmp, path);
  }
  return SyncDir(dir);
}

Result<bool> UpdateSavedCorrections(std::span<const RollupSource> blocks, SavedCorrections& saved) {
  bool changed = false;
  std::set<uint64_t> live;
  for (const RollupSource& block : blocks) {
    if (block.superseded.empty()) continue;
    live.insert(block.id);
    auto it = saved.find(block.id);
    if (it != saved.end() && it->second.rows == block.superseded) continue;
    graph::RollupMinutes minutes;
    RG_RETURN_IF_ERROR(AddRowGraphs(*block.reader, &block.superseded, {}, +1, minutes));
    saved[block.id] = SavedCorrection{block.superseded, EncodeRollupSection(minutes)};
    changed = true;
  }
  changed |=
      std::erase_if(saved, [&](const auto& entry) { return !live.contains(entry.first); }) > 0;
  return changed;
}

namespace {

// What the sum takes from one block: its live rows' rollups, folded below
// the floor, and what it met on the way.
struct BlockRollupPart {
  Status status;  // a failure to read rows: fails the whole load
  graph::RollupMinutes minutes;
  uint64_t superseded_rows = 0;
  uint64_t superseded_rows_read = 0;
  bool rebuilt = false;
  std::vector<Status> damaged;
  // Summed per hour whole for the budget: then what each of its minutes
  // (from the floor on) took before.
  bool all_hours = false;
  std::vector<std::pair<int64_t, size_t>> minute_bytes;
};

BlockRollupPart BlockRollupsOf(const RollupSource& block, const SavedCorrections& saved,
                               int64_t fold_below_minute) {
  BlockRollupPart part;
  const BlockReader& reader = *block.reader;
  Result<std::string> bytes = reader.ReadSection(kRollupSection);
  Result<graph::RollupMinutes> minutes = bytes.ok() ? DecodeRollupSection(*bytes, reader.path())
                                                    : Result<graph::RollupMinutes>(bytes.status());
  if (minutes.ok()) {
    std::vector<uint32_t> unsaved = block.superseded;
    auto entry = saved.find(block.id);
    if (entry != saved.end() && !block.superseded.empty() &&
        std::includes(block.superseded.begin(), block.superseded.end(), entry->second.rows.begin(),
                      entry->second.rows.end())) {
      Result<graph::RollupMinutes> taken = DecodeRollupSection(
          entry->second.section,
          fmt::format("{} (saved for block {})", kSavedCorrectionsFile, block.id));
      if (taken.ok()) {
        for (const auto& [minute, agg] : *taken) {
          auto it = minutes->find(minute);
          if (it == minutes->end()) continue;
          it->second.MergeSigned(agg, -1);
          if (it->second.empty()) minutes->erase(it);
        }
        unsaved.clear();
        std::set_difference(block.superseded.begin(), block.superseded.end(),
                            entry->second.rows.begin(), entry->second.rows.end(),
                            std::back_inserter(unsaved));
      } else {
        part.damaged.push_back(taken.status());
      }
    }
    if (!unsaved.empty()) {
      part.status = AddRowGraphs(reader, &unsaved, {}, -1, *minutes);
      if (!part.status.ok()) return part;
      part.superseded_rows_read = unsaved.size();
    }
    part.superseded_rows = block.superseded.size();
    part.minutes = std::move(*minutes);
  } else {
    const StatusCode code = minutes.status().code();
    if (code != StatusCode::kNotFound && code != StatusCode::kCorruption) {
      part.status = minutes.status();
      return part;
    }
    if (code == StatusCode::kCorruption) part.damaged.push_back(minutes.status());
    part.rebuilt = true;
    part.status = AddRowGraphs(reader, nullptr, block.superseded, +1, part.minutes);
    if (!part.status.ok()) return part;
  }
  // Folded after the subtraction, which is per minute as saved.
  graph::FoldRollupMinutes(part.minutes, fold_below_minute);
  return part;
}

}  // namespace

Result<PersistedRollups> SumBlockRollups(std::span<const RollupSource> blocks,
                                         const SavedCorrections& saved, int64_t fold_below_minute,
                                         size_t max_minute_bytes) {
  // Decoding the sections is most of a start's work and each block's is
  // independent: one thread per core. So are the sums of the minutes (and
  // hours) that several blocks share, which come after.
  const size_t workers = std::min<size_t>(
      blocks.size(), std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8));
  auto on_workers = [workers](size_t count, const std::function<bool(size_t)>& task) {
    std::atomic<size_t> next{0};
    std::atomic<bool> failed{false};
    auto work = [&] {
      for (size_t i = next++; i < count && !failed.load(); i = next++) {
        if (!task(i)) failed.store(true);
      }
    };
    std::vector<std::thread> threads;
    for (size_t w = 1; w < workers; ++w) threads.emplace_back(work);
    work();
    for (std::thread& t : threads) t.join();
  };
  std::vector<BlockRollupPart> per_block(blocks.size());
  // The minutes kept so far (RollupStore's estimate), against the budget.
  std::atomic<size_t> kept_bytes{0};
  on_workers(blocks.size(), [&](size_t n) {
    // Newest first (blocks come in the order they were written), so that
    // the budget tends to keep the recent minutes.
    const size_t i = blocks.size() - 1 - n;
    BlockRollupPart& part = per_block[i];
    part = BlockRollupsOf(blocks[i], saved, fold_below_minute);
    if (!part.status.ok()) return false;
    size_t bytes = 0;
    for (auto it = part.minutes.lower_bound(fold_below_minute); it != part.minutes.end(); ++it) {
      bytes += it->second.MemoryBytes();
    }
    if (bytes == 0) return true;
    if (kept_bytes.fetch_add(bytes) + bytes > max_minute_bytes) {
      // Past the budget: summed per hour now, its sizes noted for the
      // choice of the floor below.
      kept_bytes.fetch_sub(bytes);
      for (auto it = part.minutes.lower_bound(fold_below_minute); it != part.minutes.end(); ++it) {
        part.minute_bytes.emplace_back(it->first, it->second.MemoryBytes());
      }
      part.all_hours = true;
      graph::FoldRollupMinutes(part.minutes, std::numeric_limits<int64_t>::max());
    }
    return true;
  });
  for (const BlockRollupPart& part : per_block) RG_RETURN_IF_ERROR(part.status);

  int64_t floor = fold_below_minute;
  if (std::any_of(per_block.begin(), per_block.end(),
                  [](const BlockRollupPart& part) { return part.all_hours; })) {
    // The floor: the start of the oldest hour whose minutes, with all those
    // after it, fit the budget.
    std::map<int64_t, size_t> sizes;  // hour start → bytes of its minutes
    for (const BlockRollupPart& part : per_block) {
      if (part.all_hours) {
        for (const auto& [minute, bytes] : part.minute_bytes) {
          sizes[graph::RollupHourStart(minute)] += bytes;
        }
        continue;
      }
      for (auto it = part.minutes.lower_bound(fold_below_minute); it != part.minutes.end(); ++it) {
        sizes[graph::RollupHourStart(it->first)] += it->second.MemoryBytes();
      }
    }
    floor = sizes.rbegin()->first + graph::kMinutesPerHour;  // none fits
    size_t total = 0;
    for (auto it = sizes.rbegin(); it != sizes.rend(); ++it) {
      total += it->second;
      if (total > max_minute_bytes) break;
      floor = it->first;
    }
    floor = std::max(floor, fold_below_minute);
    // The blocks summed whole that hold minutes from the floor on are
    // decoded again; the others are folded below it.
    on_workers(per_block.size(), [&](size_t i) {
      BlockRollupPart& part = per_block[i];
      if (part.all_hours && !part.minute_bytes.empty() && part.minute_bytes.back().first >= floor) {
        BlockRollupPart again = BlockRollupsOf(blocks[i], saved, floor);
        part.status = again.status;
        part.minutes = std::move(again.minutes);
        return part.status.ok();
      }
      graph::FoldRollupMinutes(part.minutes, floor);
      return true;
    });
    for (const BlockRollupPart& part : per_block) RG_RETURN_IF_ERROR(part.status);
  }

  PersistedRollups out;
  if (floor != std::numeric_limits<int64_t>::min()) {
    out.hourly_before_us = floor * graph::kMinuteUs;
  }
  std::map<int64_t, std::vector<graph::GraphAggregate*>> parts;
  for (BlockRollupPart& part : per_block) {
    ++out.blocks;
    out.superseded_rows += part.superseded_rows;
    out.superseded_rows_read += part.superseded_rows_read;
    out.rebuilt_blocks += part.rebuilt ? 1 : 0;
    for (Status& damaged : part.damaged) out.damaged.push_back(std::move(damaged));
    for (auto& [minute, agg] : part.minutes) parts[minute].push_back(&agg);
  }
  // A minute of one block (most are: blocks follow time) is moved whole;
  // the others (and the hours, which span several blocks) are summed.
  std::vector<const std::vector<graph::GraphAggregate*>*> shared;
  for (const auto& [minute, aggs] : parts) {
    if (aggs.size() > 1) shared.push_back(&aggs);
  }
  std::vector<graph::GraphAggregate> sums(shared.size());
  on_workers(shared.size(), [&](size_t i) {
    sums[i] = graph::GraphAggregate::Sum(
        std::vector<const graph::GraphAggregate*>(shared[i]->begin(), shared[i]->end()));
    return true;
  });
  size_t next_sum = 0;
  for (const auto& [minute, aggs] : parts) {
    graph::GraphAggregate sum =
        aggs.size() == 1 ? std::move(*aggs.front()) : std::move(sums[next_sum++]);
    if (!sum.empty()) out.minutes.emplace_hint(out.minutes.end(), minute, std::move(sum));
  }
  return out;
}

}  // namespace roentgen::store::block
