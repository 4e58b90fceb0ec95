// Appends JSON values to a string, for the response bodies on the query path, where building an
// nlohmann::json tree and dumping it was most of a one-series query's work. The output is what
// nlohmann's dump() gives for the same values (numbers may be spelled differently, e.g. 1e+15 for
// 1000000000000000.0, but read back as the same double).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace vigil::api::json_out {

// A quoted string: `"`, `\` and control characters escaped; other bytes as they are.
void string(std::string& out, std::string_view s);
// A double: the shortest text that reads back as it, with ".0" when that looks like an integer;
// null when not finite (as nlohmann writes NaN and infinities).
void number(std::string& out, double v);
void integer(std::string& out, std::int64_t v);
// A double with an integral value below 2^53 as an integer, any other as number().
void count(std::string& out, double v);

}  // namespace vigil::api::json_out
