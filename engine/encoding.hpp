// Key and value encodings of the store. Keys are big-endian so that RocksDB's bytewise order is
// numeric order: one series' time range is one ordered scan. Times are stored with the sign bit
// flipped so that negative epoch seconds sort before positive ones.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

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

// Signed integers as unsigned ones with small magnitudes small (0, -1, 1, -2, ... -> 0, 1, 2, 3, ...).
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
// The fewest decimal places are found; `hint`: the places to try first.
unsigned char double_tag(double v, std::int64_t& mantissa, int hint = -1);
// Returns the value's decimal places (-1: raw).
int put_double(std::string& out, double v, int hint = -1);
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

// -- columns -----------------------------------------------------------------------------------
// Raw and rollup blocks are stored column by column: each column is a varint byte length and a
// body, so a reader skips the columns it does not need at once.
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

// -- rollup blocks ---------------------------------------------------------------------------------

// A rollup block (and each merge operand of one): the entries of one series and chunk, in
// ascending bucket index order (from the chunk start), each index at most once.
//   varint n (1..kRollupChunkBuckets), u8 flags: bit0 every entry is a single sample (count 1,
//   min = max = last = sum, sum_squares = sum²), bit1 the indices are consecutive;
//   the indices (bit1: varint first index; otherwise an integer column), then the columns count,
//   sum, last_time - bucket start (integer), and unless bit0: min, max, last, sum_squares.
//   Blocks of at most kRollupEntryWise entries are written entry by entry instead (flags 4): per
//   entry a varint index gap (from the previous index + 1; the first: the index) and the
//   aggregate (put_compact_agg relative to the bucket start).
inline constexpr std::size_t kRollupEntryWise = 2;
class RollupBlockWriter {
 public:
  RollupBlockWriter(std::string& out, std::int64_t chunk, std::int64_t res) : out_(out), chunk_(chunk), res_(res) {}
  // Indices in ascending order.
  void add(std::uint16_t index, const Agg& a) {
    index_.push_back(index);
    agg_.push_back(a);
  }
  void add_bucket(std::int64_t bucket, const Agg& a) { add(static_cast<std::uint16_t>((bucket - chunk_) / res_), a); }
  bool empty() const { return index_.empty(); }
  // Appends the block to the output and starts a new one (same chunk and resolution).
  void finish();
  // Drops unfinished entries and moves to another chunk (same resolution).
  void reset(std::int64_t chunk) {
    chunk_ = chunk;
    index_.clear();
    agg_.clear();
  }
  // The same for another resolution too (one writer serves several, without allocating again).
  void reset(std::int64_t chunk, std::int64_t res) {
    res_ = res;
    reset(chunk);
  }

 private:
  std::string& out_;
  std::int64_t chunk_, res_;
  std::vector<std::uint16_t> index_;
  std::vector<Agg> agg_;
};

// A decoded rollup block, column by column (fields not asked for are zero, or when none of the
// four is asked for, left as they were).
struct RollupColumns {
  std::size_t n = 0;
  std::vector<std::uint16_t> index;
  std::vector<double> count, sum, min, max, last, sumsq;
  std::vector<std::int64_t> last_time;
};
// Decodes a block of chunk `chunk` at resolution `res`; false if malformed. `fields` (AggFields):
// the fields to decode beyond count, sum and last_time.
bool decode_rollup_block(std::string_view block, std::int64_t chunk, std::int64_t res, RollupColumns& out,
                         unsigned fields = kAllFields);
