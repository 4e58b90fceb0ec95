// A SeriesReader over raw samples kept in memory, for the query tests: rollups are computed on
// demand by merging each bucket's samples in arrival order, as a rollup writer would.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/query/query.hpp"

namespace vigil::test_support {

class FakeReader : public SeriesReader {
 public:
  std::uint64_t add_series(const std::string& metric, Tags tags) {
    std::uint64_t id = series_.size() + 1;
    series_.push_back({metric, id, std::move(tags), {}});
    return id;
  }
  void add(std::uint64_t id, std::int64_t t, double v) { series_[id - 1].samples.emplace_back(t, v); }

  std::vector<SeriesRef> series_of(std::string_view metric_key) override {
    std::vector<SeriesRef> out;
    for (const auto& s : series_)
      if (s.metric == metric_key) out.push_back({s.id, s.tags});
    return out;
  }
  void read_rollup(std::uint64_t id, std::int64_t res, std::int64_t from, std::int64_t to,
                   const std::function<void(std::int64_t, const Agg&)>& fn) override {
    rollup_reads.push_back(res);
    std::map<std::int64_t, Agg> buckets;
    for (const auto& [t, v] : series_[id - 1].samples) {
      std::int64_t b = floor_to(t, res);
      if (b >= from && b <= to) buckets[b].merge(Agg::of_value(v, t));
    }
    for (const auto& [b, a] : buckets) fn(b, a);
  }
  void read_raw(std::uint64_t id, std::int64_t from, std::int64_t to,
                const std::function<void(std::int64_t, const Agg&)>& fn) override {
    ++raw_reads;
    auto samples = series_[id - 1].samples;
    std::stable_sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [t, v] : samples)
      if (t >= from && t <= to) fn(t, Agg::of_value(v, t));
  }

  std::vector<std::int64_t> rollup_reads;  // the resolution of every rollup read, in order
  int raw_reads = 0;

 private:
  struct S {
    std::string metric;
    std::uint64_t id;
    Tags tags;
    std::vector<std::pair<std::int64_t, double>> samples;
  };
  std::vector<S> series_;
};

}  // namespace vigil::test_support
