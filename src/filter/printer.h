// Canonical printing of a parse tree: keywords lowercase, AND / OR / CONTAINS …
// uppercase, `!` for NOT, explicit AND between terms, the fewest parentheses
// that keep the tree's shape, strings re-escaped. Parse(Print(t)) == t for every
// tree Parse produces. Pure, thread-safe.
#pragma once

#include <string>

#include "filter/ast.h"

namespace roentgen::filter {

// The canonical text of `node`; "" for a null tree (match everything).
std::string Print(const Node* node);

// `s` as a double-quoted filter string literal ("a\"b").
std::string QuoteString(std::string_view s);

}  // namespace roentgen::filter
