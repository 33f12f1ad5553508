#include "filter/eval.h"

#include <algorithm>
#include <optional>
#include <string_view>

namespace roentgen::filter {
namespace {

// What the keywords of the current scope read. Only the pointers of the
// current scope are set.
struct Ctx {
  const graph::TraceRecord* trace = nullptr;
  const graph::Node* node = nullptr;  // service(…): the node; edge(…): the callee
  const graph::Observation* obs = nullptr;
  const xray::RootCauseService* rc_service = nullptr;
  const xray::RootCauseEntity* rc_entity = nullptr;
  const xray::RootCauseException* rc_exception = nullptr;
  size_t index = 0;  // position in the enumerated root-cause list
  size_t count = 0;
};

bool CompareNumber(double v, CompareOp op, double want) {
  switch (op) {
    case CompareOp::kEq:
      return v == want;
    case CompareOp::kNe:
      return v != want;
    case CompareOp::kLt:
      return v < want;
    case CompareOp::kLe:
      return v <= want;
    case CompareOp::kGt:
      return v > want;
    case CompareOp::kGe:
      return v >= want;
    default:
      return false;
  }
}

// Compares a value that is present (kNone: presence alone matches).
bool CompareText(std::string_view v, CompareOp op, std::string_view want) {
  switch (op) {
    case CompareOp::kNone:
      return true;
    case CompareOp::kEq:
      return v == want;
    case CompareOp::kNe:
      return v != want;
    case CompareOp::kContains:
      return v.find(want) != std::string_view::npos;
    case CompareOp::kBeginsWith:
      return v.starts_with(want);
    case CompareOp::kEndsWith:
      return v.ends_with(want);
    default:
      return false;
  }
}

// Compares a trace or segment field, where an empty value means "not set" and
// makes every comparison false.
bool CompareString(std::string_view v, CompareOp op, std::string_view want) {
  return !v.empty() && CompareText(v, op, want);
}

std::optional<double> Seconds(int64_t start_us, const std::optional<int64_t>& end_us) {
  if (!end_us) return std::nullopt;
  return static_cast<double>(*end_us - start_us) / 1e6;
}

std::optional<double> Seconds(const std::optional<int64_t>& us) {
  if (!us) return std::nullopt;
  return static_cast<double>(*us) / 1e6;
}

bool Eval(const BoundNode& n, const Ctx& c);

bool BoolField(const BoundNode& n, const Ctx& c) {
  const xray::TraceSummary& s = c.trace->summary;
  if (n.scope == Scope::kTrace) {
    switch (n.field) {
      case Field::kOk:
        return !s.has_error && !s.has_fault && !s.has_throttle;
      case Field::kError:
        return s.has_error;
      case Field::kFault:
        return s.has_fault;
      case Field::kThrottle:
        return s.has_throttle;
      case Field::kPartial:
        return s.is_partial;
      case Field::kInferred:
        return std::any_of(c.trace->graph.nodes.begin(), c.trace->graph.nodes.end(),
                           [](const graph::Node& node) { return node.inferred; });
      default:
        return false;
    }
  }
  if (n.scope == Scope::kService || n.scope == Scope::kEdge) {
    const graph::Observation& o = *c.obs;
    switch (n.field) {
      case Field::kOk:
        return !o.error && !o.fault && !o.throttle;
      case Field::kError:
        return o.error;
      case Field::kFault:
        return o.fault;
      case Field::kThrottle:
        return o.throttle;
      case Field::kPartial:
        return !o.end_us.has_value();
      case Field::kInferred:
        return c.node->inferred;
      case Field::kRoot:
        return c.node->root;
      default:
        return false;
    }
  }
  switch (n.field) {
    case Field::kFirst:
      return c.index == 0;
    case Field::kLast:
      return c.index + 1 == c.count;
    case Field::kInferred:
      return c.rc_service != nullptr && c.rc_service->inferred;
    case Field::kRemote:
      return c.rc_entity != nullptr && c.rc_entity->remote;
    default:
      return false;
  }
}

std::optional<double> NumberField(const BoundNode& n, const Ctx& c) {
  const xray::TraceSummary& s = c.trace->summary;
  if (n.scope == Scope::kTrace) {
    switch (n.field) {
      case Field::kResponseTime:
        return Seconds(s.response_time_us);
      case Field::kDuration:
        return Seconds(s.duration_us);
      case Field::kHttpStatus:
        if (!s.http.status) return std::nullopt;
        return *s.http.status;
      default:
        return std::nullopt;
    }
  }
  if (n.scope == Scope::kService || n.scope == Scope::kEdge) {
    switch (n.field) {
      case Field::kResponseTime:
      case Field::kDuration:
        return Seconds(c.obs->start_us, c.obs->end_us);
      case Field::kHttpStatus:
        if (!c.obs->http_status) return std::nullopt;
        return *c.obs->http_status;
      default:
        return std::nullopt;
    }
  }
  if (n.field == Field::kIndex) return static_cast<double>(c.index);
  if (n.field == Field::kCoverage && c.rc_entity != nullptr) return c.rc_entity->coverage;
  return std::nullopt;
}

template <typename List, typename Get>
bool AnyString(const List& list, const BoundNode& n, Get&& get) {
  return std::any_of(list.begin(), list.end(),
                     [&](const auto& item) { return CompareString(get(item), n.op, n.text); });
}

bool StringField(const BoundNode& n, const Ctx& c) {
  const xray::TraceSummary& s = c.trace->summary;
  const auto self = [](const std::string& v) -> const std::string& { return v; };
  switch (n.scope) {
    case Scope::kTrace:
      switch (n.field) {
        case Field::kHttpUrl:
          return CompareString(s.http.url, n.op, n.text);
        case Field::kHttpMethod:
          return CompareString(s.http.method, n.op, n.text);
        case Field::kHttpUserAgent:
          return CompareString(s.http.user_agent, n.op, n.text);
        case Field::kHttpClientIp:
          return CompareString(s.http.client_ip, n.op, n.text);
        case Field::kUser:
          return AnyString(s.users, n, [](const xray::TraceUser& u) -> const std::string& {
            return u.user_name;
          });
        case Field::kName:
          return CompareString(s.root_segment_name, n.op, n.text);
        case Field::kType:
          return CompareString(s.root_segment_origin, n.op, n.text);
        case Field::kAvailabilityZone:
          return AnyString(s.availability_zones, n, self);
        case Field::kInstanceId:
          return AnyString(s.instance_ids, n, self);
        case Field::kResourceArn:
          return AnyString(s.resource_arns, n, self);
        default:
          return false;
      }
    case Scope::kService:
    case Scope::kEdge:
      switch (n.field) {
        case Field::kHttpUrl:
          return CompareString(c.obs->http_url, n.op, n.text);
        case Field::kHttpMethod:
          return CompareString(c.obs->http_method, n.op, n.text);
        case Field::kHttpUserAgent:
          return CompareString(c.obs->http_user_agent, n.op, n.text);
        case Field::kHttpClientIp:
          return CompareString(c.obs->http_client_ip, n.op, n.text);
        case Field::kUser:
          return CompareString(c.obs->user, n.op, n.text);
        case Field::kName:
          return CompareString(c.obs->entity_name, n.op, n.text);
        case Field::kType:
          return CompareString(c.node->id.type, n.op, n.text);
        default:
          return false;
      }
    case Scope::kRcService:
      if (n.field == Field::kType) return CompareString(c.rc_service->type, n.op, n.text);
      return CompareString(c.rc_service->name, n.op, n.text) ||
             AnyString(c.rc_service->names, n, self);
    case Scope::kRcEntity:
      if (n.field == Field::kName) return CompareString(c.rc_entity->name, n.op, n.text);
      return AnyString(
          c.rc_entity->exceptions, n,
          [](const xray::RootCauseException& e) -> const std::string& { return e.message; });
    case Scope::kRcException:
      return CompareString(n.field == Field::kName ? c.rc_exception->name : c.rc_exception->message,
                           n.op, n.text);
  }
  return false;
}

bool AnnotationValueMatches(const BoundNode& n, const xray::AnnotationValue& v) {
  if (n.op == CompareOp::kNone) {
    const bool* b = std::get_if<bool>(&v);
    return b == nullptr || *b;
  }
  switch (n.value_kind) {
    case Literal::Kind::kString: {
      const std::string* s = std::get_if<std::string>(&v);
      return s != nullptr && CompareText(*s, n.op, n.text);
    }
    case Literal::Kind::kNumber: {
      const double* d = std::get_if<double>(&v);
      return d != nullptr && CompareNumber(*d, n.op, n.number);
    }
    case Literal::Kind::kBool: {
      const bool* b = std::get_if<bool>(&v);
      return b != nullptr && ((*b == n.boolean) == (n.op == CompareOp::kEq));
    }
    case Literal::Kind::kJson:
      return false;
  }
  return false;
}

bool EvalAnnotation(const BoundNode& n, const Ctx& c) {
  for (const xray::TraceAnnotation& a : c.trace->summary.annotations) {
    if (a.key != n.key) continue;
    for (const xray::TraceAnnotationValue& v : a.values) {
      if (AnnotationValueMatches(n, v.value)) return true;
    }
  }
  return false;
}

bool NodeMatches(const ServiceMatcher& m, const graph::Node& node) {
  if (node.client && m.type != "client") return false;
  if (m.name && node.id.name != *m.name &&
      std::find(node.id.names.begin(), node.id.names.end(), *m.name) == node.id.names.end()) {
    return false;
  }
  if (m.type && node.id.type != *m.type) return false;
  if (m.account && node.id.account_id != *m.account) return false;
  return true;
}

bool AnyObservation(const BoundNode& n, const Ctx& outer, const graph::Node& node,
                    const std::vector<graph::Observation>& observations) {
  if (n.children.empty()) return true;
  Ctx c;
  c.trace = outer.trace;
  c.node = &node;
  for (const graph::Observation& o : observations) {
    c.obs = &o;
    if (Eval(n.children[0], c)) return true;
  }
  return false;
}

bool EvalService(const BoundNode& n, const Ctx& c) {
  static const ServiceMatcher kAny;
  const ServiceMatcher& m = n.services.empty() ? kAny : n.services[0];
  for (const graph::Node& node : c.trace->graph.nodes) {
    if (NodeMatches(m, node) && AnyObservation(n, c, node, node.observations)) return true;
  }
  return false;
}

bool EvalEdge(const BoundNode& n, const Ctx& c) {
  const auto& nodes = c.trace->graph.nodes;
  for (const graph::Edge& e : c.trace->graph.edges) {
    if (e.from >= nodes.size() || e.to >= nodes.size()) continue;
    if (NodeMatches(n.services[0], nodes[e.from]) && NodeMatches(n.services[1], nodes[e.to]) &&
        AnyObservation(n, c, nodes[e.to], e.observations)) {
      return true;
    }
  }
  return false;
}

bool EvalRootCause(const BoundNode& n, const Ctx& outer) {
  const xray::TraceSummary& s = outer.trace->summary;
  const std::vector<xray::RootCause>& list =
      n.rc_list == RootCauseList::kFault   ? s.fault_root_causes
      : n.rc_list == RootCauseList::kError ? s.error_root_causes
                                           : s.response_time_root_causes;
  Ctx c;
  c.trace = outer.trace;
  auto test = [&](size_t index, size_t count) {
    c.index = index;
    c.count = count;
    return n.children.empty() || Eval(n.children[0], c);
  };
  for (const xray::RootCause& rc : list) {
    for (size_t si = 0; si < rc.services.size(); ++si) {
      c.rc_service = &rc.services[si];
      if (n.scope == Scope::kRcService) {
        if (test(si, rc.services.size())) return true;
        continue;
      }
      const auto& path = rc.services[si].entity_path;
      for (size_t ei = 0; ei < path.size(); ++ei) {
        c.rc_entity = &path[ei];
        if (n.scope == Scope::kRcEntity) {
          if (test(ei, path.size())) return true;
          continue;
        }
        const auto& exceptions = path[ei].exceptions;
        for (size_t xi = 0; xi < exceptions.size(); ++xi) {
          c.rc_exception = &exceptions[xi];
          if (test(xi, exceptions.size())) return true;
        }
      }
    }
  }
  return false;
}

bool EvalJson(const BoundNode& n, const Ctx& c) {
  const xray::TraceSummary& s = c.trace->summary;
  for (const RootCausePattern& p : n.patterns) {
    auto match = [&](const xray::RootCause& rc) { return MatchesPattern(p, rc); };
    if (std::none_of(s.fault_root_causes.begin(), s.fault_root_causes.end(), match) &&
        std::none_of(s.error_root_causes.begin(), s.error_root_causes.end(), match) &&
        std::none_of(s.response_time_root_causes.begin(), s.response_time_root_causes.end(),
                     match)) {
      return false;
    }
  }
  return true;
}

bool Eval(const BoundNode& n, const Ctx& c) {
  switch (n.kind) {
    case BoundKind::kTrue:
      return true;
    case BoundKind::kAnd:
      for (const BoundNode& child : n.children) {
        if (!Eval(child, c)) return false;
      }
      return true;
    case BoundKind::kOr:
      for (const BoundNode& child : n.children) {
        if (Eval(child, c)) return true;
      }
      return false;
    case BoundKind::kNot:
      return !Eval(n.children[0], c);
    case BoundKind::kBool:
      return BoolField(n, c) == n.boolean;
    case BoundKind::kNumber: {
      const std::optional<double> v = NumberField(n, c);
      return v.has_value() && CompareNumber(*v, n.op, n.number);
    }
    case BoundKind::kString:
      return StringField(n, c);
    case BoundKind::kAnnotation:
      return EvalAnnotation(n, c);
    case BoundKind::kService:
      return EvalService(n, c);
    case BoundKind::kEdge:
      return EvalEdge(n, c);
    case BoundKind::kRootCause:
      return EvalRootCause(n, c);
    case BoundKind::kRootCauseJson:
      return EvalJson(n, c);
  }
  return false;
}

}  // namespace

bool Evaluate(const BoundNode& filter, const graph::TraceRecord& trace) {
  Ctx c;
  c.trace = &trace;
  return Eval(filter, c);
}

}  // namespace roentgen::filter
