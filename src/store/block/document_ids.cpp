#include "store/block/document_ids.h"

#include <algorithm>
#include <cstring>

namespace roentgen::store::block {

namespace {

// The text without the trace id: two pieces of the document's text, read
// in place rather than copied into a string of their own.
struct ElidedText {
  std::string_view head;  // before the trace id (the whole text without one)
  std::string_view tail;  // after it
  size_t size() const { return head.size() + tail.size(); }
  // The first occurrence of `needle` (not empty, shorter than 32 bytes) in
  // head + tail, or npos.
  size_t Find(std::string_view needle) const {
    const size_t at = head.find(needle);
    if (at != std::string_view::npos || tail.empty()) return at;
    // An occurrence across the seam starts in head's last size − 1 bytes.
    const size_t from_head = std::min(head.size(), needle.size() - 1);
    const size_t from_tail = std::min(tail.size(), needle.size() - 1);
    char seam[64];
    std::memcpy(seam, head.data() + head.size() - from_head, from_head);
    std::memcpy(seam + from_head, tail.data(), from_tail);
    const size_t in_seam = std::string_view(seam, from_head + from_tail).find(needle);
    if (in_seam != std::string_view::npos && in_seam < from_head) {
      return head.size() - from_head + in_seam;
    }
    const size_t in_tail = tail.find(needle);
    return in_tail == std::string_view::npos ? in_tail : head.size() + in_tail;
  }
  // Appends bytes [from, to) of head + tail.
  void Append(size_t from, size_t to, std::string& out) const {
    if (from < head.size()) out.append(head.substr(from, std::min(to, head.size()) - from));
    if (to > head.size()) {
      const size_t begin = std::max(from, head.size()) - head.size();
      out.append(tail.substr(begin, to - head.size() - begin));
    }
  }
};

}  // namespace

void PutDocumentEliding(const StoredDocument& doc, std::string_view trace_text, std::string& out) {
  coding::PutFixed64(doc.entity_id.value, out);
  coding::PutSigned(doc.received_us, out);
  const std::string_view raw = doc.raw;
  const size_t trace_at = trace_text.empty() ? std::string_view::npos : raw.find(trace_text);
  ElidedText text{raw, {}};
  if (trace_at != std::string_view::npos) {
    text.head = raw.substr(0, trace_at);
    text.tail = raw.substr(trace_at + trace_text.size());
  }
  coding::PutVarint(trace_at == std::string_view::npos ? 0 : trace_at + 1, out);
  char entity_digits[xray::SegmentId::kTextSize];
  doc.entity_id.WriteText(entity_digits);
  const std::string_view entity_text(entity_digits, sizeof entity_digits);
  const size_t entity_at = text.Find(entity_text);
  coding::PutVarint(entity_at == std::string_view::npos ? 0 : entity_at + 1, out);
  if (entity_at == std::string_view::npos) {
    coding::PutVarint(text.size(), out);
    out.append(text.head);
    out.append(text.tail);
    return;
  }
  coding::PutVarint(text.size() - entity_text.size(), out);
  text.Append(0, entity_at, out);
  text.Append(entity_at + entity_text.size(), text.size(), out);
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
