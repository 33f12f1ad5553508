// MergeBlockColumns: compaction by columns (block_merge.h).
#include "store/block/block_merge.h"

#include <fcntl.h>
#include <unistd.h>
#include <xxhash.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <unordered_map>

#include "common/coding.h"
#include "common/files.h"
#include "graph/rollup_store.h"
#include "store/block/block_writer_internal.h"
#include "store/block/document_ids.h"
#include "store/block/graph_times.h"
#include "store/block/rollup_section.h"
#include "store/record_codec.h"

namespace roentgen::store::block {
namespace {

constexpr std::string_view kMergeAnnotationPrefix = "annotation.";

// An annotation column's key and value type, from its name
// (AnnotationColumnName); nothing for any other column.
std::optional<std::pair<std::string_view, AnnotationType>> ParseMergeAnnotationColumn(
    std::string_view name) {
  if (!name.starts_with(kMergeAnnotationPrefix)) return std::nullopt;
  name.remove_prefix(kMergeAnnotationPrefix.size());
  if (name.size() < 2 || name[1] != ':') return std::nullopt;
  const char tag = name[0];
  name.remove_prefix(2);
  switch (tag) {
    case 's':
      return std::make_pair(name, AnnotationType::kString);
    case 'd':
      return std::make_pair(name, AnnotationType::kNumber);
    case 'b':
      return std::make_pair(name, AnnotationType::kBool);
    default:
      return std::nullopt;
  }
}

ColumnEncoding MergeAnnotationEncoding(AnnotationType type) {
  switch (type) {
    case AnnotationType::kString:
      return ColumnEncoding::kListDictString;
    case AnnotationType::kNumber:
      return ColumnEncoding::kListDouble;
    case AnnotationType::kBool:
      break;
  }
  return ColumnEncoding::kListBool;
}

bool MergeSupportsEncoding(ColumnEncoding e) {
  switch (e) {
    case ColumnEncoding::kInt64Delta:
    case ColumnEncoding::kOptionalInt64:
    case ColumnEncoding::kBool:
    case ColumnEncoding::kDictString:
    case ColumnEncoding::kBytes:
    case ColumnEncoding::kFixed16:
    case ColumnEncoding::kListDictString:
    case ColumnEncoding::kListDouble:
    case ColumnEncoding::kListBool:
      return true;
    default:
      return false;
  }
}

// The output file, written as it is built: chunks are compressed into a
// buffer that goes to a temporary file beside `path` once it is large,
// so that the file never sits whole in memory. Frames are those
// WriteBlock's FileBuilder makes (one reused context, the same level).
class MergeOutputFile {
 public:
  MergeOutputFile(std::string path, int level)
      : path_(std::move(path)), tmp_(path_ + ".tmp"), level_(level), cctx_(ZSTD_createCCtx()) {}
  ~MergeOutputFile() {
    ZSTD_freeCCtx(cctx_);
    XXH3_freeState(stream_hash_);
    ZSTD_freeCCtx(dict_cctx_);
    ZSTD_freeCDict(cdict_);
    if (fd_.valid()) {
      fd_.Reset();
      std::remove(tmp_.c_str());
    }
  }
  MergeOutputFile(const MergeOutputFile&) = delete;
  MergeOutputFile& operator=(const MergeOutputFile&) = delete;

  Status Open() {
    fd_ = UniqueFd(::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd_.valid()) return ErrnoStatus(errno, "create " + tmp_, tmp_);
    if (cctx_ == nullptr) return Status::Internal(fmt::format("block {}: zstd: no context", path_));
    buffer_.append(kMagic);
    return Status::Ok();
  }

  Result<Extent> AddCompressed(std::string_view raw, std::string_view what) {
    return Compress(raw, what, false);
  }
  Status UseDocumentDictionary(std::string_view dictionary) {
    cdict_ = ZSTD_createCDict(dictionary.data(), dictionary.size(), level_);
    dict_cctx_ = ZSTD_createCCtx();
    if (cdict_ == nullptr || dict_cctx_ == nullptr ||
        ZSTD_isError(ZSTD_CCtx_refCDict(dict_cctx_, cdict_)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(dict_cctx_, ZSTD_c_checksumFlag, 1))) {
      return Status::Internal(
          fmt::format("block {}: document dictionary: zstd: no dictionary", path_));
    }
    return Status::Ok();
  }
  Result<Extent> AddDocumentPage(std::string_view raw, std::string_view what) {
    return Compress(raw, what, cdict_ != nullptr);
  }
  Result<Extent> AddRaw(std::string_view bytes) {
    Extent e{Offset(), bytes.size(), bytes.size(), Checksum(bytes)};
    buffer_.append(bytes);
    RG_RETURN_IF_ERROR(MaybeFlush());
    return e;
  }
  void Append(std::string_view bytes) { buffer_.append(bytes); }

  // A chunk compressed as it comes (a large column): BeginStream with its
  // raw size, StreamAppend its bytes in order, EndStream. The frame has the
  // level and the declared size of AddCompressed's, and the same content;
  // its bytes may differ a little from one call over the whole input. The
  // file's buffer goes to disk as it grows.
  Status BeginStream(uint64_t raw_size, std::string_view what) {
    if (raw_size > kMaxChunkRawBytes) {
      return Status::InvalidArgument(
          fmt::format("block {}: {} holds {} bytes, more than a block may ({}): write fewer rows",
                      path_, what, raw_size, kMaxChunkRawBytes));
    }
    // The one context of the columns (a context at level 9 holds tens of
    // MB of tables): ZSTD_compressCCtx sets its own parameters each call.
    if (stream_hash_ == nullptr) stream_hash_ = XXH3_createState();
    if (stream_hash_ == nullptr ||
        ZSTD_isError(ZSTD_CCtx_reset(cctx_, ZSTD_reset_session_and_parameters)) ||
        ZSTD_isError(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level_)) ||
        ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx_, raw_size)) ||
        XXH3_64bits_reset(stream_hash_) != XXH_OK) {
      return Status::Internal(fmt::format("block {}: {}: zstd: no context", path_, what));
    }
    stream_start_ = Offset();
    stream_raw_ = raw_size;
    stream_what_ = std::string(what);
    return Status::Ok();
  }
  Status StreamAppend(std::string_view raw) { return Stream(raw, ZSTD_e_continue); }
  Result<Extent> EndStream() {
    RG_RETURN_IF_ERROR(Stream({}, ZSTD_e_end));
    if (ZSTD_isError(ZSTD_CCtx_reset(cctx_, ZSTD_reset_session_and_parameters))) {
      return Status::Internal(fmt::format("block {}: {}: zstd: reset", path_, stream_what_));
    }
    return Extent{stream_start_, Offset() - stream_start_, stream_raw_,
                  XXH3_64bits_digest(stream_hash_)};
  }

  // Writes what is left, syncs and renames the file to its path.
  Status Finish() {
    RG_RETURN_IF_ERROR(Flush());
    if (::fsync(fd_.get()) != 0) return ErrnoStatus(errno, "fsync " + tmp_, tmp_);
    fd_.Reset();
    if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
      const Status s = ErrnoStatus(errno, fmt::format("rename {} to {}", tmp_, path_), tmp_);
      std::remove(tmp_.c_str());
      return s;
    }
    const std::string dir = std::filesystem::path(path_).parent_path().string();
    return SyncDir(dir.empty() ? "." : dir);
  }

 private:
  static constexpr size_t kFlushBytes = 4 << 20;

  uint64_t Offset() const { return written_ + buffer_.size(); }

  Result<Extent> Compress(std::string_view raw, std::string_view what, bool with_dictionary) {
    if (raw.size() > kMaxChunkRawBytes) {
      return Status::InvalidArgument(
          fmt::format("block {}: {} holds {} bytes, more than a block may ({}): write fewer rows",
                      path_, what, raw.size(), kMaxChunkRawBytes));
    }
    const size_t at = buffer_.size();
    buffer_.resize(at + ZSTD_compressBound(raw.size()));
    const size_t n = with_dictionary
                         ? ZSTD_compress2(dict_cctx_, buffer_.data() + at, buffer_.size() - at,
                                          raw.data(), raw.size())
                         : ZSTD_compressCCtx(cctx_, buffer_.data() + at, buffer_.size() - at,
                                             raw.data(), raw.size(), level_);
    if (ZSTD_isError(n)) {
      buffer_.resize(at);
      return Status::Internal(
          fmt::format("block {}: {}: zstd: {}", path_, what, ZSTD_getErrorName(n)));
    }
    buffer_.resize(at + n);
    Extent e{written_ + at, n, raw.size(), Checksum(std::string_view(buffer_).substr(at, n))};
    RG_RETURN_IF_ERROR(MaybeFlush());
    return e;
  }
  Status Stream(std::string_view raw, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{raw.data(), raw.size(), 0};
    for (;;) {
      const size_t at = buffer_.size();
      buffer_.resize(at + ZSTD_CStreamOutSize());
      ZSTD_outBuffer out{buffer_.data(), buffer_.size(), at};
      const size_t left = ZSTD_compressStream2(cctx_, &out, &in, mode);
      if (ZSTD_isError(left)) {
        buffer_.resize(at);
        return Status::Internal(
            fmt::format("block {}: {}: zstd: {}", path_, stream_what_, ZSTD_getErrorName(left)));
      }
      XXH3_64bits_update(stream_hash_, buffer_.data() + at, out.pos - at);
      buffer_.resize(out.pos);
      RG_RETURN_IF_ERROR(MaybeFlush());
      if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) return Status::Ok();
    }
  }
  Status MaybeFlush() { return buffer_.size() >= kFlushBytes ? Flush() : Status::Ok(); }
  Status Flush() {
    for (size_t done = 0; done < buffer_.size();) {
      const ssize_t n = ::write(fd_.get(), buffer_.data() + done, buffer_.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "write " + tmp_, tmp_);
      }
      done += static_cast<size_t>(n);
    }
    written_ += buffer_.size();
    buffer_.clear();
    if (buffer_.capacity() > 4 * kFlushBytes) buffer_.shrink_to_fit();
    return Status::Ok();
  }

  const std::string path_;
  const std::string tmp_;
  const int level_;
  ZSTD_CCtx* cctx_;
  ZSTD_CCtx* dict_cctx_ = nullptr;
  ZSTD_CDict* cdict_ = nullptr;
  XXH3_state_t* stream_hash_ = nullptr;
  uint64_t stream_start_ = 0;
  uint64_t stream_raw_ = 0;
  std::string stream_what_;
  UniqueFd fd_;
  std::string buffer_;
  uint64_t written_ = 0;
};

