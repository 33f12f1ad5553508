#include "filter/bind.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "filter/lexer.h"
#include "filter/parser.h"

namespace roentgen::filter {
namespace {

enum class ValueType { kBool, kNumber, kString };

constexpr unsigned Bit(Scope s) { return 1u << static_cast<unsigned>(s); }
constexpr unsigned kTop = Bit(Scope::kTrace);
constexpr unsigned kObs = Bit(Scope::kService) | Bit(Scope::kEdge);
constexpr unsigned kRcPos =
    Bit(Scope::kRcService) | Bit(Scope::kRcEntity) | Bit(Scope::kRcException);

struct KeywordInfo {
  std::string_view word;
  Field field;
  ValueType type;
  unsigned scopes;
};

constexpr std::array<KeywordInfo, 26> kKeywords = {{
    {"ok", Field::kOk, ValueType::kBool, kTop | kObs},
    {"error", Field::kError, ValueType::kBool, kTop | kObs},
    {"fault", Field::kFault, ValueType::kBool, kTop | kObs},
    {"throttle", Field::kThrottle, ValueType::kBool, kTop | kObs},
    {"partial", Field::kPartial, ValueType::kBool, kTop | kObs},
    {"inferred", Field::kInferred, ValueType::kBool, kTop | kObs | Bit(Scope::kRcService)},
    {"root", Field::kRoot, ValueType::kBool, kObs},
    {"responsetime", Field::kResponseTime, ValueType::kNumber, kTop | kObs},
    {"duration", Field::kDuration, ValueType::kNumber, kTop | kObs},
    {"http.status", Field::kHttpStatus, ValueType::kNumber, kTop | kObs},
    {"http.url", Field::kHttpUrl, ValueType::kString, kTop | kObs},
    {"http.method", Field::kHttpMethod, ValueType::kString, kTop | kObs},
    {"http.useragent", Field::kHttpUserAgent, ValueType::kString, kTop | kObs},
    {"http.clientip", Field::kHttpClientIp, ValueType::kString, kTop | kObs},
    {"user", Field::kUser, ValueType::kString, kTop | kObs},
    {"name", Field::kName, ValueType::kString, kTop | kObs | kRcPos},
    {"type", Field::kType, ValueType::kString, kTop | kObs | Bit(Scope::kRcService)},
    {"availabilityzone", Field::kAvailabilityZone, ValueType::kString, kTop},
    {"instance.id", Field::kInstanceId, ValueType::kString, kTop},
    {"resource.arn", Field::kResourceArn, ValueType::kString, kTop},
    {"first", Field::kFirst, ValueType::kBool, kRcPos},
    {"last", Field::kLast, ValueType::kBool, kRcPos},
    {"index", Field::kIndex, ValueType::kNumber, kRcPos},
    {"coverage", Field::kCoverage, ValueType::kNumber, Bit(Scope::kRcEntity)},
    {"remote", Field::kRemote, ValueType::kBool, Bit(Scope::kRcEntity)},
    {"message", Field::kMessage, ValueType::kString,
     Bit(Scope::kRcEntity) | Bit(Scope::kRcException)},
}};

const char* ScopeName(Scope s) {
  switch (s) {
    case Scope::kTrace:
      return "at the top level";
    case Scope::kService:
      return "inside service(…) { }";
    case Scope::kEdge:
      return "inside edge(…) { }";
    case Scope::kRcService:
      return "inside rootcause.*.service { }";
    case Scope::kRcEntity:
      return "inside rootcause.*.entity { }";
    case Scope::kRcException:
      return "inside rootcause.*.exception { }";
  }
  return "";
}

std::string ScopeList(unsigned scopes) {
  std::string out;
  for (unsigned i = 0; i <= static_cast<unsigned>(Scope::kRcException); ++i) {
    if ((scopes & (1u << i)) == 0) continue;
    if (!out.empty()) out += ", ";
    out += ScopeName(static_cast<Scope>(i));
  }
  return out;
}

bool IsOrderOp(CompareOp op) {
  return op == CompareOp::kLt || op == CompareOp::kLe || op == CompareOp::kGt ||
         op == CompareOp::kGe;
}
bool IsTextOp(CompareOp op) {
  return op == CompareOp::kContains || op == CompareOp::kBeginsWith || op == CompareOp::kEndsWith;
}

std::string DescribeLiteral(const Literal& v) {
  switch (v.kind) {
    case Literal::Kind::kString:
      return fmt::format("string \"{}\"", v.text);
    case Literal::Kind::kNumber:
      return fmt::format("number {}", v.text);
    case Literal::Kind::kBool:
      return v.text;
    case Literal::Kind::kJson:
      return "a JSON list";
  }
  return "";
}

class Binder {
 public:
  explicit Binder(const GroupResolver* groups) : groups_(groups) {}

