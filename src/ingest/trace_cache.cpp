#include "ingest/trace_cache.h"

#include <utility>

namespace roentgen::ingest {

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
    it->second->trace = std::move(trace);
    return it->second->trace;
  }
  lru_.push_front(Entry{id, std::move(trace)});
  index_.emplace(id, lru_.begin());
  return lru_.front().trace;
}

void TraceCache::Erase(const xray::TraceId& id) {
  auto it = index_.find(id);
  if (it == index_.end()) return;
  lru_.erase(it->second);
  index_.erase(it);
}

void TraceCache::EvictToCapacity() {
  while (index_.size() > capacity_) {
    index_.erase(lru_.back().id);
    lru_.pop_back();
  }
}

}  // namespace roentgen::ingest
