// Root-cause paths of a trace; the rules are in root_cause.h.
#include "xray/root_cause.h"

#include <algorithm>
#include <functional>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace roentgen::xray {
namespace {

// The trace as a call tree: children of each entity, and which are segments.
class CallTree {
 public:
  explicit CallTree(const AssembledTrace& trace) {
    for (const Entity& segment : trace.segments) {
      segments_.insert(&segment);
      if (segment.parent_id) callees_[segment.parent_id->value].push_back(&segment);
    }
  }

  std::vector<const Entity*> Children(const Entity& entity) const {
    std::vector<const Entity*> children;
    for (const Entity& child : entity.subsegments) children.push_back(&child);
    auto it = callees_.find(entity.id.value);
    if (it != callees_.end()) {
      for (const Entity* callee : it->second) {
        if (callee != &entity) children.push_back(callee);
      }
    }
    std::stable_sort(children.begin(), children.end(), [](const Entity* a, const Entity* b) {
      return std::tie(a->start_time_us, a->id) < std::tie(b->start_time_us, b->id);
    });
    return children;
  }

  bool IsSegment(const Entity* entity) const { return segments_.contains(entity); }
  bool HasCallee(const Entity& entity) const { return callees_.contains(entity.id.value); }

 private:
  std::unordered_set<const Entity*> segments_;
  std::unordered_map<uint64_t, std::vector<const Entity*>> callees_;
};

using Predicate = std::function<bool(const Entity&)>;

// Length of the longest chain below `entity` whose members all satisfy `flag`,
// and the child that starts it. `on_path` guards against parent-id cycles.
class DeepestChain {
 public:
  DeepestChain(const CallTree& tree, Predicate flag) : tree_(tree), flag_(std::move(flag)) {}

  std::vector<const Entity*> From(const Entity& root) {
    std::vector<const Entity*> path{&root};
    Depth(root);
    for (const Entity* at = &root; next_.contains(at) && next_[at] != nullptr;) {
      at = next_[at];
      path.push_back(at);
    }
    return path;
  }

 private:
  size_t Depth(const Entity& entity) {
    if (auto it = depth_.find(&entity); it != depth_.end()) return it->second;
    if (!on_path_.insert(&entity).second) return 0;
    size_t best = 0;
    const Entity* best_child = nullptr;
    for (const Entity* child : tree_.Children(entity)) {
      if (!flag_(*child) || on_path_.contains(child)) continue;
      const size_t depth = 1 + Depth(*child);
      if (depth > best) {
        best = depth;
        best_child = child;
      }
    }
    on_path_.erase(&entity);
    next_[&entity] = best_child;
    depth_[&entity] = best;
    return best;
  }

  const CallTree& tree_;
  Predicate flag_;
  std::unordered_map<const Entity*, size_t> depth_;
  std::unordered_map<const Entity*, const Entity*> next_;
  std::unordered_set<const Entity*> on_path_;
};

std::optional<int64_t> DurationOf(const Entity& entity) {
  if (!entity.end_time_us) return std::nullopt;
  return *entity.end_time_us - entity.start_time_us;
}

std::vector<const Entity*> SlowestPath(const CallTree& tree, const Entity& root) {
  std::vector<const Entity*> path{&root};
  std::unordered_set<const Entity*> seen{&root};
  for (const Entity* at = &root;;) {
    const Entity* slowest = nullptr;
    int64_t slowest_duration = -1;
    for (const Entity* child : tree.Children(*at)) {
      if (seen.contains(child)) continue;
      const int64_t duration = DurationOf(*child).value_or(-1);
      if (slowest == nullptr || duration > slowest_duration) {
        slowest = child;
        slowest_duration = duration;
      }
    }
    if (slowest == nullptr) return path;
    seen.insert(slowest);
    path.push_back(slowest);
    at = slowest;
  }
}

bool IsRemote(const Entity& entity) {
  if (entity.namespace_ == "remote") return true;
  if (!entity.cause) return false;
  return std::any_of(entity.cause->exceptions.begin(), entity.cause->exceptions.end(),
                     [](const ExceptionInfo& e) { return e.remote; });
}

RootCauseService ServiceOf(const Entity& segment) {
  const ServiceId id = SegmentServiceId(segment);
  RootCauseService service;
  service.name = id.name;
  service.names = id.names;
  service.type = id.type;
  service.account_id = id.account_id;
  return service;
}

// Splits `path` into services and builds the entities. `coverage_of` may give
// each entity a coverage; `with_exceptions` lists the last entity's exceptions.
RootCause BuildRootCause(const CallTree& tree, const std::vector<const Entity*>& path,
                         const std::function<std::optional<double>(const Entity&)>& coverage_of,
                         bool with_exceptions, bool client_impacting) {
  RootCause cause;
  cause.client_impacting = client_impacting;
  for (size_t i = 0; i < path.size(); ++i) {
    const Entity& entity = *path[i];
    if (i == 0 || tree.IsSegment(&entity)) cause.services.push_back(ServiceOf(entity));
    RootCauseEntity step;
    step.name = entity.name;
    step.remote = IsRemote(entity);
    step.coverage = coverage_of(entity);
    if (with_exceptions && i + 1 == path.size() && entity.cause) {
      for (const ExceptionInfo& e : entity.cause->exceptions) {
        step.exceptions.push_back(RootCauseException{e.type, e.message});
      }
    }
    cause.services.back().entity_path.push_back(std::move(step));
  }
  const Entity& last = *path.back();
  if (path.size() > 1 && !tree.IsSegment(&last) && !tree.HasCallee(last)) {
    if (auto inferred = InferDownstreamService(last)) {
      RootCauseService service;
      service.name = inferred->name;
      service.names = inferred->names;
      service.type = inferred->type;
      service.account_id = inferred->account_id;
      service.inferred = true;
      RootCauseEntity step;
      step.name = inferred->name;
      step.remote = true;
      step.coverage = coverage_of(last);
      service.entity_path.push_back(std::move(step));
      cause.services.push_back(std::move(service));
    }
  }
  return cause;
}

std::optional<RootCause> FlagRootCause(const CallTree& tree, const Entity& root,
                                       const Predicate& flag) {
  DeepestChain chain(tree, flag);
  std::vector<const Entity*> path = chain.From(root);
  if (path.size() == 1 && !flag(root)) return std::nullopt;
  auto no_coverage = [](const Entity&) -> std::optional<double> { return std::nullopt; };
  return BuildRootCause(tree, path, no_coverage, /*with_exceptions=*/true, flag(root));
}

}  // namespace

void ComputeRootCauses(const AssembledTrace& trace, const Entity& root,
                       std::optional<int64_t> trace_duration_us, TraceSummary& summary) {
  const CallTree tree(trace);
  if (auto cause = FlagRootCause(tree, root, [](const Entity& e) { return e.fault; })) {
    summary.fault_root_causes.push_back(std::move(*cause));
  }
  if (auto cause = FlagRootCause(tree, root, [](const Entity& e) { return e.error; })) {
    summary.error_root_causes.push_back(std::move(*cause));
  }
  if (!root.end_time_us) return;
  auto coverage = [trace_duration_us](const Entity& entity) -> std::optional<double> {
    auto duration = DurationOf(entity);
    if (!duration || !trace_duration_us || *trace_duration_us <= 0) return std::nullopt;
    return static_cast<double>(*duration) / static_cast<double>(*trace_duration_us);
  };
  summary.response_time_root_causes.push_back(BuildRootCause(tree, SlowestPath(tree, root),
                                                             coverage, /*with_exceptions=*/false,
                                                             /*client_impacting=*/true));
}

}  // namespace roentgen::xray
