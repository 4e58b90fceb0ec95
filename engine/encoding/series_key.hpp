// The canonical series key: the name of a series in the series family and the series index.
//
//   metric key, NUL, then the sorted tags as `name=value` pairs joined by ','
//
// Tag names and values cannot contain '=', ',' or NUL, so the key is unambiguous. All series of a
// metric share the prefix `metric key NUL`.
#pragma once

#include <string>
#include <string_view>

#include "engine/model.hpp"

namespace vigil::enc {

std::string series_key(std::string_view metric_key, const Tags& tags);
// The same key appended to `out` (many keys in one buffer, no allocation per key).
void append_series_key(std::string& out, std::string_view metric_key, const Tags& tags);
// Splits a canonical series key back into metric key and tags; false if malformed.
bool parse_series_key(std::string_view key, std::string& metric_key, Tags& tags);

}  // namespace vigil::enc
