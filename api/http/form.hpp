// application/x-www-form-urlencoded decoding: the legacy form bodies of the ingest formats, and
// the query strings and form bodies of the HTTP layer (api/http/).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

// The deepest bracket nesting of a form parameter name: `a[b][c]` has 2 levels. Deeper names are
// refused (400) in form bodies; they would otherwise build (and walk) one nested object per level.
inline constexpr std::size_t kMaxFormKeyDepth = 32;

// Decodes %XX escapes (and '+' as a space when `plus_is_space`). A '%' not followed by two hex
// digits is kept literally.
std::string url_decode(std::string_view s, bool plus_is_space = true);

// Splits "a=1&b=2&a=3" into decoded (key, value) pairs, keeping order and duplicates. Empty
// segments are skipped; a segment without '=' has an empty value.
std::vector<std::pair<std::string, std::string>> parse_urlencoded(std::string_view s);

// Appends `s` to `out` percent-encoded (%XX, upper-case hex), keeping the unreserved characters
// [A-Za-z0-9-_.~] and those in `also_plain` as they are: for links built into answers.
void url_encode(std::string& out, std::string_view s, std::string_view also_plain = {});

// Whether `s` is UTF-8 as JSON text requires it (no overlong forms, surrogates or code points
// above U+10FFFF): decoded form names and values must be, before they become JSON strings.
bool valid_utf8(std::string_view s);

// `s` with each invalid byte replaced by U+FFFD.
std::string repaired_utf8(std::string_view s);

// A parameter name as error messages show it: its first 64 bytes ("..." after a longer one), each
// invalid byte replaced by U+FFFD.
std::string shown_name(std::string_view name);

}  // namespace vigil
