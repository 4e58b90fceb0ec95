#include "engine/model/limits.hpp"

#include <cmath>

namespace vigil {

FloatCheck check_float(double& x) {
  if (!std::isfinite(x)) return FloatCheck::not_finite;
  double a = std::fabs(x);
  if (a > kMaxFloatMagnitude) return FloatCheck::too_large;
  if (a != 0 && a < kMinFloatMagnitude) x = 0.0;
  return FloatCheck::ok;
}

const char* float_error_message(FloatCheck c) {
  switch (c) {
    case FloatCheck::not_finite: return "must be a finite number";
    case FloatCheck::too_large: return "exponent too large (magnitude above 1e126)";
    default: return "";
  }
}

}  // namespace vigil
