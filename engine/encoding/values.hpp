// Fixed-width values: aggregates and raw samples as the log and the sample values store them.
// (Blocks store numbers compactly instead: engine/encoding/compact.hpp.)
//
//   agg      56 bytes: f64 count, f64 sum, f64 min, f64 max, f64 last, time last_time,
//            f64 sum_squares (engine/encoding/bytes.hpp)
//   sample   8 bytes, the f64 value, when the sample is a single value at its own time (count 1,
//            min = max = sum = last, last_time the sample's time: the common case); otherwise
//            the full 56-byte agg. The two are told apart by their length.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/encoding/bytes.hpp"
#include "engine/model/model.hpp"

namespace vigil::enc {

inline constexpr std::size_t kAggSize = 56;

inline void put_agg(std::string& out, const Agg& a) {
  put_f64(out, a.count);
  put_f64(out, a.sum);
  put_f64(out, a.min);
  put_f64(out, a.max);
  put_f64(out, a.last);
  put_time(out, a.last_time);
  put_f64(out, a.sumsq);
}

// False unless `in` is exactly kAggSize bytes.
inline bool get_agg(std::string_view in, Agg& a) {
  if (in.size() != kAggSize) return false;
  const char* p = in.data();
  a.count = get_f64(p);
  a.sum = get_f64(p + 8);
  a.min = get_f64(p + 16);
  a.max = get_f64(p + 24);
  a.last = get_f64(p + 32);
  a.last_time = get_time(p + 40);
  a.sumsq = get_f64(p + 48);
  return true;
}

// A raw sample is 8 bytes when it is a single value (the common case) and a full Agg otherwise.
inline bool is_single_value(const Agg& a, std::int64_t t) {
  return a.count == 1 && a.min == a.max && a.sum == a.min && a.last == a.min && a.last_time == t;
}

inline void put_sample_value(std::string& out, const Agg& a, std::int64_t t) {
  if (is_single_value(a, t))
    put_f64(out, a.sum);
  else
    put_agg(out, a);
}

inline bool get_sample_value(std::string_view in, std::int64_t t, Agg& a) {
  if (in.size() == 8) {
    a = Agg::of_value(get_f64(in.data()), t);
    return true;
  }
  return get_agg(in, a);
}

}  // namespace vigil::enc
