#include "filter/lexer.h"

#include <fmt/format.h>

#include <charconv>

namespace roentgen::filter {
namespace {

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsIdentPart(char c) { return IsIdentStart(c) || IsDigit(c) || c == '.'; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

class Lexer {
 public:
  explicit Lexer(std::string_view in) : in_(in) {
    // columns_[i] = 1-based column of byte i (code points, not bytes).
    columns_.resize(in.size() + 1);
    int col = 0;
    for (size_t i = 0; i < in.size(); ++i) {
      if ((static_cast<unsigned char>(in[i]) & 0xC0) != 0x80) ++col;
      columns_[i] = col;
    }
    columns_[in.size()] = col + 1;
  }

  Result<std::vector<Token>> Run() {
    std::vector<Token> out;
    while (true) {
      while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
      Token t;
      t.column = columns_[pos_];
      if (pos_ >= in_.size()) {
        out.push_back(std::move(t));
        return out;
      }
      Status s = Next(t);
      if (!s.ok()) return s;
      out.push_back(std::move(t));
    }
  }

 private:
  Status Next(Token& t) {
    const char c = in_[pos_];
    const size_t start = pos_;
    auto single = [&](TokenKind k) {
      t.kind = k;
      t.text = std::string(1, c);
      ++pos_;
      return Status::Ok();
    };
    auto dual = [&](TokenKind one, TokenKind two) {
      if (pos_ + 1 < in_.size() && in_[pos_ + 1] == '=') {
        t.kind = two;
        t.text = std::string(in_.substr(pos_, 2));
        pos_ += 2;
      } else {
        t.kind = one;
        t.text = std::string(1, c);
        ++pos_;
      }
      return Status::Ok();
    };
    switch (c) {
      case '(':
        return single(TokenKind::kLParen);
      case ')':
        return single(TokenKind::kRParen);
      case '{':
        return single(TokenKind::kLBrace);
      case '}':
        return single(TokenKind::kRBrace);
      case ',':
        return single(TokenKind::kComma);
      case ':':
        return single(TokenKind::kColon);
      case '=':
        return single(TokenKind::kEq);
      case '<':
        return dual(TokenKind::kLt, TokenKind::kLe);
      case '>':
        return dual(TokenKind::kGt, TokenKind::kGe);
      case '!':
        return dual(TokenKind::kBang, TokenKind::kNe);
      case '"': {
        t.kind = TokenKind::kString;
        return ReadString(t.text);
      }
      case '[':
        return ReadBracketKey(t);
      case '#':
        return ReadJson(t);
      default:
        break;
    }
    if (IsIdentStart(c)) {
      while (pos_ < in_.size() && IsIdentPart(in_[pos_])) ++pos_;
      t.kind = TokenKind::kIdent;
      t.text = std::string(in_.substr(start, pos_ - start));
      return Status::Ok();
    }
    if (IsDigit(c) || (c == '-' && pos_ + 1 < in_.size() && IsDigit(in_[pos_ + 1]))) {
      return ReadNumber(t);
    }
    return ErrorAt(columns_[pos_], fmt::format("unexpected character '{}'", Utf8At(pos_)));
  }

  std::string Utf8At(size_t p) const {
    size_t e = p + 1;
    while (e < in_.size() && (static_cast<unsigned char>(in_[e]) & 0xC0) == 0x80) ++e;
    return std::string(in_.substr(p, e - p));
  }

  Status ReadNumber(Token& t) {
    const size_t start = pos_;
    if (in_[pos_] == '-') ++pos_;
    while (pos_ < in_.size() && IsDigit(in_[pos_])) ++pos_;
    if (pos_ + 1 < in_.size() && in_[pos_] == '.' && IsDigit(in_[pos_ + 1])) {
      ++pos_;
      while (pos_ < in_.size() && IsDigit(in_[pos_])) ++pos_;
    }
    if (pos_ < in_.size() && (in_[pos_] == 'e' || in_[pos_] == 'E')) {
      size_t p = pos_ + 1;
      if (p < in_.size() && (in_[p] == '+' || in_[p] == '-')) ++p;
      if (p < in_.size() && IsDigit(in_[p])) {
        while (p < in_.size() && IsDigit(in_[p])) ++p;
        pos_ = p;
      }
    }
    size_t end = pos_;
    while (end < in_.size() && (IsIdentPart(in_[end]))) ++end;
    if (end != pos_) {
      return ErrorAt(columns_[start],
                     fmt::format("malformed number '{}' (string values must be in double quotes)",
                                 in_.substr(start, end - start)));
    }
    t.kind = TokenKind::kNumber;
    t.text = std::string(in_.substr(start, pos_ - start));
    auto [ptr, ec] = std::from_chars(t.text.data(), t.text.data() + t.text.size(), t.number);
    if (ec != std::errc() || ptr != t.text.data() + t.text.size()) {
      return ErrorAt(columns_[start], fmt::format("number '{}' is out of range", t.text));
    }
    return Status::Ok();
  }

  // Reads a double-quoted string starting at pos_ (which holds '"').
  Status ReadString(std::string& out) {
    const size_t start = pos_;
    ++pos_;
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (c == '"') {
        ++pos_;
        return Status::Ok();
      }
      if (c == '\\') {
        if (pos_ + 1 < in_.size() && (in_[pos_ + 1] == '"' || in_[pos_ + 1] == '\\')) {
          out.push_back(in_[pos_ + 1]);
          pos_ += 2;
          continue;
        }
        if (pos_ + 1 >= in_.size()) break;
        return ErrorAt(columns_[pos_], fmt::format("unknown escape '\\{}' in string (only \\\" "
                                                   "and \\\\ are allowed)",
                                                   Utf8At(pos_ + 1)));
      }
      out.push_back(c);
      ++pos_;
    }
    return ErrorAt(columns_[start], "string is not closed: expected '\"' before end of expression");
  }

  Status ReadBracketKey(Token& t) {
    const size_t open = pos_;
    t.kind = TokenKind::kBracketKey;
    ++pos_;
    while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
    if (pos_ < in_.size() && in_[pos_] == '"') {
      RG_RETURN_IF_ERROR(ReadString(t.text));
      while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
      if (pos_ >= in_.size() || in_[pos_] != ']') {
        return ErrorAt(columns_[pos_],
                       "expected ']' to close the annotation key opened at column " +
                           std::to_string(columns_[open]));
      }
      ++pos_;
    } else {
      const size_t start = pos_;
      while (pos_ < in_.size() && in_[pos_] != ']') ++pos_;
      if (pos_ >= in_.size()) {
        return ErrorAt(columns_[pos_],
                       "expected ']' to close the annotation key opened at column " +
                           std::to_string(columns_[open]));
      }
      std::string_view key = in_.substr(start, pos_ - start);
      while (!key.empty() && IsSpace(key.back())) key.remove_suffix(1);
      t.text = std::string(key);
      ++pos_;
    }
    if (t.text.empty()) return ErrorAt(columns_[open], "annotation key in [ ] is empty");
    return Status::Ok();
  }

  Status ReadJson(Token& t) {
    const size_t hash = pos_;
    ++pos_;
    if (pos_ >= in_.size() || in_[pos_] != '[') {
      return ErrorAt(columns_[hash], "expected '#[' to start a JSON list");
    }
    const size_t start = pos_;
    int depth = 0;
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (c == '"') {
        std::string ignored;
        RG_RETURN_IF_ERROR(ReadString(ignored));
        continue;
      }
      if (c == '[' || c == '{') ++depth;
      if (c == ']' || c == '}') --depth;
      ++pos_;
      if (depth == 0) {
        t.kind = TokenKind::kJson;
        t.text = std::string(in_.substr(start, pos_ - start));
        return Status::Ok();
      }
    }
    return ErrorAt(columns_[hash], "JSON list after '#' is not closed: expected ']'");
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::vector<int> columns_;
};

}  // namespace

Status ErrorAt(int column, std::string_view message) {
  return Status::InvalidArgument(fmt::format("column {}: {}", column, message));
}

std::string DescribeToken(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEnd:
      return "end of expression";
    case TokenKind::kIdent:
      return fmt::format("'{}'", token.text);
    case TokenKind::kString:
      return fmt::format("string \"{}\"", token.text);
    case TokenKind::kNumber:
      return fmt::format("number {}", token.text);
    case TokenKind::kBracketKey:
      return fmt::format("'[{}]'", token.text);
    case TokenKind::kJson:
      return "a JSON list";
    default:
      return fmt::format("'{}'", token.text);
  }
}

Result<std::vector<Token>> Lex(std::string_view input) { return Lexer(input).Run(); }

}  // namespace roentgen::filter
