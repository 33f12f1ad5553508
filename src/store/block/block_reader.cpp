// BlockReader: footer validation, checked reads of extents, record assembly.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <set>
#include <span>
#include <type_traits>

#include "common/coding.h"
#include "store/block/document_ids.h"
#include "store/block/graph_times.h"
#include "store/block/summary_columns.h"
#include "store/record_codec.h"

namespace roentgen::store::block {
namespace {

bool GetExtent(coding::Reader& r, Extent& e) {
  return r.Varint(e.offset) && r.Varint(e.size) && r.Varint(e.raw_size) && r.Fixed64(e.checksum);
}

// The columns every block has, with their encodings (Open checks them).
constexpr std::pair<std::string_view, ColumnEncoding> kRequiredColumns[] = {
    {col::kTraceId, ColumnEncoding::kFixed16},
    {col::kStart, ColumnEncoding::kInt64Delta},
    {col::kDuration, ColumnEncoding::kOptionalInt64},
    {col::kResponseTime, ColumnEncoding::kOptionalInt64},
    {col::kUpdated, ColumnEncoding::kInt64Delta},
    {col::kRevision, ColumnEncoding::kInt64Delta},
    {col::kSegmentCount, ColumnEncoding::kInt64Delta},
    {col::kFault, ColumnEncoding::kBool},
    {col::kError, ColumnEncoding::kBool},
    {col::kThrottle, ColumnEncoding::kBool},
    {col::kPartial, ColumnEncoding::kBool},
    {col::kIndexed, ColumnEncoding::kBool},
    {col::kHttpMethod, ColumnEncoding::kDictString},
    {col::kHttpUrl, ColumnEncoding::kDictString},
    {col::kHttpUserAgent, ColumnEncoding::kDictString},
    {col::kHttpClientIp, ColumnEncoding::kDictString},
    {col::kHttpStatus, ColumnEncoding::kOptionalInt64},
    {col::kRootName, ColumnEncoding::kDictString},
    {col::kRootOrigin, ColumnEncoding::kDictString},
    {col::kResourceArns, ColumnEncoding::kListDictString},
    {col::kInstanceIds, ColumnEncoding::kListDictString},
    {col::kAvailabilityZones, ColumnEncoding::kListDictString},
    {col::kDetails, ColumnEncoding::kBytes},
    // The projections every block has (the annotation columns vary).
    {col::kServiceName, ColumnEncoding::kListDictString},
    {col::kServiceType, ColumnEncoding::kListDictString},
    {col::kServiceAccount, ColumnEncoding::kListDictString},
    {col::kEntryPointName, ColumnEncoding::kListDictString},
    {col::kEntryPointType, ColumnEncoding::kListDictString},
    {col::kUser, ColumnEncoding::kListDictString},
    {col::kGraphNodeName, ColumnEncoding::kListDictString},
    {col::kGraphNodeType, ColumnEncoding::kListDictString},
    {col::kGraphNodeInferred, ColumnEncoding::kListBool},
    {col::kGraphEdge, ColumnEncoding::kListDictString},
};

// The columns of versions 1 and 2 that version 3 dropped (it sorts the ids
// when first asked for the index).
constexpr std::pair<std::string_view, ColumnEncoding> kRequiredColumnsBeforeV3[] = {
    {col::kIdOrder, ColumnEncoding::kFixed32},
};

// The columns version 2 added, required in its blocks.
constexpr std::pair<std::string_view, ColumnEncoding> kRequiredColumnsV2[] = {
    {col::kGraph, ColumnEncoding::kBytes},
    {col::kGraphNodeAlias, ColumnEncoding::kListDictString},
    {col::kGraphNodeFault, ColumnEncoding::kListBool},
    {col::kGraphNodeError, ColumnEncoding::kListBool},
    {col::kGraphNodeThrottle, ColumnEncoding::kListBool},
};

// A string column's entry of `row`, and (a list column) its first value's.
void PrefetchDictRow(const DictStringColumn& c, size_t row) {
  __builtin_prefetch(&c.dictionary[c.codes[row]]);
}
void PrefetchListRow(const ListDictStringColumn& c, size_t row) {
  const uint32_t begin = c.offsets[row];
  if (begin < c.offsets[row + 1]) PrefetchDictRow(c.values, begin);
}
// The bytes of a string the row's entry points to (in the entry when short).
void PrefetchDictBytes(const DictStringColumn& c, size_t row) {
  __builtin_prefetch(c.Get(row).data());
}

// s = v in s's storage. A column's string never lies inside the record's,
// so the copy needs no overlap check (assign's general replace makes one).
void SetColumnString(std::string& s, std::string_view v) {
  s.clear();
  s.append(v);
}

// Assigns in place, so that a reused record keeps its strings' storage.
void ListRow(const ListDictStringColumn& c, size_t row, std::vector<std::string>& out) {
  const uint32_t begin = c.offsets[row];
  out.resize(c.offsets[row + 1] - begin);
  for (size_t j = 0; j < out.size(); ++j) SetColumnString(out[j], c.values.Get(begin + j));
}

}  // namespace

uint64_t ColumnCache::bytes() const {
  MutexLock lock(mu_);
  return bytes_;
}
size_t ColumnCache::entries() const {
  MutexLock lock(mu_);
  return lru_.size();
}
uint64_t ColumnCache::hits() const {
  MutexLock lock(mu_);
  return hits_;
}
uint64_t ColumnCache::misses() const {
  MutexLock lock(mu_);
  return misses_;
}

std::shared_ptr<const void> ColumnCache::Get(uint64_t owner, std::string_view column) {
  MutexLock lock(mu_);
  auto it = index_.find(KeyView(owner, column));
  if (it == index_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->value;
}

void ColumnCache::Put(uint64_t owner, std::string_view column, std::shared_ptr<const void> value,
                      uint64_t bytes) {
  if (bytes > capacity_) return;
  MutexLock lock(mu_);
  Key key(owner, std::string(column));
  if (auto it = index_.find(key); it != index_.end()) {
    // Another reader decoded it meanwhile: keep one.
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.push_front(Entry{owner, key.second, std::move(value), bytes});
  index_.emplace(std::move(key), lru_.begin());
  bytes_ += bytes;
  EvictLocked();
}

void ColumnCache::EraseOwner(uint64_t owner) {
  MutexLock lock(mu_);
  auto it = index_.lower_bound(KeyView(owner, std::string_view()));
  while (it != index_.end() && it->first.first == owner) {
    bytes_ -= it->second->bytes;
    lru_.erase(it->second);
    it = index_.erase(it);
  }
}

void ColumnCache::EvictLocked() {
  while (bytes_ > capacity_ && !lru_.empty()) {
    const Entry& e = lru_.back();
    bytes_ -= e.bytes;
    index_.erase(index_.find(KeyView(e.owner, e.column)));
    lru_.pop_back();
  }
}

BlockReader::~BlockReader() {
  if (cache_ != nullptr) cache_->EraseOwner(id_);
}

Result<std::unique_ptr<BlockReader>> BlockReader::Open(const std::string& path,
                                                       ColumnCache* cache) {
  static std::atomic<uint64_t> next_id{1};
  std::unique_ptr<BlockReader> reader(new BlockReader());
  reader->id_ = next_id.fetch_add(1);
  reader->cache_ = cache;
  reader->path_ = path;
  reader->fd_ = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!reader->fd_.valid()) return ErrnoStatus(errno, "open " + path, path);
  struct stat st {};
  if (::fstat(reader->fd_.get(), &st) != 0) return ErrnoStatus(errno, "stat " + path, path);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  reader->file_bytes_ = size;
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption(fmt::format("block {}: {}", path, what));
  };
  if (size < kMagicBytes + kTrailerBytes) {
    return corrupt(fmt::format("{} bytes, shorter than the smallest block", size));
  }
  auto read = [&](uint64_t offset, uint64_t n, std::string_view what) {
    return reader->ReadAt(offset, n, what);
  };
  Result<std::string> magic = read(0, kMagicBytes, "magic");
  if (!magic.ok()) return magic.status();
  if (*magic != kMagic) return corrupt("bad magic at byte 0");
  Result<std::string> trailer = read(size - kTrailerBytes, kTrailerBytes, "trailer");
  if (!trailer.ok()) return trailer.status();
  const uint64_t trailer_at = size - kTrailerBytes;
  if (trailer->substr(16) != kMagic) return corrupt(fmt::format("bad magic at byte {}", trailer_at + 16));
  const uint32_t version = coding::DecodeFixed32(trailer->data() + 12);
  if (version < kOldestFormatVersion || version > kFormatVersion) {
    return corrupt(fmt::format("unknown format version {} at byte {} (this reader reads {} to {})",
                               version, trailer_at + 12, kOldestFormatVersion, kFormatVersion));
  }
  reader->format_version_ = version;
  const uint64_t footer_len = coding::DecodeFixed32(trailer->data());
  if (footer_len > kMaxFooterBytes || footer_len > trailer_at - kMagicBytes) {
    return corrupt(fmt::format("footer length {} at byte {} exceeds the file", footer_len, trailer_at));
  }
  const uint64_t footer_start = trailer_at - footer_len;
  Result<std::string> footer = read(footer_start, footer_len, "footer");
  if (!footer.ok()) return footer.status();
  if (Checksum(*footer) != coding::DecodeFixed64(trailer->data() + 4)) {
    return corrupt(fmt::format("footer checksum mismatch (footer at byte {}, {} bytes)",
                               footer_start, footer_len));
  }
  RG_RETURN_IF_ERROR(reader->ParseFooter(*footer, footer_start));
  return reader;
}

Status BlockReader::ParseFooter(std::string_view footer, uint64_t footer_start) {
  coding::Reader r(footer);
  auto corrupt = [&](const std::string& what) {
    return Status::Corruption(
        fmt::format("block {}: footer (at byte {}): {}", path_, footer_start, what));
  };
  auto check_extent = [&](const Extent& e, bool compressed, const std::string& what) -> Status {
    if (e.offset < kMagicBytes || e.offset > footer_start || e.size > footer_start - e.offset) {
      return corrupt(fmt::format("{}: extent [{}, +{}) outside the data region [{}, {})", what,
                                 e.offset, e.size, kMagicBytes, footer_start));
    }
    if (e.raw_size > kMaxChunkRawBytes || (!compressed && e.raw_size != e.size)) {
      return corrupt(fmt::format("{}: bad raw size {}", what, e.raw_size));
    }
    return Status::Ok();
  };
  uint64_t column_count = 0;
  if (!r.Varint(stats_.rows) || !r.Signed(stats_.min_start_us) || !r.Signed(stats_.max_start_us) ||
      !r.Signed(stats_.min_updated_us) || !r.Signed(stats_.max_updated_us) ||
      !r.Varint(column_count)) {
    return corrupt(r.error());
  }
  if (stats_.rows > kMaxRows) return corrupt(fmt::format("{} rows", stats_.rows));
  if (column_count > r.remaining()) return corrupt("column count exceeds the footer");
  std::set<std::string_view> names;
  columns_.resize(column_count);
  for (auto& c : columns_) {
    std::string_view name;
    uint8_t encoding = 0;
    uint8_t has_range = 0;
    if (!r.LengthPrefixed(name) || !r.Byte(encoding) || !r.Varint(c.rows) ||
        !GetExtent(r, c.extent) || !r.Byte(has_range)) {
      return corrupt(r.error());
    }
    c.name.assign(name);
    if (!IsKnownEncoding(encoding)) {
      return corrupt(fmt::format("column {}: unknown encoding {}", c.name, encoding));
    }
    c.encoding = static_cast<ColumnEncoding>(encoding);
    if (has_range > 1) return corrupt(fmt::format("column {}: bad range marker", c.name));
    c.has_range = has_range == 1;
    if (c.has_range && (!r.Signed(c.min) || !r.Signed(c.max))) return corrupt(r.error());
    if (c.rows != stats_.rows) {
      return corrupt(fmt::format("column {}: {} rows in a block of {}", c.name, c.rows, stats_.rows));
    }
    RG_RETURN_IF_ERROR(check_extent(c.extent, true, "column " + c.name));
  }
  for (const auto& c : columns_) {
    if (!names.insert(c.name).second) return corrupt("column " + c.name + " appears twice");
  }
  auto check_required = [&](std::span<const std::pair<std::string_view, ColumnEncoding>> required) {
    for (const auto& [name, encoding] : required) {
      const ColumnInfo* c = FindColumn(name);
      if (c == nullptr) return corrupt(fmt::format("column {} missing", name));
      if (c->encoding != encoding) {
        return corrupt(fmt::format("column {} has encoding {}, expected {}", name,
                                   static_cast<int>(c->encoding), static_cast<int>(encoding)));
      }
    }
    return Status::Ok();
  };
  RG_RETURN_IF_ERROR(check_required(kRequiredColumns));
  if (const ColumnInfo* ids = FindColumn(col::kTraceId); ids->has_range) {
    if (ids->min < 0 || ids->min > ids->max || ids->max > int64_t{UINT32_MAX}) {
      return corrupt(fmt::format("column {}: epoch range [{}, {}] is not one of trace ids",
                                 ids->name, ids->min, ids->max));
    }
    trace_epochs_.emplace(static_cast<uint32_t>(ids->min), static_cast<uint32_t>(ids->max));
  }
  if (format_version_ < 3) RG_RETURN_IF_ERROR(check_required(kRequiredColumnsBeforeV3));
  if (format_version_ >= 2) {
    RG_RETURN_IF_ERROR(check_required(kRequiredColumnsV2));
  } else {
    // A version 1 block reads its graphs from `details`: a later version's
    // columns in it mean the version is wrong, and the graphs would be lost.
    for (const auto& [name, encoding] : kRequiredColumnsV2) {
      if (FindColumn(name) != nullptr) {
        return corrupt(fmt::format("column {} in a block of format version 1", name));
      }
    }
  }
  uint64_t page_count = 0;
  if (!r.Varint(page_count)) return corrupt(r.error());
  if (page_count > r.remaining()) return corrupt("page count exceeds the footer");
  pages_.resize(page_count);
  for (size_t i = 0; i < pages_.size(); ++i) {
    if (!r.Varint(pages_[i].first) || !GetExtent(r, pages_[i].second)) return corrupt(r.error());
    const bool ordered = i == 0 ? pages_[i].first == 0 : pages_[i].first > pages_[i - 1].first;
    if (!ordered || pages_[i].first >= stats_.rows) {
      return corrupt(fmt::format("page {} starts at row {}", i, pages_[i].first));
    }
    RG_RETURN_IF_ERROR(check_extent(pages_[i].second, true, fmt::format("page {}", i)));
  }
  if (stats_.rows > 0 && pages_.empty()) return corrupt("no document pages");
  uint64_t filter_count = 0;
  if (!r.Varint(filter_count)) return corrupt(r.error());
  if (filter_count > r.remaining()) return corrupt("filter count exceeds the footer");
  for (uint64_t i = 0; i < filter_count; ++i) {
    uint8_t kind = 0;
    uint64_t keys = 0;
    Extent e;
    if (!r.Byte(kind) || !r.Varint(keys) || !GetExtent(r, e)) return corrupt(r.error());
    BloomFilter* target = nullptr;
    switch (static_cast<FilterKind>(kind)) {
      case FilterKind::kTraceId: target = &trace_filter_; break;
      case FilterKind::kAnnotation: target = &annotation_filter_; break;
      case FilterKind::kService: target = &service_filter_; break;
      case FilterKind::kUser: target = &user_filter_; break;
      default: return corrupt(fmt::format("unknown filter kind {}", kind));
    }
    if (target->block_count() != 0) return corrupt(fmt::format("filter kind {} twice", kind));
    RG_RETURN_IF_ERROR(check_extent(e, false, fmt::format("filter {}", kind)));
    Result<std::string> bytes = ReadExtent(e, fmt::format("filter {}", kind));
    if (!bytes.ok()) return bytes.status();
    Result<BloomFilter> filter = BloomFilter::Parse(*bytes);
    if (!filter.ok()) return corrupt(filter.status().message());
    *target = std::move(*filter);
  }
  for (const BloomFilter* f : {&trace_filter_, &annotation_filter_, &service_filter_, &user_filter_}) {
    if (f->block_count() == 0) return corrupt("a bloom filter is missing");
  }
  uint64_t section_count = 0;
  if (!r.Varint(section_count)) return corrupt(r.error());
  if (section_count > r.remaining()) return corrupt("section count exceeds the footer");
  sections_.resize(section_count);
  for (size_t i = 0; i < sections_.size(); ++i) {
    std::string_view name;
    if (!r.LengthPrefixed(name) || !GetExtent(r, sections_[i].second)) return corrupt(r.error());
    sections_[i].first.assign(name);
    for (size_t j = 0; j < i; ++j) {
      if (sections_[j].first == name) return corrupt("section " + std::string(name) + " twice");
    }
    RG_RETURN_IF_ERROR(check_extent(sections_[i].second, true, "section " + std::string(name)));
  }
  if (format_version_ >= 3) {
    uint8_t has_dictionary = 0;
    if (!r.Byte(has_dictionary)) return corrupt(r.error());
    if (has_dictionary > 1) return corrupt("bad document dictionary marker");
    if (has_dictionary == 1) {
      Extent e;
      if (!GetExtent(r, e)) return corrupt(r.error());
      RG_RETURN_IF_ERROR(check_extent(e, true, "document dictionary"));
      document_dictionary_ = e;
    }
  }
  if (r.remaining() != 0) {
    return corrupt(fmt::format("{} trailing bytes at byte {}", r.remaining(), r.position()));
  }
  return Status::Ok();
}

Result<std::string> BlockReader::ReadAt(uint64_t offset, uint64_t size,
                                        std::string_view what) const {
  if (offset > file_bytes_ || size > file_bytes_ - offset) {
    return Status::Corruption(fmt::format("block {}: {} at byte {} (+{}) beyond the end", path_,
                                          what, offset, size));
  }
  std::string out(size, '\0');
  for (size_t done = 0; done < out.size();) {
    const ssize_t n = ::pread(fd_.get(), out.data() + done, out.size() - done,
                              static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, fmt::format("read {}", path_), path_);
    }
    if (n == 0) {
      return Status::Corruption(
          fmt::format("block {}: {} at byte {} cut short (the file shrank)", path_, what, offset));
    }
    done += static_cast<size_t>(n);
  }
  return out;
}

