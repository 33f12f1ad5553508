// Fuzzes the decoders of the store's values (src/store/record_codec.h): a
// trace record (summary + trace graph) and a document value, as read back
// from RocksDB. A damaged store file must give Status::Corruption, never a
// crash or an out-of-bounds read.
//
// Invariant: a record that decodes re-encodes to bytes that decode to the
// same encoding.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "store/record_codec.h"

using namespace roentgen;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  Result<store::DocumentValue> document = store::DecodeDocumentValue(bytes);
  if (document.ok()) FUZZ_CHECK(document->raw.size() + store::kDocumentHeaderBytes == size);

  static store::TraceRecord reused;
  (void)store::DecodeTraceRecordInto(bytes, reused, /*with_graph=*/false);
  Result<store::TraceRecord> record = store::DecodeTraceRecord(bytes);
  if (!record.ok()) {
    FUZZ_CHECK(record.status().code() == StatusCode::kCorruption);
    return 0;
  }
  std::string encoded;
  store::EncodeTraceRecord(*record, encoded);
  Result<store::TraceRecord> again = store::DecodeTraceRecord(encoded);
  FUZZ_CHECK(again.ok());
  std::string reencoded;
  store::EncodeTraceRecord(*again, reencoded);
  FUZZ_CHECK(reencoded == encoded);
  return 0;
}
