#include "filter/printer.h"

#include <fmt/format.h>

namespace roentgen::filter {
namespace {

bool IsPlainKey(const std::string& key) {
  if (key.empty() || key.back() == '.') return false;
  for (char c : key) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string PrintLiteral(const Literal& lit) {
  switch (lit.kind) {
    case Literal::Kind::kString:
      return QuoteString(lit.text);
    case Literal::Kind::kNumber:
      return fmt::format("{}", lit.number);
    case Literal::Kind::kBool:
      return lit.boolean ? "true" : "false";
    case Literal::Kind::kJson:
      return "#" + lit.text;
  }
  return "";
}

std::string PrintRef(const ServiceRef& ref) {
  if (!ref.is_id) return QuoteString(ref.name);
  std::string out = "id(";
  auto part = [&](const char* name, const std::optional<std::string>& v) {
    if (!v) return;
    if (out.size() > 3) out += ", ";
    out += fmt::format("{}: {}", name, QuoteString(*v));
  };
  part("name", ref.id_name);
  part("type", ref.id_type);
  part("account.id", ref.id_account);
  return out + ")";
}

void PrintNode(const Node& n, std::string& out);

// Prints `child` of a parent of kind `parent`, in parentheses when needed to
// keep the same tree when parsed again.
void PrintChild(NodeKind parent, const Node& child, std::string& out) {
  bool parens = false;
  if (child.kind == NodeKind::kOr) parens = true;  // OR inside AND, OR, or NOT
  if (child.kind == NodeKind::kAnd) parens = parent != NodeKind::kOr;
  if (parens) out += '(';
  PrintNode(child, out);
  if (parens) out += ')';
}

void PrintSubFilter(const Node& n, std::string& out) {
  if (!n.has_sub_filter || n.children.empty()) return;
  out += " { ";
  PrintNode(*n.children[0], out);
  out += " }";
}

void PrintNode(const Node& n, std::string& out) {
  switch (n.kind) {
    case NodeKind::kAnd:
    case NodeKind::kOr: {
      const char* sep = n.kind == NodeKind::kAnd ? " AND " : " OR ";
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i > 0) out += sep;
        PrintChild(n.kind, *n.children[i], out);
      }
      return;
    }
    case NodeKind::kNot:
      out += '!';
      PrintChild(n.kind, *n.children[0], out);
      return;
    case NodeKind::kService:
      out += "service(";
      if (!n.refs.empty()) out += PrintRef(n.refs[0]);
      out += ')';
      PrintSubFilter(n, out);
      return;
    case NodeKind::kEdge:
      out += fmt::format("edge({}, {})", PrintRef(n.refs[0]), PrintRef(n.refs[1]));
      PrintSubFilter(n, out);
      return;
    case NodeKind::kRootCause:
      out += n.keyword;
      PrintSubFilter(n, out);
      return;
    case NodeKind::kPredicate:
      if (n.keyword == "annotation") {
        out += IsPlainKey(n.key) ? "annotation." + n.key : "annotation[" + QuoteString(n.key) + "]";
      } else {
        out += n.keyword;
      }
      if (n.op != CompareOp::kNone && n.value) {
        out += fmt::format(" {} {}", CompareOpText(n.op), PrintLiteral(*n.value));
      }
      return;
  }
}

}  // namespace

std::string QuoteString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string Print(const Node* node) {
  std::string out;
  if (node != nullptr) PrintNode(*node, out);
  return out;
}

}  // namespace roentgen::filter
