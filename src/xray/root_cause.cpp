// Root-cause paths of a trace; the rules are in root_cause.h.
#include "xray/root_cause.h"

#include <algorithm>
#include <array>
#include <span>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace roentgen::xray {
namespace {

bool StartsBefore(const Entity* a, const Entity* b) {
  return std::tie(a->start_time_us, a->id) < std::tie(b->start_time_us, b->id);
}

// A stable sort of a few children without std::stable_sort's buffer allocation.
void StableSortByStart(std::vector<const Entity*>& v, size_t begin) {
  const size_t n = v.size() - begin;
  if (n < 2) return;
  if (n > 32) {
    std::stable_sort(v.begin() + static_cast<std::ptrdiff_t>(begin), v.end(), StartsBefore);
    return;
  }
  for (size_t i = begin + 1; i < v.size(); ++i) {
    const Entity* x = v[i];
    size_t j = i;
    for (; j > begin && StartsBefore(x, v[j - 1]); --j) v[j] = v[j - 1];
    v[j] = x;
  }
}

// Pointer-keyed map for the walks below: a linear scan while small (the usual
// case: a handful of entries, no allocation beyond the vector), a hash index
// once it grows.
template <typename V>
class PtrMap {
 public:
  V* Find(const Entity* key) {
    if (!index_.empty()) {
      auto it = index_.find(key);
      return it == index_.end() ? nullptr : &entries_[it->second].second;
    }
    for (auto& [k, v] : entries_) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  // `key` must not be present.
  V& Insert(const Entity* key, V value) {
    entries_.emplace_back(key, std::move(value));
    if (!index_.empty()) {
      index_.emplace(key, entries_.size() - 1);
    } else if (entries_.size() > kLinearMax) {
      for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].first, i);
    }
    return entries_.back().second;
  }

 private:
  static constexpr size_t kLinearMax = 16;
  std::vector<std::pair<const Entity*, V>> entries_;
  std::unordered_map<const Entity*, size_t> index_;
};

// The trace as a call tree: children of each entity, and which are segments.
class CallTree {
 public:
  explicit CallTree(const AssembledTrace& trace) : segments_(trace.segments.pointers()) {
    size_t with_parent = 0;
    for (const Entity* segment : segments_) with_parent += segment->parent_id ? 1 : 0;
    callees_.reserve(with_parent);
    for (uint32_t i = 0; i < segments_.size(); ++i) {
      if (segments_[i]->parent_id) callees_.emplace_back(segments_[i]->parent_id->value, i);
    }
    // By parent id, then segment order.
    std::sort(callees_.begin(), callees_.end());
    // The segments are views of documents or cells of their own, anywhere in
    // memory: a scan finds one among a few, a sorted copy among many.
    if (segments_.size() > kScanMax) {
      sorted_segments_ = segments_;
      std::sort(sorted_segments_.begin(), sorted_segments_.end());
    }
  }

  // Appends the children of `entity` to `out`, in (start, id) order; elements
  // before out.size() are left alone.
  void AppendChildren(const Entity& entity, std::vector<const Entity*>& out) const {
    const size_t begin = out.size();
    for (const Entity& child : entity.subsegments) out.push_back(&child);
    if (!callees_.empty()) {
      for (size_t at = FirstCallee(entity);
           at < callees_.size() && callees_[at].first == entity.id.value; ++at) {
        const Entity* callee = segments_[callees_[at].second];
        if (callee != &entity) out.push_back(callee);
      }
    }
    StableSortByStart(out, begin);
  }

  // Calls `visit(child)` for each child of `entity` as AppendChildren lists
  // them before their sort: subsegments, then callees in segment order.
  template <typename Visit>
  void ForEachChild(const Entity& entity, Visit visit) const {
    for (const Entity& child : entity.subsegments) visit(&child);
    if (callees_.empty()) return;
    for (size_t at = FirstCallee(entity);
         at < callees_.size() && callees_[at].first == entity.id.value; ++at) {
      const Entity* callee = segments_[callees_[at].second];
      if (callee != &entity) visit(callee);
    }
  }

  bool IsSegment(const Entity* entity) const {
    if (segments_.size() <= kScanMax) {
      return std::find(segments_.begin(), segments_.end(), entity) != segments_.end();
    }
    return std::binary_search(sorted_segments_.begin(), sorted_segments_.end(), entity);
  }
  bool HasCallee(const Entity& entity) const {
    const size_t at = FirstCallee(entity);
    return at < callees_.size() && callees_[at].first == entity.id.value;
  }

 private:
  static constexpr size_t kScanMax = 16;

  size_t FirstCallee(const Entity& entity) const {
    auto it = std::lower_bound(callees_.begin(), callees_.end(),
                               std::pair<uint64_t, uint32_t>(entity.id.value, 0));
    return static_cast<size_t>(it - callees_.begin());
  }

  const std::vector<const Entity*>& segments_;
  std::vector<const Entity*> sorted_segments_;          // only when many
  std::vector<std::pair<uint64_t, uint32_t>> callees_;  // (parent id, segment index), sorted
};

