#include "store/block/document_ids.h"

#include <algorithm>

namespace roentgen::store::block {

void PutDocumentEliding(const StoredDocument& doc, std::string_view trace_text, std::string& out) {
  coding::PutFixed64(doc.entity_id.value, out);
  coding::PutSigned(doc.received_us, out);
  std::string_view raw = doc.raw;
  std::string without_trace;
  const size_t trace_at = trace_text.empty() ? std::string_view::npos : raw.find(trace_text);
  if (trace_at != std::string_view::npos) {
    without_trace.reserve(raw.size() - trace_text.size());
    without_trace.append(raw.substr(0, trace_at));
    without_trace.append(raw.substr(trace_at + trace_text.size()));
    raw = without_trace;
  }
  coding::PutVarint(trace_at == std::string_view::npos ? 0 : trace_at + 1, out);
  const std::string entity_text = doc.entity_id.ToString();
  const size_t entity_at = raw.find(entity_text);
  coding::PutVarint(entity_at == std::string_view::npos ? 0 : entity_at + 1, out);
  if (entity_at == std::string_view::npos) {
    coding::PutLengthPrefixed(raw, out);
    return;
  }
  coding::PutVarint(raw.size() - entity_text.size(), out);
  out.append(raw.substr(0, entity_at));
  out.append(raw.substr(entity_at + entity_text.size()));
}

bool GetDocumentEliding(coding::Reader& r, std::string_view trace_text, StoredDocument& doc) {
  uint64_t entity = 0;
  uint64_t trace_at = 0;
  uint64_t entity_at = 0;
  std::string_view stored;
  if (!r.Fixed64(entity) || !r.Signed(doc.received_us) || !r.Varint(trace_at) ||
      !r.Varint(entity_at) || !r.LengthPrefixed(stored)) {
    return false;
  }
  doc.entity_id.value = entity;
  doc.raw.clear();
  if (entity_at > stored.size() + 1) return r.Fail("entity id position past the document");
  if (entity_at == 0) {
    doc.raw.assign(stored);
  } else {
    const std::string entity_text = doc.entity_id.ToString();
    doc.raw.reserve(stored.size() + entity_text.size() + trace_text.size());
    doc.raw.append(stored.substr(0, entity_at - 1));
    doc.raw.append(entity_text);
    doc.raw.append(stored.substr(entity_at - 1));
  }
  if (trace_at > doc.raw.size() + 1) return r.Fail("trace id position past the document");
  if (trace_at != 0) doc.raw.insert(trace_at - 1, trace_text);
  return true;
}

void TraceIdTextOfBytes(std::string_view id_bytes, std::string& out) {
  xray::TraceId id;
  std::copy_n(id_bytes.begin(), std::min(id_bytes.size(), id.bytes.size()), id.bytes.begin());
  out.clear();
  id.AppendTo(out);
}

}  // namespace roentgen::store::block
