#include "filter/parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "filter/lexer.h"

namespace roentgen::filter {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool IsWord(const Token& t, std::string_view lower_word) {
  return t.kind == TokenKind::kIdent && Lower(t.text) == lower_word;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : toks_(std::move(tokens)) {}

  Result<NodePtr> Run() {
    if (Peek().kind == TokenKind::kEnd) return NodePtr();
    NodePtr root;
    RG_RETURN_IF_ERROR(ParseOr(root, 0));
    if (Peek().kind != TokenKind::kEnd) {
      return Expected("AND, OR or end of expression", "");
    }
    return root;
  }

 private:
  const Token& Peek() const { return toks_[pos_]; }
  const Token& Take() { return toks_[pos_ < toks_.size() - 1 ? pos_++ : pos_]; }

  Status Expected(std::string_view what, std::string_view after) const {
    const Token& t = Peek();
    std::string msg =
        after.empty()
            ? fmt::format("expected {} but found {}", what, DescribeToken(t))
            : fmt::format("expected {} after {} but found {}", what, after, DescribeToken(t));
    if (t.kind == TokenKind::kIdent && what.find("value") != std::string_view::npos) {
      msg += " (string values must be in double quotes)";
    }
    return ErrorAt(t.column, msg);
  }

  bool StartsTerm(const Token& t) const {
    if (t.kind == TokenKind::kLParen || t.kind == TokenKind::kBang) return true;
    return t.kind == TokenKind::kIdent && !IsWord(t, "and") && !IsWord(t, "or");
  }

  static NodePtr Combine(NodeKind kind, std::vector<NodePtr> parts) {
    if (parts.size() == 1) return std::move(parts[0]);
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->column = parts[0]->column;
    n->children = std::move(parts);
    return n;
  }

  Status ParseOr(NodePtr& out, int depth) {
    if (depth > kMaxParseDepth) {
      return ErrorAt(Peek().column,
                     fmt::format("expression nests deeper than {} levels", kMaxParseDepth));
    }
    std::vector<NodePtr> parts(1);
    RG_RETURN_IF_ERROR(ParseAnd(parts[0], depth));
    while (IsWord(Peek(), "or")) {
      std::string after = fmt::format("'{}'", Take().text);
      if (!StartsTerm(Peek())) return Expected("a condition", after);
      parts.emplace_back();
      RG_RETURN_IF_ERROR(ParseAnd(parts.back(), depth));
    }
    out = Combine(NodeKind::kOr, std::move(parts));
    return Status::Ok();
  }

  Status ParseAnd(NodePtr& out, int depth) {
    std::vector<NodePtr> parts(1);
    RG_RETURN_IF_ERROR(ParseUnary(parts[0], depth));
    while (true) {
      if (IsWord(Peek(), "and")) {
        std::string after = fmt::format("'{}'", Take().text);
        if (!StartsTerm(Peek())) return Expected("a condition", after);
      } else if (!StartsTerm(Peek())) {
        break;
      }
      parts.emplace_back();
      RG_RETURN_IF_ERROR(ParseUnary(parts.back(), depth));
    }
    out = Combine(NodeKind::kAnd, std::move(parts));
    return Status::Ok();
  }

  Status ParseUnary(NodePtr& out, int depth) {
    const Token& t = Peek();
    if (t.kind == TokenKind::kBang || IsWord(t, "not")) {
      const int column = t.column;
      std::string after = fmt::format("'{}'", Take().text);
      if (!StartsTerm(Peek())) return Expected("a condition", after);
      if (depth > kMaxParseDepth) {
        return ErrorAt(column,
                       fmt::format("expression nests deeper than {} levels", kMaxParseDepth));
      }
      auto n = std::make_unique<Node>();
      n->kind = NodeKind::kNot;
      n->column = column;
      n->children.emplace_back();
      RG_RETURN_IF_ERROR(ParseUnary(n->children[0], depth + 1));
      out = std::move(n);
      return Status::Ok();
    }
    return ParsePrimary(out, depth);
  }

  Status ParsePrimary(NodePtr& out, int depth) {
    const Token& t = Peek();
    if (t.kind == TokenKind::kLParen) {
      const int open = Take().column;
      if (!StartsTerm(Peek())) return Expected("a condition", "'('");
      RG_RETURN_IF_ERROR(ParseOr(out, depth + 1));
      if (Peek().kind != TokenKind::kRParen) {
        return Expected(fmt::format("')' to close the '(' at column {}", open), "");
      }
      Take();
      return Status::Ok();
    }
    if (t.kind != TokenKind::kIdent || IsWord(t, "and") || IsWord(t, "or")) {
      return Expected("a condition", "");
    }
    const std::string word = Lower(t.text);
    if (word == "service") return ParseService(out, depth, false);
    if (word == "edge") return ParseService(out, depth, true);
    if (word.starts_with("rootcause.") && word != "rootcause.json") {
      auto n = std::make_unique<Node>();
      n->kind = NodeKind::kRootCause;
      n->column = Take().column;
      n->keyword = word;
      RG_RETURN_IF_ERROR(ParseSubFilter(*n, depth));
      out = std::move(n);
      return Status::Ok();
    }
    return ParsePredicate(out);
  }

