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

// -- compact values -------------------------------------------------------------------------------
// Raw and rollup blocks store numbers compactly; every double round-trips bit for bit.
//
// A double is a tag byte and its bytes. Tags 0..249: decimal form, k = tag / 25 (0..9 decimals),
// c = tag % 25 / 5 - 2 (-2..2), w = tag % 5 + 1: the value is m / 10^k moved by c units in the last
// place (sums of decimals are often a unit or two away from the decimal), m a zigzag integer in w
// little-endian bytes (fixed width: decoding is a load and a mask, no loop). kRawDouble: the 8
// bytes of the double follow (anything else: NaN, -0.0, 1/3, ...).
inline constexpr unsigned char kRawDouble = 0xFF;
void put_varint(std::string& out, std::uint64_t v);
bool get_varint(const char*& p, const char* end, std::uint64_t& v);
// The tag of `v` and the mantissa that goes with it (kRawDouble: none).
unsigned char double_tag(double v, std::int64_t& mantissa);
void put_double(std::string& out, double v);
// Reads the value of `tag` at `p` (advancing it); false if malformed.
bool get_double_after_tag(unsigned char tag, const char*& p, const char* end, double& v);
bool get_double(const char*& p, const char* end, double& v);

// An aggregate relative to a reference time (a bucket start, or a sample's time):
//   flags u8: bit0 single (count 1, min = max = last = sum, sum_squares = sum²: only sum follows),
//             bit1 count is not a whole number below 2^53 (a double follows instead of a varint)
//   count (varint or double), sum, last_time - reference (zigzag varint), and unless single: the
//   byte length of the next four values, then min, max, last, sum_squares (doubles).
void put_compact_agg(std::string& out, const Agg& a, std::int64_t ref);
// `fields` (AggFields): the fields to decode beyond count, sum and last_time.
bool get_compact_agg(const char*& p, const char* end, std::int64_t ref, Agg& a, unsigned fields = kAllFields);

// -- rollup blocks ---------------------------------------------------------------------------------

// A rollup block (and each merge operand of one): entries in ascending bucket index order (from
// the chunk start), each index at most once: varint (index - previous index - 1; the first: the
// index), then the bucket's aggregate (put_compact_agg, relative to the bucket start).
class RollupBlockWriter {
 public:
  RollupBlockWriter(std::string& out, std::int64_t chunk, std::int64_t res) : out_(out), chunk_(chunk), res_(res) {}
  void add(std::uint16_t index, const Agg& a);
  void add_bucket(std::int64_t bucket, const Agg& a) { add(static_cast<std::uint16_t>((bucket - chunk_) / res_), a); }

 private:
  std::string& out_;
  std::int64_t chunk_, res_;
  int prev_ = -1;
};
// Reads the entry at `p` (advancing it and `index`, which starts at -1); false if malformed.
bool next_rollup_entry(const char*& p, const char* end, std::int64_t chunk, std::int64_t res, int& index, Agg& a,
                       unsigned fields = kAllFields);
// Calls fn(index, agg) for each entry of a block of chunk `chunk` at resolution `res`; false if the
// block is malformed (entries before the fault have been passed on).
template <class Fn>
bool for_each_rollup_entry(std::string_view block, std::int64_t chunk, std::int64_t res, Fn&& fn,
                           unsigned fields = kAllFields) {
  const char* p = block.data();
  const char* end = p + block.size();
  int index = -1;
  Agg a;
  while (p < end) {
    if (!next_rollup_entry(p, end, chunk, res, index, a, fields)) return false;
    fn(static_cast<std::uint16_t>(index), a);
  }
  return true;
}

// raw CF: series id | UTC day | shard u16 | flush sequence -> a raw block (RawBlockWriter). The shard's applied log position grows with every flush, so (shard, sequence)
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

// A raw block: records in the order written. Each record is a head byte, bit 7 set when a zigzag
// varint of the change in spacing follows (times as delta-of-delta from the previous record; the
// first record's delta is from 0), the low 7 bits 0 for a single value (a double follows) or
// kRawAggregate (an aggregate follows, put_compact_agg relative to the sample's time).
inline constexpr unsigned char kRawAggregate = 0x7E;
class RawBlockWriter {
 public:
  explicit RawBlockWriter(std::string& out) : out_(out) {}
  void add(std::int64_t t, const Agg& a);

 private:
  std::string& out_;
  std::int64_t prev_ = 0, delta_ = 0;
};
class RawBlockReader {
 public:
  explicit RawBlockReader(std::string_view block) : p_(block.data()), end_(block.data() + block.size()) {}
  bool done() const { return p_ >= end_; }
  // The next record; false if the block is malformed.
  bool next(std::int64_t& t, Agg& a);

 private:
  const char* p_;
  const char* end_;
  std::int64_t prev_ = 0, delta_ = 0;
};
// Calls fn(t, agg) for each record; false if the block is malformed.
template <class Fn>
bool for_each_raw_record(std::string_view block, Fn&& fn) {
  RawBlockReader r(block);
  std::int64_t t;
  Agg a;
  while (!r.done()) {
    if (!r.next(t, a)) return false;
    fn(t, a);
  }
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
