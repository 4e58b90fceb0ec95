#include "engine/storage/store_reader.hpp"

#include <algorithm>

#include "engine/encoding/bytes.hpp"
#include "engine/encoding/keys.hpp"
#include "engine/encoding/raw_block.hpp"
#include "engine/encoding/rollup_block.hpp"
#include "engine/storage/series_index.hpp"
#include "engine/storage/storage.hpp"

namespace vigil {

std::vector<SeriesRef> StoreReader::series_of(std::string_view metric_key) {
  return series_matching(metric_key, TagFilter());
}

std::vector<SeriesRef> StoreReader::series_matching(std::string_view metric_key, const TagFilter& filter) {
  std::vector<SeriesRef> out;
  index_.visit(metric_key, filter, [&](const SeriesEntry& e) { out.push_back(SeriesRef{e.id, e.tags}); });
  return out;
}

Storage::Cursor& StoreReader::cursor(Cf cf) {
  auto& c = cursors_[static_cast<int>(cf)];
  if (!c) c.emplace(storage_.cursor(cf));
  return *c;
}

void StoreReader::read_rollup(std::uint64_t id, std::int64_t res, std::int64_t from,
                              std::int64_t to,
                              const std::function<void(std::int64_t, const Agg&)>& fn) {
  int idx = -1;
  for (int i = 0; i < kResolutionCount; ++i)
    if (kResolutions[i] == res) idx = i;
  if (idx < 0 || to < from) return;
  auto& c = cursor(rollup_cf(idx));
  for (c.seek(enc::rollup_key(id, enc::rollup_chunk(from, res))); c.valid(); c.next()) {
    auto k = c.key();
    if (k.size() != 16 || enc::get_u64(k.data()) != id) break;
    std::int64_t chunk = enc::get_time(k.data() + 8);
    if (chunk > to) break;
    enc::for_each_rollup_entry(c.value(), chunk, res, [&](std::uint16_t i, const Agg& a) {
      std::int64_t t = chunk + static_cast<std::int64_t>(i) * res;
      if (t >= from && t <= to) fn(t, a);
    });
  }
  report(c.status());
}

// Calls on_block(i, chunk, block) for the stored rollup blocks of ids[i] at `res` whose chunks
// overlap [from, to]; false (nothing read) when the range spans so many chunks that reading each
// series with one ordered scan is better.
template <class OnBlock>
bool StoreReader::for_each_block(const std::vector<std::uint64_t>& ids, std::int64_t res, std::int64_t from,
                                 std::int64_t to, OnBlock&& on_block) {
  int idx = -1;
  for (int i = 0; i < kResolutionCount; ++i)
    if (kResolutions[i] == res) idx = i;
  if (idx < 0 || to < from || ids.empty()) return true;
  const std::int64_t first = enc::rollup_chunk(from, res);
  const std::int64_t last = enc::rollup_chunk(to, res);
  const std::int64_t chunk_span = res * enc::kRollupChunkBuckets;
  // A long range (many chunks per series) reads each series with one ordered scan.
  if ((static_cast<std::uint64_t>(last) - static_cast<std::uint64_t>(first)) / static_cast<std::uint64_t>(chunk_span) >= 4)
    return false;
  std::vector<std::size_t> order(ids.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ids[a] < ids[b]; });
  // Series ids are handed out in creation order, so the series of a metric often sit close
  // together in the rollup family: then one ordered scan over their id range (seeking only over
  // gaps) reads far less than a point read per series.
  const std::uint64_t lo_id = ids[order.front()], hi_id = ids[order.back()];
  if (ids.size() >= 64 && hi_id - lo_id < 4 * static_cast<std::uint64_t>(ids.size())) {
    auto& c = cursor(rollup_cf(idx));
    std::size_t pos = 0;
    c.seek(enc::rollup_key(lo_id, first));
    while (c.valid() && pos < order.size()) {
      auto k = c.key();
      if (k.size() != 16) {
        c.next();
        continue;
      }
      const std::uint64_t sid = enc::get_u64(k.data());
      while (pos < order.size() && ids[order[pos]] < sid) ++pos;
      if (pos == order.size()) break;
      const std::uint64_t want = ids[order[pos]];
      const std::int64_t chunk = enc::get_time(k.data() + 8);
      // want >= sid here. A series not asked for (sid < want), or a chunk before the range: seek
      // forward to the wanted series' first chunk (always past the current key).
      if (sid != want || chunk < first) {
        c.seek(enc::rollup_key(want, first));
        continue;
      }
      if (chunk > last) {  // past the range of this series: on to the next one
        if (++pos == order.size()) break;
        c.seek(enc::rollup_key(ids[order[pos]], first));
        continue;
      }
      on_block(order[pos], chunk, c.value());
      c.next();
    }
    report(c.status());
    return true;
  }
  // Otherwise every (series, chunk) key is known: batched point reads in key order.
  constexpr std::size_t kBatchKeys = 512;
  constexpr std::size_t kKeySize = 16;  // enc::rollup_key
  std::string keybuf;                   // the batch's keys, back to back
  std::vector<std::string_view> keys;
  std::vector<std::pair<std::size_t, std::int64_t>> owner;  // (index into ids, chunk)
  owner.reserve(kBatchKeys + 8);
  auto run = [&] {
    keys.clear();
    for (std::size_t k = 0; k < owner.size(); ++k) keys.emplace_back(keybuf.data() + k * kKeySize, kKeySize);
    report(storage_.multi_get(rollup_cf(idx), keys, [&](std::size_t k, std::string_view block) {
      on_block(owner[k].first, owner[k].second, block);
    }));
    keybuf.clear();
    owner.clear();
  };
  for (std::size_t i : order) {
    for (std::int64_t chunk = first;; chunk += chunk_span) {
      enc::put_u64(keybuf, ids[i]);
      enc::put_time(keybuf, chunk);
      owner.emplace_back(i, chunk);
      if (chunk >= last) break;
    }
    if (owner.size() >= kBatchKeys) run();
  }
  run();
  return true;
}