// One input's kBytes column read as a stream: the stored frame in memory,
// the values decompressed a window at a time, rows asked in increasing
// order.
class MergeBytesStream {
 public:
  MergeBytesStream() = default;
  MergeBytesStream(const MergeBytesStream&) = delete;
  MergeBytesStream& operator=(const MergeBytesStream&) = delete;
  ~MergeBytesStream() { ZSTD_freeDCtx(dctx_); }

  Status Open(const BlockReader* reader, const ColumnInfo& info) {
    reader_ = reader;
    name_ = info.name;
    Result<std::string> stored = reader->ReadColumnStored(info);
    if (!stored.ok()) return stored.status();
    stored_ = std::move(*stored);
    if (ZSTD_getFrameContentSize(stored_.data(), stored_.size()) != info.extent.raw_size) {
      return Corrupt("zstd frame of another size than the directory says");
    }
    dctx_ = ZSTD_createDCtx();
    if (dctx_ == nullptr) {
      return Status::Internal(fmt::format("block {}: zstd: no context", reader->path()));
    }
    in_ = {stored_.data(), stored_.size(), 0};
    raw_size_ = info.extent.raw_size;
    rows_ = reader->row_count();
    return Status::Ok();
  }
  // Row `row`'s value, valid until the next call.
  Result<std::string_view> Row(uint64_t row) {
    // Rows come in increasing order when the input is sorted as blocks are.
    if (row < next_row_) return Corrupt("rows out of (start, trace id) order");
    while (next_row_ < row) RG_RETURN_IF_ERROR(Next(nullptr));
    std::string_view value;
    RG_RETURN_IF_ERROR(Next(&value));
    return value;
  }

 private:
  static constexpr size_t kWindowBytes = 256 << 10;

  Status Next(std::string_view* value) {
    if (next_row_ >= rows_) return Corrupt("a row past the column's rows");
    RG_RETURN_IF_ERROR(Fill(10));  // a varint's most bytes
    coding::Reader r(std::string_view(buffer_).substr(pos_));
    uint64_t length = 0;
    if (!r.Varint(length) || length > raw_size_) return Corrupt("damaged value length");
    pos_ += r.position();
    RG_RETURN_IF_ERROR(Fill(length));
    if (buffer_.size() - pos_ < length) return Corrupt("value past the column's end");
    if (value != nullptr) *value = std::string_view(buffer_).substr(pos_, length);
    pos_ += length;
    ++next_row_;
    return Status::Ok();
  }
  // At least `want` bytes from pos_ on, unless the frame ends first.
  Status Fill(uint64_t want) {
    if (buffer_.size() - pos_ >= want) return Status::Ok();
    buffer_.erase(0, pos_);
    pos_ = 0;
    while (buffer_.size() < want && !ended_) {
      const size_t at = buffer_.size();
      buffer_.resize(at + std::max<uint64_t>(kWindowBytes, want - at));
      ZSTD_outBuffer out{buffer_.data(), buffer_.size(), at};
      const size_t left = ZSTD_decompressStream(dctx_, &out, &in_);
      if (ZSTD_isError(left)) return Corrupt(ZSTD_getErrorName(left));
      buffer_.resize(out.pos);
      produced_ += out.pos - at;
      if (produced_ > raw_size_) return Corrupt("more bytes than the directory says");
      if (left == 0) {
        ended_ = true;
      } else if (out.pos == at && in_.pos == in_.size) {
        return Corrupt("truncated zstd frame");
      }
    }
    return Status::Ok();
  }
  Status Corrupt(std::string_view why) const {
    return Status::Corruption(fmt::format("block {}: column {}: {}", reader_->path(), name_, why));
  }

  const BlockReader* reader_ = nullptr;
  std::string name_;
  std::string stored_;
  ZSTD_DCtx* dctx_ = nullptr;
  ZSTD_inBuffer in_{};
  uint64_t raw_size_ = 0;
  uint64_t rows_ = 0;
  uint64_t produced_ = 0;
  bool ended_ = false;
  std::string buffer_;
  size_t pos_ = 0;
  uint64_t next_row_ = 0;
};

// An input row: which input, which row.
struct MergeSource {
  uint32_t input = 0;
  uint32_t row = 0;
};

// Reads one input's document pages a row at a time, rows asked in
// increasing order: one page in memory.
class MergePageCursor {
 public:
  explicit MergePageCursor(const BlockReader* reader) : reader_(reader) {}

