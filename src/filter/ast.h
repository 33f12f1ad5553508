// The parse tree of a filter expression, exactly as written (before any
// keyword is checked). Keywords are stored lowercase; annotation keys, service
// names and string values keep their case. Equality ignores source columns, so
// Parse(Print(tree)) == tree can be checked directly.
// Plain values (trees own their children); thread-compatible.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace roentgen::filter {

enum class CompareOp {
  kNone,  // the keyword used bare: `fault`, `http.url`, `annotation.k`
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kContains,
  kBeginsWith,
  kEndsWith,
};

// "=", "!=", "<", …, "CONTAINS"; "" for kNone.
const char* CompareOpText(CompareOp op);

struct Literal {
  enum class Kind { kString, kNumber, kBool, kJson };
  Kind kind = Kind::kString;
  std::string text;  // string value, the number as written, or the JSON text
  double number = 0;
  bool boolean = false;

  bool operator==(const Literal& o) const;
};

// A service named in service(...) / edge(...): a quoted name, or id(...).
struct ServiceRef {
  bool is_id = false;
  std::string name;                       // the quoted name (is_id == false)
  std::optional<std::string> id_name;     // id(name: …)
  std::optional<std::string> id_type;     // id(type: …)
  std::optional<std::string> id_account;  // id(account.id: …)
  int column = 1;

  bool operator==(const ServiceRef& o) const {
    return is_id == o.is_id && name == o.name && id_name == o.id_name && id_type == o.id_type &&
           id_account == o.id_account;
  }
};

enum class NodeKind {
  kAnd,        // children: 2 or more
  kOr,         // children: 2 or more
  kNot,        // children: 1
  kPredicate,  // keyword [op value]; keyword "annotation" uses `key`
  kService,    // service(refs[0]?) { children[0]? }
  kEdge,       // edge(refs[0], refs[1]) { children[0]? }
  kRootCause,  // rootcause.<kind>.<level> { children[0]? }; keyword holds the path
};

struct Node {
  NodeKind kind = NodeKind::kPredicate;
  int column = 1;  // where the node starts in the source
  std::vector<std::unique_ptr<Node>> children;

  std::string keyword;  // lowercase: "responsetime", "annotation", "rootcause.fault.entity"
  std::string key;      // annotation key, as written
  CompareOp op = CompareOp::kNone;
  std::optional<Literal> value;
  int value_column = 1;
  std::vector<ServiceRef> refs;
  bool has_sub_filter = false;  // service/edge/rootcause written with { … }

  bool operator==(const Node& o) const;
};

using NodePtr = std::unique_ptr<Node>;

}  // namespace roentgen::filter
