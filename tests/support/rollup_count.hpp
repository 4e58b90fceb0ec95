// The samples of a metric in its 60 s rollups over [from, to], all series: what an engine test
// counts to show that samples were (or were not) stored.
#pragma once

#include <cstdint>
#include <string_view>

#include "actors/engine.hpp"
#include "engine/storage/store_reader.hpp"

namespace vigil::test {

inline double rollup_count(actors::Engine& e, std::string_view metric, std::int64_t from, std::int64_t to) {
  StoreReader r(e.storage(), e.series());
  double n = 0;
  for (const auto& ref : r.series_of(metric))
    r.read_rollup(ref.id, 60, from, to, [&](std::int64_t, const Agg& a) { n += a.count; });
  return n;
}

}  // namespace vigil::test
