#include "engine/encoding/rollup_block.hpp"

#include <algorithm>
#include <memory>

#include "engine/encoding/bytes.hpp"
#include "engine/encoding/columns.hpp"
#include "engine/encoding/compact.hpp"

namespace vigil::enc {

namespace {

struct WriterScratch {
  std::vector<double> col;
  std::vector<std::int64_t> ints;
};
WriterScratch& writer_scratch() {
  thread_local WriterScratch s;
  return s;
}

}  // namespace

void RollupBlockWriter::finish() {
  const std::size_t n = index_.size();
  if (n == 0) return;
  bool single = true, dense = true;
  for (std::size_t i = 0; i < n; ++i) {
    single = single && is_single_entry(agg_[i]);
    dense = dense && (i == 0 || index_[i] == index_[i - 1] + 1);
  }
  put_varint(out_, n);
  if (n <= kRollupEntryWise) {
    // A column's head costs more than a few entries' worth: entry by entry.
    out_.push_back(4);
    int prev = -1;
    for (std::size_t i = 0; i < n; ++i) {
      put_varint(out_, static_cast<std::uint64_t>(index_[i] - prev - 1));
      prev = index_[i];
      put_compact_agg(out_, agg_[i], chunk_ + static_cast<std::int64_t>(index_[i]) * res_);
    }
    index_.clear();
    agg_.clear();
    return;
  }
  out_.push_back(static_cast<char>((single ? 1 : 0) | (dense ? 2 : 0)));
  auto& s = writer_scratch();
  s.ints.resize(n);
  s.col.resize(n);
  if (dense) {
    put_varint(out_, index_[0]);
  } else {
    for (std::size_t i = 0; i < n; ++i) s.ints[i] = index_[i];
    put_int_column(out_, s.ints.data(), n);
  }
  auto column = [&](double Agg::*field) {
    for (std::size_t i = 0; i < n; ++i) s.col[i] = agg_[i].*field;
    put_double_column(out_, s.col.data(), n);
  };
  column(&Agg::count);
  column(&Agg::sum);
  for (std::size_t i = 0; i < n; ++i)
    s.ints[i] = static_cast<std::int64_t>(static_cast<std::uint64_t>(agg_[i].last_time) -
                                          static_cast<std::uint64_t>(chunk_ + static_cast<std::int64_t>(index_[i]) * res_));
  put_int_column(out_, s.ints.data(), n);
  if (!single) {
    column(&Agg::min);
    column(&Agg::max);
    column(&Agg::last);
    column(&Agg::sumsq);
  }
  index_.clear();
  agg_.clear();
}

bool decode_rollup_block(std::string_view block, std::int64_t chunk, std::int64_t res, RollupColumns& c,
                         unsigned fields) {
  const char* p = block.data();
  const char* end = p + block.size();
  c.n = 0;
  std::uint64_t n;
  if (!get_varint(p, end, n) || n == 0 || n > static_cast<std::uint64_t>(kRollupChunkBuckets) || p >= end) return false;
  const auto flags = static_cast<unsigned char>(*p++);
  if (flags > 4) return false;
  if (c.index.size() < n) {
    c.index.resize(n);
    c.count.resize(n);
    c.sum.resize(n);
    c.min.resize(n);
    c.max.resize(n);
    c.last.resize(n);
    c.sumsq.resize(n);
    c.last_time.resize(n);
  }
  std::int64_t* ints = c.last_time.data();  // indices first go through the time column
  if (flags == 4) {
    int index = -1;
    Agg a;
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t gap;
      if (!get_varint(p, end, gap) || gap >= static_cast<std::uint64_t>(kRollupChunkBuckets - 1 - index)) return false;
      index += static_cast<int>(gap) + 1;
      if (!get_compact_agg(p, end, chunk + static_cast<std::int64_t>(index) * res, a, fields)) return false;
      c.index[i] = static_cast<std::uint16_t>(index);
      c.count[i] = a.count;
      c.sum[i] = a.sum;
      c.last_time[i] = a.last_time;
      c.min[i] = a.min;
      c.max[i] = a.max;
      c.last[i] = a.last;
      c.sumsq[i] = a.sumsq;
    }
    if (p != end) return false;
    c.n = n;
    return true;
  }
  if (flags & 2) {
    std::uint64_t first;
    if (!get_varint(p, end, first) || first > static_cast<std::uint64_t>(kRollupChunkBuckets) - n) return false;  // no overflow
    for (std::size_t i = 0; i < n; ++i) c.index[i] = static_cast<std::uint16_t>(first + i);
  } else {
    if (!get_int_column(p, end, n, ints)) return false;
    for (std::size_t i = 0; i < n; ++i) {
      if (ints[i] < 0 || ints[i] >= kRollupChunkBuckets || (i > 0 && ints[i] <= ints[i - 1])) return false;
      c.index[i] = static_cast<std::uint16_t>(ints[i]);
    }
  }
  if (!get_double_column(p, end, n, c.count.data()) || !get_double_column(p, end, n, c.sum.data()) ||
      !get_int_column(p, end, n, ints))
    return false;
  for (std::size_t i = 0; i < n; ++i)
    ints[i] = static_cast<std::int64_t>(static_cast<std::uint64_t>(ints[i]) +
                                        static_cast<std::uint64_t>(chunk + static_cast<std::int64_t>(c.index[i]) * res));
  if (flags & 1) {
    if (p != end) return false;
    for (std::size_t i = 0; i < n; ++i) {
      c.min[i] = c.max[i] = c.last[i] = c.sum[i];
      c.sumsq[i] = c.sum[i] * c.sum[i];
    }
    c.n = n;
    return true;
  }
  // Columns not asked for are skipped; zeroed only when the caller reads some of the four.
  const bool any = (fields & kAllFields) != 0;
  auto field = [&](unsigned bit, std::vector<double>& col) {
    if (fields & bit) return get_double_column(p, end, n, col.data());
    if (any) std::fill(col.begin(), col.begin() + static_cast<std::ptrdiff_t>(n), 0.0);
    return skip_column(p, end);
  };
  if (!field(kMinField, c.min) || !field(kMaxField, c.max) || !field(kLastField, c.last) ||
      !field(kSumsqField, c.sumsq) || p != end)
    return false;
  c.n = n;
  return true;
}

namespace {
struct RollupPool {
  std::vector<std::unique_ptr<RollupColumns>> cols;
  std::size_t depth = 0;
};
RollupPool& rollup_pool() {
  thread_local RollupPool pool;
  return pool;
}
RollupColumns& take_columns() {
  auto& pool = rollup_pool();
  if (pool.depth == pool.cols.size()) pool.cols.push_back(std::make_unique<RollupColumns>());
  return *pool.cols[pool.depth++];
}
}  // namespace

RollupScratch::RollupScratch() : cols(take_columns()) {}
RollupScratch::~RollupScratch() { --rollup_pool().depth; }

}  // namespace vigil::enc
