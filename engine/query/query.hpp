// Query computation over stored series: rollup choice, downsampling, summary functions,
// group_by, series ordering and the point budget. Storage is reached only through SeriesReader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/model.hpp"
#include "engine/storage/status.hpp"
#include "engine/query/budget.hpp"
#include "engine/query/tag_filter.hpp"
#include "engine/query/tag_expr.hpp"

namespace vigil {

struct SeriesRef {
  std::uint64_t id;
  Tags tags;
};

// A stretch of one series' stored buckets, column by column: bucket i starts at
// chunk + index[i] * res, ascending.
struct RollupRun {
  std::size_t n;
  std::int64_t chunk, res;
  const std::uint16_t* index;
  const double *count, *sum, *min, *max, *last, *sumsq;
  const std::int64_t* last_time;

  std::int64_t time(std::size_t i) const { return chunk + static_cast<std::int64_t>(index[i]) * res; }
  Agg agg(std::size_t i) const {
    Agg a;
    a.count = count[i];
    a.sum = sum[i];
    a.min = min[i];
    a.max = max[i];
    a.last = last[i];
    a.sumsq = sumsq[i];
    a.last_time = last_time[i];
    return a;
  }
};

// Reads report a storage error the way a RocksDB iterator does: a read that meets one hands over
// what it could read, and the reader keeps the first error in status(). A query checks status()
// once it is done and answers the error instead of a result with fewer points.
class SeriesReader {
 public:
  virtual ~SeriesReader() = default;
  // OK, or the first storage error a read of this reader met.
  const Status& status() const { return status_; }
  // Keeps `s` as this reader's status if it is the first failure (a clone's, a nested reader's).
  void report(const Status& s) { status_.update(s); }

  // All series of a metric.
  virtual std::vector<SeriesRef> series_of(std::string_view metric_key) = 0;
  // The series of a metric that `filter` matches. Readers with a tag index override this to
  // avoid visiting every series.
  virtual std::vector<SeriesRef> series_matching(std::string_view metric_key, const TagFilter& filter) {
    auto all = series_of(metric_key);
    if (filter.empty()) return all;
    std::vector<SeriesRef> out;
    for (auto& r : all)
      if (filter.matches(r.tags)) out.push_back(std::move(r));
    return out;
  }
  // Buckets of one series at a stored rollup resolution, bucket_time in [from, to], ascending.
  virtual void read_rollup(std::uint64_t id, std::int64_t res, std::int64_t from, std::int64_t to,
                           const std::function<void(std::int64_t, const Agg&)>& fn) = 0;
  // The same for many series: fn(i, bucket_time, agg) for ids[i]. Series may come in any order;
  // each series' buckets come together, ascending. Stores override this to read in batches.
  // `fields` (AggFields): what fn needs of each Agg beyond count, sum and last_time.
  virtual void read_rollups(const std::vector<std::uint64_t>& ids, std::int64_t res, std::int64_t from,
                            std::int64_t to,
                            const std::function<void(std::size_t, std::int64_t, const Agg&)>& fn,
                            unsigned fields = kAllFields) {
    (void)fields;
    for (std::size_t i = 0; i < ids.size(); ++i)
      read_rollup(ids[i], res, from, to, [&](std::int64_t t, const Agg& a) { fn(i, t, a); });
  }
  // The same as runs: fn(i, run) with each run a stretch of ids[i]'s buckets, column by column
  // (fields not asked for by `fields` may read as zero). Stores override this to hand over
  // decoded blocks whole; by default each bucket is a run of one.
  virtual void read_rollup_runs(const std::vector<std::uint64_t>& ids, std::int64_t res, std::int64_t from,
                                std::int64_t to, const std::function<void(std::size_t, const RollupRun&)>& fn,
                                unsigned fields = kAllFields) {
    read_rollups(ids, res, from, to, [&](std::size_t i, std::int64_t t, const Agg& a) {
      const std::uint16_t zero = 0;
      RollupRun run{1, t, res, &zero, &a.count, &a.sum, &a.min, &a.max, &a.last, &a.sumsq, &a.last_time};
      fn(i, run);
    }, fields);
  }
  // Raw samples (each an Agg, usually count 1) of one series, time in [from, to], ascending.
  virtual void read_raw(std::uint64_t id, std::int64_t from, std::int64_t to,
                        const std::function<void(std::int64_t, const Agg&)>& fn) = 0;
  // A second reader over the same data for use on another thread (read_rollup / read_raw only),
  // or nullptr when this reader cannot be shared out.
  virtual std::unique_ptr<SeriesReader> clone() { return nullptr; }