  Status BindNode(const Node& n, Scope scope, BoundNode& out) {
    out.scope = scope;
    switch (n.kind) {
      case NodeKind::kAnd:
      case NodeKind::kOr:
      case NodeKind::kNot:
        out.kind = n.kind == NodeKind::kAnd  ? BoundKind::kAnd
                   : n.kind == NodeKind::kOr ? BoundKind::kOr
                                             : BoundKind::kNot;
        out.children.resize(n.children.size());
        for (size_t i = 0; i < n.children.size(); ++i) {
          RG_RETURN_IF_ERROR(BindNode(*n.children[i], scope, out.children[i]));
        }
        return Status::Ok();
      case NodeKind::kService:
      case NodeKind::kEdge:
        return BindService(n, scope, out);
      case NodeKind::kRootCause:
        return BindRootCause(n, scope, out);
      case NodeKind::kPredicate:
        return BindPredicate(n, scope, out);
    }
    return Status::Internal("unknown node kind");
  }

 private:
  static Status TopLevelOnly(const Node& n, Scope scope, std::string_view what) {
    if (scope == Scope::kTrace) return Status::Ok();
    return ErrorAt(n.column, fmt::format("{} can only be used at the top level, not {}", what,
                                         ScopeName(scope)));
  }

  Status BindSub(const Node& n, Scope sub_scope, BoundNode& out) {
    if (n.children.empty()) return Status::Ok();
    out.children.resize(1);
    return BindNode(*n.children[0], sub_scope, out.children[0]);
  }

  Status BindService(const Node& n, Scope scope, BoundNode& out) {
    const bool edge = n.kind == NodeKind::kEdge;
    RG_RETURN_IF_ERROR(TopLevelOnly(n, scope, edge ? "edge(…)" : "service(…)"));
    out.kind = edge ? BoundKind::kEdge : BoundKind::kService;
    for (const ServiceRef& ref : n.refs) {
      ServiceMatcher m;
      if (ref.is_id) {
        m.name = ref.id_name;
        m.type = ref.id_type;
        m.account = ref.id_account;
      } else {
        m.name = ref.name;
      }
      out.services.push_back(std::move(m));
    }
    return BindSub(n, edge ? Scope::kEdge : Scope::kService, out);
  }

  Status BindRootCause(const Node& n, Scope scope, BoundNode& out) {
    RG_RETURN_IF_ERROR(TopLevelOnly(n, scope, fmt::format("'{}'", n.keyword)));
    out.kind = BoundKind::kRootCause;
    std::string_view rest =
        std::string_view(n.keyword).substr(std::string_view("rootcause.").size());
    const size_t dot = rest.find('.');
    const std::string_view list = rest.substr(0, dot);
    const std::string_view level = dot == std::string_view::npos ? "" : rest.substr(dot + 1);
    bool ok_list = true;
    if (list == "fault") {
      out.rc_list = RootCauseList::kFault;
    } else if (list == "error") {
      out.rc_list = RootCauseList::kError;
    } else if (list == "responsetime") {
      out.rc_list = RootCauseList::kResponseTime;
    } else {
      ok_list = false;
    }
    Scope sub = Scope::kRcService;
    bool ok_level = true;
    if (level == "service") {
      sub = Scope::kRcService;
    } else if (level == "entity") {
      sub = Scope::kRcEntity;
    } else if (level == "exception" && out.rc_list != RootCauseList::kResponseTime) {
      sub = Scope::kRcException;
    } else {
      ok_level = false;
    }
    if (!ok_list || !ok_level) {
      return ErrorAt(n.column, fmt::format("unknown root-cause keyword '{}' (expected "
                                           "rootcause.fault|error|responsetime.service|entity, "
                                           "rootcause.fault|error.exception or rootcause.json)",
                                           n.keyword));
    }
    out.scope = sub;
    return BindSub(n, sub, out);
  }