// A per-thread RollupColumns for the duration of one call (nested calls get their own).
class RollupScratch {
 public:
  RollupScratch();
  ~RollupScratch();
  RollupScratch(const RollupScratch&) = delete;
  RollupScratch& operator=(const RollupScratch&) = delete;
  RollupColumns& cols;
};
// Calls fn(index, agg) for each entry of a block of chunk `chunk` at resolution `res`; false (and
// no call) if the block is malformed.
template <class Fn>
bool for_each_rollup_entry(std::string_view block, std::int64_t chunk, std::int64_t res, Fn&& fn,
                           unsigned fields = kAllFields) {
  RollupScratch scratch;
  RollupColumns& c = scratch.cols;
  if (!decode_rollup_block(block, chunk, res, c, fields)) return false;
  Agg a;
  a.min = a.max = a.last = a.sumsq = 0;
  const bool extra = (fields & kAllFields) != 0;
  for (std::size_t i = 0; i < c.n; ++i) {
    a.count = c.count[i];
    a.sum = c.sum[i];
    a.last_time = c.last_time[i];
    if (extra) {
      a.min = c.min[i];
      a.max = c.max[i];
      a.last = c.last[i];
      a.sumsq = c.sumsq[i];
    }
    fn(c.index[i], a);
  }
  return true;
}

// raw CF: series id | UTC day -> the series' samples of that day: raw blocks one after the other.
// Each flush adds its samples of the series and day as a merge operand (RawMergeOperator in
// storage.cpp), and merging folds the operands into blocks of up to kRawBlockRecords records in
// time order, so a day ends up as a few large blocks however many flushes wrote it.
inline constexpr std::size_t kRawKeySize = 16;
inline std::string raw_block_key(std::uint64_t sid, std::int64_t day) {
  std::string k;
  k.reserve(kRawKeySize);
  put_u64(k, sid);
  put_time(k, day);
  return k;
}

// A raw block: up to kRawBlockRecords records, in the order written.
//   varint n, u8 flags (bit0: some records are aggregates), zigzag varint first time - reference
//   (the UTC day of the key), and when n > 1: zigzag varint first delta, a patched column of the
//   n - 2 zigzag delta-of-deltas (all zeros for regular spacing); a double column of the values
//   (an aggregate's sum), and with bit0: varint aggregate count, then per aggregate the varint
//   index gap from the previous one's index + 1 and put_compact_agg relative to its time.
inline constexpr std::size_t kRawBlockRecords = 4096;
class RawBlockWriter {
 public:
  // `ref`: the reference time of the blocks (their UTC day), which readers pass back.
  RawBlockWriter(std::string& out, std::int64_t ref) : out_(out), ref_(ref) {}
  void add(std::int64_t t, const Agg& a) {
    if (!is_single_value(a, t)) aggs_.emplace_back(time_.size(), a);
    time_.push_back(t);
    value_.push_back(a.sum);
  }
  void add_value(std::int64_t t, double x) {
    time_.push_back(t);
    value_.push_back(x);
  }
  bool empty() const { return time_.empty(); }
  // Appends the records added since the last finish, as blocks of up to kRawBlockRecords.
  void finish();
  // Drops unfinished records and sets the reference time of the next blocks (one writer serves
  // many series and days without allocating again).
  void reset(std::int64_t ref) {
    ref_ = ref;
    time_.clear();
    value_.clear();
    aggs_.clear();
  }

 private:
  void put_block(std::size_t from, std::size_t n, std::size_t& next_agg);

  std::string& out_;
  std::int64_t ref_;
  std::vector<std::int64_t> time_;
  std::vector<double> value_;                             // single values, or an aggregate's sum
  std::vector<std::pair<std::size_t, Agg>> aggs_;         // the aggregate records, by record index
};
// Steps over the block at p; n its record count. False if malformed.
bool skip_raw_block(const char*& p, const char* end, std::size_t& n);
// Appends the records of a value (one or more blocks) to `out`; false (and nothing appended) if
// malformed.
bool get_raw_records(std::string_view value, std::int64_t ref, std::vector<std::pair<std::int64_t, Agg>>& out);

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
// The same key appended to `out` (many keys in one buffer, no allocation per key).
void append_series_key(std::string& out, std::string_view metric_key, const Tags& tags);
// Splits a canonical series key back into metric key and tags; false if malformed.
bool parse_series_key(std::string_view key, std::string& metric_key, Tags& tags);

}  // namespace vigil::enc
