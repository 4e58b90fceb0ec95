// Influx line protocol, producing the same ParseOutcome as the JSON parser so that every ingest
// path stores the same Measurements:
//
//   <measurement>[,<tag>=<value>...] <field>=<number>[,<field>=<number>...] [<timestamp>]
//
// Field `value` becomes a sample of metric <measurement>; any other field F becomes a sample of
// metric <measurement>.F. Integers (`12i`, `12u`) and floats are accepted; string and boolean
// fields are errors. Tags are lower-cased and validated like Librato tags (at most 10; none
// means source=unassigned). Timestamps are integers in `precision` units (floored to seconds);
// no timestamp means `now`. Blank lines and lines starting with '#' are skipped. Backslash
// escapes commas, spaces and '=' in names, tag keys and tag values.
#pragma once

#include <cstdint>
#include <string_view>

#include "api/librato/lang/ingest_parser.hpp"

namespace vigil {

enum class TimePrecision { ns, us, ms, s };

// "ns" | "us" | "ms" | "s"; false for anything else.
bool parse_time_precision(std::string_view text, TimePrecision& out);

// Errors name the line ("line 3") and what is wrong; the valid lines' measurements are kept.
// `request_error` is set when the body holds no line at all. A line naming a metric that `policy`
// refuses is rejected whole.
ParseOutcome parse_line_protocol(std::string_view body, std::int64_t now, TimePrecision precision,
                                 const NamePolicy* policy = nullptr);

}  // namespace vigil
