// The domain types every layer shares: metrics, tag sets, measurements and rollup aggregates.
// Kept free of heavy includes: this header is included almost everywhere.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

// -- tags ---------------------------------------------------------------------------------------

// A validated tag set: names and values lower-cased, sorted by name, names unique.
using Tag = std::pair<std::string, std::string>;
using Tags = std::vector<Tag>;

// Returns the value of tag `name`, or nullptr.
inline const std::string* find_tag(const Tags& tags, std::string_view name) {
  for (const auto& t : tags)
    if (t.first == name) return &t.second;
  return nullptr;
}

// -- metrics ------------------------------------------------------------------------------------

enum class MetricType : std::uint8_t { gauge = 0, counter = 1, composite = 2 };

inline const char* to_string(MetricType t) {
  switch (t) {
    case MetricType::counter: return "counter";
    case MetricType::composite: return "composite";
    default: return "gauge";
  }
}

// -- aggregates -----------------------------------------------------------------------------------

// The summary of a set of samples: what a rollup bucket stores and what a summary-field
// measurement carries. Merging two aggregates is exact for every statistic we serve
// (mean, sum, min, max, count, last, stddev, derivative of `last`).
struct Agg {
  double count = 0;
  double sum = 0;
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  double last = 0;
  std::int64_t last_time = std::numeric_limits<std::int64_t>::min();
  double sumsq = 0;

  bool empty() const { return count <= 0; }

  static Agg of_value(double v, std::int64_t t) {
    Agg a;
    a.count = 1;
    a.sum = v;
    a.min = v;
    a.max = v;
    a.last = v;
    a.last_time = t;
    a.sumsq = v * v;
    return a;
  }

  // Folds in one single value at time t: the same as merge(of_value(v, t)).
  void add(double v, std::int64_t t) {
    count += 1;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
    if (t >= last_time) {
      last = v;
      last_time = t;
    }
    sumsq += v * v;
  }

  // Folds `o` into this aggregate. `last` follows the greatest time; on a tie the later merge wins,
  // so replaying the same samples in the same order always gives the same result.
  void merge(const Agg& o) {
    if (o.empty()) return;
    count += o.count;
    sum += o.sum;
    if (o.min < min) min = o.min;
    if (o.max > max) max = o.max;
    if (o.last_time >= last_time) {
      last = o.last;
      last_time = o.last_time;
    }
    sumsq += o.sumsq;
  }

  double mean() const { return count > 0 ? sum / count : 0; }
  // Population standard deviation of the summarised samples.
  double stddev() const {
    if (count <= 0) return 0;
    double m = sum / count;
    double var = sumsq / count - m * m;
    return var > 0 ? std::sqrt(var) : 0;
  }
};

// Which fields of an Agg a reader needs beyond count, sum and last_time: storage may skip the
// others (they are then left at zero).
enum AggFields : unsigned { kMinField = 1, kMaxField = 2, kLastField = 4, kSumsqField = 8, kAllFields = 15 };

// The stored rollup resolutions, in seconds, finest first. Every flush writes one block per
// series and stored resolution, so only four are kept; the other served resolutions (300, 7200,
// 21600, ...) are folded at query time from the largest stored one that divides them (300 from 60,
// 7200 and 21600 from 3600: 5, 2 and 6 entries per bucket).
inline constexpr std::int64_t kResolutions[] = {60, 900, 3600, 86400};
inline constexpr int kResolutionCount = 4;

inline std::int64_t floor_to(std::int64_t t, std::int64_t res) {
  std::int64_t q = t / res;
  if (t % res != 0 && t < 0) --q;
  return q * res;
}

// -- sample times -----------------------------------------------------------------------------

// The window of sample times, in epoch seconds, that every ingest path accepts and every query
// may name: 1970-01-01T00:00:00Z to 9999-12-31T23:59:59Z. Times outside it are refused (400), so
// arithmetic on times (bucket ends, durations, offsets) never nears the int64 limits.
inline constexpr std::int64_t kSampleTimeMin = 0;
inline constexpr std::int64_t kSampleTimeMax = 253402300799;
inline constexpr bool in_sample_window(std::int64_t t) { return t >= kSampleTimeMin && t <= kSampleTimeMax; }

// -- measurements -----------------------------------------------------------------------------

// One validated measurement as it leaves the parser: the metric, its series tags, the time and
// the aggregate it contributes (a single value is an aggregate of count 1).
struct Measurement {
  std::string name;  // as submitted (validated); the metric key is its lower-cased form
  Tags tags;         // merged, validated, lower-cased, sorted; never empty (source=unassigned),
                     // unless series_id is set
  std::int64_t time = 0;
  Agg agg;
  MetricType type = MetricType::gauge;  // counter only from the legacy `counters` section
  // Metric properties applied when the metric is created by this measurement.
  std::optional<std::int64_t> period;
  std::string attributes_json;  // a JSON object, or empty
  // The stored series this measurement belongs to, when the producer of the measurement knows it
  // (a stream parser that saw the same name and tags before): then `tags` may be empty, and
  // the id holds while the series index is still at `series_generation` (SeriesIndex::generation).
  // 0: not known; the series is found (or created) from the name and tags.
  std::uint64_t series_id = 0;
  std::uint64_t series_generation = 0;
  // A stream parser's hash of the name and tags as written, so that it can learn the series id
  // once the measurement is stored; 0: none.
  std::uint64_t source_hash = 0;
};

// A rejected part of a request: `param` names where it was (e.g. "measurements[3].name").
struct ParamError {
  std::string param;
  std::string message;
};

}  // namespace vigil