Result<std::string> BlockReader::ReadExtent(const Extent& e, std::string_view what) const {
  Result<std::string> out = ReadAt(e.offset, e.size, what);
  if (out.ok() && Checksum(*out) != e.checksum) {
    return Status::Corruption(fmt::format("block {}: {} at byte {} (+{}): checksum mismatch",
                                          path_, what, e.offset, e.size));
  }
  return out;
}

Result<std::string> BlockReader::ReadCompressed(const Extent& e, std::string_view what) const {
  Result<std::string> stored = ReadExtent(e, what);
  if (!stored.ok()) return stored.status();
  const unsigned long long frame_size = ZSTD_getFrameContentSize(stored->data(), stored->size());
  if (frame_size != e.raw_size) {
    return Status::Corruption(fmt::format(
        "block {}: {} at byte {}: zstd frame of {} bytes, the directory says {}", path_, what,
        e.offset, static_cast<long long>(frame_size), e.raw_size));
  }
  std::string raw(e.raw_size, '\0');
  const size_t n = ZSTD_decompress(raw.data(), raw.size(), stored->data(), stored->size());
  if (ZSTD_isError(n) || n != e.raw_size) {
    return Status::Corruption(fmt::format("block {}: {} at byte {}: {}", path_, what, e.offset,
                                          ZSTD_isError(n) ? ZSTD_getErrorName(n) : "short frame"));
  }
  return raw;
}