  Status ParseService(NodePtr& out, int depth, bool edge) {
    auto n = std::make_unique<Node>();
    const Token& kw = Take();
    n->kind = edge ? NodeKind::kEdge : NodeKind::kService;
    n->column = kw.column;
    n->keyword = edge ? "edge" : "service";
    if (Peek().kind != TokenKind::kLParen) return Expected("'('", fmt::format("'{}'", kw.text));
    Take();
    if (edge || Peek().kind != TokenKind::kRParen) {
      n->refs.emplace_back();
      RG_RETURN_IF_ERROR(ParseRef(n->refs.back(), fmt::format("'{}('", kw.text)));
    }
    if (edge) {
      if (Peek().kind != TokenKind::kComma) {
        return Expected("',' and the destination service", "the source service of edge(…)");
      }
      Take();
      n->refs.emplace_back();
      RG_RETURN_IF_ERROR(ParseRef(n->refs.back(), "',' in edge(…)"));
    }
    if (Peek().kind != TokenKind::kRParen) {
      return Expected(fmt::format("')' to close {}(…)", n->keyword), "");
    }
    Take();
    RG_RETURN_IF_ERROR(ParseSubFilter(*n, depth));
    out = std::move(n);
    return Status::Ok();
  }

  Status ParseRef(ServiceRef& ref, std::string_view after) {
    const Token& t = Peek();
    ref.column = t.column;
    if (t.kind == TokenKind::kString) {
      ref.name = Take().text;
      return Status::Ok();
    }
    if (!IsWord(t, "id")) return Expected("a quoted service name or id(…)", after);
    Take();
    ref.is_id = true;
    if (Peek().kind != TokenKind::kLParen) return Expected("'('", "'id'");
    Take();
    while (true) {
      const Token& part = Peek();
      const std::string name = part.kind == TokenKind::kIdent ? Lower(part.text) : "";
      std::optional<std::string>* slot = name == "name"         ? &ref.id_name
                                         : name == "type"       ? &ref.id_type
                                         : name == "account.id" ? &ref.id_account
                                                                : nullptr;
      if (slot == nullptr) return Expected("name:, type: or account.id: inside id(…)", "");
      if (slot->has_value()) {
        return ErrorAt(part.column, fmt::format("'{}' is given twice in id(…)", name));
      }
      Take();
      if (Peek().kind != TokenKind::kColon) return Expected("':'", fmt::format("'{}'", name));
      Take();
      if (Peek().kind != TokenKind::kString) {
        return Expected("a quoted value", fmt::format("'{}:'", name));
      }
      *slot = Take().text;
      if (Peek().kind == TokenKind::kComma) {
        Take();
        continue;
      }
      if (Peek().kind != TokenKind::kRParen) return Expected("',' or ')' in id(…)", "");
      Take();
      return Status::Ok();
    }
  }

  Status ParseSubFilter(Node& n, int depth) {
    if (Peek().kind != TokenKind::kLBrace) return Status::Ok();
    const int open = Take().column;
    if (!StartsTerm(Peek())) return Expected("a sub-filter", "'{'");
    n.has_sub_filter = true;
    n.children.emplace_back();
    RG_RETURN_IF_ERROR(ParseOr(n.children[0], depth + 1));
    if (Peek().kind != TokenKind::kRBrace) {
      return Expected(fmt::format("'}}' to close the sub-filter opened at column {}", open), "");
    }
    Take();
    return Status::Ok();
  }

  static std::optional<CompareOp> OpOf(const Token& t) {
    switch (t.kind) {
      case TokenKind::kEq:
        return CompareOp::kEq;
      case TokenKind::kNe:
        return CompareOp::kNe;
      case TokenKind::kLt:
        return CompareOp::kLt;
      case TokenKind::kLe:
        return CompareOp::kLe;
      case TokenKind::kGt:
        return CompareOp::kGt;
      case TokenKind::kGe:
        return CompareOp::kGe;
      case TokenKind::kIdent: {
        const std::string w = Lower(t.text);
        if (w == "contains") return CompareOp::kContains;
        if (w == "beginswith") return CompareOp::kBeginsWith;
        if (w == "endswith") return CompareOp::kEndsWith;
        return std::nullopt;
      }
      default:
        return std::nullopt;
    }
  }

  Status ParsePredicate(NodePtr& out) {
    auto n = std::make_unique<Node>();
    const Token& kw = Take();
    n->column = kw.column;
    n->keyword = Lower(kw.text);
    if (n->keyword == "annotation") {
      if (Peek().kind != TokenKind::kBracketKey) {
        return Expected("'.KEY' or '[KEY]'", "'annotation'");
      }
      n->key = Take().text;
    } else if (n->keyword.starts_with("annotation.")) {
      n->key = kw.text.substr(std::string_view("annotation.").size());
      n->keyword = "annotation";
      if (n->key.empty())
        return ErrorAt(kw.column, "expected an annotation key after 'annotation.'");
    }
    if (auto op = OpOf(Peek())) {
      const Token& op_tok = Take();
      n->op = *op;
      const std::string after = fmt::format("'{}'", op_tok.text);
      const Token& v = Peek();
      n->value_column = v.column;
      Literal lit;
      if (v.kind == TokenKind::kString) {
        lit.kind = Literal::Kind::kString;
        lit.text = v.text;
      } else if (v.kind == TokenKind::kNumber) {
        lit.kind = Literal::Kind::kNumber;
        lit.text = v.text;
        lit.number = v.number;
      } else if (v.kind == TokenKind::kJson) {
        lit.kind = Literal::Kind::kJson;
        lit.text = v.text;
      } else if (IsWord(v, "true") || IsWord(v, "false")) {
        lit.kind = Literal::Kind::kBool;
        lit.boolean = IsWord(v, "true");
        lit.text = lit.boolean ? "true" : "false";
      } else {
        return Expected("a value", after);
      }
      Take();
      n->value = std::move(lit);
    }
    out = std::move(n);
    return Status::Ok();
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
};

}  // namespace

Result<NodePtr> Parse(std::string_view input) {
  auto tokens = Lex(input);
  if (!tokens.ok()) return tokens.status();
  return Parser(std::move(tokens).value()).Run();
}

}  // namespace roentgen::filter