 private:
  Status status_;
};

// -- functions --------------------------------------------------------------------------------

enum class SummaryFunction : std::uint8_t { mean, sum, min, max, count, stddev, derivative, all };
enum class GroupFunction : std::uint8_t { sum, min, max, mean };

// By name (the names Librato gives them; other dialects map theirs onto these); "average" is
// accepted as an alias of "mean".
std::optional<SummaryFunction> parse_summary_function(std::string_view s);
std::optional<GroupFunction> parse_group_function(std::string_view s);
const char* to_string(SummaryFunction f);
const char* to_string(GroupFunction f);

// Derivative (per series): the point of bucket i is last(i) - last(previous non-empty bucket); the
// first non-empty bucket of the range has no point; for counters a negative delta is a reset and
// the point is last(i). stddev is the population standard deviation (Agg::stddev).
// SummaryFunction::all keeps the whole bucket aggregate in Point::agg.

// The value of one statistic of a bucket. Not for `derivative` (needs the previous bucket) nor
// `all` (several values); both return the mean here.
inline double summarize(const Agg& a, SummaryFunction f) {
  switch (f) {
    case SummaryFunction::sum:
      return a.sum;
    case SummaryFunction::min:
      return a.min;
    case SummaryFunction::max:
      return a.max;
    case SummaryFunction::count:
      return a.count;
    case SummaryFunction::stddev:
      return a.stddev();
    default:
      return a.mean();
  }
}

// -- buckets ------------------------------------------------------------------------------------

// The stored rollup resolution to read for a requested resolution: the largest r0 in kResolutions
// with r0 <= res and res % r0 == 0; 0 when none qualifies (read raw samples and bucket them).
std::int64_t choose_rollup(std::int64_t res);

struct Bucket {
  std::int64_t time;  // bucket start (floor_to(t, res)); for raw points the sample time
  Agg agg;
};

// The buckets of one series at resolution `res`, ascending, empty buckets omitted. The query covers
// whole buckets: every sample whose bucket floor_to(t, res) lies in
// [floor_to(from, res), floor_to(to, res)] — reading from the rollup chosen by choose_rollup.
std::vector<Bucket> read_buckets(SeriesReader& reader, std::uint64_t id, std::int64_t res,
                                 std::int64_t from, std::int64_t to);

// -- series queries (Librato's GET /v1/measurements, and every other dialect's reads) -------------

struct MeasurementQuery {
  std::string metric_key;
  std::int64_t start = 0;  // inclusive, see read_buckets for the bucket alignment
  std::int64_t end = 0;    // inclusive
  std::int64_t resolution = 60;
  TagFilter filter;
  std::shared_ptr<const TagExpr> search;  // tags_search, exclusive with `filter`; null = none
  SummaryFunction summary = SummaryFunction::mean;
  bool counter = false;  // derivative: a negative delta is a counter reset
  // group_by: tag names (lower-case); group_all = `group_by=*`. Grouped series must carry every
  // group tag. Per bucket time, the group function is applied to the summary values of the
  // group's series that have a point at that time (mean is unweighted across series).
  // Not allowed with SummaryFunction::all (run_query throws std::invalid_argument).
  std::vector<std::string> group_by;
  bool group_all = false;
  GroupFunction group_function = GroupFunction::mean;
  std::size_t max_points = 0;  // 0 = unlimited (a page: the rest is resumed from next_start)
  // The request's cost budget (engine/query/budget.hpp), or null: unlimited. Once the series are
  // listed, and before anything is read, the query charges it with their number and with series x
  // buckets of [start, end] at the resolution; the deadline is checked while reading. A refusal
  // throws QueryRefused.
  QueryBudget* budget = nullptr;
};

struct Point {
  std::int64_t time;
  double value;  // the summary (or group) value; the mean for SummaryFunction::all
  Agg agg;       // the bucket aggregate for SummaryFunction::all; otherwise only what the summary
                 // reads (count, sum, last_time and its field) is filled; empty when grouped
};

struct SeriesResult {
  Tags tags;  // the series tags, or only the group tags when grouped (empty for group_by=*)
  std::vector<Point> points;
};

struct QueryResult {
  std::vector<SeriesResult> series;        // sorted by tag pairs
  std::optional<std::int64_t> next_start;  // set when cut by max_points: resume from here
};

// A storage error met on the way is left in reader.status() (the helper reader's included).
QueryResult run_query(SeriesReader& reader, const MeasurementQuery& q);

// -- raw samples by source (Librato's legacy GET /v1/metrics/:name) -------------------------------

struct LegacyQuery {
  std::string metric_key;
  std::int64_t start = 0;
  std::int64_t end = 0;
  std::int64_t resolution = 0;  // 0 = raw samples, as stored
  SourceFilter sources;
  // count: at most N points per series — the first N when from_start, else the last N.
  std::optional<std::size_t> count;
  bool from_start = true;
  std::size_t max_points = 0;  // 0 = unlimited
  // As MeasurementQuery::budget; raw samples (resolution 0) are estimated at one a second, at
  // most `count` per series.
  QueryBudget* budget = nullptr;
};

struct LegacySeries {
  Tags tags;
  std::vector<Bucket> points;  // buckets, or raw samples when resolution == 0
};

struct LegacyResult {
  std::vector<LegacySeries> series;  // sorted by tag pairs
  std::optional<std::int64_t> next_time;
};

// As run_query: check reader.status() after it.
LegacyResult run_legacy_query(SeriesReader& reader, const LegacyQuery& q);

// -- the point budget
// -------------------------------------------------------------------------------

// Given the point times of every series (each ascending), the time T to cut at so that keeping
// only points with time < T leaves at most max_points points — while keeping at least the first
// point time. nullopt when everything fits (or max_points == 0).
std::optional<std::int64_t> budget_cut(const std::vector<std::vector<std::int64_t>>& times,
                                       std::size_t max_points);

}  // namespace vigil
