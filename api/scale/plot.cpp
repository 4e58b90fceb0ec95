#include "api/scale/plot.hpp"

#include <algorithm>
#include <map>
#include <utility>

namespace vigil::api::scale {

std::optional<Aggregate> parse_aggregate(std::string_view s) {
  if (s == "sum") return Aggregate::sum;
  if (s == "avg") return Aggregate::avg;
  if (s == "min") return Aggregate::min;
  if (s == "max") return Aggregate::max;
  return std::nullopt;
}

namespace {

double of(Aggregate a, const Agg& g) {
  switch (a) {
    case Aggregate::sum:
      return g.sum;
    case Aggregate::avg:
      return g.mean();
    case Aggregate::min:
      return g.min;
    case Aggregate::max:
      return g.max;
  }
  return g.sum;
}

}  // namespace

std::vector<PlotValue> plot_values(Aggregate a, const std::vector<DayBucket>& buckets,
                                   const std::vector<std::uint64_t>& choice_ids, bool per_choice) {
  // (day, choice id) -> the samples of the choice that day.
  std::map<std::pair<std::int64_t, std::uint64_t>, Agg> cells;
  for (const auto& b : buckets) {
    if (b.agg.empty()) continue;
    cells[{b.day, choice_ids[b.choice]}].merge(b.agg);
  }
  std::vector<PlotValue> out;
  if (per_choice) {
    out.reserve(cells.size());
    for (const auto& [key, agg] : cells) out.push_back({key.first, key.second, of(a, agg)});
    return out;
  }
  // Across the choices of each day, in the order of their ids (a sum's rounding does not depend
  // on the order series were read in).
  auto it = cells.begin();
  while (it != cells.end()) {
    std::int64_t day = it->first.first;
    double acc = 0;
    std::size_t n = 0;
    for (; it != cells.end() && it->first.first == day; ++it, ++n) {
      double v = of(a, it->second);
      if (n == 0)
        acc = v;
      else if (a == Aggregate::min)
        acc = std::min(acc, v);
      else if (a == Aggregate::max)
        acc = std::max(acc, v);
      else
        acc += v;
    }
    if (a == Aggregate::avg) acc /= static_cast<double>(n);
    out.push_back({day, std::nullopt, acc});
  }
  return out;
}

}  // namespace vigil::api::scale