  // Row `row`'s bytes in its page (its document count, then its documents).
  Result<std::string_view> Row(uint64_t row) {
    if (!loaded_ || row < row_ || row >= end_row_) {
      // The last page whose first row is at or before `row`.
      size_t lo = 0, hi = reader_->document_page_count();
      while (lo < hi) {
        const size_t mid = (lo + hi) / 2;
        if (reader_->document_page_first_row(mid) <= row) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      if (lo == 0) return Corrupt(row, "no page holds it");
      const size_t page = lo - 1;
      Result<std::string> raw =
          reader_->ReadDocumentPage(page, fmt::format("document page {}", page));
      if (!raw.ok()) return raw.status();
      raw_ = std::move(*raw);
      pos_ = 0;
      row_ = reader_->document_page_first_row(page);
      end_row_ = page + 1 < reader_->document_page_count()
                     ? reader_->document_page_first_row(page + 1)
                     : reader_->row_count();
      loaded_ = true;
    }
    while (row_ < row) {
      if (!SkipRow()) return Corrupt(row_, "damaged page");
    }
    const size_t begin = pos_;
    if (!SkipRow()) return Corrupt(row, "damaged page");
    return std::string_view(raw_).substr(begin, pos_ - begin);
  }

 private:
  bool SkipRow() {
    coding::Reader r(std::string_view(raw_).substr(pos_));
    uint64_t count = 0;
    if (!r.Varint(count) || count > r.remaining()) return false;
    for (uint64_t i = 0; i < count; ++i) {
      uint64_t entity = 0, trace_at = 0, entity_at = 0;
      int64_t received = 0;
      std::string_view stored;
      if (!r.Fixed64(entity) || !r.Signed(received) || !r.Varint(trace_at) ||
          !r.Varint(entity_at) || !r.LengthPrefixed(stored)) {
        return false;
      }
    }
    pos_ += r.position();
    ++row_;
    return true;
  }
  Status Corrupt(uint64_t row, std::string_view why) const {
    return Status::Corruption(
        fmt::format("block {}: documents of row {}: {}", reader_->path(), row, why));
  }

  const BlockReader* reader_;
  bool loaded_ = false;
  std::string raw_;
  size_t pos_ = 0;
  uint64_t row_ = 0;
  uint64_t end_row_ = 0;
};

// The documents of one row's bytes (MergePageCursor::Row): their count and
// raw sizes (the text as stored, with the ids the page leaves out put back).
bool MergeRowDocumentSizes(std::string_view bytes, size_t trace_text_size, uint64_t& count,
                           uint64_t& raw_bytes) {
  coding::Reader r(bytes);
  if (!r.Varint(count)) return false;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t entity = 0, trace_at = 0, entity_at = 0;
    int64_t received = 0;
    std::string_view stored;
    if (!r.Fixed64(entity) || !r.Signed(received) || !r.Varint(trace_at) || !r.Varint(entity_at) ||
        !r.LengthPrefixed(stored)) {
      return false;
    }
    raw_bytes += stored.size() + (entity_at != 0 ? 16 : 0) + (trace_at != 0 ? trace_text_size : 0);
  }
  return true;
}

// Column `name` of `reader`, decoded, read past the reader's column cache
// (the inputs' columns are read once, and would evict what queries use).
// NotFound when the block has no such column.
template <typename T>
Result<T> ReadMergeColumn(const BlockReader& reader, std::string_view name,
                          ColumnEncoding encoding) {
  const ColumnInfo* info = reader.FindColumn(name);
  if (info == nullptr) {
    return Status::NotFound(fmt::format("block {}: no column {}", reader.path(), name));
  }
  if (info->encoding != encoding) {
    return Status::Corruption(fmt::format("block {}: column {} has encoding {}, expected {}",
                                          reader.path(), name, static_cast<int>(info->encoding),
                                          static_cast<int>(encoding)));
  }
  Result<std::string> payload = reader.ReadColumnPayload(*info);
  if (!payload.ok()) return payload.status();
  T column;
  Status s;
  const size_t rows = reader.row_count();
  if constexpr (std::is_same_v<T, Int64Column>) {
    s = DecodeInt64(*payload, rows, column);
  } else if constexpr (std::is_same_v<T, OptionalInt64Column>) {
    s = DecodeOptionalInt64(*payload, rows, column);
  } else if constexpr (std::is_same_v<T, BoolColumn>) {
    s = DecodeBool(*payload, rows, column);
  } else if constexpr (std::is_same_v<T, DictStringColumn>) {
    s = DecodeDictString(*payload, rows, column);
  } else if constexpr (std::is_same_v<T, BytesColumn>) {
    s = DecodeBytesInPlace(std::move(*payload), rows, column);
  } else if constexpr (std::is_same_v<T, Fixed16Column>) {
    s = DecodeFixed16(*payload, rows, column);
  } else if constexpr (std::is_same_v<T, ListDictStringColumn>) {
    s = DecodeListDictString(*payload, rows, column);
  } else if constexpr (std::is_same_v<T, ListDoubleColumn>) {
    s = DecodeListDouble(*payload, rows, column);
  } else {
    static_assert(std::is_same_v<T, ListBoolColumn>);
    s = DecodeListBool(*payload, rows, column);
  }
  if (!s.ok()) {
    return Status::Corruption(
        fmt::format("block {}: column {}: {}", reader.path(), name, s.message()));
  }
  return column;
}

// The columns of one name of the inputs with kept rows, decoded (nothing
// for the others and for an input without it).
template <typename T>
Result<std::vector<std::optional<T>>> ReadMergeInputs(
    std::span<const BlockMergeInput> inputs, const std::vector<std::vector<uint32_t>>& kept_rows,
    std::string_view name, ColumnEncoding encoding) {
  std::vector<std::optional<T>> out(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (kept_rows[i].empty() || inputs[i].reader->FindColumn(name) == nullptr) continue;
    Result<T> column = ReadMergeColumn<T>(*inputs[i].reader, name, encoding);
    if (!column.ok()) return column.status();
    out[i].emplace(std::move(*column));
  }
  return out;
}

// The bloom key of an annotation value, as AppendAnnotationFilterKey makes
// it, from the column's value without building an AnnotationValue.
void MergeAnnotationKey(std::string_view key, char tag, std::string& k) {
  k.clear();
  k.append(key);
  k.push_back('\0');
  k.push_back(tag);
}

// The annotation keys with columns in a block.
size_t AnnotationKeysInColumns(const BlockReader& reader) {
  std::vector<std::string_view> keys;
  for (const ColumnInfo& info : reader.columns()) {
    if (auto parsed = ParseMergeAnnotationColumn(info.name)) {
      if (std::find(keys.begin(), keys.end(), parsed->first) == keys.end()) {
        keys.push_back(parsed->first);
      }
    }
  }
  return keys.size();
}

class BlockColumnMerger {
 public:
  BlockColumnMerger(std::span<const BlockMergeInput> inputs, const std::string& path,
                    const BlockMergeOptions& options)
      : inputs_(inputs), path_(path), options_(options), file_(path, options.zstd_level) {}

  Result<BlockMergeResult> Run() {
    RG_RETURN_IF_ERROR(Plan());
    if (sources_.empty()) return std::move(result_);
    if (sources_.size() > kMaxRows) {
      return Status::InvalidArgument(
          fmt::format("block {}: {} rows, more than {}", path_, sources_.size(), kMaxRows));
    }
    RG_RETURN_IF_ERROR(file_.Open());
    RG_RETURN_IF_ERROR(PrepareRollups());
    RG_RETURN_IF_ERROR(WriteColumns());
    RG_RETURN_IF_ERROR(WriteAnnotationColumns());
    RG_RETURN_IF_ERROR(WriteDocuments());
    RG_RETURN_IF_ERROR(WriteSections());
    RG_RETURN_IF_ERROR(WriteFilters());
    RG_RETURN_IF_ERROR(WriteFooter());
    result_.rows = sources_.size();
    return std::move(result_);
  }

