// Compact values: the numbers and aggregates that raw and rollup blocks store one at a time
// (entry-wise rollup blocks, the aggregates of raw blocks). Every double round-trips bit for bit.
//
// A double is a tag byte and its bytes. Tags 0..249: decimal form, k = tag / 25 (0..9 decimals),
// c = tag % 25 / 5 - 2 (-2..2), w = tag % 5 + 1: the value is m / 10^k moved by c units in the last
// place (sums of decimals are often a unit or two away from the decimal), m a zigzag integer in w
// little-endian bytes (fixed width: decoding is a load and a mask, no loop). kRawDouble: the 8
// bytes of the double follow (anything else: NaN, -0.0, 1/3, ...). Tags 250..254 are malformed.
//
// An aggregate relative to a reference time (a bucket start, or a sample's time):
//   flags u8: bit0 single (count 1, min = max = last = sum, sum_squares = sum²: only sum follows),
//             bit1 count is not a whole number below 2^53 (a double follows instead of a varint)
//   count (varint or double), sum, last_time - reference (zigzag varint), and unless single: the
//   byte length of the next four values (u8), then min, max, last, sum_squares (doubles).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "engine/encoding/bytes.hpp"
#include "engine/model/model.hpp"

namespace vigil::enc {

inline constexpr unsigned char kRawDouble = 0xFF;
// The tag of `v` and the mantissa that goes with it (kRawDouble: none).
// The fewest decimal places are found; `hint`: the places to try first.
unsigned char double_tag(double v, std::int64_t& mantissa, int hint = -1);
// Returns the value's decimal places (-1: raw).
int put_double(std::string& out, double v, int hint = -1);
// Reads the value of `tag` at `p` (advancing it); false if malformed.
bool get_double_after_tag(unsigned char tag, const char*& p, const char* end, double& v);
bool get_double(const char*& p, const char* end, double& v);

// A single-sample aggregate as the compact forms store it (bit for bit): count 1,
// min = max = last = sum, sum_squares = sum².
inline bool is_single_entry(const Agg& a) {
  std::uint64_t s, m, x, l, q, ss;
  const double sq = a.sum * a.sum;
  std::memcpy(&s, &a.sum, 8);
  std::memcpy(&m, &a.min, 8);
  std::memcpy(&x, &a.max, 8);
  std::memcpy(&l, &a.last, 8);
  std::memcpy(&q, &a.sumsq, 8);
  std::memcpy(&ss, &sq, 8);
  return a.count == 1 && m == s && x == s && l == s && q == ss;
}

void put_compact_agg(std::string& out, const Agg& a, std::int64_t ref);
// `fields` (AggFields): the fields to decode beyond count, sum and last_time (the others are left
// at zero).
bool get_compact_agg(const char*& p, const char* end, std::int64_t ref, Agg& a, unsigned fields = kAllFields);

}  // namespace vigil::enc
