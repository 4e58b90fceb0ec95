// What the engine stores: the longest metric names, tag names and tag values it keeps, the most
// tags a series carries, and the floating point values it accepts. Names and values are any bytes
// (any UTF-8) within these lengths: series keys escape what they must (encoding/series_key.hpp).
// Which characters a name may hold, and whether case matters, is each dialect's rule.
#pragma once

#include <cstddef>

namespace vigil {

inline constexpr std::size_t kMaxMetricNameLength = 255;
inline constexpr std::size_t kMaxTagNameLength = 64;
inline constexpr std::size_t kMaxTagValueLength = 256;
inline constexpr std::size_t kMaxTagsPerMeasurement = 10;
// Values whose magnitude exceeds this are refused.
inline constexpr double kMaxFloatMagnitude = 1e126;
// Non-zero values whose magnitude is below this are stored as 0.0.
inline constexpr double kMinFloatMagnitude = 1e-130;

enum class FloatCheck { ok, not_finite, too_large };

// Applies the float restrictions to `x`: NaN and infinities are refused, magnitudes above 1e126
// are refused as too large, non-zero magnitudes below 1e-130 are truncated to 0.0 (in place).
FloatCheck check_float(double& x);

// A message for a failed check_float result (empty for ok).
const char* float_error_message(FloatCheck c);

}  // namespace vigil
