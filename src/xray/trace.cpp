// Trace assembly: version selection, splicing of independent subsegments, and
// the choice of the root segment. See trace.h for the contract.
//
// Splicing rules (ours where X-Ray states none):
// - An independent subsegment is appended to the `subsegments` of the entity
//   whose id is its parent_id, wherever that entity is nested, after the
//   parent's own nested subsegments; spliced siblings are ordered by (start, id).
// - Chains (an independent subsegment whose parent is another independent
//   subsegment) are followed to any depth, whatever order the documents came in.
// - If the parent already holds a direct child with the same id (the segment was
//   also sent with it nested), the nested copy is kept and the independent one
//   dropped.
// - Independent subsegments that cannot be reached from a segment become
//   orphans: each orphan root (parent not present) carries its own chain; a
//   cycle of parent ids is broken at its earliest member, which becomes an
//   orphan root. Each independent subsegment is placed at most once.
//
// Copies: a segment whose tree receives no independent subsegment is the
// document's own entity, viewed (EntityList); one that receives some is copied
// and spliced; independent subsegments are copied (they are moved into trees).
#include "xray/trace.h"

#include <algorithm>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace roentgen::xray {
namespace {

// True when `candidate` should replace `current` as the version of one entity.
bool Supersedes(const ReceivedDocument& candidate, const ReceivedDocument& current) {
  const bool candidate_complete = !candidate.doc.entity.in_progress;
  const bool current_complete = !current.doc.entity.in_progress;
  if (candidate_complete != current_complete) return candidate_complete;
  return candidate.received_us >= current.received_us;
}

bool StartsBefore(const Entity& a, const Entity& b) {
  return std::tie(a.start_time_us, a.id) < std::tie(b.start_time_us, b.id);
}

bool HasDirectChild(const Entity& parent, SegmentId id) {
  return std::any_of(parent.subsegments.begin(), parent.subsegments.end(),
                     [&](const Entity& child) { return child.id == id; });
}

// Owns the independent subsegments while they are being placed.
class Splicer {
 public:
  explicit Splicer(std::vector<Entity> independents) : pending_(std::move(independents)) {
    std::sort(pending_.begin(), pending_.end(), StartsBefore);
    placed_.assign(pending_.size(), false);
    by_parent_.reserve(pending_.size());
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (pending_[i].parent_id) by_parent_.emplace_back(pending_[i].parent_id->value, i);
    }
    // By parent, then index: each parent's children in (start, id) order.
    std::sort(by_parent_.begin(), by_parent_.end());
  }

  // Splices every reachable independent subsegment into `node`'s tree.
  void Attach(Entity& node) {
    const size_t own = node.subsegments.size();
    for (size_t i = 0; i < own; ++i) Attach(node.subsegments[i]);
    const uint64_t id = node.id.value;
    for (size_t at = FirstChild(id); at < by_parent_.size() && by_parent_[at].first == id; ++at) {
      const size_t index = by_parent_[at].second;
      if (placed_[index]) continue;
      placed_[index] = true;
      if (HasDirectChild(node, pending_[index].id)) continue;
      node.subsegments.push_back(std::move(pending_[index]));
      Attach(node.subsegments.back());
    }
  }

  // Whether Attach would change `node`'s tree: some entity in it is the
  // parent of an independent subsegment (placed or not, so at worst a tree is
  // copied that Attach then leaves as it was).
  bool Receives(const Entity& node) const {
    const size_t at = FirstChild(node.id.value);
    if (at < by_parent_.size() && by_parent_[at].first == node.id.value) return true;
    return std::any_of(node.subsegments.begin(), node.subsegments.end(),
                       [this](const Entity& child) { return Receives(child); });
  }

  // Moves what could not be attached into `orphans`, each root with its chain.
  void CollectOrphans(EntityList& orphans) {
    std::vector<uint64_t> unplaced_ids;
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (!placed_[i]) unplaced_ids.push_back(pending_[i].id.value);
    }
    if (unplaced_ids.empty()) return;
    std::sort(unplaced_ids.begin(), unplaced_ids.end());
    // Roots first: their parent is not among the unplaced subsegments.
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (placed_[i]) continue;
      const auto& parent = pending_[i].parent_id;
      if (parent && std::binary_search(unplaced_ids.begin(), unplaced_ids.end(), parent->value)) {
        continue;
      }
      TakeAsOrphan(i, orphans);
    }
    // What is left sits on cycles: break each at its earliest member.
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (!placed_[i]) TakeAsOrphan(i, orphans);
    }
  }

 private:
  size_t FirstChild(uint64_t parent) const {
    auto it = std::lower_bound(by_parent_.begin(), by_parent_.end(),
                               std::pair<uint64_t, size_t>(parent, 0));
    return static_cast<size_t>(it - by_parent_.begin());
  }

  void TakeAsOrphan(size_t index, EntityList& orphans) {
    placed_[index] = true;
    Entity orphan = std::move(pending_[index]);
    Attach(orphan);
    orphans.push_back(std::move(orphan));
  }

  std::vector<Entity> pending_;  // sorted by (start, id)
  std::vector<bool> placed_;
  std::vector<std::pair<uint64_t, size_t>> by_parent_;  // (parent id, index), sorted
};

void CollectIds(const Entity& entity, std::unordered_set<uint64_t>& ids) {
  ids.insert(entity.id.value);
  for (const Entity& child : entity.subsegments) CollectIds(child, ids);
}

}  // namespace