// Length of the longest chain below `entity` whose members all satisfy `flag`,
// and the child that starts it. An entity still being explored is on the
// current path: that guards against parent-id cycles.
template <typename Flag>
class DeepestChain {
 public:
  DeepestChain(const CallTree& tree, Flag flag) : tree_(tree), flag_(flag) {}

  std::vector<const Entity*> From(const Entity& root) {
    std::vector<const Entity*> path{&root};
    Depth(root);
    for (const Entity* at = &root;;) {
      const Visit* visit = visits_.Find(at);
      if (visit == nullptr || visit->next == nullptr) break;
      at = visit->next;
      path.push_back(at);
    }
    return path;
  }

 private:
  struct Visit {
    bool on_path = true;
    size_t depth = 0;
    const Entity* next = nullptr;
  };

  size_t Depth(const Entity& entity) {
    if (const Visit* visit = visits_.Find(&entity)) return visit->on_path ? 0 : visit->depth;
    visits_.Insert(&entity, Visit{});
    size_t best = 0;
    const Entity* best_child = nullptr;
    // The children sit in one buffer shared by the recursion: this call's are
    // [begin, end); deeper calls append after them and truncate back.
    const size_t begin = children_.size();
    tree_.AppendChildren(entity, children_);
    const size_t end = children_.size();
    for (size_t i = begin; i < end; ++i) {
      const Entity* child = children_[i];
      if (!flag_(*child)) continue;
      if (const Visit* visit = visits_.Find(child); visit != nullptr && visit->on_path) continue;
      const size_t depth = 1 + Depth(*child);
      if (depth > best) {
        best = depth;
        best_child = child;
      }
    }
    children_.resize(begin);
    Visit* visit = visits_.Find(&entity);
    visit->on_path = false;
    visit->depth = best;
    visit->next = best_child;
    return best;
  }

  const CallTree& tree_;
  Flag flag_;
  PtrMap<Visit> visits_;
  std::vector<const Entity*> children_;
};

template <typename Flag>
bool AnyOtherHas(const Entity& entity, const Entity& root, Flag flag) {
  if (&entity != &root && flag(entity)) return true;
  for (const Entity& child : entity.subsegments) {
    if (AnyOtherHas(child, root, flag)) return true;
  }
  return false;
}

std::optional<int64_t> DurationOf(const Entity& entity) {
  if (!entity.end_time_us) return std::nullopt;
  return *entity.end_time_us - entity.start_time_us;
}

// A path of entities from the root: in place while short (the usual two or
// three entities), so that a summary allocates nothing it frees again.
class RootCausePath {
 public:
  void push_back(const Entity* entity) {
    if (heap_.empty() && size_ < inline_.size()) {
      inline_[size_++] = entity;
      return;
    }
    if (heap_.empty()) heap_.assign(inline_.begin(), inline_.begin() + size_);
    heap_.push_back(entity);
    ++size_;
  }
  size_t size() const { return size_; }
  std::span<const Entity* const> entities() const {
    return heap_.empty() ? std::span<const Entity* const>(inline_.data(), size_)
                         : std::span<const Entity* const>(heap_);
  }
  const Entity* const* begin() const { return entities().data(); }
  const Entity* const* end() const { return entities().data() + size_; }

 private:
  std::array<const Entity*, 8> inline_{};
  std::vector<const Entity*> heap_;  // all of the path, once it outgrows inline_
  size_t size_ = 0;
};

RootCausePath SlowestPath(const CallTree& tree, const Entity& root) {
  RootCausePath path;
  path.push_back(&root);
  // What is on the path is seen: a scan of the path while it is short.
  std::unordered_set<const Entity*> seen;
  auto is_seen = [&](const Entity* e) {
    if (path.size() <= 32) return std::find(path.begin(), path.end(), e) != path.end();
    if (seen.empty()) seen.insert(path.begin(), path.end());
    return seen.contains(e);
  };
  for (const Entity* at = &root;;) {
    // The first of the longest children in AppendChildren's order, found
    // without building it: the longest, then the earliest (start, id), then
    // the first listed (ForEachChild lists them in the order the stable sort
    // keeps for equals).
    const Entity* slowest = nullptr;
    int64_t slowest_duration = -1;
    tree.ForEachChild(*at, [&](const Entity* child) {
      if (is_seen(child)) return;
      const int64_t duration = DurationOf(*child).value_or(-1);
      if (slowest == nullptr || duration > slowest_duration ||
          (duration == slowest_duration && StartsBefore(child, slowest))) {
        slowest = child;
        slowest_duration = duration;
      }
    });
    if (slowest == nullptr) return path;
    path.push_back(slowest);
    if (!seen.empty()) seen.insert(slowest);
    at = slowest;
  }
}

bool IsRemote(const Entity& entity) {
  if (entity.namespace_ == "remote") return true;
  if (!entity.cause) return false;
  return std::any_of(entity.cause->exceptions.begin(), entity.cause->exceptions.end(),
                     [](const ExceptionInfo& e) { return e.remote; });
}

