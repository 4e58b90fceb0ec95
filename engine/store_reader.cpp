#include "engine/store_reader.hpp"

#include <algorithm>

#include "engine/encoding.hpp"
#include "engine/series_index.hpp"
#include "engine/storage.hpp"

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
    enc::for_each_rollup_entry(c.value(), [&](std::uint16_t i, const Agg& a) {
      std::int64_t t = chunk + static_cast<std::int64_t>(i) * res;
      if (t >= from && t <= to) fn(t, a);
    });
  }
}

void StoreReader::read_raw(std::uint64_t id, std::int64_t from, std::int64_t to,
                           const std::function<void(std::int64_t, const Agg&)>& fn) {
  if (to < from) return;
  // Blocks are keyed by UTC day: open the days [from, to] covers, keep the samples in range,
  // and return them in time order (blocks of different flushes interleave in time).
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
    auto v = c.value();
    const char* p = v.data();
    const char* e = p + v.size();
    std::int64_t t;
    Agg a;
    while (p < e && enc::get_raw_record(p, e, t, a))
      if (t >= from && t <= to) out.emplace_back(t, a);
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [t, a] : out) fn(t, a);
}

}  // namespace vigil
