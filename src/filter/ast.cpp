#include "filter/ast.h"

namespace roentgen::filter {

const char* CompareOpText(CompareOp op) {
  switch (op) {
    case CompareOp::kNone:
      return "";
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
    case CompareOp::kContains:
      return "CONTAINS";
    case CompareOp::kBeginsWith:
      return "BEGINSWITH";
    case CompareOp::kEndsWith:
      return "ENDSWITH";
  }
  return "";
}

bool Literal::operator==(const Literal& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
    case Kind::kString:
    case Kind::kJson:
      return text == o.text;
    case Kind::kNumber:
      return number == o.number;
    case Kind::kBool:
      return boolean == o.boolean;
  }
  return false;
}

bool Node::operator==(const Node& o) const {
  if (kind != o.kind || keyword != o.keyword || key != o.key || op != o.op || value != o.value ||
      refs != o.refs || has_sub_filter != o.has_sub_filter ||
      children.size() != o.children.size()) {
    return false;
  }
  for (size_t i = 0; i < children.size(); ++i) {
    if (!(*children[i] == *o.children[i])) return false;
  }
  return true;
}

}  // namespace roentgen::filter