EntityList::EntityList(std::initializer_list<Entity> entities) {
  items_.reserve(entities.size());
  for (const Entity& entity : entities) push_back(entity);
}

EntityList::EntityList(const EntityList& other) {
  items_.reserve(other.size());
  for (const Entity& entity : other) push_back(entity);
}

EntityList& EntityList::operator=(const EntityList& other) {
  if (this != &other) *this = EntityList(other);
  return *this;
}

EntityList& EntityList::operator=(std::initializer_list<Entity> entities) {
  return *this = EntityList(entities);
}

EntityList::~EntityList() = default;

void EntityList::push_back(Entity entity) {
  owned_.push_back(std::make_unique<Entity>(std::move(entity)));
  items_.push_back(owned_.back().get());
}

Entity& EntityList::Mutable(size_t i) {
  for (const std::unique_ptr<Entity>& cell : owned_) {
    if (cell.get() == items_[i]) return *cell;
  }
  // A view: the document's entity is not to be changed, so it becomes a copy.
  owned_.push_back(std::make_unique<Entity>(*items_[i]));
  items_[i] = owned_.back().get();
  return *owned_.back();
}

void EntityList::erase(const_iterator first, const_iterator last) {
  items_.erase(items_.begin() + (first.base() - items_.data()),
               items_.begin() + (last.base() - items_.data()));
}

std::vector<const ReceivedDocument*> SelectLatestVersions(
    const std::vector<const ReceivedDocument*>& docs) {
  std::vector<const ReceivedDocument*> winners;
  winners.reserve(docs.size());
  // Few documents (the usual trace): a scan of the winners finds an id's slot;
  // more: a hash index.
  constexpr size_t kLinearMax = 16;
  if (docs.size() <= kLinearMax) {
    for (const ReceivedDocument* doc : docs) {
      if (doc == nullptr) continue;
      const uint64_t id = doc->doc.entity.id.value;
      auto it = std::find_if(winners.begin(), winners.end(), [id](const ReceivedDocument* w) {
        return w->doc.entity.id.value == id;
      });
      if (it == winners.end()) {
        winners.push_back(doc);
      } else if (Supersedes(*doc, **it)) {
        *it = doc;
      }
    }
    return winners;
  }
  std::unordered_map<uint64_t, size_t> slot_by_id;
  slot_by_id.reserve(docs.size());
  for (const ReceivedDocument* doc : docs) {
    if (doc == nullptr) continue;
    auto [it, inserted] = slot_by_id.try_emplace(doc->doc.entity.id.value, winners.size());
    if (inserted) {
      winners.push_back(doc);
    } else if (Supersedes(*doc, *winners[it->second])) {
      winners[it->second] = doc;
    }
  }
  return winners;
}

AssembledTrace AssembleTrace(const TraceId& id, const std::vector<const ReceivedDocument*>& docs) {
  AssembledTrace trace;
  trace.id = id;
  for (const ReceivedDocument* doc : docs) {
    if (doc == nullptr) continue;
    ++trace.document_count;
    trace.last_received_us = std::max(trace.last_received_us, doc->received_us);
  }

  std::vector<const ReceivedDocument*> winners = SelectLatestVersions(docs);
  // Segments first, in (start, id) order, then the independent subsegments
  // (the Splicer sorts those itself). Winners have distinct ids, so the order
  // is total and std::sort's result is the only one.
  const auto independents_begin = std::partition(
      winners.begin(), winners.end(),
      [](const ReceivedDocument* doc) { return !doc->doc.entity.is_independent_subsegment(); });
  std::sort(winners.begin(), independents_begin,
            [](const ReceivedDocument* a, const ReceivedDocument* b) {
              return StartsBefore(a->doc.entity, b->doc.entity);
            });
  const auto segment_count = static_cast<size_t>(independents_begin - winners.begin());
  trace.segments.reserve(segment_count);
  if (independents_begin == winners.end()) {  // nothing to splice, no orphans
    for (const ReceivedDocument* doc : winners) trace.segments.PushView(doc->doc.entity);
    return trace;
  }

  std::vector<Entity> independents;
  independents.reserve(winners.size() - segment_count);
  for (auto it = independents_begin; it != winners.end(); ++it) {
    independents.push_back((*it)->doc.entity);
  }
  Splicer splicer(std::move(independents));
  for (auto it = winners.begin(); it != independents_begin; ++it) {
    const Entity& segment = (*it)->doc.entity;
    if (!splicer.Receives(segment)) {
      trace.segments.PushView(segment);
      continue;
    }
    Entity spliced = segment;
    splicer.Attach(spliced);
    trace.segments.push_back(std::move(spliced));
  }
  splicer.CollectOrphans(trace.orphans);
  return trace;
}

// Segments are sorted by (start, id), so the first match is the earliest. When
// every segment's parent is inside the trace (a cycle of parent ids), the
// earliest segment is the root, so a trace with segments always has one.
const Entity* FindRootSegment(const AssembledTrace& trace) {
  if (trace.segments.empty()) return nullptr;
  for (const Entity& segment : trace.segments) {
    if (!segment.parent_id) return &segment;
  }
  std::unordered_set<uint64_t> ids;
  for (const Entity& segment : trace.segments) CollectIds(segment, ids);
  for (const Entity& orphan : trace.orphans) CollectIds(orphan, ids);
  for (const Entity& segment : trace.segments) {
    if (!ids.contains(segment.parent_id->value)) return &segment;
  }
  return &trace.segments.front();
}

}  // namespace roentgen::xray
