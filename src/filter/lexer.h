// The first stage of the filter-expression pipeline: text → tokens.
//
// Identifiers ([A-Za-z_][A-Za-z0-9_.]*) carry keywords, AND/OR/NOT and the
// string operators; the parser decides what they mean (case-insensitively).
// Strings are double-quoted with the escapes \" and \\ only. Numbers are
// decimal with an optional leading '-', fraction and exponent. `[...]` after a
// word is read whole as an annotation key (quoted or bare); `#[...]` is read
// whole as the JSON of `rootcause.json`. Columns are 1-based and count Unicode
// code points. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace roentgen::filter {

enum class TokenKind {
  kIdent,
  kString,      // text = the unescaped value
  kNumber,      // text = as written, number = its value
  kBracketKey,  // text = the unescaped key inside [ ]
  kJson,        // text = the JSON array after '#'
  kLParen,
  kRParen,
  kLBrace,
  kRBrace,
  kComma,
  kColon,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kBang,
  kEnd,
};

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;
  double number = 0;
  int column = 1;
};

// Tokenizes `input`; the last token is always kEnd. Errors are InvalidArgument
// with a message "column N: …".
Result<std::vector<Token>> Lex(std::string_view input);

// How a token is named in error messages: "'='", "string \"x\"", "end of expression".
std::string DescribeToken(const Token& token);

// Builds the standard error "column N: <message>".
Status ErrorAt(int column, std::string_view message);

}  // namespace roentgen::filter