const ColumnInfo* BlockReader::FindColumn(std::string_view name) const {
  for (const auto& c : columns_) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Result<std::string> BlockReader::ReadColumnPayload(const ColumnInfo& column) const {
  return ReadCompressed(column.extent, "column " + column.name);
}

Result<std::string> BlockReader::ReadColumnStored(const ColumnInfo& column) const {
  return ReadExtent(column.extent, "column " + column.name);
}

Result<std::string> BlockReader::ReadTyped(std::string_view name, ColumnEncoding encoding) const {
  const ColumnInfo* c = FindColumn(name);
  if (c == nullptr) return Status::NotFound(fmt::format("block {}: no column {}", path_, name));
  if (c->encoding != encoding) {
    return Status::Corruption(fmt::format("block {}: column {} has encoding {}, expected {}", path_,
                                          name, static_cast<int>(c->encoding),
                                          static_cast<int>(encoding)));
  }
  return ReadColumnPayload(*c);
}

namespace {

// The encoding and the decoder of each column type.
template <typename T>
struct ColumnTraits;
#define RG_BLOCK_COLUMN_TRAITS(Type, Encoding, Decode)                                  \
  template <>                                                                          \
  struct ColumnTraits<Type> {                                                          \
    static constexpr ColumnEncoding kEncoding = ColumnEncoding::Encoding;              \
    static Status DecodeInto(std::string_view payload, uint64_t rows, Type& column) { \
      return Decode(payload, rows, column);                                            \
    }                                                                                  \
  };
RG_BLOCK_COLUMN_TRAITS(Int64Column, kInt64Delta, DecodeInt64)
RG_BLOCK_COLUMN_TRAITS(OptionalInt64Column, kOptionalInt64, DecodeOptionalInt64)
RG_BLOCK_COLUMN_TRAITS(BoolColumn, kBool, DecodeBool)
RG_BLOCK_COLUMN_TRAITS(DictStringColumn, kDictString, DecodeDictString)
RG_BLOCK_COLUMN_TRAITS(BytesColumn, kBytes, DecodeBytes)
RG_BLOCK_COLUMN_TRAITS(ListDictStringColumn, kListDictString, DecodeListDictString)
RG_BLOCK_COLUMN_TRAITS(ListDoubleColumn, kListDouble, DecodeListDouble)
RG_BLOCK_COLUMN_TRAITS(ListBoolColumn, kListBool, DecodeListBool)
RG_BLOCK_COLUMN_TRAITS(Fixed16Column, kFixed16, DecodeFixed16)
RG_BLOCK_COLUMN_TRAITS(Fixed32Column, kFixed32, DecodeFixed32)
#undef RG_BLOCK_COLUMN_TRAITS

}  // namespace

template <typename T>
Result<std::shared_ptr<const T>> BlockReader::ReadColumn(std::string_view name) const {
  const ColumnInfo* c = FindColumn(name);
  if (c == nullptr) return Status::NotFound(fmt::format("block {}: no column {}", path_, name));
  if (c->encoding != ColumnTraits<T>::kEncoding) {
    return Status::Corruption(fmt::format("block {}: column {} has encoding {}, expected {}", path_,
                                          name, static_cast<int>(c->encoding),
                                          static_cast<int>(ColumnTraits<T>::kEncoding)));
  }
  // The entry of a column name holds that column's type: the encoding is
  // checked above, and a block's columns never change.
  if (cache_ != nullptr) {
    if (std::shared_ptr<const void> hit = cache_->Get(id_, name)) {
      return std::static_pointer_cast<const T>(std::move(hit));
    }
  }
  Result<std::string> payload = ReadColumnPayload(*c);
  if (!payload.ok()) return payload.status();
  auto column = std::make_shared<T>();
  Status decoded = Status::Ok();
  if constexpr (std::is_same_v<T, BytesColumn>) {
    decoded = DecodeBytesInPlace(std::move(*payload), stats_.rows, *column);
  } else {
    decoded = ColumnTraits<T>::DecodeInto(*payload, stats_.rows, *column);
  }
  if (const Status& s = decoded; !s.ok()) {
    return Status::Corruption(fmt::format("block {}: column {}: {}", path_, name, s.message()));
  }
  if (cache_ != nullptr) cache_->Put(id_, name, column, c->extent.raw_size + 8 * stats_.rows);
  return std::shared_ptr<const T>(std::move(column));
}

#define RG_BLOCK_TYPED_READ(Method, Type)                                 \
  template Result<std::shared_ptr<const Type>> BlockReader::ReadColumn<Type>( \
      std::string_view name) const;                                       \
  Result<Type> BlockReader::Method(std::string_view name) const {         \
    Result<std::shared_ptr<const Type>> column = ReadColumn<Type>(name);  \
    if (!column.ok()) return column.status();                             \
    return **column;                                                      \
  }
RG_BLOCK_TYPED_READ(ReadInt64, Int64Column)
RG_BLOCK_TYPED_READ(ReadOptionalInt64, OptionalInt64Column)
RG_BLOCK_TYPED_READ(ReadBool, BoolColumn)
RG_BLOCK_TYPED_READ(ReadDictString, DictStringColumn)
RG_BLOCK_TYPED_READ(ReadBytes, BytesColumn)
RG_BLOCK_TYPED_READ(ReadListDictString, ListDictStringColumn)
RG_BLOCK_TYPED_READ(ReadListDouble, ListDoubleColumn)
RG_BLOCK_TYPED_READ(ReadListBool, ListBoolColumn)
RG_BLOCK_TYPED_READ(ReadFixed16, Fixed16Column)
RG_BLOCK_TYPED_READ(ReadFixed32, Fixed32Column)
#undef RG_BLOCK_TYPED_READ

bool BlockReader::HasAnnotationColumns(std::string_view key) const {
  for (AnnotationType t : {AnnotationType::kString, AnnotationType::kNumber, AnnotationType::kBool}) {
    if (FindColumn(AnnotationColumnName(key, t)) != nullptr) return true;
  }
  return false;
}

std::optional<std::pair<int64_t, int64_t>> TraceIdEpochRange(std::string_view ids) {
  if (ids.size() < 16) return std::nullopt;
  uint32_t lo = UINT32_MAX;
  uint32_t hi = 0;
  for (size_t at = 0; at + 16 <= ids.size(); at += 16) {
    const auto* b = reinterpret_cast<const uint8_t*>(ids.data() + at);
    const uint32_t epoch = uint32_t{b[0]} << 24 | uint32_t{b[1]} << 16 | uint32_t{b[2]} << 8 | b[3];
    lo = std::min(lo, epoch);
    hi = std::max(hi, epoch);
  }
  return std::make_pair(int64_t{lo}, int64_t{hi});
}

bool BlockReader::MayContainTrace(const TraceProbe& probe) const {
  if (trace_epochs_ &&
      (probe.epoch < trace_epochs_->first || probe.epoch > trace_epochs_->second)) {
    return false;
  }
  return trace_filter_.MayContainHash(probe.hash);
}
bool BlockReader::MayContainAnnotation(std::string_view key,
                                       const xray::AnnotationValue& value) const {
  return annotation_filter_.MayContain(AnnotationFilterKey(key, value));
}
bool BlockReader::MayContainService(std::string_view name, std::string_view type) const {
  std::string k(type.empty() ? "N" : "T");
  k.append(name);
  if (!type.empty()) {
    k.push_back('\0');
    k.append(type);
  }
  return service_filter_.MayContain(k);
}
bool BlockReader::MayContainGraphNodeNamed(std::string_view name) const {
  return format_version_ < 2 || MayContainService(name);
}

Result<std::optional<Bitmap>> BlockReader::RowsWithGraphNodeNamed(std::string_view name) const {
  if (format_version_ < 2) return std::optional<Bitmap>();
  const size_t n = stats_.rows;
  Bitmap rows(n);
  for (const std::string_view column : {col::kGraphNodeName, col::kGraphNodeAlias}) {
    Result<std::shared_ptr<const ListDictStringColumn>> list =
        ReadColumn<ListDictStringColumn>(column);
    if (!list.ok()) return list.status();
    const ListDictStringColumn& c = **list;
    if (c.offsets.size() != n + 1) {
      return Status::Corruption(
          fmt::format("block {}: column {} disagrees with its row count", path_, column));
    }
    const std::optional<uint32_t> code = c.values.Find(name);
    if (!code) continue;
    for (size_t r = 0; r < n; ++r) {
      for (uint32_t j = c.offsets[r]; j < c.offsets[r + 1]; ++j) {
        if (c.values.codes[j] == *code) {
          rows.Set(r);
          break;
        }
      }
    }
  }
  return std::optional<Bitmap>(std::move(rows));
}

Result<std::optional<Bitmap>> BlockReader::RowsWithGraphNodeFlag(std::string_view column) const {
  if (format_version_ < 2) return std::optional<Bitmap>();
  const size_t n = stats_.rows;
  Result<std::shared_ptr<const ListBoolColumn>> list = ReadColumn<ListBoolColumn>(column);
  if (!list.ok()) return list.status();
  const ListBoolColumn& c = **list;
  if (c.offsets.size() != n + 1) {
    return Status::Corruption(
        fmt::format("block {}: column {} disagrees with its row count", path_, column));
  }
  Bitmap rows(n);
  for (size_t r = 0; r < n; ++r) {
    for (uint32_t j = c.offsets[r]; j < c.offsets[r + 1]; ++j) {
      if (c.values.Get(j)) {
        rows.Set(r);
        break;
      }
    }
  }
  return std::optional<Bitmap>(std::move(rows));
}

bool BlockReader::MayContainUser(std::string_view user) const {
  return user_filter_.MayContain(user);
}
bool BlockReader::OverlapsStart(int64_t start_us, int64_t end_us) const {
  return stats_.rows > 0 && stats_.min_start_us < end_us && stats_.max_start_us >= start_us;
}

std::optional<uint32_t> TraceIdIndex::Find(const xray::TraceId& id) const {
  const std::string_view key = IdBytes(id);
  auto it = std::lower_bound(order_.begin(), order_.end(), key,
                             [&](uint32_t row, std::string_view k) { return ids_.Get(row) < k; });
  if (it == order_.end() || ids_.Get(*it) != key) return std::nullopt;
  return *it;
}

Result<std::shared_ptr<const TraceIdIndex>> BlockReader::ReadTraceIdIndex() const {
  {
    MutexLock lock(index_mu_);
    if (trace_index_ != nullptr) return trace_index_;
  }
  // Decoded outside the lock: two first readers may both decode, one keeps.
  Result<Fixed16Column> ids = ReadFixed16(col::kTraceId);
  if (!ids.ok()) return ids.status();
  std::vector<uint32_t> values;
  if (format_version_ >= 3) {
    // Version 3 stores no `id_order`: sorting the ids here costs a few
    // milliseconds once per reader, the column 2.5 bytes a row on disk.
    values.resize(stats_.rows);
    for (uint32_t i = 0; i < values.size(); ++i) values[i] = i;
    std::sort(values.begin(), values.end(),
              [&](uint32_t a, uint32_t b) { return ids->Get(a) < ids->Get(b); });
  } else {
    Result<std::shared_ptr<const Fixed32Column>> order = ReadColumn<Fixed32Column>(col::kIdOrder);
    if (!order.ok()) return order.status();
    values = (*order)->values;
  }
  // A permutation that sorts the ids strictly: anything else would misdirect
  // lookups (in version 3, a repeated id).
  std::vector<bool> seen(stats_.rows, false);
  for (size_t i = 0; i < values.size(); ++i) {
    const uint32_t row = values[i];
    if (row >= stats_.rows || seen[row] ||
        (i > 0 && !(ids->Get(values[i - 1]) < ids->Get(row)))) {
      return Status::Corruption(
          fmt::format("block {}: column {} is not the sorted order of the ids (entry {})", path_,
                      format_version_ >= 3 ? col::kTraceId : col::kIdOrder, i));
    }
    seen[row] = true;
  }
  auto index = std::make_shared<const TraceIdIndex>(std::move(*ids), std::move(values));
  MutexLock lock(index_mu_);
  if (trace_index_ == nullptr) trace_index_ = std::move(index);
  return trace_index_;
}

uint64_t BlockReader::trace_index_bytes() const {
  MutexLock lock(index_mu_);
  return trace_index_ == nullptr ? 0 : 20 * trace_index_->size();
}

Result<std::optional<uint32_t>> BlockReader::FindTrace(const TraceProbe& probe) const {
  if (!MayContainTrace(probe)) return std::optional<uint32_t>();
  Result<std::shared_ptr<const TraceIdIndex>> index = ReadTraceIdIndex();
  if (!index.ok()) return index.status();
  return (*index)->Find(probe.id);
}

Status BlockReader::ReadRecords(std::span<const uint32_t> rows, std::vector<TraceRecord>& out,
                                bool with_graph) const {
  return ReadRecordsImpl(rows, false, out, with_graph);
}

Status BlockReader::ReadAllRecords(std::vector<TraceRecord>& out, bool with_graph) const {
  return ReadRecordsImpl({}, true, out, with_graph);
}

Result<TraceRecord> BlockReader::ReadRecord(uint32_t row) const {
  std::vector<TraceRecord> out;
  const uint32_t rows[] = {row};
  RG_RETURN_IF_ERROR(ReadRecords(rows, out));
  return std::move(out.front());
}

Status BlockReader::ReadRecordsImpl(std::span<const uint32_t> rows, bool all,
                                    std::vector<TraceRecord>& out, bool with_graph) const {
  const size_t n = all ? stats_.rows : rows.size();
  for (uint32_t row : rows) {
    if (row >= stats_.rows) {
      return Status::InvalidArgument(
          fmt::format("block {}: row {} of a block of {}", path_, row, stats_.rows));
    }
  }
  // The records `out` already holds are decoded into: their strings and
  // vectors keep their storage.
  out.resize(n);
  if (n == 0) return Status::Ok();
  RecordColumns columns;
  RG_RETURN_IF_ERROR(ReadRecordColumns(with_graph, columns));
  for (size_t i = 0; i < n; ++i) {
    const auto row = static_cast<uint32_t>(all ? i : rows[i]);
    RG_RETURN_IF_ERROR(DecodeRecord(columns, row, out[i]));
  }
  return Status::Ok();
}

Status BlockReader::ReadRecordColumns(bool with_graph, RecordColumns& out) const {
  out.with_graph = with_graph;
#define RG_READ(var, Type, name)          \
  {                                       \
    auto read = ReadColumn<Type>(name);   \
    if (!read.ok()) return read.status(); \
    out.var = std::move(*read);           \
  }
  RG_READ(ids, Fixed16Column, col::kTraceId)
  RG_READ(start, Int64Column, col::kStart)
  RG_READ(duration, OptionalInt64Column, col::kDuration)
  RG_READ(response, OptionalInt64Column, col::kResponseTime)
  RG_READ(updated, Int64Column, col::kUpdated)
  RG_READ(revision, Int64Column, col::kRevision)
  RG_READ(segments, Int64Column, col::kSegmentCount)
  RG_READ(fault, BoolColumn, col::kFault)
  RG_READ(error, BoolColumn, col::kError)
  RG_READ(throttle, BoolColumn, col::kThrottle)
  RG_READ(partial, BoolColumn, col::kPartial)
  RG_READ(indexed, BoolColumn, col::kIndexed)
  RG_READ(method, DictStringColumn, col::kHttpMethod)
  RG_READ(url, DictStringColumn, col::kHttpUrl)
  RG_READ(agent, DictStringColumn, col::kHttpUserAgent)
  RG_READ(client_ip, DictStringColumn, col::kHttpClientIp)
  RG_READ(status, OptionalInt64Column, col::kHttpStatus)
  RG_READ(root_name, DictStringColumn, col::kRootName)
  RG_READ(root_origin, DictStringColumn, col::kRootOrigin)
  RG_READ(arns, ListDictStringColumn, col::kResourceArns)
  RG_READ(instances, ListDictStringColumn, col::kInstanceIds)
  RG_READ(zones, ListDictStringColumn, col::kAvailabilityZones)
  RG_READ(details, BytesColumn, col::kDetails)
  // Version 2 keeps the graphs in a column of their own, read only when asked
  // for; version 1 keeps them at the end of `details`.
  out.graphs.reset();
  if (with_graph && format_version_ >= 2) RG_READ(graphs, BytesColumn, col::kGraph)
#undef RG_READ
  return Status::Ok();
}

void BlockReader::PrefetchRecord(const RecordColumns& columns, uint32_t row) {
  __builtin_prefetch(columns.details->data.data() + columns.details->offsets[row]);
  PrefetchDictRow(*columns.method, row);
  PrefetchDictRow(*columns.url, row);
  PrefetchDictRow(*columns.agent, row);
  PrefetchDictRow(*columns.client_ip, row);
  PrefetchDictRow(*columns.root_name, row);
  PrefetchDictRow(*columns.root_origin, row);
  PrefetchListRow(*columns.arns, row);
  PrefetchListRow(*columns.instances, row);
  PrefetchListRow(*columns.zones, row);
}

Status BlockReader::DecodeRecord(RecordColumns& columns, uint32_t row, TraceRecord& rec) const {
  if (row >= stats_.rows) {
    return Status::InvalidArgument(
        fmt::format("block {}: row {} of a block of {}", path_, row, stats_.rows));
  }
  // The dictionary entries are loaded (PrefetchRecord); the longer strings'
  // bytes they point to arrive while `details` is decoded.
  PrefetchDictBytes(*columns.url, row);
  PrefetchDictBytes(*columns.agent, row);
  PrefetchDictBytes(*columns.client_ip, row);
  if (columns.instances->offsets[row] < columns.instances->offsets[row + 1]) {
    PrefetchDictBytes(columns.instances->values, columns.instances->offsets[row]);
  }
  auto corrupt = [&](std::string_view what) {
    return Status::Corruption(fmt::format("block {}: row {}: {}", path_, row, what));
  };
  const bool graph_column = columns.graphs != nullptr;
  if (Status s = DecodeTraceRecordInto(columns.details->Get(row), rec,
                                       columns.with_graph && !graph_column);
      !s.ok()) {
    return corrupt(fmt::format("column {}: {}", col::kDetails, s.message()));
  }
  if (graph_column) {
    TraceRecord& graph_holder = columns.graph_holder;
    if (Status s = DecodeTraceRecordInto(columns.graphs->Get(row), graph_holder, true); !s.ok()) {
      return corrupt(fmt::format("column {}: {}", col::kGraph, s.message()));
    }
    if (format_version_ >= 3) {
      AbsolutizeGraphTimes(graph_holder.graph, graph_holder.summary.start_time_us);
    }
    std::swap(rec.graph, graph_holder.graph);  // both keep storage for the next rows
  }
  xray::TraceSummary& s = rec.summary;
  std::memcpy(s.id.bytes.data(), columns.ids->Get(row).data(), 16);
  s.start_time_us = columns.start->values[row];
  s.duration_us = columns.duration->Get(row);
  s.response_time_us = columns.response->Get(row);
  s.updated_us = columns.updated->values[row];
  const int64_t revision = columns.revision->values[row];
  if (revision < 0 || revision > UINT32_MAX) return corrupt("bad revision");
  s.revision = static_cast<uint32_t>(revision);
  if (columns.segments->values[row] < 0) return corrupt("bad segment count");
  s.segment_count = static_cast<size_t>(columns.segments->values[row]);
  s.has_fault = columns.fault->values.Get(row);
  s.has_error = columns.error->values.Get(row);
  s.has_throttle = columns.throttle->values.Get(row);
  s.is_partial = columns.partial->values.Get(row);
  s.indexed = columns.indexed->values.Get(row);
  SetColumnString(s.http.method, columns.method->Get(row));
  SetColumnString(s.http.url, columns.url->Get(row));
  SetColumnString(s.http.user_agent, columns.agent->Get(row));
  SetColumnString(s.http.client_ip, columns.client_ip->Get(row));
  if (std::optional<int64_t> v = columns.status->Get(row)) {
    if (*v < INT32_MIN || *v > INT32_MAX) return corrupt("http status out of range");
    s.http.status = static_cast<int>(*v);
  } else {
    s.http.status.reset();
  }
  SetColumnString(s.root_segment_name, columns.root_name->Get(row));
  SetColumnString(s.root_segment_origin, columns.root_origin->Get(row));
  ListRow(*columns.arns, row, s.resource_arns);
  ListRow(*columns.instances, row, s.instance_ids);
  ListRow(*columns.zones, row, s.availability_zones);
  return Status::Ok();
}

Result<std::vector<StoredDocument>> BlockReader::ReadDocuments(uint32_t row) const {
  if (row >= stats_.rows) {
    return Status::InvalidArgument(
        fmt::format("block {}: row {} of a block of {}", path_, row, stats_.rows));
  }
  auto it = std::upper_bound(pages_.begin(), pages_.end(), uint64_t{row},
                             [](uint64_t r, const auto& p) { return r < p.first; });
  const size_t page = static_cast<size_t>(it - pages_.begin()) - 1;  // pages_[0] starts at 0
  const uint64_t end_row = page + 1 < pages_.size() ? pages_[page + 1].first : stats_.rows;
  const std::string what = fmt::format("document page {}", page);
  Result<std::string> raw = ReadDocumentPage(page, what);
  if (!raw.ok()) return raw.status();
  // Version 3 pages leave the row's trace id out of its documents.
  std::string trace_text;
  if (format_version_ >= 3) {
    Result<std::string> text = TraceIdText(row);
    if (!text.ok()) return text.status();
    trace_text = std::move(*text);
  }
  StoredDocument skipped;
  coding::Reader r(*raw);
  std::vector<StoredDocument> docs;
  for (uint64_t at = pages_[page].first; at < end_row && r.ok(); ++at) {
    uint64_t count = 0;
    if (!r.Varint(count)) break;
    if (count > r.remaining()) {
      r.Fail("document count exceeds the page");
      break;
    }
    const bool keep = at == row;
    if (keep) docs.resize(count);
    for (uint64_t j = 0; j < count; ++j) {
      if (format_version_ >= 3) {
        // Only the kept row's documents need its trace id put back.
        if (!GetDocumentEliding(r, keep ? trace_text : std::string_view(), keep ? docs[j] : skipped)) {
          break;
        }
        continue;
      }
      uint64_t entity = 0;
      int64_t received = 0;
      std::string_view bytes;
      if (!r.Fixed64(entity) || !r.Signed(received) || !r.LengthPrefixed(bytes)) break;
      if (keep) docs[j] = {xray::SegmentId{entity}, received, std::string(bytes)};
    }
    if (keep && r.ok()) return docs;
  }
  if (r.ok() && r.remaining() != 0) r.Fail("trailing bytes");
  return Status::Corruption(fmt::format("block {}: {}: {}", path_, what,
                                        r.ok() ? "row not in its page" : r.error()));
}

Result<std::vector<std::vector<StoredDocument>>> BlockReader::ReadAllDocuments() const {
  std::vector<std::vector<StoredDocument>> out;
  out.reserve(stats_.rows);
  // Version 3: the rows' trace ids, read once for every page.
  std::shared_ptr<const Fixed16Column> trace_ids;
  std::string trace_text;
  for (size_t page = 0; page < pages_.size(); ++page) {
    const uint64_t end_row = page + 1 < pages_.size() ? pages_[page + 1].first : stats_.rows;
    const std::string what = fmt::format("document page {}", page);
    if (pages_[page].first != out.size() || end_row < out.size()) {
      return Status::Corruption(fmt::format("block {}: {}: pages out of order", path_, what));
    }
    Result<std::string> raw = ReadDocumentPage(page, what);
    if (!raw.ok()) return raw.status();
    coding::Reader r(*raw);
    for (uint64_t at = pages_[page].first; at < end_row && r.ok(); ++at) {
      uint64_t count = 0;
      if (!r.Varint(count)) break;
      if (count > r.remaining()) {
        r.Fail("document count exceeds the page");
        break;
      }
      std::vector<StoredDocument>& docs = out.emplace_back(count);
      if (format_version_ >= 3 && count > 0) {
        if (trace_ids == nullptr) {
          Result<std::shared_ptr<const Fixed16Column>> read = ReadColumn<Fixed16Column>(col::kTraceId);
          if (!read.ok()) return read.status();
          trace_ids = std::move(*read);
        }
        if (at >= trace_ids->data.size() / 16) {
          return Status::Corruption(fmt::format("block {}: column {}: no row {}", path_, col::kTraceId, at));
        }
        TraceIdTextOfBytes(trace_ids->Get(at), trace_text);
      }
      for (uint64_t j = 0; j < count; ++j) {
        if (format_version_ >= 3) {
          if (!GetDocumentEliding(r, trace_text, docs[j])) break;
          continue;
        }
        uint64_t entity = 0;
        int64_t received = 0;
        std::string_view bytes;
        if (!r.Fixed64(entity) || !r.Signed(received) || !r.LengthPrefixed(bytes)) break;
        docs[j] = {xray::SegmentId{entity}, received, std::string(bytes)};
      }
    }
    if (r.ok() && r.remaining() != 0) r.Fail("trailing bytes");
    if (!r.ok() || out.size() != end_row) {
      return Status::Corruption(fmt::format("block {}: {}: {}", path_, what,
                                            r.ok() ? "fewer rows than the page holds" : r.error()));
    }
  }
  if (out.size() != stats_.rows) {
    return Status::Corruption(
        fmt::format("block {}: document pages hold {} rows of {}", path_, out.size(), stats_.rows));
  }
  return out;
}

Result<std::string> BlockReader::ReadSection(std::string_view name) const {
  for (const auto& [section, extent] : sections_) {
    if (section == name) return ReadCompressed(extent, "section " + section);
  }
  return Status::NotFound(fmt::format("block {}: no section {}", path_, name));
}

std::vector<std::string> BlockReader::section_names() const {
  std::vector<std::string> names;
  for (const auto& s : sections_) names.push_back(s.first);
  return names;
}

}  // namespace roentgen::store::block