void StoreReader::read_rollups(const std::vector<std::uint64_t>& ids, std::int64_t res, std::int64_t from,
                               std::int64_t to,
                               const std::function<void(std::size_t, std::int64_t, const Agg&)>& fn,
                               unsigned fields) {
  const bool done = for_each_block(ids, res, from, to, [&](std::size_t i, std::int64_t chunk, std::string_view block) {
    enc::for_each_rollup_entry(
        block, chunk, res,
        [&](std::uint16_t e, const Agg& a) {
          std::int64_t t = chunk + static_cast<std::int64_t>(e) * res;
          if (t >= from && t <= to) fn(i, t, a);
        },
        fields);
  });
  if (!done) SeriesReader::read_rollups(ids, res, from, to, fn, fields);
}

void StoreReader::read_rollup_runs(const std::vector<std::uint64_t>& ids, std::int64_t res, std::int64_t from,
                                   std::int64_t to, const std::function<void(std::size_t, const RollupRun&)>& fn,
                                   unsigned fields) {
  const bool done = for_each_block(ids, res, from, to, [&](std::size_t i, std::int64_t chunk, std::string_view block) {
    enc::RollupScratch scratch;
    enc::RollupColumns& c = scratch.cols;
    if (!enc::decode_rollup_block(block, chunk, res, c, fields) || c.n == 0) return;
    // Entries ascend: the run is the stretch inside [from, to].
    std::size_t a = 0, b = c.n;
    while (a < b && chunk + static_cast<std::int64_t>(c.index[a]) * res < from) ++a;
    while (b > a && chunk + static_cast<std::int64_t>(c.index[b - 1]) * res > to) --b;
    if (a == b) return;
    // Fields not asked for read as zeros.
    static const std::vector<double> zeros(enc::kRollupChunkBuckets, 0.0);
    auto col = [&](unsigned bit, const std::vector<double>& v) { return (fields & bit) ? v.data() + a : zeros.data(); };
    RollupRun run{b - a, chunk, res, c.index.data() + a, c.count.data() + a, c.sum.data() + a, col(kMinField, c.min),
                  col(kMaxField, c.max), col(kLastField, c.last), col(kSumsqField, c.sumsq), c.last_time.data() + a};
    fn(i, run);
  });
  if (!done) SeriesReader::read_rollup_runs(ids, res, from, to, fn, fields);
}

void StoreReader::read_raw(std::uint64_t id, std::int64_t from, std::int64_t to,
                           const std::function<void(std::int64_t, const Agg&)>& fn) {
  if (to < from) return;
  // Samples are keyed by UTC day: open the days [from, to] covers, keep the samples in range,
  // and return them in time order (a day's operands not merged yet, and samples merged after
  // its first full block, can be out of time order).
  std::string begin, end;
  enc::put_u64(begin, id);
  enc::put_time(begin, floor_to(from, 86400));
  std::int64_t last_day = floor_to(to, 86400);
  if (last_day > INT64_MAX - 86400) {
    enc::put_u64(end, id + 1);
  } else {
    enc::put_u64(end, id);
    enc::put_time(end, last_day + 86400);
  }
  std::vector<std::pair<std::int64_t, Agg>> out;
  auto& c = cursor(Cf::raw);
  for (c.seek(begin); c.valid() && c.key() < std::string_view(end); c.next()) {
    auto k = c.key();
    if (k.size() != enc::kRawKeySize) continue;
    const std::size_t before = out.size();
    enc::get_raw_records(c.value(), enc::get_time(k.data() + 8), out);
    out.erase(std::remove_if(out.begin() + static_cast<std::ptrdiff_t>(before), out.end(),
                             [&](const auto& r) { return r.first < from || r.first > to; }),
              out.end());
  }
  report(c.status());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [t, a] : out) fn(t, a);
}

}  // namespace vigil