 private:
  // The merge order, from the trace ids and start times alone.
  Status Plan() {
    ids_.resize(inputs_.size());
    std::vector<Int64Column> starts(inputs_.size());
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const BlockReader& reader = *inputs_[i].reader;
      Result<Fixed16Column> ids =
          ReadMergeColumn<Fixed16Column>(reader, col::kTraceId, ColumnEncoding::kFixed16);
      if (!ids.ok()) return ids.status();
      ids_[i] = std::move(*ids);
      Result<Int64Column> start =
          ReadMergeColumn<Int64Column>(reader, col::kStart, ColumnEncoding::kInt64Delta);
      if (!start.ok()) return start.status();
      starts[i] = std::move(*start);
    }
    struct Kept {
      int64_t start;
      std::string_view id;
      MergeSource source;
    };
    std::vector<Kept> kept;
    std::unordered_map<std::string_view, uint32_t> by_trace;
    result_.output_row.resize(inputs_.size());
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const BlockMergeInput& in = inputs_[i];
      const uint64_t rows = in.reader->row_count();
      std::vector<int64_t>& slots = result_.output_row[i];
      slots.assign(rows, -1);
      size_t next_superseded = 0;
      for (uint32_t row = 0; row < rows; ++row) {
        while (next_superseded < in.superseded.size() && in.superseded[next_superseded] < row) {
          ++next_superseded;
        }
        if (next_superseded < in.superseded.size() && in.superseded[next_superseded] == row) {
          continue;
        }
        const std::string_view id = ids_[i].Get(row);
        auto [it, inserted] = by_trace.try_emplace(id, static_cast<uint32_t>(kept.size()));
        slots[row] = it->second;
        if (!inserted) continue;
        kept.push_back(Kept{starts[i].values[row], id, {static_cast<uint32_t>(i), row}});
      }
    }
    by_trace = {};
    std::vector<uint32_t> order(kept.size());
    for (uint32_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      return std::tie(kept[a].start, kept[a].id) < std::tie(kept[b].start, kept[b].id);
    });
    std::vector<int64_t> position(kept.size());
    sources_.resize(kept.size());
    for (size_t j = 0; j < order.size(); ++j) {
      position[order[j]] = static_cast<int64_t>(j);
      sources_[j] = kept[order[j]].source;
    }
    for (auto& slots : result_.output_row) {
      for (int64_t& s : slots) s = s < 0 ? -1 : position[static_cast<size_t>(s)];
    }
    kept_rows_.resize(inputs_.size());
    for (const MergeSource& s : sources_) kept_rows_[s.input].push_back(s.row);
    for (auto& rows : kept_rows_) std::sort(rows.begin(), rows.end());
    if (!sources_.empty()) {
      stats_.min_start_us = starts[sources_.front().input].values[sources_.front().row];
      stats_.max_start_us = starts[sources_.back().input].values[sources_.back().row];
    }
    return Status::Ok();
  }

  Status AddColumn(std::string_view name, ColumnEncoding encoding, std::string_view payload,
                   std::optional<std::pair<int64_t, int64_t>> range) {
    Result<Extent> e = file_.AddCompressed(payload, fmt::format("column {}", name));
    if (!e.ok()) return e.status();
    return AddColumnExtent(name, encoding, *e, range);
  }
  Status AddColumnExtent(std::string_view name, ColumnEncoding encoding, const Extent& e,
                         std::optional<std::pair<int64_t, int64_t>> range) {
    coding::PutLengthPrefixed(name, columns_dir_);
    columns_dir_.push_back(static_cast<char>(encoding));
    coding::PutVarint(sources_.size(), columns_dir_);
    PutExtent(e, columns_dir_);
    columns_dir_.push_back(range ? 1 : 0);
    if (range) {
      coding::PutSigned(range->first, columns_dir_);
      coding::PutSigned(range->second, columns_dir_);
    }
    ++column_count_;
    return Status::Ok();
  }

  // Every column but the annotations', in the order the inputs have them
  // (WriteBlock's; CanMergeBlockColumns checked they agree).
  Status WriteColumns() {
    std::string payload;
    for (const ColumnInfo& info : inputs_[0].reader->columns()) {
      if (ParseMergeAnnotationColumn(info.name)) continue;
      payload.clear();
      std::optional<std::pair<int64_t, int64_t>> range;
      const std::string_view name = info.name;
      switch (info.encoding) {
        case ColumnEncoding::kInt64Delta: {
          auto cols = ReadMergeInputs<Int64Column>(inputs_, kept_rows_, name, info.encoding);
          if (!cols.ok()) return cols.status();
          std::vector<int64_t> v(sources_.size());
          for (size_t j = 0; j < v.size(); ++j) v[j] = Col(*cols, j).values[sources_[j].row];
          EncodeInt64(v, payload);
          auto [lo, hi] = std::minmax_element(v.begin(), v.end());
          range.emplace(*lo, *hi);
          if (name == col::kUpdated) {
            stats_.min_updated_us = *lo;
            stats_.max_updated_us = *hi;
          }
          break;
        }
        case ColumnEncoding::kOptionalInt64: {
          auto cols =
              ReadMergeInputs<OptionalInt64Column>(inputs_, kept_rows_, name, info.encoding);
          if (!cols.ok()) return cols.status();
          std::vector<std::optional<int64_t>> v(sources_.size());
          for (size_t j = 0; j < v.size(); ++j) v[j] = Col(*cols, j).Get(sources_[j].row);
          EncodeOptionalInt64(v, payload);
          break;
        }
        case ColumnEncoding::kBool: {
          auto cols = ReadMergeInputs<BoolColumn>(inputs_, kept_rows_, name, info.encoding);
          if (!cols.ok()) return cols.status();
          std::vector<bool> v(sources_.size());
          for (size_t j = 0; j < v.size(); ++j) v[j] = Col(*cols, j).values.Get(sources_[j].row);
          EncodeBool(v, payload);
          break;
        }
        case ColumnEncoding::kDictString: {
          auto cols = ReadMergeInputs<DictStringColumn>(inputs_, kept_rows_, name, info.encoding);
          if (!cols.ok()) return cols.status();
          std::vector<std::string_view> v(sources_.size());
          for (size_t j = 0; j < v.size(); ++j) v[j] = Col(*cols, j).Get(sources_[j].row);
          EncodeDictString(v, payload);
          break;
        }
        case ColumnEncoding::kBytes: {
          uint64_t input_bytes = 0;
          for (size_t i = 0; i < inputs_.size(); ++i) {
            const ColumnInfo* c = inputs_[i].reader->FindColumn(name);
            if (c != nullptr && !kept_rows_[i].empty()) input_bytes += c->extent.raw_size;
          }
          if (input_bytes > options_.max_column_bytes_in_memory) {
            RG_RETURN_IF_ERROR(StreamBytesColumn(name));
            continue;
          }
          auto cols = ReadMergeInputs<BytesColumn>(inputs_, kept_rows_, name, info.encoding);
          if (!cols.ok()) return cols.status();
          uint64_t bytes = 0;
          for (size_t j = 0; j < sources_.size(); ++j) {
            bytes += Col(*cols, j).Get(sources_[j].row).size() + 5;
          }
          payload.reserve(bytes);
          const bool graph = name == col::kGraph;
          for (size_t j = 0; j < sources_.size(); ++j) {
            const std::string_view value = Col(*cols, j).Get(sources_[j].row);
            coding::PutLengthPrefixed(value, payload);
            if (graph) RG_RETURN_IF_ERROR(AddRollups(value, j));
          }
          break;
        }
        case ColumnEncoding::kFixed16: {
          auto cols = ReadMergeInputs<Fixed16Column>(inputs_, kept_rows_, name, info.encoding);
          if (!cols.ok()) return cols.status();
          payload.reserve(16 * sources_.size());
          for (size_t j = 0; j < sources_.size(); ++j) {
            payload.append(Col(*cols, j).Get(sources_[j].row));
          }
          if (name == col::kTraceId) range = TraceIdEpochRange(payload);
          break;
        }
        case ColumnEncoding::kListDictString: {
          auto cols =
              ReadMergeInputs<ListDictStringColumn>(inputs_, kept_rows_, name, info.encoding);
          if (!cols.ok()) return cols.status();
          GatherListStrings(*cols, payload, nullptr);
          break;
        }
        case ColumnEncoding::kListDouble: {
          auto cols = ReadMergeInputs<ListDoubleColumn>(inputs_, kept_rows_, name, info.encoding);
          if (!cols.ok()) return cols.status();
          GatherListDoubles(*cols, payload, nullptr);
          break;
        }
        case ColumnEncoding::kListBool: {
          auto cols = ReadMergeInputs<ListBoolColumn>(inputs_, kept_rows_, name, info.encoding);
          if (!cols.ok()) return cols.status();
          GatherListBools(*cols, payload, nullptr);
          break;
        }
        default:
          return Status::InvalidArgument(
              fmt::format("block {}: column {}: an encoding compaction cannot merge", path_, name));
      }
      RG_RETURN_IF_ERROR(AddColumn(name, info.encoding, payload, range));
    }
    RG_RETURN_IF_ERROR(AddBloomKeys());
    return Status::Ok();
  }

  // Input `sources_[j].input`'s column (every value column is in every input).
  template <typename T>
  const T& Col(const std::vector<std::optional<T>>& cols, size_t j) const {
    return *cols[sources_[j].input];
  }

  // A kBytes column too large to hold (its inputs' and the output's
  // payloads): the inputs' values streamed twice, once for the output's
  // size (the frame declares it first), once into the output's frame.
  Status StreamBytesColumn(std::string_view name) {
    auto open = [&](std::vector<MergeBytesStream>& streams) -> Status {
      for (size_t i = 0; i < inputs_.size(); ++i) {
        if (kept_rows_[i].empty()) continue;
        const ColumnInfo* info = inputs_[i].reader->FindColumn(name);
        if (info == nullptr || info->encoding != ColumnEncoding::kBytes) {
          return Status::Corruption(
              fmt::format("block {}: no kBytes column {}", inputs_[i].reader->path(), name));
        }
        RG_RETURN_IF_ERROR(streams[i].Open(inputs_[i].reader, *info));
      }
      return Status::Ok();
    };
    uint64_t raw_size = 0;
    {
      std::vector<MergeBytesStream> streams(inputs_.size());
      RG_RETURN_IF_ERROR(open(streams));
      for (size_t i = 0; i < inputs_.size(); ++i) {
        for (uint32_t row : kept_rows_[i]) {
          Result<std::string_view> value = streams[i].Row(row);
          if (!value.ok()) return value.status();
          raw_size += VarintBytes(value->size()) + value->size();
        }
      }
    }
    std::vector<MergeBytesStream> streams(inputs_.size());
    RG_RETURN_IF_ERROR(open(streams));
    const std::string what = fmt::format("column {}", name);
    RG_RETURN_IF_ERROR(file_.BeginStream(raw_size, what));
    const bool graph = name == col::kGraph;
    std::string staged;
    uint64_t staged_total = 0;
    for (size_t j = 0; j < sources_.size(); ++j) {
      Result<std::string_view> value = streams[sources_[j].input].Row(sources_[j].row);
      if (!value.ok()) return value.status();
      coding::PutLengthPrefixed(*value, staged);
      if (graph) RG_RETURN_IF_ERROR(AddRollups(*value, j));
      if (staged.size() >= (64 << 10)) {
        staged_total += staged.size();
        RG_RETURN_IF_ERROR(file_.StreamAppend(staged));
        staged.clear();
      }
    }
    staged_total += staged.size();
    if (staged_total != raw_size) {
      return Status::Internal(fmt::format("block {}: {}: {} bytes streamed, {} counted", path_,
                                          what, staged_total, raw_size));
    }
    RG_RETURN_IF_ERROR(file_.StreamAppend(staged));
    Result<Extent> e = file_.EndStream();
    if (!e.ok()) return e.status();
    return AddColumnExtent(name, ColumnEncoding::kBytes, *e, std::nullopt);
  }

  static uint64_t VarintBytes(uint64_t v) {
    uint64_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  }

  // List columns in output order; an input without the column has no
  // values in its rows. `values_out`, when given, counts the values.
  void GatherListStrings(const std::vector<std::optional<ListDictStringColumn>>& cols,
                         std::string& payload, uint64_t* values_out) {
    std::vector<std::string_view> values;
    const std::vector<uint32_t> lengths = GatherListValues(
        cols, values, [](const ListDictStringColumn& c, uint32_t k) { return c.values.Get(k); });
    if (values_out != nullptr) *values_out = values.size();
    EncodeListDictString(lengths, values, payload);
  }
  void GatherListDoubles(const std::vector<std::optional<ListDoubleColumn>>& cols,
                         std::string& payload, uint64_t* values_out) {
    std::vector<double> values;
    const std::vector<uint32_t> lengths = GatherListValues(
        cols, values, [](const ListDoubleColumn& c, uint32_t k) { return c.values[k]; });
    if (values_out != nullptr) *values_out = values.size();
    EncodeListDouble(lengths, values, payload);
  }
  void GatherListBools(const std::vector<std::optional<ListBoolColumn>>& cols, std::string& payload,
                       uint64_t* values_out) {
    std::vector<bool> values;
    const std::vector<uint32_t> lengths = GatherListValues(
        cols, values, [](const ListBoolColumn& c, uint32_t k) { return c.values.Get(k); });
    if (values_out != nullptr) *values_out = values.size();
    EncodeListBool(lengths, values, payload);
  }
  // The output rows' list lengths; their values appended to `values`.
  template <typename Column, typename Values, typename ValueAt>
  std::vector<uint32_t> GatherListValues(const std::vector<std::optional<Column>>& cols,
                                         Values& values, ValueAt value_at) {
    std::vector<uint32_t> lengths(sources_.size());
    for (size_t j = 0; j < sources_.size(); ++j) {
      const auto& c = cols[sources_[j].input];
      if (!c) continue;
      const uint32_t row = sources_[j].row;
      for (uint32_t k = c->offsets[row]; k < c->offsets[row + 1]; ++k) {
        values.push_back(value_at(*c, k));
      }
      lengths[j] = c->offsets[row + 1] - c->offsets[row];
    }
    return lengths;
  }

  // The output's rollups, as RollupsOfRecords adds its rows one after
  // another, without decoding them where it can: the sum of a part per
  // input — its rollup section when all its rows are kept, else the
  // rollups of its kept rows' graphs. Counters, histograms and the
  // first/last times add up whatever the order, but a node cell's
  // `inferred` and `client` are the last row's: the last in output order
  // of the rows in that minute is the last of its own input's, whose part
  // holds its flags, so the sum is exact wherever the parts agree on them.
  // Where they do not, every output row's graph is added in output order
  // as the `graph` column is gathered (AddRollups).
  Status PrepareRollups() {
    if (options_.rollup_section.empty()) return Status::Ok();
    std::vector<graph::RollupMinutes> parts;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (kept_rows_[i].empty()) continue;
      const BlockReader& reader = *inputs_[i].reader;
      graph::RollupMinutes& part = parts.emplace_back();
      if (kept_rows_[i].size() == reader.row_count()) {
        // A missing or damaged section: the rows instead.
        if (Result<std::string> bytes = reader.ReadSection(options_.rollup_section); bytes.ok()) {
          if (auto minutes = DecodeRollupSection(*bytes, reader.path()); minutes.ok()) {
            part = std::move(*minutes);
            continue;
          }
        }
      }
      const ColumnInfo* info = reader.FindColumn(col::kGraph);
      if (info == nullptr) {
        return Status::Corruption(
            fmt::format("block {}: no column {}", reader.path(), col::kGraph));
      }
      MergeBytesStream graphs;
      RG_RETURN_IF_ERROR(graphs.Open(&reader, *info));
      for (uint32_t row : kept_rows_[i]) {
        Result<std::string_view> bytes = graphs.Row(row);
        if (!bytes.ok()) return bytes.status();
        RG_RETURN_IF_ERROR(AddGraph(*bytes, MergeSource{static_cast<uint32_t>(i), row}, part));
      }
    }
    std::map<std::pair<int64_t, graph::ServiceKey>, std::pair<bool, bool>> flags;
    for (const graph::RollupMinutes& part : parts) {
      for (const auto& [minute, agg] : part) {
        for (const auto& [key, nc] : agg.nodes()) {
          auto [it, inserted] = flags.try_emplace(std::make_pair(minute, key),
                                                  std::make_pair(nc.inferred, nc.client));
          if (!inserted && it->second != std::make_pair(nc.inferred, nc.client)) {
            rollups_by_rows_ = true;
            result_.rollup_rows_decoded = 0;
            return Status::Ok();
          }
        }
      }
    }
    std::map<int64_t, std::vector<const graph::GraphAggregate*>> by_minute;
    for (const graph::RollupMinutes& part : parts) {
      for (const auto& [minute, agg] : part) by_minute[minute].push_back(&agg);
    }
    for (const auto& [minute, aggs] : by_minute) {
      graph::GraphAggregate sum =
          aggs.size() == 1 ? *aggs.front() : graph::GraphAggregate::Sum(aggs);
      if (!sum.empty()) rollups_.emplace_hint(rollups_.end(), minute, std::move(sum));
    }
    return Status::Ok();
  }

  Status AddGraph(std::string_view graph_bytes, const MergeSource& source,
                  graph::RollupMinutes& minutes) {
    if (Status s = DecodeTraceRecordInto(graph_bytes, graph_holder_, true); !s.ok()) {
      return Status::Corruption(fmt::format("block {}: row {}: column {}: {}",
                                            inputs_[source.input].reader->path(), source.row,
                                            col::kGraph, s.message()));
    }
    AbsolutizeGraphTimes(graph_holder_.graph, graph_holder_.summary.start_time_us);
    graph::AddToRollupMinutes(minutes, graph_holder_.graph, +1);
    ++result_.rollup_rows_decoded;
    return Status::Ok();
  }

  // Output row j's graph (the `graph` column's bytes) into the rollups, in
  // output order, when PrepareRollups left them to the rows.
  Status AddRollups(std::string_view graph_bytes, size_t j) {
    if (!rollups_by_rows_) return Status::Ok();
    return AddGraph(graph_bytes, sources_[j], rollups_);
  }

  // The bloom keys WriteBlock adds per row, but the annotations': trace
  // ids, services (name and type, name alone), graph node names and other
  // names, users. The filters hash their keys, so the order does not matter.
  Status AddBloomKeys() {
    std::string key;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      const std::vector<uint32_t>& rows = kept_rows_[i];
      if (rows.empty()) continue;
      const BlockReader& reader = *inputs_[i].reader;
      for (uint32_t row : rows) trace_filter_.Add(ids_[i].Get(row));
      Result<ListDictStringColumn> names = ReadMergeColumn<ListDictStringColumn>(
          reader, col::kServiceName, ColumnEncoding::kListDictString);
      if (!names.ok()) return names.status();
      Result<ListDictStringColumn> types = ReadMergeColumn<ListDictStringColumn>(
          reader, col::kServiceType, ColumnEncoding::kListDictString);
      if (!types.ok()) return types.status();
      Result<ListDictStringColumn> nodes = ReadMergeColumn<ListDictStringColumn>(
          reader, col::kGraphNodeName, ColumnEncoding::kListDictString);
      if (!nodes.ok()) return nodes.status();
      Result<ListDictStringColumn> aliases = ReadMergeColumn<ListDictStringColumn>(
          reader, col::kGraphNodeAlias, ColumnEncoding::kListDictString);
      if (!aliases.ok()) return aliases.status();
      Result<ListDictStringColumn> users = ReadMergeColumn<ListDictStringColumn>(
          reader, col::kUser, ColumnEncoding::kListDictString);
      if (!users.ok()) return users.status();
      if (names->offsets != types->offsets) {
        return Status::Corruption(fmt::format("block {}: columns {} and {} disagree", reader.path(),
                                              col::kServiceName, col::kServiceType));
      }
      for (uint32_t row : rows) {
        for (uint32_t k = names->offsets[row]; k < names->offsets[row + 1]; ++k) {
          service_filter_.Add(
              ServiceFilterKey(names->values.Get(k), types->values.Get(k), false, key));
          service_filter_.Add(ServiceFilterKey(names->values.Get(k), {}, true, key));
        }
        for (uint32_t k = nodes->offsets[row]; k < nodes->offsets[row + 1]; ++k) {
          service_filter_.Add(ServiceFilterKey(nodes->values.Get(k), {}, true, key));
        }
        for (uint32_t k = aliases->offsets[row]; k < aliases->offsets[row + 1]; ++k) {
          service_filter_.Add(ServiceFilterKey(aliases->values.Get(k), {}, true, key));
        }
        for (uint32_t k = users->offsets[row]; k < users->offsets[row + 1]; ++k) {
          user_filter_.Add(users->values.Get(k));
        }
      }
    }
    return Status::Ok();
  }

  // The annotation columns: WriteBlock's choice of keys (the most rows
  // first, ties by key, at most kMaxAnnotationKeyColumns, in key order) over
  // the output rows, each with a column per value type it has there. Every
  // key's values go into the bloom filter, columns or not.
  Status WriteAnnotationColumns() {
    // An input with as many keys in columns as WriteBlock gives columns may
    // have more: its rows' annotations are read from `details`.
    std::vector<bool> from_details(inputs_.size());
    for (size_t i = 0; i < inputs_.size(); ++i) {
      from_details[i] = !kept_rows_[i].empty() &&
                        AnnotationKeysInColumns(*inputs_[i].reader) >= kMaxAnnotationKeyColumns;
    }
    // Those inputs' rows per key, and their bloom keys: every value of
    // every key, as WriteBlock adds them.
    std::string k;
    std::map<std::string, uint64_t, std::less<>> details_rows;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (!from_details[i]) continue;
      RG_RETURN_IF_ERROR(ForEachRowAnnotations(i, [&](uint32_t, const auto& annotations) {
        for (const xray::TraceAnnotation& a : annotations) {
          ++details_rows[a.key];
          for (const auto& v : a.values) {
            k.clear();
            AppendAnnotationFilterKey(a.key, v.value, k);
            annotation_filter_.Add(k);
          }
        }
      }));
    }
    std::map<std::string, std::vector<AnnotationType>, std::less<>> keys;
    for (const auto& [key, rows] : details_rows) keys[key];
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (from_details[i]) continue;
      for (const ColumnInfo& info : inputs_[i].reader->columns()) {
        if (auto parsed = ParseMergeAnnotationColumn(info.name)) {
          auto& types = keys[std::string(parsed->first)];
          if (std::find(types.begin(), types.end(), parsed->second) == types.end()) {
            types.push_back(parsed->second);
          }
        }
      }
    }
    // Rows per key, and the bloom keys.
    std::vector<std::pair<std::string_view, uint64_t>> counts;
    for (const auto& entry : keys) {
      // Named, not bound: the lambdas below use it.
      const std::string& key = entry.first;
      const std::vector<AnnotationType>& types = entry.second;
      uint64_t rows_with_key = 0;
      if (auto it = details_rows.find(key); it != details_rows.end()) rows_with_key = it->second;
      for (size_t i = 0; i < inputs_.size(); ++i) {
        const std::vector<uint32_t>& rows = kept_rows_[i];
        if (rows.empty() || from_details[i]) continue;
        const BlockReader& reader = *inputs_[i].reader;
        std::vector<bool> any(reader.row_count());
        bool found = false;
        for (AnnotationType type : types) {
          const std::string name = AnnotationColumnName(key, type);
          if (reader.FindColumn(name) == nullptr) continue;
          found = true;
          // Offsets and values; the bloom key of each kept row's value.
          auto mark = [&](const std::vector<uint32_t>& offsets, auto&& add_value) {
            for (uint32_t row : rows) {
              if (offsets[row + 1] == offsets[row]) continue;
              any[row] = true;
              for (uint32_t v = offsets[row]; v < offsets[row + 1]; ++v) add_value(v);
            }
          };
          switch (type) {
            case AnnotationType::kString: {
              Result<ListDictStringColumn> c = ReadMergeColumn<ListDictStringColumn>(
                  reader, name, ColumnEncoding::kListDictString);
              if (!c.ok()) return c.status();
              mark(c->offsets, [&](uint32_t v) {
                MergeAnnotationKey(key, 's', k);
                k.append(c->values.Get(v));
                annotation_filter_.Add(k);
              });
              break;
            }
            case AnnotationType::kNumber: {
              Result<ListDoubleColumn> c =
                  ReadMergeColumn<ListDoubleColumn>(reader, name, ColumnEncoding::kListDouble);
              if (!c.ok()) return c.status();
              mark(c->offsets, [&](uint32_t v) {
                MergeAnnotationKey(key, 'd', k);
                const double d = c->values[v];
                coding::PutDouble(d == 0 ? 0.0 : d, k);  // -0 equals +0
                annotation_filter_.Add(k);
              });
              break;
            }
            case AnnotationType::kBool: {
              Result<ListBoolColumn> c =
                  ReadMergeColumn<ListBoolColumn>(reader, name, ColumnEncoding::kListBool);
              if (!c.ok()) return c.status();
              mark(c->offsets, [&](uint32_t v) {
                MergeAnnotationKey(key, 'b', k);
                k.push_back(c->values.Get(v) ? '1' : '0');
                annotation_filter_.Add(k);
              });
              break;
            }
          }
        }
        if (!found) continue;
        for (uint32_t row : rows) rows_with_key += any[row] ? 1 : 0;
      }
      if (rows_with_key > 0) counts.emplace_back(key, rows_with_key);
    }
    std::sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    if (counts.size() > kMaxAnnotationKeyColumns) counts.resize(kMaxAnnotationKeyColumns);
    std::sort(counts.begin(), counts.end());
    // The chosen keys' values of the rows read from `details`, per input
    // and key, as the columns would hold them.
    struct DetailsKey {
      std::vector<uint32_t> s_lengths, d_lengths, b_lengths;  // per row, once a value has the type
      std::vector<std::string> s;
      std::vector<double> d;
      std::vector<bool> b;
    };
    std::vector<std::map<std::string_view, DetailsKey>> details_keys(inputs_.size());
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (!from_details[i]) continue;
      std::map<std::string_view, DetailsKey>& by_key = details_keys[i];
      for (const auto& [key, n] : counts) by_key[key];
      const size_t rows = inputs_[i].reader->row_count();
      RG_RETURN_IF_ERROR(ForEachRowAnnotations(i, [&](uint32_t row, const auto& annotations) {
        for (const xray::TraceAnnotation& a : annotations) {
          auto it = by_key.find(a.key);
          if (it == by_key.end()) continue;
          DetailsKey& dk = it->second;
          for (const auto& v : a.values) {
            std::vector<uint32_t>* lengths;
            if (const auto* str = std::get_if<std::string>(&v.value)) {
              dk.s.push_back(*str);
              lengths = &dk.s_lengths;
            } else if (const auto* num = std::get_if<double>(&v.value)) {
              dk.d.push_back(*num);
              lengths = &dk.d_lengths;
            } else {
              dk.b.push_back(std::get<bool>(v.value));
              lengths = &dk.b_lengths;
            }
            if (lengths->empty()) lengths->resize(rows);
            ++(*lengths)[row];
          }
        }
      }));
    }
    // The column of `type` that input i's chosen key would have, decoded.
    auto details_column = [&](size_t i, std::string_view key, AnnotationType type,
                              auto& column) -> Status {
      const DetailsKey& dk = details_keys[i].at(key);
      const size_t rows = inputs_[i].reader->row_count();
      std::string encoded;
      Status st;
      if constexpr (std::is_same_v<std::decay_t<decltype(column)>, ListDictStringColumn>) {
        std::vector<std::string_view> views(dk.s.begin(), dk.s.end());
        std::vector<uint32_t> lengths = dk.s_lengths;
        lengths.resize(rows);
        EncodeListDictString(lengths, views, encoded);
        st = DecodeListDictString(encoded, rows, column);
      } else if constexpr (std::is_same_v<std::decay_t<decltype(column)>, ListDoubleColumn>) {
        std::vector<uint32_t> lengths = dk.d_lengths;
        lengths.resize(rows);
        EncodeListDouble(lengths, dk.d, encoded);
        st = DecodeListDouble(encoded, rows, column);
      } else {
        std::vector<uint32_t> lengths = dk.b_lengths;
        lengths.resize(rows);
        EncodeListBool(lengths, dk.b, encoded);
        st = DecodeListBool(encoded, rows, column);
      }
      (void)type;
      return st;
    };
    // The inputs' columns of a chosen key's type, those read from `details`
    // in place of theirs.
    auto key_columns = [&]<typename T>(
                           std::string_view key, AnnotationType type, const std::string& name,
                           ColumnEncoding encoding) -> Result<std::vector<std::optional<T>>> {
      auto cols = ReadMergeInputs<T>(inputs_, kept_rows_, name, encoding);
      if (!cols.ok()) return cols.status();
      for (size_t i = 0; i < inputs_.size(); ++i) {
        if (!from_details[i]) continue;
        T& column = (*cols)[i].emplace();
        RG_RETURN_IF_ERROR(details_column(i, key, type, column));
      }
      return cols;
    };
    std::string payload;
    for (const auto& [key, rows_with_key] : counts) {
      for (AnnotationType type :
           {AnnotationType::kString, AnnotationType::kNumber, AnnotationType::kBool}) {
        const std::string name = AnnotationColumnName(key, type);
        const ColumnEncoding encoding = MergeAnnotationEncoding(type);
        payload.clear();
        uint64_t values = 0;
        switch (type) {
          case AnnotationType::kString: {
            auto cols =
                key_columns.template operator()<ListDictStringColumn>(key, type, name, encoding);
            if (!cols.ok()) return cols.status();
            GatherListStrings(*cols, payload, &values);
            break;
          }
          case AnnotationType::kNumber: {
            auto cols =
                key_columns.template operator()<ListDoubleColumn>(key, type, name, encoding);
            if (!cols.ok()) return cols.status();
            GatherListDoubles(*cols, payload, &values);
            break;
          }
          case AnnotationType::kBool: {
            auto cols = key_columns.template operator()<ListBoolColumn>(key, type, name, encoding);
            if (!cols.ok()) return cols.status();
            GatherListBools(*cols, payload, &values);
            break;
          }
        }
        // WriteBlock gives a type a column once a row has a value of it.
        if (values == 0) continue;
        RG_RETURN_IF_ERROR(AddColumn(name, encoding, payload, std::nullopt));
      }
    }
    return Status::Ok();
  }

  // The documents: their count and bytes over the output rows, the
  // dictionary sampled from them as WriteBlock samples it, then the pages,
  // each row's bytes copied from its input's page (format version 3 pages
  // encode a row's documents the same whatever the block).
  Status WriteDocuments() {
    std::vector<std::vector<uint32_t>> document_counts(inputs_.size());
    uint64_t count = 0;
    uint64_t total = 0;
    std::string trace_text;
    for (size_t i = 0; i < inputs_.size(); ++i) {
      if (kept_rows_[i].empty()) continue;
      document_counts[i].assign(inputs_[i].reader->row_count(), 0);
      MergePageCursor cursor(inputs_[i].reader);
      for (uint32_t row : kept_rows_[i]) {
        Result<std::string_view> bytes = cursor.Row(row);
        if (!bytes.ok()) return bytes.status();
        TraceIdTextOfBytes(ids_[i].Get(row), trace_text);
        uint64_t n = 0;
        if (!MergeRowDocumentSizes(*bytes, trace_text.size(), n, total)) {
          return Status::Corruption(fmt::format("block {}: documents of row {}: damaged page",
                                                inputs_[i].reader->path(), row));
        }
        document_counts[i][row] = static_cast<uint32_t>(n);
        count += n;
      }
    }
    result_.documents = count;

    std::string dictionary;
    const uint64_t stride =
        DocumentDictionaryStride(count, total, options_.document_dictionary_bytes);
    if (stride > 0) {
      std::vector<MergePageCursor> cursors;
      for (const BlockMergeInput& in : inputs_) cursors.emplace_back(in.reader);
      StoredDocument doc;
      uint64_t index = 0;
      for (const MergeSource& s : sources_) {
        const uint64_t n = document_counts[s.input][s.row];
        // The first index of this row's documents that the stride picks.
        const uint64_t pick = stride / 2;
        uint64_t first = index - index % stride + pick;
        if (first < index) first += stride;
        if (first >= index + n) {
          index += n;
          continue;
        }
        Result<std::string_view> bytes = cursors[s.input].Row(s.row);
        if (!bytes.ok()) return bytes.status();
        TraceIdTextOfBytes(ids_[s.input].Get(s.row), trace_text);
        coding::Reader r(*bytes);
        uint64_t stored_count = 0;
        if (!r.Varint(stored_count) || stored_count != n) return DamagedPage(s);
        for (uint64_t d = 0; d < n; ++d, ++index) {
          if (!GetDocumentEliding(r, trace_text, doc)) return DamagedPage(s);
          if (index % stride != pick) continue;
          if (dictionary.size() + doc.raw.size() > options_.document_dictionary_bytes) continue;
          dictionary.append(doc.raw);
        }
      }
      if (!DocumentDictionaryUsable(dictionary)) dictionary.clear();
    }
    dictionary_dir_.push_back(dictionary.empty() ? 0 : 1);
    if (!dictionary.empty()) {
      Result<Extent> e = file_.AddCompressed(dictionary, "document dictionary");
      if (!e.ok()) return e.status();
      PutExtent(*e, dictionary_dir_);
      RG_RETURN_IF_ERROR(file_.UseDocumentDictionary(dictionary));
    }

    std::vector<MergePageCursor> cursors;
    for (const BlockMergeInput& in : inputs_) cursors.emplace_back(in.reader);
    std::string page;
    size_t page_first = 0;
    auto flush = [&](size_t next_row) -> Status {
      Result<Extent> e =
          file_.AddDocumentPage(page, fmt::format("document page at row {}", page_first));
      if (!e.ok()) return e.status();
      coding::PutVarint(page_first, pages_dir_);
      PutExtent(*e, pages_dir_);
      ++page_count_;
      page.clear();
      page_first = next_row;
      return Status::Ok();
    };
    for (size_t j = 0; j < sources_.size(); ++j) {
      Result<std::string_view> bytes = cursors[sources_[j].input].Row(sources_[j].row);
      if (!bytes.ok()) return bytes.status();
      page.append(*bytes);
      if (page.size() >= options_.target_page_raw_bytes) RG_RETURN_IF_ERROR(flush(j + 1));
    }
    if (page_first < sources_.size()) RG_RETURN_IF_ERROR(flush(sources_.size()));
    return Status::Ok();
  }

  // fn(row, annotations) for each kept row of input i, in row order, from
  // its `details` (decoded without the rest of the record's columns).
  template <typename Fn>
  Status ForEachRowAnnotations(size_t i, Fn&& fn) {
    const BlockReader& reader = *inputs_[i].reader;
    const ColumnInfo* info = reader.FindColumn(col::kDetails);
    if (info == nullptr) {
      return Status::Corruption(
          fmt::format("block {}: no column {}", reader.path(), col::kDetails));
    }
    MergeBytesStream details;
    RG_RETURN_IF_ERROR(details.Open(&reader, *info));
    TraceRecord holder;
    for (uint32_t row : kept_rows_[i]) {
      Result<std::string_view> bytes = details.Row(row);
      if (!bytes.ok()) return bytes.status();
      if (Status st = DecodeTraceRecordInto(*bytes, holder, false); !st.ok()) {
        return Status::Corruption(fmt::format("block {}: row {}: column {}: {}", reader.path(), row,
                                              col::kDetails, st.message()));
      }
      fn(row, holder.summary.annotations);
    }
    return Status::Ok();
  }

  Status DamagedPage(const MergeSource& s) const {
    return Status::Corruption(fmt::format("block {}: documents of row {}: damaged page",
                                          inputs_[s.input].reader->path(), s.row));
  }

  Status WriteSections() {
    std::vector<std::pair<std::string_view, std::string>> sections;
    if (!options_.counts_section.empty()) {
      std::string counts;
      coding::PutVarint(result_.documents, counts);
      sections.emplace_back(options_.counts_section, std::move(counts));
    }
    if (!options_.rollup_section.empty()) {
      sections.emplace_back(options_.rollup_section, EncodeRollupSection(rollups_));
      rollups_.clear();
    }
    coding::PutVarint(sections.size(), sections_dir_);
    for (const auto& [name, bytes] : sections) {
      Result<Extent> e = file_.AddCompressed(bytes, fmt::format("section {}", name));
      if (!e.ok()) return e.status();
      coding::PutLengthPrefixed(name, sections_dir_);
      PutExtent(*e, sections_dir_);
    }
    return Status::Ok();
  }

  Status WriteFilters() {
    const std::pair<FilterKind, const BloomFilterBuilder*> filters[] = {
        {FilterKind::kTraceId, &trace_filter_},
        {FilterKind::kAnnotation, &annotation_filter_},
        {FilterKind::kService, &service_filter_},
        {FilterKind::kUser, &user_filter_}};
    coding::PutVarint(std::size(filters), filters_dir_);
    for (const auto& [kind, builder] : filters) {
      Result<Extent> e = file_.AddRaw(builder->Finish());
      if (!e.ok()) return e.status();
      filters_dir_.push_back(static_cast<char>(kind));
      coding::PutVarint(builder->key_count(), filters_dir_);
      PutExtent(*e, filters_dir_);
    }
    return Status::Ok();
  }

  Status WriteFooter() {
    std::string footer;
    coding::PutVarint(sources_.size(), footer);
    coding::PutSigned(stats_.min_start_us, footer);
    coding::PutSigned(stats_.max_start_us, footer);
    coding::PutSigned(stats_.min_updated_us, footer);
    coding::PutSigned(stats_.max_updated_us, footer);
    coding::PutVarint(column_count_, footer);
    footer.append(columns_dir_);
    coding::PutVarint(page_count_, footer);
    footer.append(pages_dir_);
    footer.append(filters_dir_);
    footer.append(sections_dir_);
    footer.append(dictionary_dir_);
    if (footer.size() > kMaxFooterBytes) {
      return Status::InvalidArgument(fmt::format(
          "block {}: a footer of {} bytes, more than a block may ({}): write fewer rows", path_,
          footer.size(), kMaxFooterBytes));
    }
    std::string trailer;
    coding::PutFixed32(static_cast<uint32_t>(footer.size()), trailer);
    coding::PutFixed64(Checksum(footer), trailer);
    coding::PutFixed32(kFormatVersion, trailer);
    trailer.append(kMagic);
    file_.Append(footer);
    file_.Append(trailer);
    return file_.Finish();
  }

  std::span<const BlockMergeInput> inputs_;
  const std::string& path_;
  const BlockMergeOptions& options_;
  MergeOutputFile file_;
  BlockMergeResult result_;

  std::vector<Fixed16Column> ids_;                // per input
  std::vector<MergeSource> sources_;              // per output row
  std::vector<std::vector<uint32_t>> kept_rows_;  // per input, ascending
  BlockStats stats_;

  std::string columns_dir_, pages_dir_, filters_dir_, sections_dir_, dictionary_dir_;
  uint64_t column_count_ = 0;
  uint64_t page_count_ = 0;
  BloomFilterBuilder trace_filter_, annotation_filter_, service_filter_, user_filter_;
  TraceRecord graph_holder_;
  bool rollups_by_rows_ = false;
  graph::RollupMinutes rollups_;
};

}  // namespace

