#include "engine/store_reader.hpp"

#include <algorithm>

#include "engine/encoding.hpp"
#include "engine/series_index.hpp"
#include "engine/storage.hpp"

namespace vigil {

std::vector<SeriesRef> StoreReader::series_of(std::string_view metric_key) {
  auto entries = index_.series_of(metric_key);
  std::vector<SeriesRef> out;
  out.reserve(entries.size());
  for (auto& e : entries) out.push_back(SeriesRef{e.id, std::move(e.tags)});
  return out;
}

void StoreReader::read_rollup(std::uint64_t id, std::int64_t res, std::int64_t from,
                              std::int64_t to,
                              const std::function<void(std::int64_t, const Agg&)>& fn) {
  int idx = -1;
  for (int i = 0; i < kResolutionCount; ++i)
    if (kResolutions[i] == res) idx = i;
  if (idx < 0 || to < from) return;
  std::string begin = enc::rollup_key(id, from);
  std::string end = enc::rollup_key(id, to == INT64_MAX ? to : to + 1);
  if (to == INT64_MAX) {
    end.clear();
    enc::put_u64(end, id + 1);
  }
  storage_.scan(rollup_cf(idx), begin, end, [&](std::string_view k, std::string_view v) {
    Agg a;
    if (k.size() == 16 && enc::get_agg(v, a)) {
      fn(enc::get_time(k.data() + 8), a);
    }
    return true;
  });
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
  storage_.scan(Cf::raw, begin, end, [&](std::string_view k, std::string_view v) {
    if (k.size() != enc::kRawKeySize) return true;
    const char* p = v.data();
    const char* e = p + v.size();
    std::int64_t t;
    Agg a;
    while (p < e && enc::get_raw_record(p, e, t, a))
      if (t >= from && t <= to) out.emplace_back(t, a);
    return true;
  });
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [t, a] : out) fn(t, a);
}

}  // namespace vigil
