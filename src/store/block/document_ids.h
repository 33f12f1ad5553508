// Format version 3's document pages leave out of each document the two ids
// the block holds anyway: the first occurrence of the row's trace id in its
// text form ("1-xxxxxxxx-…", xray::TraceId::ToString) and then the first
// occurrence of the document's entity id in its (16 lowercase hex digits,
// xray::SegmentId::ToString; the page stores the id as fixed64 already).
// Random hex compresses to about half its length, so the two cost about 20
// bytes a document; a position says where each goes back. A document that
// spells an id otherwise (upper case) keeps it in its text: byte-exact
// either way.
//
// Per document in a page: entity id fixed64 · received_us zigzag varint ·
// trace id position varint (0: not left out; else the byte offset + 1 in
// the text as it is with the entity id put back) · entity id position
// varint (0: not left out; else the offset + 1 in the stored text) · the
// stored text, length-prefixed.
// Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "common/coding.h"
#include "store/store.h"

namespace roentgen::store::block {

// Appends `doc` (of a row whose trace id's text is `trace_text`) in the
// version 3 page encoding above.
void PutDocumentEliding(const StoredDocument& doc, std::string_view trace_text, std::string& out);
// Reads one document written by PutDocumentEliding into `doc`; false (with
// `r` failed) on bytes that break the encoding, positions included.
bool GetDocumentEliding(coding::Reader& r, std::string_view trace_text, StoredDocument& doc);

// The text of the trace id whose 16 bytes are `id_bytes` (as the trace_id
// column holds them), in `out`.
void TraceIdTextOfBytes(std::string_view id_bytes, std::string& out);

}  // namespace roentgen::store::block
