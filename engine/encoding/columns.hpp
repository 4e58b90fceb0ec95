// Columns: how raw and rollup blocks store a sequence of numbers of one kind (times, counts,
// sums, ...) column by column. Each column is a varint byte length and a body, so a reader skips
// the columns it does not need at once (engine/encoding/bytes.hpp for varints and zigzag).
//
// Integer column: zigzag varint base (the least value), u8 width b, then each value - base in b
// bits, packed little-endian (b = 0: every value is the base).
//
// Double column: a head byte, bits 0-1 the form:
//   kColumnRaw (the whole byte 0): the n doubles' 8 bytes each.
//   kColumnDecimal / kColumnDelta: the values are decimals m / 10^K, K (0..9) in bits 2-5, common
//   to the column, each moved by c units in the last place (c in -2..2: sums of decimals are often
//   a unit or two away from the decimal). Bit 6: a byte follows, c base + 2 in bits 0-2 and the c
//   width in bits 3-4 (otherwise every c is 0). Bit 7: exceptions follow, a varint count and for
//   each a varint index gap from the previous exception's index + 1 and the double's 8 bytes
//   (values with no such form: NaN, -0.0, 1/3, ...). Then the mantissas: kColumnDecimal as an
//   integer column body (frame of reference), kColumnDelta as zigzag varint first mantissa and an
//   integer column body of the n - 1 differences (smooth series, counters); then the c values
//   packed in c width bits. Every double round-trips bit for bit.
//
// A column does not store its count: the block around it does, and readers pass it as `n`
// (`out` holds n values). Readers advance `p` past the whole column and return false, never
// reading past `end`, when it is malformed or its length does not match n.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace vigil::enc {

inline constexpr unsigned char kColumnRaw = 0, kColumnDecimal = 1, kColumnDelta = 2;
void put_int_column(std::string& out, const std::int64_t* v, std::size_t n);
bool get_int_column(const char*& p, const char* end, std::size_t n, std::int64_t* out);
void put_double_column(std::string& out, const double* v, std::size_t n);
bool get_double_column(const char*& p, const char* end, std::size_t n, double* out);
bool skip_column(const char*& p, const char* end);
// Patched unsigned column: u8 width b, varint exception count, the exceptions (varint index gap
// from the previous exception's index + 1, varint value), then every value in b bits (an
// exception's slot: 0). b is chosen so that a few wide values do not widen all the others.
void put_patched_column(std::string& out, const std::uint64_t* v, std::size_t n);
bool get_patched_column(const char*& p, const char* end, std::size_t n, std::uint64_t* out);

}  // namespace vigil::enc
