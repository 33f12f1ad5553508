// Fuzzes the readers of block files (src/store/block): the column decoders on
// raw payloads, and whole files through BlockReader. A damaged block must
// give Status::Corruption, never a crash, an out-of-bounds read or a huge
// allocation.
//
// The first byte chooses: 1–12, a column encoding whose decoder reads the
// rest (two bytes of row count, then the payload); anything else, a block
// file (the rest), whose footer checksum is first recomputed over the footer
// the trailer claims, so the inputs reach the footer's structural checks
// instead of stopping at the checksum.
//
// Invariants: every failure is Corruption; a decoded int64 or dictionary
// string column re-encodes to a payload that decodes to the same values.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/coding.h"
#include "fuzz_check.h"
#include "store/block/summary_columns.h"

using namespace roentgen;
using namespace roentgen::store::block;

namespace {

void CheckFailure(const Status& s) { FUZZ_CHECK(s.ok() || s.code() == StatusCode::kCorruption); }

void FuzzColumn(uint8_t encoding, std::string_view in) {
  if (in.size() < 2) return;
  const size_t rows = static_cast<uint8_t>(in[0]) | (static_cast<size_t>(static_cast<uint8_t>(in[1])) << 8);
  const std::string_view payload = in.substr(2);
  switch (static_cast<ColumnEncoding>(encoding)) {
    case ColumnEncoding::kInt64Delta: {
      Int64Column c, again;
      const Status s = DecodeInt64(payload, rows, c);
      CheckFailure(s);
      if (!s.ok()) return;
      std::string out;
      EncodeInt64(c.values, out);
      FUZZ_CHECK(DecodeInt64(out, rows, again).ok() && again.values == c.values);
      return;
    }
    case ColumnEncoding::kOptionalInt64: {
      OptionalInt64Column c;
      return CheckFailure(DecodeOptionalInt64(payload, rows, c));
    }
    case ColumnEncoding::kDouble: {
      DoubleColumn c;
      return CheckFailure(DecodeDouble(payload, rows, c));
    }
    case ColumnEncoding::kOptionalDouble: {
      OptionalDoubleColumn c;
      return CheckFailure(DecodeOptionalDouble(payload, rows, c));
    }
    case ColumnEncoding::kBool: {
      BoolColumn c;
      return CheckFailure(DecodeBool(payload, rows, c));
    }
    case ColumnEncoding::kDictString: {
      DictStringColumn c, again;
      const Status s = DecodeDictString(payload, rows, c);
      CheckFailure(s);
      if (!s.ok()) return;
      std::vector<std::string_view> values(rows);
      for (size_t i = 0; i < rows; ++i) values[i] = c.Get(i);
      std::string out;
      EncodeDictString(values, out);
      FUZZ_CHECK(DecodeDictString(out, rows, again).ok());
      for (size_t i = 0; i < rows; ++i) FUZZ_CHECK(again.Get(i) == values[i]);
      return;
    }
    case ColumnEncoding::kBytes: {
      BytesColumn c;
      return CheckFailure(DecodeBytes(payload, rows, c));
    }
    case ColumnEncoding::kFixed16: {
      Fixed16Column c;
      return CheckFailure(DecodeFixed16(payload, rows, c));
    }
    case ColumnEncoding::kFixed32: {
      Fixed32Column c;
      return CheckFailure(DecodeFixed32(payload, rows, c));
    }
    case ColumnEncoding::kListDictString: {
      ListDictStringColumn c;
      return CheckFailure(DecodeListDictString(payload, rows, c));
    }
    case ColumnEncoding::kListDouble: {
      ListDoubleColumn c;
      return CheckFailure(DecodeListDouble(payload, rows, c));
    }
    case ColumnEncoding::kListBool: {
      ListBoolColumn c;
      return CheckFailure(DecodeListBool(payload, rows, c));
    }
  }
}

void FuzzFile(std::string bytes) {
  if (bytes.size() >= kMagicBytes + kTrailerBytes) {
    const size_t trailer = bytes.size() - kTrailerBytes;
    const uint32_t footer_len = coding::DecodeFixed32(bytes.data() + trailer);
    if (footer_len <= trailer - kMagicBytes) {
      char sum[8];
      coding::EncodeFixed64(sum, Checksum(std::string_view(bytes).substr(trailer - footer_len, footer_len)));
      bytes.replace(trailer + 4, 8, sum, 8);
    }
  }
  static const int fd = memfd_create("block", 0);
  FUZZ_CHECK(fd >= 0);
  FUZZ_CHECK(ftruncate(fd, 0) == 0);
  FUZZ_CHECK(pwrite(fd, bytes.data(), bytes.size(), 0) == static_cast<ssize_t>(bytes.size()));
  auto reader = BlockReader::Open("/proc/self/fd/" + std::to_string(fd));
  if (!reader.ok()) return CheckFailure(reader.status());
  const BlockReader& b = **reader;
  for (const auto& c : b.columns()) CheckFailure(b.ReadColumnPayload(c).status());
  std::vector<store::TraceRecord> records;
  CheckFailure(b.ReadAllRecords(records));
  CheckFailure(b.ReadAllRecords(records, /*with_graph=*/false));
  CheckFailure(b.RowsWithGraphNodeNamed("api").status());
  CheckFailure(b.RowsWithGraphNodeFlag(col::kGraphNodeFault).status());
  CheckFailure(b.ReadTraceIdIndex().status());
  for (uint32_t row = 0; row < b.row_count() && row < 64; ++row) {
    CheckFailure(b.ReadDocuments(row).status());
  }
  // Compaction's read: every page at once (version 3: the trace ids put
  // back from one read of the id column, the dictionary if any).
  CheckFailure(b.ReadAllDocuments().status());
  for (const auto& name : b.section_names()) CheckFailure(b.ReadSection(name).status());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] >= 1 && data[0] <= 12) {
    FuzzColumn(data[0], rest);
  } else {
    FuzzFile(std::string(rest));
  }
  return 0;
}
