// The second stage: tokens → parse tree (ast.h).
//
// Grammar (keywords and AND/OR/NOT/CONTAINS/… case-insensitive):
//   expr      := and_expr { OR and_expr }
//   and_expr  := unary { [AND] unary }          terms side by side mean AND
//   unary     := ( '!' | NOT ) unary | primary
//   primary   := '(' expr ')' | service | edge | rootcause | predicate
//   service   := SERVICE '(' [ ref ] ')' [ '{' expr '}' ]
//   edge      := EDGE '(' ref ',' ref ')' [ '{' expr '}' ]
//   rootcause := ROOTCAUSE.<kind>.<level> [ '{' expr '}' ]
//   ref       := string | ID '(' part { ',' part } ')'   part := (name|type|account.id) ':' string
//   predicate := keyword [ op value ]   keyword: a word, annotation.KEY or annotation[KEY]
//   op        := = | != | < | <= | > | >= | CONTAINS | BEGINSWITH | ENDSWITH
//   value     := string | number | TRUE | FALSE | '#[' json ']'
// NOT binds tighter than AND, AND tighter than OR. Whether a keyword exists and
// takes that operator and value is checked later (bind.h). Pure, thread-safe.
#pragma once

#include <string_view>

#include "common/status.h"
#include "filter/ast.h"

namespace roentgen::filter {

// Parses `input`. An empty (or all-blank) expression yields a null tree, which
// means "match every trace". Errors are InvalidArgument "column N: expected …
// but found …".
Result<NodePtr> Parse(std::string_view input);

// Sub-filters and parentheses may nest at most this deep.
inline constexpr int kMaxParseDepth = 64;

}  // namespace roentgen::filter
