// The third stage: parse tree → bound tree. Binding checks every keyword
// exists, is allowed where it is used (top level, inside service/edge, inside a
// root-cause keyword) and is compared with an operator and value of its type;
// it resolves `group.name` / `group.arn` to the group's own expression, and
// precomputes everything evaluation needs so that evaluating a trace never
// allocates. Errors are InvalidArgument "column N: …". Pure, thread-safe
// (the GroupResolver is only read).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "filter/ast.h"
#include "filter/rootcause_pattern.h"

namespace roentgen::filter {

// Gives a group's filter expression, for `group.name = "…"` / `group.arn = "…"`.
// Implementations must be safe to call from the compiling thread.
class GroupResolver {
 public:
  virtual ~GroupResolver() = default;
  // The group's filter expression ("" = every trace); NotFound if no such group.
  virtual Result<std::string> GroupFilter(std::string_view name_or_arn, bool by_arn) const = 0;
};

// Where a keyword is evaluated.
enum class Scope {
  kTrace,        // the trace summary (top level)
  kService,      // each observation (segment) of a service(…) node
  kEdge,         // each observation (call) of an edge(…)
  kRcService,    // each service of a root cause
  kRcEntity,     // each entity on a root-cause service's entity path
  kRcException,  // each exception of a root-cause entity
};

enum class Field {
  kOk,
  kError,
  kFault,
  kThrottle,
  kPartial,
  kInferred,
  kRoot,
  kResponseTime,
  kDuration,
  kHttpStatus,
  kHttpUrl,
  kHttpMethod,
  kHttpUserAgent,
  kHttpClientIp,
  kUser,
  kName,
  kType,
  kAvailabilityZone,
  kInstanceId,
  kResourceArn,
  kFirst,
  kLast,
  kIndex,
  kCoverage,
  kRemote,
  kMessage,
};

enum class RootCauseList { kFault, kError, kResponseTime };

// Matches a graph node by name (its name or any of its names), type and
// account; unset parts match anything. Client nodes match only a matcher whose
// type is "client".
struct ServiceMatcher {
  std::optional<std::string> name;
  std::optional<std::string> type;
  std::optional<std::string> account;
};

enum class BoundKind {
  kTrue,  // matches everything (an empty group expression)
  kAnd,
  kOr,
  kNot,
  kBool,           // field == boolean
  kNumber,         // field op number (missing value: false)
  kString,         // field op text (kNone: the value is set and not empty)
  kAnnotation,     // annotation `key` op value
  kService,        // any observation of a matching node satisfies children[0] (if any)
  kEdge,           // any observation of a matching edge satisfies children[0] (if any)
  kRootCause,      // any element at `scope` of `rc_list` satisfies children[0] (if any)
  kRootCauseJson,  // every pattern matches one root cause
};

struct BoundNode {
  BoundKind kind = BoundKind::kTrue;
  Scope scope = Scope::kTrace;
  Field field = Field::kOk;
  CompareOp op = CompareOp::kNone;
  bool boolean = false;
  double number = 0;
  std::string text;
  Literal::Kind value_kind = Literal::Kind::kString;  // kAnnotation with an operator
  std::string key;                                    // kAnnotation
  RootCauseList rc_list = RootCauseList::kFault;      // kRootCause (scope = the level)
  std::vector<ServiceMatcher> services;               // kService: 0 or 1; kEdge: 2
  std::vector<RootCausePattern> patterns;             // kRootCauseJson
  std::vector<BoundNode> children;
};

// Binds a parse tree (null = match everything).
Result<BoundNode> Bind(const Node* tree, const GroupResolver* groups);

// Groups may refer to groups at most this deep.
inline constexpr int kMaxGroupDepth = 8;

}  // namespace roentgen::filter
