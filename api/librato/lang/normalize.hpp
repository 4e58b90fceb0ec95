// Librato's naming rules, applied by every Librato parser (measurement bodies, line protocol,
// queries, alerts, annotations) and nowhere else: metric names of [A-Za-z0-9.:_-], tag names and
// values of /[-.:_\w]/ lower-cased, legacy sources, at most ten tags per measurement, and the tag
// source=unassigned given to a measurement without tags. The engine stores whatever a dialect
// hands it (engine/model/limits.hpp); other dialects keep case and other characters.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "engine/model/limits.hpp"
#include "engine/model/text.hpp"

namespace vigil {

inline constexpr std::size_t kMaxSourceLength = 255;
// The tag of a measurement submitted without tags.
inline constexpr std::string_view kDefaultTagName = "source";
inline constexpr std::string_view kDefaultTagValue = "unassigned";

// 1..255 characters of [A-Za-z0-9.:_-].
inline bool valid_metric_name(std::string_view name) { return is_plain_name(name, kMaxMetricNameLength); }

// The characters of a Librato tag name or value.
constexpr bool is_tag_char(char c) { return is_plain_char(c); }

// Lower-cases `in` into `out` and validates it as a tag name (/\A[-.:_\w]+\z/, 1..64 chars).
// `in` may view `out` itself (normalising in place).
// Returns an error message, or an empty string when valid. `out` is overwritten either way.
std::string normalize_tag_name(std::string_view in, std::string& out);
// The same for a tag value (1..256 chars).
std::string normalize_tag_value(std::string_view in, std::string& out);

// Lower-cases and validates a legacy `source`: 1..255 characters of [A-Za-z0-9.:_-], not the
// reserved word `all`. Returns an error message or empty.
std::string normalize_source(std::string_view in, std::string& out);

// Error message for a tag count above the limit, or empty.
std::string check_tag_count(std::size_t n);

}  // namespace vigil
