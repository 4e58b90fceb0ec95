// Rollup blocks: the value of a rollup key (engine/encoding/keys.hpp), the aggregates of one
// series and chunk at one resolution.
//
// A rollup block (and each merge operand of one): the entries of one series and chunk, in
// ascending bucket index order (from the chunk start), each index at most once.
//   varint n (1..kRollupChunkBuckets), u8 flags: bit0 every entry is a single sample (count 1,
//   min = max = last = sum, sum_squares = sum²), bit1 the indices are consecutive;
//   the indices (bit1: varint first index; otherwise an integer column), then the columns count,
//   sum, last_time - bucket start (integer), and unless bit0: min, max, last, sum_squares.
//   Blocks of at most kRollupEntryWise entries are written entry by entry instead (flags 4): per
//   entry a varint index gap (from the previous index + 1; the first: the index) and the
//   aggregate (put_compact_agg relative to the bucket start).
//
// Blocks are built from columns (engine/encoding/columns.hpp) and compact aggregates
// (engine/encoding/compact.hpp). A key's value is one block; the merge operator folds operands
// (blocks of the same series and chunk) into one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/encoding/keys.hpp"
#include "engine/model/model.hpp"

namespace vigil::enc {

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

}  // namespace vigil::enc
