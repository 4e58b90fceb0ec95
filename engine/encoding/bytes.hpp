// The byte-level primitives every encoding of the store is made of.
//
// Keys are big-endian so that RocksDB's bytewise order is numeric order: one series' time range is
// one ordered scan. Times are stored with the sign bit flipped so that negative epoch seconds sort
// before positive ones. Values that are never compared (doubles) keep host byte order.
//
//   u16, u64   big-endian, 2 and 8 bytes
//   time       i64 with the sign bit flipped, then as u64: bytewise order is numeric order
//   f64        the 8 bytes of the double in host (little-endian) order
//   varint     unsigned LEB128: 7 bits a byte, least significant group first, bit 7 set on every
//              byte but the last; at most 10 bytes
//   zigzag     signed integers as unsigned ones with small magnitudes small
//              (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...), usually stored as a varint
//
// Readers take a cursor `p` and the end of the input; they advance `p` past what they read and
// return false, never reading past `end`, when the input is short or malformed.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

namespace vigil::enc {

static_assert(std::endian::native == std::endian::little, "the store's encodings assume a little-endian host");

inline void put_u64(std::string& out, std::uint64_t v) {
  const std::uint64_t be = __builtin_bswap64(v);
  out.append(reinterpret_cast<const char*>(&be), 8);
}

inline std::uint64_t get_u64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return __builtin_bswap64(v);
}

inline std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t unzigzag(std::uint64_t z) {
  return static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1);
}

inline void put_u16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}

inline std::uint16_t get_u16(const char* p) {
  return static_cast<std::uint16_t>((static_cast<unsigned char>(p[0]) << 8) |
                                    static_cast<unsigned char>(p[1]));
}

// Order-preserving encoding of a signed time.
inline void put_time(std::string& out, std::int64_t t) {
  put_u64(out, static_cast<std::uint64_t>(t) ^ (std::uint64_t{1} << 63));
}
inline std::int64_t get_time(const char* p) {
  return static_cast<std::int64_t>(get_u64(p) ^ (std::uint64_t{1} << 63));
}

inline void put_f64(std::string& out, double d) {
  std::uint64_t v;
  std::memcpy(&v, &d, 8);
  out.append(reinterpret_cast<const char*>(&v), 8);  // host order: values are never compared
}
inline double get_f64(const char* p) {
  double d;
  std::memcpy(&d, p, 8);
  return d;
}

void put_varint(std::string& out, std::uint64_t v);

// Inlined on the read paths of every block codec: most values take one to three bytes.
[[gnu::always_inline]] inline bool get_varint(const char*& p, const char* end, std::uint64_t& v) {
  if (p < end && !(*p & 0x80)) {
    v = static_cast<unsigned char>(*p++);
    return true;
  }
  v = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    auto byte = static_cast<unsigned char>(*p++);
    v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

// Steps over a varint without decoding it.
[[gnu::always_inline]] inline bool skip_varint(const char*& p, const char* end) {
  const char* limit = end - p > 10 ? p + 10 : end;
  while (p < limit)
    if (!(*p++ & 0x80)) return true;
  return false;
}

}  // namespace vigil::enc
