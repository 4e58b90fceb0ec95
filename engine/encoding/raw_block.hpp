// Raw blocks: the value of a raw key (engine/encoding/keys.hpp), the samples of one series and
// UTC day in the Gorilla manner (delta-of-delta times, compact values).
//
// A raw block: up to kRawBlockRecords records, in the order written.
//   varint n, u8 flags (bit0: some records are aggregates), zigzag varint first time - reference
//   (the UTC day of the key), and when n > 1: zigzag varint first delta, a patched column of the
//   n - 2 zigzag delta-of-deltas (all zeros for regular spacing); a double column of the values
//   (an aggregate's sum), and with bit0: varint aggregate count, then per aggregate the varint
//   index gap from the previous one's index + 1 and put_compact_agg relative to its time.
//
// A key's value is raw blocks one after the other; the merge operator folds the operands of a
// day into blocks of up to kRawBlockRecords records in time order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/encoding/values.hpp"
#include "engine/model/model.hpp"

namespace vigil::enc {

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

}  // namespace vigil::enc