  Status BindPredicate(const Node& n, Scope scope, BoundNode& out) {
    if (n.keyword == "annotation") return BindAnnotation(n, scope, out);
    if (n.keyword == "group.name" || n.keyword == "group.arn") return BindGroup(n, scope, out);
    if (n.keyword == "rootcause.json") return BindJson(n, scope, out);
    auto it = std::find_if(kKeywords.begin(), kKeywords.end(),
                           [&](const KeywordInfo& k) { return k.word == n.keyword; });
    if (it == kKeywords.end()) {
      return ErrorAt(n.column, fmt::format("unknown keyword '{}'", n.keyword));
    }
    if ((it->scopes & Bit(scope)) == 0) {
      return ErrorAt(n.column, fmt::format("'{}' cannot be used {}; it is valid {}", n.keyword,
                                           ScopeName(scope), ScopeList(it->scopes)));
    }
    out.field = it->field;
    out.op = n.op;
    const int vcol = n.value_column;
    switch (it->type) {
      case ValueType::kBool: {
        out.kind = BoundKind::kBool;
        out.boolean = true;
        if (n.op == CompareOp::kNone) return Status::Ok();
        if (n.op != CompareOp::kEq && n.op != CompareOp::kNe) {
          return ErrorAt(n.column, fmt::format("'{}' is a boolean keyword: use it bare, with '!', "
                                               "or with = / != true or false, not {}",
                                               n.keyword, CompareOpText(n.op)));
        }
        bool v = false;
        if (n.value->kind == Literal::Kind::kBool) {
          v = n.value->boolean;
        } else if (n.value->kind == Literal::Kind::kString &&
                   (n.value->text == "true" || n.value->text == "false")) {
          v = n.value->text == "true";
        } else {
          return ErrorAt(vcol, fmt::format("'{}' is compared with true or false, found {}",
                                           n.keyword, DescribeLiteral(*n.value)));
        }
        out.boolean = (n.op == CompareOp::kEq) == v;
        return Status::Ok();
      }
      case ValueType::kNumber:
        out.kind = BoundKind::kNumber;
        if (n.op == CompareOp::kNone) {
          return ErrorAt(n.column, fmt::format("'{}' needs an operator and a number, for example "
                                               "{} > 1",
                                               n.keyword, n.keyword));
        }
        if (IsTextOp(n.op)) {
          return ErrorAt(n.column, fmt::format("operator {} needs a string keyword; '{}' is a "
                                               "number keyword",
                                               CompareOpText(n.op), n.keyword));
        }
        if (n.value->kind != Literal::Kind::kNumber) {
          return ErrorAt(vcol, fmt::format("'{}' is compared with numbers, found {}", n.keyword,
                                           DescribeLiteral(*n.value)));
        }
        out.number = n.value->number;
        return Status::Ok();
      case ValueType::kString:
        out.kind = BoundKind::kString;
        if (n.op == CompareOp::kNone) return Status::Ok();
        if (IsOrderOp(n.op)) {
          return ErrorAt(n.column, fmt::format("operator {} is not available for string keyword "
                                               "'{}' (use =, !=, CONTAINS, BEGINSWITH, ENDSWITH)",
                                               CompareOpText(n.op), n.keyword));
        }
        if (n.value->kind != Literal::Kind::kString) {
          return ErrorAt(vcol, fmt::format("'{}' is compared with quoted strings, found {}",
                                           n.keyword, DescribeLiteral(*n.value)));
        }
        out.text = n.value->text;
        return Status::Ok();
    }
    return Status::Internal("unknown value type");
  }

