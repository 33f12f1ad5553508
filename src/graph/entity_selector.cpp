// A small recursive-descent parser for entity selectors. See entity_selector.h.
#include "graph/entity_selector.h"

#include <fmt/format.h>

#include <cctype>

namespace roentgen::graph {
namespace {

class SelectorParser {
 public:
  explicit SelectorParser(std::string_view text) : text_(text) {}

  Result<EntitySelector> Parse() {
    EntitySelector sel;
    SkipSpace();
    if (Keyword("service")) {
      sel.kind = EntitySelector::Kind::kService;
      if (!Expect('(') || !Matcher(sel.service) || !Expect(')')) return Error();
    } else if (Keyword("edge")) {
      sel.kind = EntitySelector::Kind::kEdge;
      if (!Expect('(') || !Matcher(sel.service) || !Expect(',') || !Matcher(sel.destination) ||
          !Expect(')')) {
        return Error();
      }
    } else {
      error_ = "expected service(...) or edge(...)";
      return Error();
    }
    SkipSpace();
    if (pos_ != text_.size()) {
      error_ = "unexpected text after the selector";
      return Error();
    }
    return sel;
  }

 private:
  Status Error() const {
    return Status::InvalidArgument(
        fmt::format("EntitySelectorExpression: {} at offset {}", error_, pos_));
  }

  void SkipSpace() {
    while (pos_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[pos_]))) ++pos_;
  }

  // Consumes `word` (case-insensitive) if it is next and not part of a longer word.
  bool Keyword(std::string_view word) {
    SkipSpace();
    if (text_.size() - pos_ < word.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(text_[pos_ + i])) != word[i]) return false;
    }
    const size_t end = pos_ + word.size();
    if (end < text_.size() &&
        (std::isalnum(static_cast<unsigned char>(text_[end])) || text_[end] == '_')) {
      return false;
    }
    pos_ = end;
    return true;
  }

  bool Expect(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    if (error_.empty()) error_ = fmt::format("expected '{}'", c);
    return false;
  }

  bool String(std::string& out) {
    SkipSpace();
    if (pos_ >= text_.size() || text_[pos_] != '"') {
      error_ = "expected a double-quoted string";
      return false;
    }
    ++pos_;
    out.clear();
    while (pos_ < text_.size() && text_[pos_] != '"') {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) ++pos_;
      out.push_back(text_[pos_++]);
    }
    if (pos_ >= text_.size()) {
      error_ = "unterminated string";
      return false;
    }
    ++pos_;
    return true;
  }

  // "name" | id(name: "...", type: "...", account.id: "...")
  bool Matcher(ServiceMatcher& m) {
    SkipSpace();
    if (!Keyword("id")) {
      std::string name;
      if (!String(name)) return false;
      m.name = std::move(name);
      return true;
    }
    if (!Expect('(')) return false;
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == ')') {
      ++pos_;
      return true;
    }
    while (true) {
      std::optional<std::string>* field = nullptr;
      if (Keyword("name")) {
        field = &m.name;
      } else if (Keyword("type")) {
        field = &m.type;
      } else if (Keyword("account.id")) {
        field = &m.account_id;
      } else {
        error_ = "expected name, type or account.id";
        return false;
      }
      std::string value;
      if (!Expect(':') || !String(value)) return false;
      *field = std::move(value);
      SkipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      return Expect(')');
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

bool ServiceMatcher::Matches(const ServiceKey& key) const {
  return (!name || *name == key.name) && (!type || *type == key.type) &&
         (!account_id || *account_id == key.account_id);
}

Result<EntitySelector> ParseEntitySelector(std::string_view expression) {
  return SelectorParser(expression).Parse();
}

}  // namespace roentgen::graph
