#include "engine/query.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <stdexcept>
#include <thread>

namespace vigil {

// -- functions --------------------------------------------------------------------------------

std::optional<SummaryFunction> parse_summary_function(std::string_view s) {
  if (s == "mean" || s == "average") return SummaryFunction::mean;
  if (s == "sum") return SummaryFunction::sum;
  if (s == "min") return SummaryFunction::min;
  if (s == "max") return SummaryFunction::max;
  if (s == "count") return SummaryFunction::count;
  if (s == "stddev") return SummaryFunction::stddev;
  if (s == "derivative") return SummaryFunction::derivative;
  if (s == "all") return SummaryFunction::all;
  return std::nullopt;
}

std::optional<GroupFunction> parse_group_function(std::string_view s) {
  if (s == "sum") return GroupFunction::sum;
  if (s == "min") return GroupFunction::min;
  if (s == "max") return GroupFunction::max;
  if (s == "mean" || s == "average") return GroupFunction::mean;
  return std::nullopt;
}

const char* to_string(SummaryFunction f) {
  switch (f) {
    case SummaryFunction::sum:
      return "sum";
    case SummaryFunction::min:
      return "min";
    case SummaryFunction::max:
      return "max";
    case SummaryFunction::count:
      return "count";
    case SummaryFunction::stddev:
      return "stddev";
    case SummaryFunction::derivative:
      return "derivative";
    case SummaryFunction::all:
      return "all";
    default:
      return "mean";
  }
}

const char* to_string(GroupFunction f) {
  switch (f) {
    case GroupFunction::sum:
      return "sum";
    case GroupFunction::min:
      return "min";
    case GroupFunction::max:
      return "max";
    default:
      return "mean";
  }
}

double summarize(const Agg& a, SummaryFunction f) {
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

std::int64_t choose_rollup(std::int64_t res) {
  std::int64_t best = 0;
  for (std::int64_t r0 : kResolutions)
    if (r0 <= res && res % r0 == 0) best = r0;
  return best;
}

namespace {

// Folds (t, a) into the ascending bucket list `out` at resolution `res`. Input usually arrives in
// ascending order (appending); anything else is placed by binary search.
void add_to_buckets(std::vector<Bucket>& out, std::int64_t res, std::int64_t t, const Agg& a) {
  if (a.empty()) return;
  std::int64_t b = floor_to(t, res);
  if (out.empty() || out.back().time < b) {
    out.push_back(Bucket{b, a});
    return;
  }
  if (out.back().time == b) {
    out.back().agg.merge(a);
    return;
  }
  auto it = std::lower_bound(out.begin(), out.end(), b,
                             [](const Bucket& x, std::int64_t v) { return x.time < v; });
  if (it != out.end() && it->time == b)
    it->agg.merge(a);
  else
    out.insert(it, Bucket{b, a});
}

constexpr std::int64_t kMaxTime = std::numeric_limits<std::int64_t>::max();
// Queries over at least this many series read them on two threads.
constexpr std::size_t kParallelSeries = 512;

}  // namespace

std::vector<Bucket> read_buckets(SeriesReader& reader, std::uint64_t id, std::int64_t res,
                                 std::int64_t from, std::int64_t to) {
  std::vector<Bucket> out;
  if (res <= 0 || from > to) return out;
  std::int64_t lo = floor_to(from, res);
  std::int64_t last_bucket = floor_to(to, res);
  std::int64_t hi = last_bucket > kMaxTime - (res - 1) ? kMaxTime : last_bucket + (res - 1);
  auto fn = [&](std::int64_t t, const Agg& a) { add_to_buckets(out, res, t, a); };
  if (std::int64_t r0 = choose_rollup(res); r0 > 0)
    reader.read_rollup(id, r0, lo, hi, fn);
  else
    reader.read_raw(id, lo, hi, fn);
  return out;
}

// -- the point budget
// -------------------------------------------------------------------------------

std::optional<std::int64_t> budget_cut(const std::vector<std::vector<std::int64_t>>& times,
                                       std::size_t max_points) {
  if (max_points == 0) return std::nullopt;
  std::size_t total = 0;
  for (const auto& s : times) total += s.size();
  if (total <= max_points) return std::nullopt;
  std::map<std::int64_t, std::size_t> per_time;
  for (const auto& s : times)
    for (std::int64_t t : s) ++per_time[t];
  std::size_t kept = 0;
  bool first = true;
  for (const auto& [t, n] : per_time) {
    if (!first && kept + n > max_points) return t;
    kept += n;
    first = false;
  }
  return std::nullopt;
}

namespace {

template <class S>
std::optional<std::int64_t> apply_budget(std::vector<S>& series, std::size_t max_points) {
  std::vector<std::vector<std::int64_t>> times;
  times.reserve(series.size());
  for (const auto& s : series) {
    auto& ts = times.emplace_back();
    ts.reserve(s.points.size());
    for (const auto& p : s.points) ts.push_back(p.time);
  }
  auto cut = budget_cut(times, max_points);
  if (cut) {
    for (auto& s : series)
      s.points.erase(std::lower_bound(s.points.begin(), s.points.end(), *cut,
                                      [](const auto& p, std::int64_t v) { return p.time < v; }),
                     s.points.end());
    series.erase(
        std::remove_if(series.begin(), series.end(), [](const S& s) { return s.points.empty(); }),
        series.end());
  }
  return cut;
}

template <class S>
void sort_by_tags(std::vector<S>& series) {
  std::sort(series.begin(), series.end(), [](const S& a, const S& b) { return a.tags < b.tags; });
}

std::vector<Point> summarize_series(const std::vector<Bucket>& buckets, SummaryFunction f,
                                    bool counter) {
  std::vector<Point> points;
  points.reserve(buckets.size());
  if (f != SummaryFunction::derivative) {
    for (const auto& b : buckets) points.push_back(Point{b.time, summarize(b.agg, f), b.agg});
    return points;
  }
  bool have_prev = false;
  double prev = 0;
  for (const auto& b : buckets) {
    if (have_prev) {
      double d = b.agg.last - prev;
      if (counter && d < 0) d = b.agg.last;  // counter reset: count from zero
      points.push_back(Point{b.time, d, b.agg});
    }
    prev = b.agg.last;
    have_prev = true;
  }
  return points;
}

double combine(GroupFunction f, double acc, double v) {
  switch (f) {
    case GroupFunction::min:
      return std::min(acc, v);
    case GroupFunction::max:
      return std::max(acc, v);
    default:
      return acc + v;  // sum, and mean before the division
  }
}

std::vector<SeriesResult> group(std::vector<SeriesResult> series, const MeasurementQuery& q) {
  struct Cell {
    std::int64_t time = 0;
    double acc = 0;
    std::size_t n = 0;
    Agg agg;
  };
  // Points sit on bucket starts, so a group's cells are a dense array indexed by bucket from the
  // query's first bucket; points off that grid (none today) go to a sorted side map.
  struct Cells {
    std::vector<Cell> dense;
    std::map<std::int64_t, Cell> other;
  };
  const std::int64_t res = q.resolution > 0 ? q.resolution : 1;
  const std::int64_t base = floor_to(q.start, res);
  const std::int64_t span = q.end >= q.start ? (floor_to(q.end, res) - base) / res + 1 : 0;
  const bool use_dense = span > 0 && span <= 1'000'000;
  std::map<Tags, Cells> groups;
  auto fold = [&](Cell& c, std::int64_t t, const Point& p) {
    c.time = t;
    c.acc = c.n == 0 ? p.value : combine(q.group_function, c.acc, p.value);
    ++c.n;
    c.agg.merge(p.agg);
  };
  for (auto& s : series) {
    Tags key;
    if (!q.group_all) {
      for (const auto& name : q.group_by) {
        const std::string* v = find_tag(s.tags, name);
        if (v == nullptr) continue;  // filtered out earlier; defensive
        key.emplace_back(name, *v);
      }
      std::sort(key.begin(), key.end());
      key.erase(std::unique(key.begin(), key.end()), key.end());
    }
    auto& cells = groups[key];
    if (use_dense && cells.dense.empty()) cells.dense.resize(static_cast<std::size_t>(span));
    for (const auto& p : s.points) {
      std::int64_t off = p.time - base;
      if (use_dense && off >= 0 && off % res == 0 && off / res < span)
        fold(cells.dense[static_cast<std::size_t>(off / res)], p.time, p);
      else
        fold(cells.other[p.time], p.time, p);
    }
  }
  std::vector<SeriesResult> out;
  out.reserve(groups.size());
  for (auto& [key, cells] : groups) {
    std::vector<const Cell*> all;
    for (const auto& c : cells.dense)
      if (c.n > 0) all.push_back(&c);
    for (const auto& [t, c] : cells.other) all.push_back(&c);
    if (!cells.other.empty())
      std::sort(all.begin(), all.end(), [](const Cell* a, const Cell* b) { return a->time < b->time; });
    if (all.empty()) continue;
    SeriesResult r{key, {}};
    r.points.reserve(all.size());
    for (const Cell* c : all) {
      double v = q.group_function == GroupFunction::mean ? c->acc / static_cast<double>(c->n) : c->acc;
      r.points.push_back(Point{c->time, v, c->agg});
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

QueryResult run_query(SeriesReader& reader, const MeasurementQuery& q) {
  bool grouped = q.group_all || !q.group_by.empty();
  if (grouped && q.summary == SummaryFunction::all)
    throw std::invalid_argument("summary_function=all cannot be grouped");
  TagFilter filter = q.filter;
  if (!q.group_all)
    for (const auto& name : q.group_by) filter.require(name);

  auto refs = reader.series_matching(q.metric_key, filter);
  auto read_part = [&](SeriesReader& r, std::size_t begin, std::size_t end) {
    std::vector<SeriesResult> part;
    for (std::size_t i = begin; i < end; ++i) {
      auto& ref = refs[i];
      if (q.search && !q.search->matches(ref.tags)) continue;
      auto buckets = read_buckets(r, ref.id, q.resolution, q.start, q.end);
      auto points = summarize_series(buckets, q.summary, q.counter);
      if (points.empty()) continue;
      part.push_back(SeriesResult{std::move(ref.tags), std::move(points)});
    }
    return part;
  };
  // Many series: the second half is read on another thread, through a reader of its own.
  std::vector<SeriesResult> series;
  std::unique_ptr<SeriesReader> second;
  if (refs.size() >= kParallelSeries && std::thread::hardware_concurrency() > 1) second = reader.clone();
  if (second) {
    std::size_t mid = refs.size() / 2;
    std::vector<SeriesResult> tail;
    std::thread t([&] { tail = read_part(*second, mid, refs.size()); });
    series = read_part(reader, 0, mid);
    t.join();
    series.insert(series.end(), std::make_move_iterator(tail.begin()), std::make_move_iterator(tail.end()));
  } else {
    series = read_part(reader, 0, refs.size());
  }
  if (grouped) series = group(std::move(series), q);
  sort_by_tags(series);
  QueryResult result;
  result.next_start = apply_budget(series, q.max_points);
  result.series = std::move(series);
  return result;
}

LegacyResult run_legacy_query(SeriesReader& reader, const LegacyQuery& q) {
  LegacyResult result;
  for (auto& ref : reader.series_of(q.metric_key)) {
    if (!q.sources.matches(ref.tags)) continue;
    std::vector<Bucket> points;
    if (q.resolution > 0) {
      points = read_buckets(reader, ref.id, q.resolution, q.start, q.end);
    } else if (q.start <= q.end) {
      reader.read_raw(ref.id, q.start, q.end, [&](std::int64_t t, const Agg& a) {
        if (!a.empty()) points.push_back(Bucket{t, a});
      });
    }
    if (q.count && points.size() > *q.count) {
      auto n = static_cast<std::ptrdiff_t>(*q.count);
      if (q.from_start)
        points.erase(points.begin() + n, points.end());
      else
        points.erase(points.begin(), points.end() - n);
    }
    if (points.empty()) continue;
    result.series.push_back(LegacySeries{std::move(ref.tags), std::move(points)});
  }
  sort_by_tags(result.series);
  result.next_time = apply_budget(result.series, q.max_points);
  return result;
}

}  // namespace vigil
