// Column encodings of a block file (block_format.h) and their decoded forms.
//
// A column holds one value per row. Encoders append a column's raw payload
// (before compression) to a string; decoders check every byte with
// coding::Reader and return Corruption for anything malformed, including
// bytes left over. Payloads, by ColumnEncoding (n = the column's row count):
//
//   kInt64Delta        n zigzag varints: v[0], then v[i] − v[i−1] (wrapping)
//   kOptionalInt64     presence bitmap (⌈n/8⌉ bytes, bit i of byte i/8), then
//                      kInt64Delta over the present values only
//   kDouble            n fixed64 IEEE-754 bit patterns
//   kOptionalDouble    presence bitmap, then fixed64 per present value
//   kBool              bitmap (⌈n/8⌉ bytes); unused high bits must be 0
//   kDictString        dictionary size varint · entries, length-prefixed, in
//                      strictly ascending byte order · n code varints
//   kBytes             n length-prefixed values
//   kFixed16           n × 16 bytes
//   kFixed32           n fixed32 LE
//   kListDictString    n length varints (values per row) · a kDictString
//   kListDouble        n length varints · fixed64 per value
//   kListBool          n length varints · bitmap over all values
//
// The decoded forms keep one entry per row (absent optional values read as 0)
// so predicates run over plain vectors; the Select* helpers mark matching
// rows in a selection Bitmap. Pure functions; decoded columns are immutable
// values, safe to share between threads once built.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace roentgen::store::block {

enum class ColumnEncoding : uint8_t {
  kInt64Delta = 1,
  kOptionalInt64 = 2,
  kDouble = 3,
  kOptionalDouble = 4,
  kBool = 5,
  kDictString = 6,
  kBytes = 7,
  kFixed16 = 8,
  kFixed32 = 9,
  kListDictString = 10,
  kListDouble = 11,
  kListBool = 12,
};
bool IsKnownEncoding(uint8_t e);

// A fixed-size set of rows: a selection, or a presence map.
class Bitmap {
 public:
  Bitmap() = default;
  explicit Bitmap(size_t size, bool value = false);
  size_t size() const { return size_; }
  bool Get(size_t i) const { return (words_[i >> 6] >> (i & 63)) & 1; }
  void Set(size_t i) { words_[i >> 6] |= uint64_t{1} << (i & 63); }
  void Clear(size_t i) { words_[i >> 6] &= ~(uint64_t{1} << (i & 63)); }
  size_t Count() const;
  void And(const Bitmap& other);  // sizes must be equal
  void Or(const Bitmap& other);
  bool operator==(const Bitmap&) const = default;

 private:
  std::vector<uint64_t> words_;
  size_t size_ = 0;
};

struct Int64Column {
  std::vector<int64_t> values;
};
struct OptionalInt64Column {
  std::vector<int64_t> values;  // 0 where absent
  Bitmap present;
  std::optional<int64_t> Get(size_t row) const {
    return present.Get(row) ? std::optional<int64_t>(values[row]) : std::nullopt;
  }
};
struct DoubleColumn {
  std::vector<double> values;
};
struct OptionalDoubleColumn {
  std::vector<double> values;  // 0 where absent
  Bitmap present;
};
struct BoolColumn {
  Bitmap values;
};
struct DictStringColumn {
  std::vector<std::string> dictionary;  // sorted, distinct
  std::vector<uint32_t> codes;          // one per value, index into dictionary
  std::string_view Get(size_t i) const { return dictionary[codes[i]]; }
  // The code of `value`, by binary search, or nothing if no row holds it.
  std::optional<uint32_t> Find(std::string_view value) const;
};
struct BytesColumn {
  std::string data;
  std::vector<uint32_t> offsets;  // size rows + 1
  std::string_view Get(size_t row) const {
    return std::string_view(data).substr(offsets[row], offsets[row + 1] - offsets[row]);
  }
};
struct Fixed16Column {
  std::string data;  // 16 bytes a row
  std::string_view Get(size_t row) const { return std::string_view(data).substr(16 * row, 16); }
};
struct Fixed32Column {
  std::vector<uint32_t> values;
};
// List columns: row r's values are values[offsets[r], offsets[r+1]).
struct ListDictStringColumn {
  std::vector<uint32_t> offsets;
  DictStringColumn values;
};
struct ListDoubleColumn {
  std::vector<uint32_t> offsets;
  std::vector<double> values;
};
struct ListBoolColumn {
  std::vector<uint32_t> offsets;
  Bitmap values;
};