// The RootCauseService of SegmentServiceId(segment).
RootCauseService ServiceOf(const Entity& segment) {
  RootCauseService service;
  service.name = segment.name;
  service.names.reserve(1);
  service.names.push_back(segment.name);
  service.type = segment.origin;
  if (segment.aws) service.account_id = segment.aws->account_id;
  return service;
}

// Splits `path` into services and builds the entities. `coverage_of` may give
// each entity a coverage; `with_exceptions` lists the last entity's exceptions.
template <typename Coverage>
RootCause BuildRootCause(const CallTree& tree, std::span<const Entity* const> path,
                         Coverage coverage_of, bool with_exceptions, bool client_impacting) {
  RootCause cause;
  cause.client_impacting = client_impacting;
  // Exact sizes: one service per segment on the path (and the first entity),
  // plus one that may be inferred at the end.
  size_t services = 1;
  for (size_t i = 1; i < path.size(); ++i) services += tree.IsSegment(path[i]) ? 1 : 0;
  cause.services.reserve(services + 1);
  for (size_t i = 0; i < path.size(); ++i) {
    const Entity& entity = *path[i];
    if (i == 0 || tree.IsSegment(&entity)) {
      size_t steps = 1;
      while (i + steps < path.size() && !tree.IsSegment(path[i + steps])) ++steps;
      cause.services.push_back(ServiceOf(entity));
      cause.services.back().entity_path.reserve(steps);
    }
    RootCauseEntity step;
    step.name = entity.name;
    step.remote = IsRemote(entity);
    step.coverage = coverage_of(entity);
    if (with_exceptions && i + 1 == path.size() && entity.cause) {
      step.exceptions.reserve(entity.cause->exceptions.size());
      for (const ExceptionInfo& e : entity.cause->exceptions) {
        step.exceptions.push_back(RootCauseException{e.type, e.message});
      }
    }
    cause.services.back().entity_path.push_back(std::move(step));
  }
  const Entity& last = *path.back();
  if (path.size() > 1 && !tree.IsSegment(&last) && !tree.HasCallee(last)) {
    if (auto inferred = InferDownstreamServiceRef(last)) {
      ServiceId id = inferred->ToServiceId();
      RootCauseService service;
      service.name = std::move(id.name);
      service.names = std::move(id.names);
      service.type = std::move(id.type);
      service.account_id = std::move(id.account_id);
      service.inferred = true;
      RootCauseEntity step;
      step.name = service.name;
      step.remote = true;
      step.coverage = coverage_of(last);
      service.entity_path.push_back(std::move(step));
      cause.services.push_back(std::move(service));
    }
  }
  return cause;
}

std::optional<double> NoCoverage(const Entity&) { return std::nullopt; }

template <typename Flag>
std::optional<RootCause> FlagRootCause(const AssembledTrace& trace, const CallTree& tree,
                                       const Entity& root, Flag flag) {
  // The chain can only leave the root through another flagged entity, and only
  // segments and their subsegments are reachable from it: without one, the
  // path is the root alone, and the search is skipped.
  const bool others = std::any_of(trace.segments.begin(), trace.segments.end(),
                                  [&](const Entity& s) { return AnyOtherHas(s, root, flag); });
  if (!others) {
    if (!flag(root)) return std::nullopt;
    const Entity* const only_root[] = {&root};
    return BuildRootCause(tree, only_root, NoCoverage, /*with_exceptions=*/true, true);
  }
  DeepestChain<Flag> chain(tree, flag);
  std::vector<const Entity*> path = chain.From(root);
  if (path.size() == 1 && !flag(root)) return std::nullopt;
  return BuildRootCause(tree, path, NoCoverage, /*with_exceptions=*/true, flag(root));
}

}  // namespace

void ComputeRootCauses(const AssembledTrace& trace, const Entity& root,
                       std::optional<int64_t> trace_duration_us, TraceSummary& summary) {
  const CallTree tree(trace);
  if (auto cause = FlagRootCause(trace, tree, root, [](const Entity& e) { return e.fault; })) {
    summary.fault_root_causes.push_back(std::move(*cause));
  }
  if (auto cause = FlagRootCause(trace, tree, root, [](const Entity& e) { return e.error; })) {
    summary.error_root_causes.push_back(std::move(*cause));
  }
  if (!root.end_time_us) return;
  auto coverage = [trace_duration_us](const Entity& entity) -> std::optional<double> {
    auto duration = DurationOf(entity);
    if (!duration || !trace_duration_us || *trace_duration_us <= 0) return std::nullopt;
    return static_cast<double>(*duration) / static_cast<double>(*trace_duration_us);
  };
  const RootCausePath slowest = SlowestPath(tree, root);
  summary.response_time_root_causes.push_back(BuildRootCause(tree, slowest.entities(), coverage,
                                                             /*with_exceptions=*/false,
                                                             /*client_impacting=*/true));
}

}  // namespace roentgen::xray
