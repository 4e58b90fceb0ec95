#include "engine/encoding/raw_block.hpp"

#include <algorithm>

#include "engine/encoding/bytes.hpp"
#include "engine/encoding/columns.hpp"
#include "engine/encoding/compact.hpp"

namespace vigil::enc {

namespace {

struct WriterScratch {
  std::vector<std::uint64_t> zz;
};
WriterScratch& writer_scratch() {
  thread_local WriterScratch s;
  return s;
}

}  // namespace

void RawBlockWriter::finish() {
  std::size_t next_agg = 0;
  for (std::size_t at = 0; at < time_.size(); at += kRawBlockRecords)
    put_block(at, std::min(time_.size() - at, kRawBlockRecords), next_agg);
  time_.clear();
  value_.clear();
  aggs_.clear();
}

void RawBlockWriter::put_block(std::size_t from, std::size_t n, std::size_t& next_agg) {
  const std::int64_t* time = time_.data() + from;
  std::size_t agg_end = next_agg;
  while (agg_end < aggs_.size() && aggs_[agg_end].first < from + n) ++agg_end;
  const std::size_t aggs = agg_end - next_agg;
  put_varint(out_, n);
  out_.push_back(static_cast<char>(aggs ? 1 : 0));
  put_varint(out_, zigzag(static_cast<std::int64_t>(static_cast<std::uint64_t>(time[0]) - static_cast<std::uint64_t>(ref_))));
  auto& s = writer_scratch();
  // The first delta, then the times as delta-of-delta: zero for regular spacing.
  s.zz.resize(n);
  std::uint64_t prev_delta = 0;
  for (std::size_t i = 1; i < n; ++i) {
    const std::uint64_t delta = static_cast<std::uint64_t>(time[i]) - static_cast<std::uint64_t>(time[i - 1]);
    s.zz[i - 1] = zigzag(static_cast<std::int64_t>(delta - prev_delta));
    prev_delta = delta;
  }
  if (n > 1) {
    put_varint(out_, s.zz[0]);
    put_patched_column(out_, s.zz.data() + 1, n - 2);
  }
  put_double_column(out_, value_.data() + from, n);
  if (aggs) {
    put_varint(out_, aggs);
    std::size_t next = 0;
    for (; next_agg < agg_end; ++next_agg) {
      const std::size_t i = aggs_[next_agg].first - from;
      put_varint(out_, i - next);
      put_compact_agg(out_, aggs_[next_agg].second, time[i]);
      next = i + 1;
    }
  }
}

namespace {

// Decodes the raw block at p (advancing it), appending its records to `out`.
bool decode_raw_block(const char*& p, const char* end, std::int64_t ref, std::vector<std::pair<std::int64_t, Agg>>& out) {
  std::uint64_t n, z0;
  if (!get_varint(p, end, n) || n == 0 || n > kRawBlockRecords || p >= end) return false;
  const auto flags = static_cast<unsigned char>(*p++);
  if (flags > 1 || !get_varint(p, end, z0)) return false;
  std::int64_t times[kRawBlockRecords];
  double values[kRawBlockRecords];
  std::uint64_t dod[kRawBlockRecords];
  if (n > 1 && (!get_varint(p, end, dod[0]) || !get_patched_column(p, end, n - 2, dod + 1))) return false;
  auto t = static_cast<std::uint64_t>(ref) + static_cast<std::uint64_t>(unzigzag(z0));
  times[0] = static_cast<std::int64_t>(t);
  std::uint64_t delta = 0;
  for (std::size_t i = 1; i < n; ++i) {
    delta += static_cast<std::uint64_t>(unzigzag(dod[i - 1]));
    times[i] = static_cast<std::int64_t>(t += delta);
  }
  if (!get_double_column(p, end, n, values)) return false;
  const std::size_t first = out.size();
  for (std::size_t i = 0; i < n; ++i) out.emplace_back(times[i], Agg::of_value(values[i], times[i]));
  if (flags & 1) {
    std::uint64_t na;
    if (!get_varint(p, end, na) || na == 0 || na > n) return false;
    std::size_t at = 0;
    for (std::uint64_t k = 0; k < na; ++k) {
      std::uint64_t gap;
      if (!get_varint(p, end, gap) || gap >= n - at) return false;
      at += gap;
      if (!get_compact_agg(p, end, times[at], out[first + at].second)) return false;
      ++at;
    }
  }
  return true;
}

}  // namespace

bool skip_raw_block(const char*& p, const char* end, std::size_t& n) {
  std::uint64_t count, z;
  if (!get_varint(p, end, count) || count == 0 || count > kRawBlockRecords || p >= end) return false;
  const auto flags = static_cast<unsigned char>(*p++);
  if (flags > 1 || !get_varint(p, end, z)) return false;
  if (count > 1 && (!get_varint(p, end, z) || !skip_column(p, end))) return false;
  if (!skip_column(p, end)) return false;
  if (flags & 1) {
    std::uint64_t na;
    if (!get_varint(p, end, na) || na == 0 || na > count) return false;
    Agg a;
    for (std::uint64_t k = 0; k < na; ++k)
      if (!get_varint(p, end, z) || !get_compact_agg(p, end, 0, a)) return false;
  }
  n = count;
  return true;
}

bool get_raw_records(std::string_view value, std::int64_t ref, std::vector<std::pair<std::int64_t, Agg>>& out) {
  const char* p = value.data();
  const char* end = p + value.size();
  const std::size_t before = out.size();
  if (p >= end) return false;
  while (p < end)
    if (!decode_raw_block(p, end, ref, out)) {
      out.resize(before);
      return false;
    }
  return true;
}

}  // namespace vigil::enc
