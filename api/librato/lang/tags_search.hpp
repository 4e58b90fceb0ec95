// Librato's `tags_search` language (GET /v1/measurements): a boolean expression over tag values,
// parsed into the engine's TagExpr.
//
//   expr    := and_expr ("or" and_expr)*
//   and_expr:= unary ("and" unary)*
//   unary   := "not" unary | "(" expr ")" | term
//   term    := NAME "=" VALUE      the series has tag NAME and its value matches VALUE
//            | NAME "!=" VALUE     the series has tag NAME and its value does not match VALUE
//            | NAME                the series has tag NAME
//
// Keywords are case-insensitive; NAME is [-.:_\w]+ (compared lower-cased); VALUE is a run of
// [-.:_\w*?] or a single- or double-quoted string, with `*` (any run) and `?` (one character)
// wildcards, matched case-insensitively. `not` is plain negation: `not region=us-*` also matches
// series without a region tag (write `region!=us-*` to require the tag).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/query/tag_expr.hpp"

namespace vigil {

// The parsed expression, or nullopt with `err` naming the problem and its position (1-based
// character offset), e.g. "expected a tag name at position 12".
std::optional<TagExpr> parse_tags_search(std::string_view text, std::string& err);

}  // namespace vigil
