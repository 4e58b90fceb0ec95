// Key and value encodings of the store. Keys are big-endian so that RocksDB's bytewise order is
// numeric order: one series' time range is one ordered scan. Times are stored with the sign bit
// flipped so that negative epoch seconds sort before positive ones.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "engine/model.hpp"

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

// -- aggregates ---------------------------------------------------------------------------------

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

// -- keys -----------------------------------------------------------------------------------------

// rollup CF (one per resolution): series id | chunk start -> a rollup block. A chunk is
// kRollupChunkBuckets consecutive buckets of one series at one resolution (at 60 s, one UTC day),
// so a query reads one key per series and chunk, and a flush writes one merge operand per series,
// resolution and chunk, however many of its buckets the flush touched.
inline constexpr std::int64_t kRollupChunkBuckets = 1440;
inline std::int64_t rollup_chunk(std::int64_t bucket, std::int64_t res) {
  return floor_to(bucket, res * kRollupChunkBuckets);
}
inline std::string rollup_key(std::uint64_t sid, std::int64_t chunk) {
  std::string k;
  k.reserve(16);
  put_u64(k, sid);
  put_time(k, chunk);
  return k;
}

// A rollup block (and each merge operand of one): entries of bucket index u16 (from the chunk
// start) + Agg, in ascending index order, each index at most once.
inline constexpr std::size_t kRollupEntrySize = 2 + kAggSize;
inline void put_rollup_entry(std::string& out, std::int64_t chunk, std::int64_t bucket,
                             std::int64_t res, const Agg& a) {
  put_u16(out, static_cast<std::uint16_t>((bucket - chunk) / res));
  put_agg(out, a);
}
// Calls fn(index, agg) for each entry; false if the block is malformed.
template <class Fn>
bool for_each_rollup_entry(std::string_view block, Fn&& fn) {
  if (block.size() % kRollupEntrySize != 0) return false;
  for (const char* p = block.data(); p < block.data() + block.size(); p += kRollupEntrySize) {
    Agg a;
    get_agg(std::string_view(p + 2, kAggSize), a);
    fn(get_u16(p), a);
  }
  return true;
}

// raw CF: series id | UTC day | shard u16 | flush sequence -> a block of records
// (put_raw_record). The shard's applied log position grows with every flush, so (shard, sequence)
// keeps the blocks of different flushes apart, even if the shard count changes between runs.
inline constexpr std::size_t kRawKeySize = 26;
inline std::string raw_block_key(std::uint64_t sid, std::int64_t day, std::uint16_t shard,
                                 std::uint64_t flush_seq) {
  std::string k;
  k.reserve(kRawKeySize);
  put_u64(k, sid);
  put_time(k, day);
  put_u16(k, shard);
  put_u64(k, flush_seq);
  return k;
}

// One raw record: time | kind u8 (0: single value, 1: aggregate) | f64 value or Agg.
inline void put_raw_record(std::string& out, std::int64_t t, const Agg& a) {
  put_time(out, t);
  if (is_single_value(a, t)) {
    out.push_back('\0');
    put_f64(out, a.sum);
  } else {
    out.push_back('\1');
    put_agg(out, a);
  }
}

// Reads the record at `p` (advancing it); false if the block is malformed.
inline bool get_raw_record(const char*& p, const char* end, std::int64_t& t, Agg& a) {
  if (end - p < 9) return false;
  t = get_time(p);
  char kind = p[8];
  p += 9;
  std::size_t n = kind == '\0' ? 8 : kAggSize;
  if (static_cast<std::size_t>(end - p) < n) return false;
  if (!get_sample_value(std::string_view(p, n), t, a)) return false;
  p += n;
  return true;
}

// log CF: shard | sequence
inline std::string log_key(std::uint16_t shard, std::uint64_t seq) {
  std::string k;
  k.reserve(10);
  put_u16(k, shard);
  put_u64(k, seq);
  return k;
}

// The canonical series key: lower-cased metric, NUL, then sorted `name=value` pairs joined by
// ','. Tag names and values cannot contain '=', ',' or NUL, so the key is unambiguous.
std::string series_key(std::string_view metric_key, const Tags& tags);
// Splits a canonical series key back into metric key and tags; false if malformed.
bool parse_series_key(std::string_view key, std::string& metric_key, Tags& tags);

}  // namespace vigil::enc