// Encoders: append the payload to `out`.
void EncodeInt64(std::span<const int64_t> values, std::string& out);
void EncodeOptionalInt64(std::span<const std::optional<int64_t>> values, std::string& out);
void EncodeDouble(std::span<const double> values, std::string& out);
void EncodeOptionalDouble(std::span<const std::optional<double>> values, std::string& out);
void EncodeBool(const std::vector<bool>& values, std::string& out);
void EncodeDictString(std::span<const std::string_view> values, std::string& out);
void EncodeBytes(std::span<const std::string_view> values, std::string& out);
void EncodeFixed16(std::span<const std::string_view> values, std::string& out);  // each 16 bytes
void EncodeFixed32(std::span<const uint32_t> values, std::string& out);
void EncodeListDictString(std::span<const std::vector<std::string_view>> rows, std::string& out);
// The same from flat input: row i has lengths[i] values, taken in order from `values`.
void EncodeListDictString(std::span<const uint32_t> lengths,
                          std::span<const std::string_view> values, std::string& out);
void EncodeListDouble(std::span<const std::vector<double>> rows, std::string& out);
void EncodeListDouble(std::span<const uint32_t> lengths, std::span<const double> values,
                      std::string& out);  // flat input, as for strings
void EncodeListBool(std::span<const std::vector<bool>> rows, std::string& out);
void EncodeListBool(std::span<const uint32_t> lengths, const std::vector<bool>& values,
                    std::string& out);  // flat input, as for strings

// A kDictString payload built value by value (what EncodeDictString makes
// of the same values), for a writer that feeds it rows as it passes them.
// Distinct values first, then only those are sorted (most columns repeat few
// values): the distinct values are found with an open-addressing table of
// codes keyed by the values' hashes (common/bytes_hash.h, inline: most
// values are short), no allocation per value and a full compare only when
// the hashes are equal. The values are viewed, not copied:
// they must outlive Finish.
class DictStringEncoder {
 public:
  DictStringEncoder();
  void Reserve(size_t values) { first_codes_.reserve(values); }
  void Add(std::string_view value);
  // Appends the payload (dictionary, then a code per value added) to `out`
  // and starts over empty.
  void Finish(std::string& out);

 private:
  std::vector<std::string_view> dict_;
  std::vector<uint64_t> dict_hashes_;
  std::vector<uint32_t> slots_;  // code + 1; 0 = empty
  size_t mask_;
  std::vector<uint32_t> first_codes_;  // per value, its code in order of first appearance
};

// Decoders: `rows` is the column's row count from the directory.
Status DecodeInt64(std::string_view in, size_t rows, Int64Column& out);
Status DecodeOptionalInt64(std::string_view in, size_t rows, OptionalInt64Column& out);
Status DecodeDouble(std::string_view in, size_t rows, DoubleColumn& out);
Status DecodeOptionalDouble(std::string_view in, size_t rows, OptionalDoubleColumn& out);
Status DecodeBool(std::string_view in, size_t rows, BoolColumn& out);
Status DecodeDictString(std::string_view in, size_t rows, DictStringColumn& out);
Status DecodeBytes(std::string_view in, size_t rows, BytesColumn& out);
// The same, reusing the payload's buffer for the values (no second copy of
// a large column).
Status DecodeBytesInPlace(std::string in, size_t rows, BytesColumn& out);
Status DecodeFixed16(std::string_view in, size_t rows, Fixed16Column& out);
Status DecodeFixed32(std::string_view in, size_t rows, Fixed32Column& out);
Status DecodeListDictString(std::string_view in, size_t rows, ListDictStringColumn& out);
Status DecodeListDouble(std::string_view in, size_t rows, ListDoubleColumn& out);
Status DecodeListBool(std::string_view in, size_t rows, ListBoolColumn& out);

// Vectorized predicates: set the bit of every row that matches in `selection`
// (sized to the rows; bits already set stay set).
void SelectGreater(const OptionalInt64Column& c, int64_t x, Bitmap& selection);
void SelectGreater(const OptionalDoubleColumn& c, double x, Bitmap& selection);
// Rows whose string equals `value`: one dictionary lookup, then code compares.
void SelectEquals(const DictStringColumn& c, std::string_view value, Bitmap& selection);
// Rows with at least one value equal to `value`.
void SelectContains(const ListDictStringColumn& c, std::string_view value, Bitmap& selection);
void SelectContains(const ListDoubleColumn& c, double value, Bitmap& selection);
void SelectContains(const ListBoolColumn& c, bool value, Bitmap& selection);

}  // namespace roentgen::store::block