bool CanMergeBlockColumns(std::span<const BlockMergeInput> inputs) {
  if (inputs.empty()) return false;
  std::vector<std::pair<std::string_view, ColumnEncoding>> first;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const BlockReader& reader = *inputs[i].reader;
    if (reader.format_version() != kFormatVersion) return false;
    std::vector<std::pair<std::string_view, ColumnEncoding>> columns;
    for (const ColumnInfo& info : reader.columns()) {
      if (auto parsed = ParseMergeAnnotationColumn(info.name)) {
        if (info.encoding != MergeAnnotationEncoding(parsed->second)) return false;
        continue;
      }
      if (!MergeSupportsEncoding(info.encoding)) return false;
      columns.emplace_back(info.name, info.encoding);
    }
    if (i == 0) {
      first = std::move(columns);
    } else if (columns != first) {
      return false;
    }
  }
  auto has = [&](std::string_view name, ColumnEncoding encoding) {
    return std::find(first.begin(), first.end(), std::make_pair(name, encoding)) != first.end();
  };
  return has(col::kTraceId, ColumnEncoding::kFixed16) &&
         has(col::kStart, ColumnEncoding::kInt64Delta) &&
         has(col::kUpdated, ColumnEncoding::kInt64Delta) &&
         has(col::kGraph, ColumnEncoding::kBytes) &&
         has(col::kServiceName, ColumnEncoding::kListDictString) &&
         has(col::kServiceType, ColumnEncoding::kListDictString) &&
         has(col::kGraphNodeName, ColumnEncoding::kListDictString) &&
         has(col::kGraphNodeAlias, ColumnEncoding::kListDictString) &&
         has(col::kUser, ColumnEncoding::kListDictString);
}

Result<BlockMergeResult> MergeBlockColumns(std::span<const BlockMergeInput> inputs,
                                           const std::string& path,
                                           const BlockMergeOptions& options) {
  if (!CanMergeBlockColumns(inputs)) {
    return Status::InvalidArgument(
        fmt::format("block {}: inputs compaction cannot merge by columns", path));
  }
  BlockColumnMerger merger(inputs, path, options);
  return merger.Run();
}

}  // namespace roentgen::store::block
