// The golden corpus (tests/testdata/filter/corpus.txt) and the examples of
// docs/filter-expressions.md.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "filter/filter.h"
#include "filter/parser.h"
#include "filter/printer.h"

namespace roentgen::filter {
namespace {

class CorpusGroups : public GroupResolver {
 public:
  Result<std::string> GroupFilter(std::string_view name, bool by_arn) const override {
    static const std::map<std::string, std::string, std::less<>> kByName = {
        {"high_response_time", "responsetime > 5"},
        {"everything", ""},
        {"broken", "fault AND"},
        {"loop", R"(group.name = "loop")"},
    };
    if (by_arn) {
      if (name == "arn:aws:xray:us-east-1:123456789012:group/high_response_time/ABCDEF") {
        return kByName.at("high_response_time");
      }
      return Status::NotFound("no such group");
    }
    auto it = kByName.find(name);
    if (it == kByName.end()) return Status::NotFound("no such group");
    return it->second;
  }
};

struct CorpusLine {
  std::string section;
  std::string expr;
  std::string expected;  // canonical text or error message
  int line = 0;
};

std::vector<CorpusLine> ReadCorpus() {
  std::ifstream in("tests/testdata/filter/corpus.txt");
  EXPECT_TRUE(in.good()) << "run from the source root";
  std::vector<CorpusLine> out;
  std::string section, text;
  for (int n = 1; std::getline(in, text); ++n) {
    if (text.empty() || text[0] == '#') continue;
    if (text[0] == '[') {
      section = text;
      continue;
    }
    CorpusLine l{section, text, "", n};
    const size_t arrow = text.find(" ==> ");
    if (arrow != std::string::npos) {
      l.expr = text.substr(0, arrow);
      l.expected = text.substr(arrow + 5);
    } else {
      l.expected = text;
    }
    out.push_back(std::move(l));
  }
  return out;
}

TEST(CorpusTest, EveryLineBehavesAsRecorded) {
  CorpusGroups groups;
  std::map<std::string, int> counts;
  for (const CorpusLine& l : ReadCorpus()) {
    SCOPED_TRACE("corpus.txt:" + std::to_string(l.line) + ": " + l.expr);
    ++counts[l.section];
    auto tree = Parse(l.expr);
    auto compiled = CompileFilter(l.expr, &groups);
    if (l.section == "[valid]") {
      ASSERT_TRUE(compiled.ok()) << compiled.status().ToString();
      EXPECT_EQ(compiled->ToString(), l.expected);
      ASSERT_TRUE(tree.ok());
      auto again = Parse(Print(tree->get()));
      ASSERT_TRUE(again.ok()) << again.status().ToString();
      ASSERT_NE(*again, nullptr);
      EXPECT_TRUE(**again == **tree);
      EXPECT_EQ(Print(again->get()), l.expected);
    } else if (l.section == "[parse_fails]") {
      ASSERT_FALSE(tree.ok());
      EXPECT_EQ(tree.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(tree.status().message(), l.expected);
      EXPECT_EQ(compiled.status(), tree.status());
    } else {
      ASSERT_EQ(l.section, "[validate_fails]");
      ASSERT_TRUE(tree.ok()) << tree.status().ToString();
      ASSERT_FALSE(compiled.ok());
      EXPECT_EQ(compiled.status().code(), StatusCode::kInvalidArgument);
      EXPECT_EQ(compiled.status().message(), l.expected);
    }
  }
  EXPECT_GE(counts["[valid]"], 100);
  EXPECT_GE(counts["[parse_fails]"], 40);
  EXPECT_GE(counts["[validate_fails]"], 40);
}

// Every line of a ```filter block in the docs compiles; a line of a
// ```filter-error block fails with the message on the line after it ("→ …").
TEST(CorpusTest, DocsExamples) {
  std::ifstream in("docs/filter-expressions.md");
  ASSERT_TRUE(in.good());
  CorpusGroups groups;
  std::string text, block;
  int examples = 0, errors = 0;
  std::string pending_error;
  for (int n = 1; std::getline(in, text); ++n) {
    if (text.starts_with("```")) {
      block = block.empty() ? text.substr(3) : "";
      continue;
    }
    if (text.empty()) continue;
    SCOPED_TRACE("docs/filter-expressions.md:" + std::to_string(n) + ": " + text);
    if (block == "filter") {
      auto f = CompileFilter(text, &groups);
      EXPECT_TRUE(f.ok()) << f.status().ToString();
      ++examples;
    } else if (block == "filter-error") {
      if (text.starts_with("→ ")) {
        auto f = CompileFilter(pending_error, &groups);
        ASSERT_FALSE(f.ok());
        EXPECT_EQ(f.status().message(), text.substr(std::string("→ ").size()));
        ++errors;
      } else {
        pending_error = text;
      }
    }
  }
  EXPECT_GE(examples, 30);
  EXPECT_GE(errors, 4);
}

}  // namespace
}  // namespace roentgen::filter
