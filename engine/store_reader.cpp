#include "engine/store_reader.hpp"

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
  std::string begin, end;
  enc::put_u64(begin, id);
  enc::put_time(begin, from);
  if (to == INT64_MAX) {
    enc::put_u64(end, id + 1);
  } else {
    enc::put_u64(end, id);
    enc::put_time(end, to + 1);
  }
  storage_.scan(Cf::raw, begin, end, [&](std::string_view k, std::string_view v) {
    if (k.size() != 24) return true;
    std::int64_t t = enc::get_time(k.data() + 8);
    Agg a;
    if (enc::get_sample_value(v, t, a)) fn(t, a);
    return true;
  });
}

}  // namespace vigil
