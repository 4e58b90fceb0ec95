// Decimal forms of doubles: the search shared by the compact values (compact.cpp) and the double
// columns (columns.cpp). Not a format of its own: internal to engine/encoding/.
//
// A double's decimal form is (m, k, c): the value is m / 10^k (k 0..9, |m| < 2^53) moved by c
// units in the last place (c -2..2: sums of decimals are often a unit or two away from the
// decimal). A form is exact: decimal_value(k, c, m) gives back the double bit for bit.
//
// Everything here is inline so that the column encoder's per-value loop keeps it inlined.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace vigil::enc::detail {

inline constexpr double kPow10[10] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
inline constexpr double kMantissaLimit = 9007199254740992.0;  // 2^53

inline std::uint64_t bits_of(double d) {
  std::uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}
// Doubles as integers in value order (-0.0 and 0.0 both map to 0): neighbours differ by 1.
inline std::int64_t ordered(double d) {
  auto b = static_cast<std::int64_t>(bits_of(d));
  return b >= 0 ? b : std::numeric_limits<std::int64_t>::min() - b;
}
inline double from_ordered(std::int64_t o) {
  std::uint64_t b = o >= 0 ? static_cast<std::uint64_t>(o)
                           : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::min() - o);
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}

inline double decimal_value(int k, int c, std::int64_t m) {
  double d = static_cast<double>(m) / kPow10[k];
  return c == 0 ? d : from_ordered(ordered(d) + c);
}

// A double's decimal form: m / 10^k moved by c units in the last place; ok false if none.
struct DecimalForm {
  std::int64_t m = 0;
  int k = 0, c = 0;
  bool ok = false;
};

// round-to-nearest of |x| < 2^51 without a call: adding 1.5 * 2^52 leaves no fraction bits.
inline double round_small(double x) {
  constexpr double kShift = 6755399441055744.0;  // 1.5 * 2^52
  return x >= 0 ? (x + kShift) - kShift : -((-x + kShift) - kShift);
}

// The decimal form of v at exactly k places, if it has one.
[[gnu::always_inline]] inline bool decimal_at(double v, int k, std::uint64_t want, std::int64_t ov, DecimalForm& f) {
  const double scaled = v * kPow10[k];
  const double mag = std::fabs(scaled);
  if (mag >= kMantissaLimit) return false;
  const double r = mag < 2251799813685248.0 ? round_small(scaled) : static_cast<double>(std::llround(scaled));
  // A decimal with k places scales to within a few units in the last place of an integer; a
  // fraction this far off needs more places (the checks below decide; this only skips work).
  if (std::fabs(scaled - r) > 1e-9 * (mag > 1 ? mag : 1)) return false;
  const auto m = static_cast<std::int64_t>(r);
  const double d = static_cast<double>(m) / kPow10[k];
  const std::int64_t od = ordered(d);
  const std::int64_t c = ov - od;
  if (c < -2 || c > 2) return false;
  // decimal_value(k, c, m), without dividing again
  if (bits_of(c == 0 ? d : from_ordered(od + c)) != want) return false;  // -0.0 and the like
  f.m = m;
  f.k = k;
  f.c = static_cast<int>(c);
  f.ok = true;
  return true;
}

// The decimal form of v with the fewest places, or (`any_places`) with `hint` places when it has
// one there: a column's values mostly share their places, one try instead of several. Without
// `any_places` a form at `hint` is still taken when its mantissa is not a multiple of 10 and below
// 2^50: fewer places would need a mantissa at least one unit of the last place away, which is more
// than the two units in the last place of the double that c allows.
inline DecimalForm decimal_form(double v, int hint = -1, bool any_places = false) {
  DecimalForm f;
  if (!(std::fabs(v) < kMantissaLimit)) return f;  // NaN, infinities, huge
  const std::uint64_t want = bits_of(v);
  const std::int64_t ov = ordered(v);
  if (hint >= 0 && decimal_at(v, hint, want, ov, f)) {
    if (any_places || hint == 0 || (f.m % 10 != 0 && f.m < (std::int64_t{1} << 50) && f.m > -(std::int64_t{1} << 50)))
      return f;
    f = DecimalForm{};
  }
  for (int k = 0; k < 10; ++k)
    if (k != hint && decimal_at(v, k, want, ov, f)) return f;
  return f;
}

}  // namespace vigil::enc::detail
