#include "store/record_codec.h"

#include <fmt/format.h>

#include "store/codec_io.h"

namespace roentgen::store {
namespace {

using codec::GetOptional;
using codec::GetStrings;
using codec::GetVector;
using codec::PutDouble;
using codec::PutFixed64;
using codec::PutFlags;
using codec::PutOptional;
using codec::PutSigned;
using codec::PutString;
using codec::PutStrings;
using codec::PutVarint;
using codec::PutVector;
using codec::Reader;
using graph::Edge;
using graph::Node;
using graph::Observation;
using graph::TraceGraph;
using xray::ServiceId;

// The encoders are templates over the output (codec_io.h).
template <typename Out>
void PutServiceId(const ServiceId& s, Out& out) {
  // name, names, account, type
  codec::PutServiceStrings({s.name, s.names, s.account_id, s.type}, out);
}

// The same bytes as PutServiceId, without looking for a repeat: for a list of
// distinct services (a graph's nodes), where none would be found.
template <typename Out>
void PutDistinctServiceId(const ServiceId& s, Out& out) {
  PutString(s.name, out);
  PutStrings(s.names, out);
  PutString(s.account_id, out);
  PutString(s.type, out);
}

template <typename Out>
void PutAnnotationValue(const xray::AnnotationValue& v, Out& out) {
  out.push_back(static_cast<char>(v.index()));
  if (const auto* s = std::get_if<std::string>(&v)) {
    PutString(*s, out);
  } else if (const auto* d = std::get_if<double>(&v)) {
    PutDouble(*d, out);
  } else {
    out.push_back(std::get<bool>(v) ? 1 : 0);
  }
}

template <typename Out>
void PutRootCauseEntity(const xray::RootCauseEntity& e, Out& out) {
  PutString(e.name, out);
  PutVector(
      e.exceptions,
      [](const xray::RootCauseException& x, Out& o) {
        PutString(x.name, o);
        PutString(x.message, o);
      },
      out);
  PutOptional(e.coverage, PutDouble<Out>, out);
  PutFlags({e.remote}, out);
}

template <typename Out>
void PutRootCauseService(const xray::RootCauseService& s, Out& out) {
  // Not through ServiceRepeats: a record's root causes name each service
  // about once, and a miss there costs more than the look-ups.
  PutString(s.name, out);
  PutStrings(s.names, out);
  PutString(s.type, out);
  PutString(s.account_id, out);
  PutVector(s.entity_path, PutRootCauseEntity<Out>, out);
  PutFlags({s.inferred}, out);
}

template <typename Out>
void PutRootCause(const xray::RootCause& r, Out& out) {
  PutVector(r.services, PutRootCauseService<Out>, out);
  PutFlags({r.client_impacting}, out);
}

// `s`'s fields, except the annotations, users, service ids, entry point and
// root causes, which are `lists`'s (the same summary but for the block files'
// `details`, which blank the others without copying the summary).
template <typename Out>
void PutSummary(const xray::TraceSummary& s, const xray::TraceSummary& lists, Out& out) {
  out.append(reinterpret_cast<const char*>(s.id.bytes.data()), s.id.bytes.size());
  PutSigned(s.start_time_us, out);
  PutOptional(s.duration_us, PutSigned<Out>, out);
  PutOptional(s.response_time_us, PutSigned<Out>, out);
  // The indexing rule's decision is stored as "left out", so records written
  // before it (whose bit is 0) read as indexed.
  PutFlags({s.has_fault, s.has_error, s.has_throttle, s.is_partial, !s.indexed}, out);
  PutString(s.http.url, out);
  PutOptional(s.http.status, PutSigned<Out>, out);
  PutString(s.http.method, out);
  PutString(s.http.user_agent, out);
  PutString(s.http.client_ip, out);
  PutVector(
      lists.annotations,
      [](const xray::TraceAnnotation& a, Out& o) {
        PutString(a.key, o);
        PutVector(
            a.values,
            [](const xray::TraceAnnotationValue& v, Out& o2) {
              PutAnnotationValue(v.value, o2);
              PutVector(v.service_ids, PutServiceId<Out>, o2);
            },
            o);
      },
      out);
  PutVector(
      lists.users,
      [](const xray::TraceUser& u, Out& o) {
        PutString(u.user_name, o);
        PutVector(u.service_ids, PutServiceId<Out>, o);
      },
      out);
  PutVector(lists.service_ids, PutServiceId<Out>, out);
  PutStrings(s.resource_arns, out);
  PutStrings(s.instance_ids, out);
  PutStrings(s.availability_zones, out);
  PutOptional(lists.entry_point, PutServiceId<Out>, out);
  PutString(s.root_segment_name, out);
  PutString(s.root_segment_origin, out);
  PutVector(lists.fault_root_causes, PutRootCause<Out>, out);
  PutVector(lists.error_root_causes, PutRootCause<Out>, out);
  PutVector(lists.response_time_root_causes, PutRootCause<Out>, out);
  PutVarint(s.revision, out);
  PutSigned(s.updated_us, out);
  PutVarint(s.segment_count, out);
}

// An observation with `time_shift` added to its start and end (wrapping; 0
// for the times as they are).
template <typename Out>
void PutObservation(const Observation& o, uint64_t time_shift, Out& out) {
  auto shifted = [time_shift](int64_t t) {
    return static_cast<int64_t>(static_cast<uint64_t>(t) + time_shift);
  };
  PutSigned(shifted(o.start_us), out);
  out.push_back(o.end_us ? 1 : 0);  // as PutOptional
  if (o.end_us) PutSigned(shifted(*o.end_us), out);
  PutFlags({o.error, o.throttle, o.fault}, out);
  PutOptional(o.http_status, PutSigned<Out>, out);
  PutString(o.http_url, out);
  PutString(o.http_method, out);
  PutString(o.http_user_agent, out);
  PutString(o.http_client_ip, out);
  PutString(o.user, out);
  PutString(o.entity_name, out);
}

template <typename Out>
void PutGraph(const TraceGraph& g, uint64_t time_shift, Out& out) {
  auto put_observation = [time_shift](const Observation& ob, Out& o) {
    PutObservation(ob, time_shift, o);
  };
  PutVector(
      g.nodes,
      [&](const Node& n, Out& o) {
        PutDistinctServiceId(n.id, o);
        PutFlags({n.root, n.inferred, n.client}, o);
        PutVector(n.observations, put_observation, o);
      },
      out);
  PutVector(
      g.edges,
      [&](const Edge& e, Out& o) {
        PutVarint(e.from, o);
        PutVarint(e.to, o);
        PutVector(e.observations, put_observation, o);
      },
      out);
}

template <typename Out>
void PutRecord(const xray::TraceSummary& summary, const xray::TraceSummary& lists,
               const TraceGraph& graph, Out& out, uint64_t time_shift = 0) {
  out.push_back(static_cast<char>(kRecordFormatVersion));
  PutSummary(summary, lists, out);
  PutGraph(graph, time_shift, out);
}

bool GetSigned(Reader& r, int64_t& v) { return r.Signed(v); }
bool GetInt(Reader& r, int& v) { return r.Int(v); }
bool GetDouble(Reader& r, double& v) { return r.Double(v); }

bool GetServiceId(Reader& r, ServiceId& s) {
  return r.String(s.name) && GetStrings(r, s.names) && r.String(s.account_id) && r.String(s.type);
}

bool GetAnnotationValue(Reader& r, xray::AnnotationValue& v) {
  uint8_t tag = 0;
  if (!r.Byte(tag)) return false;
  switch (tag) {
    case 0: {
      std::string* s = std::get_if<std::string>(&v);  // reuse its storage
      return r.String(s != nullptr ? *s : v.emplace<std::string>());
    }
    case 1:
      return r.Double(v.emplace<double>());
    case 2: {
      uint8_t b = 0;
      if (!r.Byte(b)) return false;
      if (b > 1) return r.Fail("bad bool");
      v.emplace<bool>(b == 1);
      return true;
    }
    default:
      return r.Fail("unknown annotation value tag");
  }
}

bool GetRootCauseEntity(Reader& r, xray::RootCauseEntity& e) {
  return r.String(e.name) &&
         GetVector(r, e.exceptions,
                   [](Reader& rr, xray::RootCauseException& x) {
                     return rr.String(x.name) && rr.String(x.message);
                   }) &&
         GetOptional(r, e.coverage, GetDouble) && r.Flags({&e.remote});
}

bool GetRootCauseService(Reader& r, xray::RootCauseService& s) {
  return r.String(s.name) && GetStrings(r, s.names) && r.String(s.type) && r.String(s.account_id) &&
         GetVector(r, s.entity_path, GetRootCauseEntity) && r.Flags({&s.inferred});
}

bool GetRootCause(Reader& r, xray::RootCause& c) {
  return GetVector(r, c.services, GetRootCauseService) && r.Flags({&c.client_impacting});
}

bool GetAnnotation(Reader& r, xray::TraceAnnotation& a) {
  return r.String(a.key) && GetVector(r, a.values, [](Reader& rr, xray::TraceAnnotationValue& v) {
           return GetAnnotationValue(rr, v.value) && GetVector(rr, v.service_ids, GetServiceId);
         });
}

bool GetUser(Reader& r, xray::TraceUser& u) {
  return r.String(u.user_name) && GetVector(r, u.service_ids, GetServiceId);
}

bool GetSummary(Reader& r, xray::TraceSummary& s) {
  bool unindexed = false;
  return r.Bytes(s.id.bytes.size(), s.id.bytes.data()) && r.Signed(s.start_time_us) &&
         GetOptional(r, s.duration_us, GetSigned) &&
         GetOptional(r, s.response_time_us, GetSigned) &&
         r.Flags({&s.has_fault, &s.has_error, &s.has_throttle, &s.is_partial, &unindexed}) &&
         (s.indexed = !unindexed, true) && r.String(s.http.url) &&
         GetOptional(r, s.http.status, GetInt) && r.String(s.http.method) &&
         r.String(s.http.user_agent) && r.String(s.http.client_ip) &&
         GetVector(r, s.annotations, GetAnnotation) && GetVector(r, s.users, GetUser) &&
         GetVector(r, s.service_ids, GetServiceId) && GetStrings(r, s.resource_arns) &&
         GetStrings(r, s.instance_ids) && GetStrings(r, s.availability_zones) &&
         GetOptional(r, s.entry_point, GetServiceId) && r.String(s.root_segment_name) &&
         r.String(s.root_segment_origin) && GetVector(r, s.fault_root_causes, GetRootCause) &&
         GetVector(r, s.error_root_causes, GetRootCause) &&
         GetVector(r, s.response_time_root_causes, GetRootCause) && r.Uint32(s.revision) &&
         r.Signed(s.updated_us) && r.Size(s.segment_count);
}

bool GetObservation(Reader& r, Observation& o) {
  return r.Signed(o.start_us) && GetOptional(r, o.end_us, GetSigned) &&
         r.Flags({&o.error, &o.throttle, &o.fault}) && GetOptional(r, o.http_status, GetInt) &&
         r.String(o.http_url) && r.String(o.http_method) && r.String(o.http_user_agent) &&
         r.String(o.http_client_ip) && r.String(o.user) && r.String(o.entity_name);
}

bool GetGraph(Reader& r, TraceGraph& g) {
  if (!GetVector(r, g.nodes, [](Reader& rr, Node& n) {
        return GetServiceId(rr, n.id) && rr.Flags({&n.root, &n.inferred, &n.client}) &&
               GetVector(rr, n.observations, GetObservation);
      })) {
    return false;
  }
  const size_t node_count = g.nodes.size();
  return GetVector(r, g.edges, [node_count](Reader& rr, Edge& e) {
    if (!rr.Uint32(e.from) || !rr.Uint32(e.to)) return false;
    if (e.from >= node_count || e.to >= node_count) return rr.Fail("edge refers to a missing node");
    return GetVector(rr, e.observations, GetObservation);
  });
}

}  // namespace

namespace {

// The encoders' buffer and string table, kept per thread between records (a
// table is 3 KB, and most records' bytes fit the buffer of the one before).
thread_local codec::RecordWriter record_codec_writer;

codec::RecordWriter& StartRecordCodecWriter() {
  record_codec_writer.Start();
  return record_codec_writer;
}

}  // namespace

void EncodeTraceRecord(const TraceRecord& record, std::string& out) {
  codec::RecordWriter& writer = StartRecordCodecWriter();
  PutRecord(record.summary, record.summary, record.graph, writer);
  out.append(writer.bytes());
}

void EncodeTraceRecordDetails(const xray::TraceSummary& summary, const graph::TraceGraph& graph,
                              std::string& out) {
  static const xray::TraceSummary kBlank;
  codec::RecordWriter& writer = StartRecordCodecWriter();
  PutRecord(kBlank, summary, graph, writer);
  out.append(writer.bytes());
}

void EncodeTraceRecordRelative(const xray::TraceSummary& summary, const graph::TraceGraph& graph,
                               int64_t time_base, std::string& out) {
  codec::RecordWriter& writer = StartRecordCodecWriter();
  PutRecord(summary, summary, graph, writer, uint64_t{0} - static_cast<uint64_t>(time_base));
  out.append(writer.bytes());
}

Status DecodeTraceRecordInto(std::string_view bytes, TraceRecord& record, bool with_graph) {
  if (bytes.empty()) return Status::Corruption("trace record: empty");
  const auto version = static_cast<uint8_t>(bytes[0]);
  // Versions 1 (before the string table) and 2 (before the indexing flag)
  // are still read: stores keep records written by earlier releases until
  // they are rewritten or expire.
  if (version < 1 || version > kRecordFormatVersion) {
    return Status::Corruption(fmt::format("trace record: unknown format version {}", version));
  }
  Reader r(bytes, /*string_table=*/version >= 2);
  uint8_t version_byte = 0;
  r.Byte(version_byte);
  if (!GetSummary(r, record.summary)) return Status::Corruption("trace record: " + r.error());
  if (!with_graph) {
    record.graph.nodes.clear();
    record.graph.edges.clear();
    return Status::Ok();
  }
  if (!GetGraph(r, record.graph)) return Status::Corruption("trace record: " + r.error());
  if (r.remaining() != 0) {
    return Status::Corruption(fmt::format("trace record: {} trailing bytes", r.remaining()));
  }
  return Status::Ok();
}

Result<TraceRecord> DecodeTraceRecord(std::string_view bytes) {
  TraceRecord record;
  RG_RETURN_IF_ERROR(DecodeTraceRecordInto(bytes, record));
  return record;
}

void EncodeDocumentValue(int64_t received_us, std::string_view raw, std::string& out) {
  out.reserve(out.size() + kDocumentHeaderBytes + raw.size());
  out.push_back(static_cast<char>(kDocumentFormatVersion));
  PutFixed64(static_cast<uint64_t>(received_us), out);
  out.append(raw);
}

Result<DocumentValue> DecodeDocumentValue(std::string_view bytes) {
  if (bytes.size() < kDocumentHeaderBytes) return Status::Corruption("document: truncated header");
  if (static_cast<uint8_t>(bytes[0]) != kDocumentFormatVersion) {
    return Status::Corruption(
        fmt::format("document: unknown format version {}", static_cast<uint8_t>(bytes[0])));
  }
  uint64_t received = 0;
  for (int i = 0; i < 8; ++i) {
    received |= static_cast<uint64_t>(static_cast<uint8_t>(bytes[1 + i])) << (8 * i);
  }
  return DocumentValue{static_cast<int64_t>(received), bytes.substr(kDocumentHeaderBytes)};
}

}  // namespace roentgen::store
