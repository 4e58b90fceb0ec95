// Plot values of one column: the daily rollups of its series folded per UTC day, by the
// column's aggregate, within each choice and then across the choices.
//
// Within a choice, a day's value is the aggregate of every sample of the choice's series that
// day: sum (of the samples), avg (their mean), min, max. Across choices (no choice filter, or one
// choice), a day's value is the same aggregate of the choices' values: the sum of their sums, the
// mean of their means (each choice counts once, as in Scale), the least minimum, the greatest
// maximum. Days without samples have no value.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "engine/model/model.hpp"

namespace vigil::api::scale {

enum class Aggregate { sum, avg, min, max };
std::optional<Aggregate> parse_aggregate(std::string_view s);

// One daily rollup bucket of one series of the choice at index `choice`.
struct DayBucket {
  std::int64_t day;  // the bucket's start, a multiple of 86400
  std::size_t choice;
  Agg agg;
};

struct PlotValue {
  std::int64_t day;
  std::optional<std::uint64_t> choice_id;  // set per choice only
  double value;
};

// The values, oldest first; per choice (`choice_ids[choice]` on each, ordered by id within a
// day) when `per_choice`, else one per day across the choices.
std::vector<PlotValue> plot_values(Aggregate a, const std::vector<DayBucket>& buckets,
                                   const std::vector<std::uint64_t>& choice_ids, bool per_choice);

}  // namespace vigil::api::scale
