#include "ingest/trace_cache.h"

#include <utility>

namespace roentgen::ingest {
namespace {

size_t EntityCount(const xray::Entity& e) {
  size_t n = 1;
  for (const xray::Entity& sub : e.subsegments) n += EntityCount(sub);
  return n;
}

}  // namespace

size_t EstimateBytes(const xray::ReceivedDocument& doc) {
  // The entities' strings hold roughly the document's text once more.
  return sizeof(xray::ReceivedDocument) + 2 * doc.doc.raw.size() +
         (EntityCount(doc.doc.entity) - 1) * sizeof(xray::Entity);
}

CachedTrace* TraceCache::Find(const xray::TraceId& id) {
  auto it = index_.find(id);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return &it->second->trace;
}

CachedTrace& TraceCache::Insert(const xray::TraceId& id, CachedTrace trace) {
  auto it = index_.find(id);
  if (it != index_.end()) {
    lru_.splice(lru_.begin(), lru_, it->second);
    total_bytes_ += trace.bytes - it->second->trace.bytes;
    it->second->trace = std::move(trace);
    return it->second->trace;
  }
  total_bytes_ += trace.bytes;
  lru_.push_front(Entry{id, std::move(trace)});
  index_.emplace(id, lru_.begin());
  return lru_.front().trace;
}

void TraceCache::Erase(const xray::TraceId& id) {
  auto it = index_.find(id);
  if (it == index_.end()) return;
  total_bytes_ -= it->second->trace.bytes;
  lru_.erase(it->second);
  index_.erase(it);
}

void TraceCache::SetBytes(CachedTrace& trace, size_t bytes) {
  total_bytes_ += bytes - trace.bytes;
  trace.bytes = bytes;
}

void TraceCache::EvictToCapacity() {
  while (!lru_.empty() && (index_.size() > capacity_ || total_bytes_ > max_bytes_)) {
    total_bytes_ -= lru_.back().trace.bytes;
    index_.erase(lru_.back().id);
    lru_.pop_back();
  }
}

}  // namespace roentgen::ingest
