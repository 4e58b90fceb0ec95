// Glob patterns: the one wildcard matcher of the project. `*` matches any run of characters (none
// included); `?` matches exactly one character, or only itself where a caller's language gives it
// no meaning (QuestionMark::literal: Librato's tag filters, whose values cannot hold a `?`).
// Characters compare ASCII case-insensitively. Greedy with one backtrack point: linear in the
// text times the number of stars in the worst case, no recursion.
#pragma once

#include <string_view>

namespace vigil {

enum class QuestionMark { wildcard, literal };

bool glob_match(std::string_view pattern, std::string_view text, QuestionMark q = QuestionMark::wildcard);

}  // namespace vigil
