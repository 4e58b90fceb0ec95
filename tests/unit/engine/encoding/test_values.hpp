// Values shared by the encoding tests: doubles that are hard to encode, and bitwise comparison.
#pragma once

#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "engine/model/model.hpp"

namespace vigil::encoding_test {

inline std::uint64_t bits(double d) {
  std::uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}

inline bool same(const Agg& a, const Agg& b) {
  return bits(a.count) == bits(b.count) && bits(a.sum) == bits(b.sum) && bits(a.min) == bits(b.min) &&
         bits(a.max) == bits(b.max) && bits(a.last) == bits(b.last) && a.last_time == b.last_time &&
         bits(a.sumsq) == bits(b.sumsq);
}

inline double enc_test_pow10(int k) {
  double p = 1;
  while (k-- > 0) p *= 10;
  return p;
}

inline std::vector<double> awkward_doubles() {
  std::vector<double> v = {0.0, -0.0, 1.0, -1.0, 0.1, 0.1 + 0.2, 88.331, -88.331, 1e-300, 5e-324, 1e300,
                           -1e300, 1.0 / 3, 123456789.123, 9007199254740991.0, 9007199254740993.0,
                           std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest(),
                           std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN(), 1e-9, 0.000000001234, 4503599627370496.5};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::uint64_t b = rng();
    double d;
    std::memcpy(&d, &b, 8);
    v.push_back(d);                                              // any bit pattern
    v.push_back(static_cast<double>(rng() % 100000) / 1000.0);   // a W1-style value
    double s = 0;
    for (int k = 0; k < 6; ++k) s += static_cast<double>(rng() % 100000) / 1000.0;
    v.push_back(s);  // a sum of decimals, often a unit or two off its decimal
    v.push_back(s * s);
    v.push_back(-static_cast<double>(rng() % 1000000000) / 1e6);
  }
  return v;
}

}  // namespace vigil::encoding_test
