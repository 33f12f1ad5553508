#include "store/block/columns.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>

#include "common/bytes_hash.h"
#include "common/coding.h"

namespace roentgen::store::block {
namespace {

using coding::Reader;

Status Fail(const Reader& r, std::string_view column_kind) {
  return Status::Corruption(fmt::format("{} column: {}", column_kind, r.error()));
}

Status Done(const Reader& r, std::string_view column_kind) {
  if (!r.ok()) return Fail(r, column_kind);
  if (r.remaining() != 0) {
    return Status::Corruption(fmt::format("{} column: {} trailing bytes at byte {}", column_kind,
                                          r.remaining(), r.position()));
  }
  return Status::Ok();
}

bool GetBitmap(Reader& r, size_t n, Bitmap& out) {
  std::string_view bytes;
  if (!r.Bitmap(n, bytes)) return false;
  out = Bitmap(n);
  for (size_t i = 0; i < n; ++i) {
    if (coding::BitmapGet(bytes, i)) out.Set(i);
  }
  return true;
}

// At least `per_value` bytes remain for each of `n` values.
bool Need(Reader& r, size_t n, size_t per_value) {
  if (per_value != 0 && n > r.remaining() / per_value) return r.Fail("more values than bytes");
  return true;
}

void PutDeltas(std::span<const int64_t> values, std::string& out) {
  coding::PutVarintRun(
      values.size(),
      [&values](size_t i) {
        const uint64_t prev = i == 0 ? 0 : static_cast<uint64_t>(values[i - 1]);
        return coding::ZigZag(static_cast<int64_t>(static_cast<uint64_t>(values[i]) - prev));
      },
      out);
}

bool GetDeltas(Reader& r, size_t n, int64_t* out) {
  uint64_t prev = 0;
  for (size_t i = 0; i < n; ++i) {
    int64_t d = 0;
    if (!r.Signed(d)) return false;
    prev += static_cast<uint64_t>(d);
    out[i] = static_cast<int64_t>(prev);
  }
  return true;
}

bool GetLengths(Reader& r, size_t rows, std::vector<uint32_t>& offsets) {
  if (!Need(r, rows, 1)) return false;
  offsets.assign(rows + 1, 0);
  uint64_t total = 0;
  for (size_t i = 0; i < rows; ++i) {
    uint64_t len = 0;
    if (!r.Varint(len)) return false;
    total += len;
    if (len > UINT32_MAX || total > UINT32_MAX) return r.Fail("list lengths overflow");
    offsets[i + 1] = static_cast<uint32_t>(total);
  }
  return true;
}

template <typename Rows>
void PutLengths(const Rows& rows, std::string& out) {
  for (const auto& row : rows) coding::PutVarint(row.size(), out);
}

void PutDict(std::span<const std::string_view> values, std::string& out) {
  DictStringEncoder encoder;
  encoder.Reserve(values.size());
  for (std::string_view v : values) encoder.Add(v);
  encoder.Finish(out);
}

bool GetDict(Reader& r, size_t n, DictStringColumn& out) {
  uint64_t size = 0;
  if (!r.Varint(size)) return false;
  if (!Need(r, size, 1)) return false;
  out.dictionary.resize(size);
  for (size_t i = 0; i < size; ++i) {
    std::string_view s;
    if (!r.LengthPrefixed(s)) return false;
    if (i > 0 && !(out.dictionary[i - 1] < s)) return r.Fail("dictionary not sorted");
    out.dictionary[i].assign(s);
  }
  if (!Need(r, n, 1)) return false;
  out.codes.resize(n);
  for (size_t i = 0; i < n; ++i) {
    uint64_t code = 0;
    if (!r.Varint(code)) return false;
    if (code >= size) return r.Fail("dictionary code out of range");
    out.codes[i] = static_cast<uint32_t>(code);
  }
  return true;
}

}  // namespace

DictStringEncoder::DictStringEncoder() : slots_(64, 0), mask_(63) {}

void DictStringEncoder::Add(std::string_view v) {
  const uint64_t h = bytes::Hash(v);
  size_t slot = h & mask_;
  for (;;) {
    const uint32_t s = slots_[slot];
    if (s == 0) break;
    if (dict_hashes_[s - 1] == h && bytes::Equal(dict_[s - 1], v)) {
      first_codes_.push_back(s - 1);
      return;
    }
    slot = (slot + 1) & mask_;
  }
  const auto code = static_cast<uint32_t>(dict_.size());
  dict_.push_back(v);
  dict_hashes_.push_back(h);
  slots_[slot] = code + 1;
  first_codes_.push_back(code);
  if (2 * dict_.size() > slots_.size()) {  // keep it at most half full
    slots_.assign(2 * slots_.size(), 0);
    mask_ = slots_.size() - 1;
    for (uint32_t c = 0; c < dict_.size(); ++c) {
      size_t t = dict_hashes_[c] & mask_;
      while (slots_[t] != 0) t = (t + 1) & mask_;
      slots_[t] = c + 1;
    }
  }
}

void DictStringEncoder::Finish(std::string& out) {
  // Sorted by each value's first 16 bytes as two big-endian integers (zero
  // padded) and, where those tie, by the rest: the byte order of the values,
  // mostly without a memcmp (many columns have thousands of values, and
  // most differ within 16 bytes: addresses, user names, ids).
  struct Ranked {
    uint64_t high;
    uint64_t low;
    uint32_t code;
  };
  std::vector<Ranked> by_value(dict_.size());
  for (uint32_t i = 0; i < by_value.size(); ++i) {
    char head[16] = {};
    if (!dict_[i].empty()) {
      std::memcpy(head, dict_[i].data(), std::min<size_t>(16, dict_[i].size()));
    }
    uint64_t high = 0;
    uint64_t low = 0;
    std::memcpy(&high, head, 8);
    std::memcpy(&low, head + 8, 8);
    if constexpr (std::endian::native == std::endian::little) {
      high = __builtin_bswap64(high);
      low = __builtin_bswap64(low);
    }
    by_value[i] = {high, low, i};
  }
  std::sort(by_value.begin(), by_value.end(), [&](const Ranked& a, const Ranked& b) {
    if (a.high != b.high) return a.high < b.high;
    if (a.low != b.low) return a.low < b.low;
    const std::string_view x = dict_[a.code];
    const std::string_view y = dict_[b.code];
    // Equal first 16 bytes when both have 16 (else the padding may hide a
    // difference of length: "ab" < "ab\0").
    if (x.size() >= 16 && y.size() >= 16) return x.substr(16) < y.substr(16);
    return x < y;
  });
  std::vector<uint32_t> sorted_code(dict_.size());
  coding::PutVarint(dict_.size(), out);
  for (uint32_t rank = 0; rank < by_value.size(); ++rank) {
    sorted_code[by_value[rank].code] = rank;
    coding::PutLengthPrefixed(dict_[by_value[rank].code], out);
  }
  coding::PutVarintRun(
      first_codes_.size(), [&](size_t i) { return sorted_code[first_codes_[i]]; }, out);
  *this = DictStringEncoder();
}

bool IsKnownEncoding(uint8_t e) { return e >= 1 && e <= 12; }

Bitmap::Bitmap(size_t size, bool value)
    : words_((size + 63) / 64, value ? ~uint64_t{0} : 0), size_(size) {
  if (value && size % 64 != 0) words_.back() = (uint64_t{1} << (size % 64)) - 1;
}

size_t Bitmap::Count() const {
  size_t n = 0;
  for (uint64_t w : words_) n += static_cast<size_t>(std::popcount(w));
  return n;
}

void Bitmap::And(const Bitmap& other) {
  for (size_t i = 0; i < words_.size(); ++i) words_[i] &= other.words_[i];
}

void Bitmap::Or(const Bitmap& other) {
  for (size_t i = 0; i < words_.size(); ++i) words_[i] |= other.words_[i];
}

std::optional<uint32_t> DictStringColumn::Find(std::string_view value) const {
  auto it = std::lower_bound(dictionary.begin(), dictionary.end(), value,
                             [](const std::string& a, std::string_view b) { return a < b; });
  if (it == dictionary.end() || *it != value) return std::nullopt;
  return static_cast<uint32_t>(it - dictionary.begin());
}

void EncodeInt64(std::span<const int64_t> values, std::string& out) { PutDeltas(values, out); }

void EncodeOptionalInt64(std::span<const std::optional<int64_t>> values, std::string& out) {
  std::vector<bool> present(values.size());
  std::vector<int64_t> present_values;
  for (size_t i = 0; i < values.size(); ++i) {
    present[i] = values[i].has_value();
    if (values[i]) present_values.push_back(*values[i]);
  }
  coding::PutBitmap(present, out);
  PutDeltas(present_values, out);
}

void EncodeDouble(std::span<const double> values, std::string& out) {
  for (double v : values) coding::PutDouble(v, out);
}

void EncodeOptionalDouble(std::span<const std::optional<double>> values, std::string& out) {
  std::vector<bool> present(values.size());
  for (size_t i = 0; i < values.size(); ++i) present[i] = values[i].has_value();
  coding::PutBitmap(present, out);
  for (const auto& v : values) {
    if (v) coding::PutDouble(*v, out);
  }
}

void EncodeBool(const std::vector<bool>& values, std::string& out) {
  coding::PutBitmap(values, out);
}

void EncodeDictString(std::span<const std::string_view> values, std::string& out) {
  PutDict(values, out);
}

void EncodeBytes(std::span<const std::string_view> values, std::string& out) {
  for (std::string_view v : values) coding::PutLengthPrefixed(v, out);
}

void EncodeFixed16(std::span<const std::string_view> values, std::string& out) {
  for (std::string_view v : values) {
    assert(v.size() == 16);
    out.append(v.data(), 16);
  }
}

void EncodeFixed32(std::span<const uint32_t> values, std::string& out) {
  for (uint32_t v : values) coding::PutFixed32(v, out);
}

void EncodeListDictString(std::span<const std::vector<std::string_view>> rows, std::string& out) {
  PutLengths(rows, out);
  std::vector<std::string_view> all;
  for (const auto& row : rows) all.insert(all.end(), row.begin(), row.end());
  PutDict(all, out);
}

void EncodeListDictString(std::span<const uint32_t> lengths,
                          std::span<const std::string_view> values, std::string& out) {
  coding::PutVarintRun(
      lengths.size(), [&lengths](size_t i) { return lengths[i]; }, out);
  PutDict(values, out);
}

void EncodeListDouble(std::span<const std::vector<double>> rows, std::string& out) {
  PutLengths(rows, out);
  for (const auto& row : rows) {
    for (double v : row) coding::PutDouble(v, out);
  }
}

void EncodeListBool(std::span<const std::vector<bool>> rows, std::string& out) {
  PutLengths(rows, out);
  std::vector<bool> all;
  for (const auto& row : rows) all.insert(all.end(), row.begin(), row.end());
  coding::PutBitmap(all, out);
}

void EncodeListDouble(std::span<const uint32_t> lengths, std::span<const double> values,
                      std::string& out) {
  coding::PutVarintRun(
      lengths.size(), [&lengths](size_t i) { return lengths[i]; }, out);
  for (double v : values) coding::PutDouble(v, out);
}

void EncodeListBool(std::span<const uint32_t> lengths, const std::vector<bool>& values,
                    std::string& out) {
  coding::PutVarintRun(
      lengths.size(), [&lengths](size_t i) { return lengths[i]; }, out);
  coding::PutBitmap(values, out);
}

Status DecodeInt64(std::string_view in, size_t rows, Int64Column& out) {
  Reader r(in);
  if (Need(r, rows, 1)) {
    out.values.resize(rows);
    GetDeltas(r, rows, out.values.data());
  }
  return Done(r, "int64");
}

Status DecodeOptionalInt64(std::string_view in, size_t rows, OptionalInt64Column& out) {
  Reader r(in);
  if (GetBitmap(r, rows, out.present)) {
    const size_t n = out.present.Count();
    std::vector<int64_t> present_values(n);
    if (Need(r, n, 1) && GetDeltas(r, n, present_values.data())) {
      out.values.assign(rows, 0);
      for (size_t i = 0, j = 0; i < rows; ++i) {
        if (out.present.Get(i)) out.values[i] = present_values[j++];
      }
    }
  }
  return Done(r, "optional int64");
}

Status DecodeDouble(std::string_view in, size_t rows, DoubleColumn& out) {
  Reader r(in);
  if (Need(r, rows, 8)) {
    out.values.resize(rows);
    for (double& v : out.values) r.Double(v);
  }
  return Done(r, "double");
}

Status DecodeOptionalDouble(std::string_view in, size_t rows, OptionalDoubleColumn& out) {
  Reader r(in);
  if (GetBitmap(r, rows, out.present) && Need(r, out.present.Count(), 8)) {
    out.values.assign(rows, 0);
    for (size_t i = 0; i < rows; ++i) {
      if (out.present.Get(i)) r.Double(out.values[i]);
    }
  }
  return Done(r, "optional double");
}

Status DecodeBool(std::string_view in, size_t rows, BoolColumn& out) {
  Reader r(in);
  GetBitmap(r, rows, out.values);
  return Done(r, "bool");
}

Status DecodeDictString(std::string_view in, size_t rows, DictStringColumn& out) {
  Reader r(in);
  GetDict(r, rows, out);
  return Done(r, "dictionary string");
}

Status DecodeBytes(std::string_view in, size_t rows, BytesColumn& out) {
  Reader r(in);
  out.data.clear();
  out.offsets.assign(1, 0);
  if (Need(r, rows, 1)) {
    out.data.reserve(in.size());
    for (size_t i = 0; i < rows; ++i) {
      std::string_view v;
      if (!r.LengthPrefixed(v)) break;
      out.data.append(v);
      out.offsets.push_back(static_cast<uint32_t>(out.data.size()));
    }
  }
  return Done(r, "bytes");
}

Status DecodeBytesInPlace(std::string in, size_t rows, BytesColumn& out) {
  // Each value moves down over the length prefixes before it: the write
  // position stays behind the read position, so nothing unread is
  // overwritten, and the payload's buffer becomes the column's.
  out.offsets.assign(1, 0);
  size_t end = 0;
  Status status = Status::Ok();
  {
    Reader r(in);
    if (Need(r, rows, 1)) {
      out.offsets.reserve(rows + 1);
      for (size_t i = 0; i < rows; ++i) {
        std::string_view v;
        if (!r.LengthPrefixed(v)) break;
        std::memmove(in.data() + end, v.data(), v.size());
        end += v.size();
        out.offsets.push_back(static_cast<uint32_t>(end));
      }
    }
    status = Done(r, "bytes");
  }
  in.resize(end);
  out.data = std::move(in);
  return status;
}

Status DecodeFixed16(std::string_view in, size_t rows, Fixed16Column& out) {
  Reader r(in);
  std::string_view bytes;
  if (Need(r, rows, 16) && r.View(rows * 16, bytes)) out.data.assign(bytes);
  return Done(r, "fixed16");
}

Status DecodeFixed32(std::string_view in, size_t rows, Fixed32Column& out) {
  Reader r(in);
  if (Need(r, rows, 4)) {
    out.values.resize(rows);
    for (uint32_t& v : out.values) r.Fixed32(v);
  }
  return Done(r, "fixed32");
}

Status DecodeListDictString(std::string_view in, size_t rows, ListDictStringColumn& out) {
  Reader r(in);
  if (GetLengths(r, rows, out.offsets)) GetDict(r, out.offsets.back(), out.values);
  return Done(r, "string list");
}

Status DecodeListDouble(std::string_view in, size_t rows, ListDoubleColumn& out) {
  Reader r(in);
  if (GetLengths(r, rows, out.offsets) && Need(r, out.offsets.back(), 8)) {
    out.values.resize(out.offsets.back());
    for (double& v : out.values) r.Double(v);
  }
  return Done(r, "double list");
}

Status DecodeListBool(std::string_view in, size_t rows, ListBoolColumn& out) {
  Reader r(in);
  if (GetLengths(r, rows, out.offsets)) GetBitmap(r, out.offsets.back(), out.values);
  return Done(r, "bool list");
}

void SelectGreater(const OptionalInt64Column& c, int64_t x, Bitmap& selection) {
  for (size_t i = 0; i < c.values.size(); ++i) {
    if (c.values[i] > x && c.present.Get(i)) selection.Set(i);
  }
}

void SelectGreater(const OptionalDoubleColumn& c, double x, Bitmap& selection) {
  for (size_t i = 0; i < c.values.size(); ++i) {
    if (c.values[i] > x && c.present.Get(i)) selection.Set(i);
  }
}

void SelectEquals(const DictStringColumn& c, std::string_view value, Bitmap& selection) {
  const std::optional<uint32_t> code = c.Find(value);
  if (!code) return;
  for (size_t i = 0; i < c.codes.size(); ++i) {
    if (c.codes[i] == *code) selection.Set(i);
  }
}

void SelectContains(const ListDictStringColumn& c, std::string_view value, Bitmap& selection) {
  const std::optional<uint32_t> code = c.values.Find(value);
  if (!code) return;
  for (size_t row = 0; row + 1 < c.offsets.size(); ++row) {
    for (uint32_t j = c.offsets[row]; j < c.offsets[row + 1]; ++j) {
      if (c.values.codes[j] == *code) {
        selection.Set(row);
        break;
      }
    }
  }
}

void SelectContains(const ListDoubleColumn& c, double value, Bitmap& selection) {
  for (size_t row = 0; row + 1 < c.offsets.size(); ++row) {
    for (uint32_t j = c.offsets[row]; j < c.offsets[row + 1]; ++j) {
      if (c.values[j] == value) {
        selection.Set(row);
        break;
      }
    }
  }
}

void SelectContains(const ListBoolColumn& c, bool value, Bitmap& selection) {
  for (size_t row = 0; row + 1 < c.offsets.size(); ++row) {
    for (uint32_t j = c.offsets[row]; j < c.offsets[row + 1]; ++j) {
      if (c.values.Get(j) == value) {
        selection.Set(row);
        break;
      }
    }
  }
}

}  // namespace roentgen::store::block
