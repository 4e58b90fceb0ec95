// The Librato measurement restrictions: metric names, tag names and values, legacy sources and
// floating point limits. Each check is a small function so the parsers (and the HTTP layer)
// apply exactly the same rules.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vigil {

inline constexpr std::size_t kMaxMetricNameLength = 255;
inline constexpr std::size_t kMaxTagNameLength = 64;
inline constexpr std::size_t kMaxTagValueLength = 256;
inline constexpr std::size_t kMaxSourceLength = 255;
inline constexpr std::size_t kMaxTagsPerMeasurement = 10;
// Values whose magnitude exceeds this reject the request item (HTTP 400).
inline constexpr double kMaxFloatMagnitude = 1e126;
// Non-zero values whose magnitude is below this are stored as 0.0.
inline constexpr double kMinFloatMagnitude = 1e-130;

// 1..255 characters of [A-Za-z0-9.:_-].
bool valid_metric_name(std::string_view name);

// True for the characters of /[-.:_\w]/ (ASCII \w: [A-Za-z0-9_]).
constexpr bool is_tag_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':';
}

// ASCII lower-casing in place / into a copy.
void ascii_lower_in_place(std::string& s);
std::string ascii_lower(std::string_view s);

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

enum class FloatCheck { ok, not_finite, too_large };

// Applies the float restrictions to `x`: NaN and infinities are rejected, magnitudes above 1e126
// are rejected as too large, non-zero magnitudes below 1e-130 are truncated to 0.0 (in place).
FloatCheck check_float(double& x);

// A message for a failed check_float result (empty for ok).
const char* float_error_message(FloatCheck c);

}  // namespace vigil