  Status BindAnnotation(const Node& n, Scope scope, BoundNode& out) {
    RG_RETURN_IF_ERROR(TopLevelOnly(n, scope, "annotation"));
    out.kind = BoundKind::kAnnotation;
    out.key = n.key;
    out.op = n.op;
    if (n.op == CompareOp::kNone) return Status::Ok();
    const Literal& v = *n.value;
    out.value_kind = v.kind;
    switch (v.kind) {
      case Literal::Kind::kString:
        if (IsOrderOp(n.op)) {
          return ErrorAt(n.value_column, fmt::format("operator {} needs a number value, found {}",
                                                     CompareOpText(n.op), DescribeLiteral(v)));
        }
        out.text = v.text;
        return Status::Ok();
      case Literal::Kind::kNumber:
        if (IsTextOp(n.op)) {
          return ErrorAt(n.value_column, fmt::format("operator {} needs a string value, found {}",
                                                     CompareOpText(n.op), DescribeLiteral(v)));
        }
        out.number = v.number;
        return Status::Ok();
      case Literal::Kind::kBool:
        if (n.op != CompareOp::kEq && n.op != CompareOp::kNe) {
          return ErrorAt(n.value_column, fmt::format("operator {} cannot compare a boolean value",
                                                     CompareOpText(n.op)));
        }
        out.boolean = v.boolean;
        return Status::Ok();
      case Literal::Kind::kJson:
        break;
    }
    return ErrorAt(n.value_column, "a JSON value can only be compared with rootcause.json");
  }

  Status BindJson(const Node& n, Scope scope, BoundNode& out) {
    RG_RETURN_IF_ERROR(TopLevelOnly(n, scope, "rootcause.json"));
    if (n.op != CompareOp::kEq || !n.value || n.value->kind != Literal::Kind::kJson) {
      return ErrorAt(n.column, "rootcause.json is used as rootcause.json = #[{ … }]");
    }
    auto patterns = ParseRootCausePatterns(n.value->text);
    if (!patterns.ok()) return ErrorAt(n.value_column, patterns.status().message());
    out.kind = BoundKind::kRootCauseJson;
    out.patterns = std::move(patterns).value();
    return Status::Ok();
  }

  Status BindGroup(const Node& n, Scope scope, BoundNode& out) {
    RG_RETURN_IF_ERROR(TopLevelOnly(n, scope, fmt::format("'{}'", n.keyword)));
    if (n.op != CompareOp::kEq || n.value->kind != Literal::Kind::kString) {
      return ErrorAt(n.column, fmt::format("'{}' is used as {} = \"…\"", n.keyword, n.keyword));
    }
    const std::string& name = n.value->text;
    const bool by_arn = n.keyword == "group.arn";
    if (groups_ == nullptr) {
      return ErrorAt(n.value_column, fmt::format("group \"{}\" does not exist", name));
    }
    if (std::find(stack_.begin(), stack_.end(), name) != stack_.end()) {
      return ErrorAt(n.value_column, fmt::format("group \"{}\" refers to itself", name));
    }
    if (static_cast<int>(stack_.size()) >= kMaxGroupDepth) {
      return ErrorAt(n.value_column,
                     fmt::format("groups refer to groups more than {} deep", kMaxGroupDepth));
    }
    auto expr = groups_->GroupFilter(name, by_arn);
    if (!expr.ok()) {
      if (expr.status().code() == StatusCode::kNotFound) {
        return ErrorAt(n.value_column, fmt::format("group \"{}\" does not exist", name));
      }
      return expr.status();
    }
    auto tree = Parse(*expr);
    auto wrap = [&](const Status& s) {
      return ErrorAt(n.value_column, fmt::format("the filter expression of group \"{}\" is "
                                                 "invalid: {}",
                                                 name, s.message()));
    };
    if (!tree.ok()) return wrap(tree.status());
    if (*tree == nullptr) {
      out.kind = BoundKind::kTrue;
      return Status::Ok();
    }
    stack_.push_back(name);
    Status s = BindNode(**tree, Scope::kTrace, out);
    stack_.pop_back();
    if (!s.ok() && s.code() == StatusCode::kInvalidArgument) return wrap(s);
    return s;
  }

  const GroupResolver* groups_;
  std::vector<std::string> stack_;  // groups being bound, outermost first
};

}  // namespace

Result<BoundNode> Bind(const Node* tree, const GroupResolver* groups) {
  BoundNode out;
  if (tree == nullptr) return out;
  Binder binder(groups);
  RG_RETURN_IF_ERROR(binder.BindNode(*tree, Scope::kTrace, out));
  return out;
}

}  // namespace roentgen::filter
