// The writer's LRU cache of recently touched traces: the parsed documents of
// each trace (so a new segment of a cached trace is assembled without reading
// and re-parsing its siblings from the store) and the trace's current revision.
//
// Bounded by the number of traces and by an estimate of their memory (a parsed
// entity is large: the byte bound is what keeps a burst of big traces from
// exhausting memory). Entries are nodes of a list, so a pointer
// returned by Find/Insert stays valid until that entry is erased or evicted:
// the writer evicts only after a batch is committed, so pointers taken during
// one batch remain valid for the whole batch.
//
// Thread safety: none; owned and used by the writer thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "graph/trace_graph.h"
#include "xray/ids.h"
#include "xray/trace.h"

namespace roentgen::ingest {

struct CachedTrace {
  // One document per entity id (the stored version), in arrival order; each
  // on the heap as WriteItem brings it.
  std::vector<std::unique_ptr<xray::ReceivedDocument>> docs;
  uint32_t revision = 0;  // the revision of the stored trace record, 0 if none
  bool indexed = true;    // the stored record's (or, before one, the new trace's) indexing
  size_t bytes = 0;       // estimated memory, maintained through TraceCache::SetBytes
  // The graph of the stored trace record (what the rollups' Replace takes
  // back out when the trace changes), only when the writer maintains
  // service-graph rollups: the whole graph when loaded from the store; after
  // a write of this process only what the rollups read (graph::RollupCopyOf)
  // of a trace that looked unfinished, and otherwise none: the writer derives
  // it again from `docs`, which the record was derived from.
  std::optional<graph::TraceGraph> graph;
  // The start time of the stored trace record (with `graph`): where the
  // rollups' start-up rebuild finds it.
  int64_t start_us = 0;
};

// Approximate memory held by one parsed document: the raw text, the entity
// structs of it and its nested subsegments, and the strings copied into them.
size_t EstimateBytes(const xray::ReceivedDocument& doc);

class TraceCache {
 public:
  TraceCache(size_t capacity, size_t max_bytes) : capacity_(capacity), max_bytes_(max_bytes) {}

  // The cached trace, marked most recently used; nullptr on a miss.
  CachedTrace* Find(const xray::TraceId& id);
  // Inserts (or replaces) the entry and marks it most recently used. Does not
  // evict: call EvictToCapacity once pointers into the cache are no longer used.
  CachedTrace& Insert(const xray::TraceId& id, CachedTrace trace);
  void Erase(const xray::TraceId& id);
  // Records the new memory estimate of an entry of this cache.
  void SetBytes(CachedTrace& trace, size_t bytes);
  // Drops least recently used entries until at most `capacity` remain and
  // their estimated memory is at most `max_bytes`.
  void EvictToCapacity();

  size_t size() const { return index_.size(); }
  size_t bytes() const { return total_bytes_; }
  size_t capacity() const { return capacity_; }

 private:
  struct Entry {
    xray::TraceId id;
    CachedTrace trace;
  };
  const size_t capacity_;
  const size_t max_bytes_;
  size_t total_bytes_ = 0;
  std::list<Entry> lru_;  // front = most recently used
  std::unordered_map<xray::TraceId, std::list<Entry>::iterator, xray::TraceIdHash> index_;
};

}  // namespace roentgen::ingest
