#include "engine/query/query.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <pthread.h>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "engine/encoding/series_key.hpp"

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

// Threads that read the second half of large queries (one fewer than the cores). A part handed to
// them is taken back by its query if no helper has started it when the query's own part is done,
// so a query never waits behind another one's part.
class QueryHelpers {
 public:
  struct Part {
    std::function<void()> fn;
    std::mutex mu;
    std::condition_variable cv;
    int state = 0;  // 0 waiting, 1 running, 2 done; guarded by mu
    std::exception_ptr error;
  };

  static QueryHelpers& get() {
    static QueryHelpers helpers(std::max(1u, std::thread::hardware_concurrency()) - 1);
    return helpers;
  }
  bool available() const { return !threads_.empty(); }

  void submit(const std::shared_ptr<Part>& part) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(part);
    }
    cv_.notify_one();
  }

  // Runs the part here unless a helper has started it; then waits for it. Rethrows its exception.
  static void join(Part& part) {
    std::unique_lock lock(part.mu);
    if (part.state == 0) {
      part.state = 1;
      lock.unlock();
      run(part);
      lock.lock();
    }
    part.cv.wait(lock, [&] { return part.state == 2; });
    if (part.error) std::rethrow_exception(part.error);
  }

  ~QueryHelpers() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  explicit QueryHelpers(unsigned n) {
    for (unsigned i = 0; i < n; ++i)
      threads_.emplace_back([this] {
        pthread_setname_np(pthread_self(), "vquery");
        loop();
      });
  }

  static void run(Part& part) {
    try {
      part.fn();
    } catch (...) {
      part.error = std::current_exception();
    }
    std::lock_guard lock(part.mu);
    part.state = 2;
    part.cv.notify_all();
  }

  void loop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;
      std::shared_ptr<Part> part = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      bool mine = false;
      {
        std::lock_guard plock(part->mu);
        if (part->state == 0) {
          part->state = 1;
          mine = true;
        }
      }
      if (mine) run(*part);
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Part>> queue_;
  bool stop_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace

namespace {

// The bucket-aligned read range of a query over [from, to] at resolution `res`: from the first
// bucket's start to the last bucket's end. False when there is nothing to read.
bool bucket_range(std::int64_t res, std::int64_t from, std::int64_t to, std::int64_t& lo, std::int64_t& hi) {
  if (res <= 0 || from > to) return false;
  lo = floor_to(from, res);
  std::int64_t last_bucket = floor_to(to, res);
  hi = last_bucket > kMaxTime - (res - 1) ? kMaxTime : last_bucket + (res - 1);
  return true;
}

}  // namespace

std::vector<Bucket> read_buckets(SeriesReader& reader, std::uint64_t id, std::int64_t res,
                                 std::int64_t from, std::int64_t to) {
  std::vector<Bucket> out;
  std::int64_t lo, hi;
  if (!bucket_range(res, from, to, lo, hi)) return out;
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

void summarize_series(const std::vector<Bucket>& buckets, SummaryFunction f, bool counter,
                      std::vector<Point>& points) {
  points.clear();
  points.reserve(buckets.size());
  if (f != SummaryFunction::derivative) {
    for (const auto& b : buckets) points.push_back(Point{b.time, summarize(b.agg, f), b.agg});
    return;
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

// The groups of a grouped query, folded series by series. Per bucket time a cell keeps the group
// function's accumulator over the series' summary values (a sum for mean, divided at the end) and
// how many series contributed. Points sit on bucket starts, so a
// group's cells are a dense array indexed by bucket from the query's first bucket; points off that
// grid (none today) go to a sorted side map. Each reading thread fills a table of its own; the
// tables are then absorbed into one.
class GroupTable {
 public:
  explicit GroupTable(const MeasurementQuery& q) : q_(q), names_(q.group_by) {
    std::sort(names_.begin(), names_.end());
    names_.erase(std::unique(names_.begin(), names_.end()), names_.end());
    res_ = q.resolution > 0 ? q.resolution : 1;
    base_ = floor_to(q.start, res_);
    span_ = q.end >= q.start ? (floor_to(q.end, res_) - base_) / res_ + 1 : 0;
    dense_ = span_ > 0 && span_ <= 1'000'000;
  }

  void add(const Tags& series_tags, const std::vector<Point>& points) {
    if (points.empty()) return;
    Group& g = groups_[group_of(series_tags)];
    for (const auto& p : points) fold(cell(g, p.time), p.time, p.value, 1);
  }
  // The same from buckets, for every summary function but derivative (one value per bucket).
  void add(const Tags& series_tags, const std::vector<Bucket>& buckets, SummaryFunction f) {
    if (buckets.empty()) return;
    Group& g = groups_[group_of(series_tags)];
    for (const auto& b : buckets) fold(cell(g, b.time), b.time, summarize(b.agg, f), 1);
  }
  // The group of a series, found once for all its runs.
  std::size_t group_index(const Tags& series_tags) { return group_of(series_tags); }

  // A run of stored buckets of a series in `group`, one value per bucket (every summary function
  // but derivative).
  void add_run(std::size_t group, const RollupRun& run, SummaryFunction f) {
    Group& g = groups_[group];
    switch (f) {
      case SummaryFunction::mean: fold_run(g, run, [&](std::size_t i) { return run.count[i] > 0 ? run.sum[i] / run.count[i] : 0; }); break;
      case SummaryFunction::sum: fold_run(g, run, [&](std::size_t i) { return run.sum[i]; }); break;
      case SummaryFunction::count: fold_run(g, run, [&](std::size_t i) { return run.count[i]; }); break;
      case SummaryFunction::min: fold_run(g, run, [&](std::size_t i) { return run.min[i]; }); break;
      case SummaryFunction::max: fold_run(g, run, [&](std::size_t i) { return run.max[i]; }); break;
      default: fold_run(g, run, [&](std::size_t i) { return summarize(run.agg(i), f); }); break;
    }
  }

  void absorb(GroupTable&& other) {
    for (auto& og : other.groups_) {
      Group& g = groups_[group_for(og.key, [&](Tags& tags) { tags = std::move(og.tags); })];
      for (const auto& c : og.dense)
        if (c.n > 0) fold(cell(g, c.time), c.time, c.acc, c.n);
      for (const auto& [t, c] : og.other) fold(cell(g, t), t, c.acc, c.n);
    }
  }

  std::vector<SeriesResult> results() {
    std::vector<SeriesResult> out;
    out.reserve(groups_.size());
    std::vector<const Cell*> all;
    for (auto& g : groups_) {
      all.clear();
      for (const auto& c : g.dense)
        if (c.n > 0) all.push_back(&c);
      for (const auto& [t, c] : g.other) all.push_back(&c);
      if (!g.other.empty())
        std::sort(all.begin(), all.end(), [](const Cell* a, const Cell* b) { return a->time < b->time; });
      if (all.empty()) continue;
      SeriesResult r{std::move(g.tags), {}};
      r.points.reserve(all.size());
      for (const Cell* c : all) {
        double v = q_.group_function == GroupFunction::mean ? c->acc / static_cast<double>(c->n) : c->acc;
        r.points.push_back(Point{c->time, v, Agg{}});
      }
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  struct Cell {
    std::int64_t time = 0;
    double acc = 0;
    std::size_t n = 0;
  };
  struct Group {
    std::string key;
    Tags tags;
    std::vector<Cell> dense;
    std::map<std::int64_t, Cell> other;
  };

  template <class MakeTags>
  std::size_t group_for(const std::string& key, MakeTags&& make_tags) {
    auto [it, fresh] = index_.try_emplace(key, groups_.size());
    if (fresh) {
      Group& g = groups_.emplace_back();
      g.key = key;
      make_tags(g.tags);
      if (dense_) g.dense.resize(static_cast<std::size_t>(span_));
    }
    return it->second;
  }
  // The group of a series: found by its group tag values.
  std::size_t group_of(const Tags& series_tags) {
    key_.clear();
    if (!q_.group_all)
      for (const auto& name : names_)
        if (const std::string* v = find_tag(series_tags, name)) {
          // Escaped (engine/encoding/series_key.hpp): a NUL inside a name or value cannot
          // make two tag sets one group.
          enc::append_key_text(key_, name);
          key_.push_back('\0');
          enc::append_key_text(key_, *v);
          key_.push_back('\0');
        }
    return group_for(key_, [&](Tags& tags) {
      if (!q_.group_all)
        for (const auto& name : names_)
          if (const std::string* v = find_tag(series_tags, name)) tags.emplace_back(name, *v);
    });
  }

  Cell& cell(Group& g, std::int64_t t) {
    // A series' points usually come one bucket after the other: the next cell without a division.
    if (&g == last_group_ && t == last_time_ + res_ && last_index_ + 1 < span_) {
      last_time_ = t;
      return g.dense[static_cast<std::size_t>(++last_index_)];
    }
    std::int64_t off = t - base_;
    if (dense_ && off >= 0 && off % res_ == 0 && off / res_ < span_) {
      last_group_ = &g;
      last_time_ = t;
      last_index_ = off / res_;
      return g.dense[static_cast<std::size_t>(last_index_)];
    }
    last_group_ = nullptr;
    return g.other[t];
  }
  template <class Value>
  void fold_run(Group& g, const RollupRun& run, Value&& value) {
    for (std::size_t i = 0; i < run.n; ++i) {
      if (run.count[i] <= 0) continue;  // an empty bucket (Agg::empty)
      const std::int64_t t = run.time(i);
      fold(cell(g, t), t, value(i), 1);
    }
  }
  void fold(Cell& c, std::int64_t t, double value, std::size_t n) {
    c.time = t;
    c.acc = c.n == 0 ? value : combine(q_.group_function, c.acc, value);
    c.n += n;
  }

  const MeasurementQuery& q_;
  std::vector<std::string> names_;  // group_by, sorted, unique
  std::int64_t res_, base_, span_;
  bool dense_;
  std::string key_;
  const Group* last_group_ = nullptr;  // the dense cell cell() returned last
  std::int64_t last_time_ = 0, last_index_ = 0;
  std::unordered_map<std::string, std::size_t> index_;
  std::deque<Group> groups_;
};

}  // namespace

QueryResult run_query(SeriesReader& reader, const MeasurementQuery& q) {
  bool grouped = q.group_all || !q.group_by.empty();
  if (grouped && q.summary == SummaryFunction::all)
    throw std::invalid_argument("summary_function=all cannot be grouped");
  TagFilter filter = q.filter;
  if (!q.group_all)
    for (const auto& name : q.group_by) filter.require(name);

  auto refs = reader.series_matching(q.metric_key, filter);
  if (q.search)
    refs.erase(std::remove_if(refs.begin(), refs.end(), [&](const SeriesRef& r) { return !q.search->matches(r.tags); }),
               refs.end());
  std::int64_t lo = 0, hi = 0;
  const bool any = bucket_range(q.resolution, q.start, q.end, lo, hi);
  // The cost, charged before anything is read: the series listed, and series x buckets.
  QueryBudget* const budget = q.budget;
  if (budget && any) budget->plan(refs.size(), q.resolution, q.start, q.end);
  const std::int64_t r0 = choose_rollup(q.resolution);
  // What the summary reads of each bucket beyond count and sum (the whole bucket only for `all`,
  // the one function whose points carry it).
  unsigned fields = kAllFields;
  switch (q.summary) {
    case SummaryFunction::mean:
    case SummaryFunction::sum:
    case SummaryFunction::count: fields = 0; break;
    case SummaryFunction::min: fields = kMinField; break;
    case SummaryFunction::max: fields = kMaxField; break;
    case SummaryFunction::stddev: fields = kSumsqField; break;
    case SummaryFunction::derivative: fields = kLastField; break;
    case SummaryFunction::all: fields = kAllFields; break;
  }
  // One part of the series, read through one reader: each series' buckets are summarized and
  // either kept as a result or folded into the part's group table.
  struct Part {
    std::vector<SeriesResult> series;
    std::optional<GroupTable> groups;
  };
  auto read_part = [&](SeriesReader& r, std::size_t begin, std::size_t end, Part& out) {
    if (grouped) out.groups.emplace(q);
    if (!any || begin >= end) return;
    std::vector<Bucket> buckets;
    std::vector<Point> points;
    // The deadline, every 256 reader calls (a clock read is cheap, not free); one counter per part.
    unsigned ticks = 0;
    auto tick = [&] {
      if (budget && (++ticks & 255u) == 0) budget->check_deadline();
    };
    auto finish = [&](std::size_t i) {
      tick();
      if (grouped && q.summary != SummaryFunction::derivative) {
        out.groups->add(refs[i].tags, buckets, q.summary);
        buckets.clear();
        return;
      }
      summarize_series(buckets, q.summary, q.counter, points);
      buckets.clear();
      if (points.empty()) return;
      if (grouped) {
        out.groups->add(refs[i].tags, points);
      } else {
        out.series.push_back(SeriesResult{std::move(refs[i].tags), std::move(points)});
        points = {};
      }
    };
    if (r0 > 0) {
      std::vector<std::uint64_t> ids;
      ids.reserve(end - begin);
      for (std::size_t i = begin; i < end; ++i) ids.push_back(refs[i].id);
      constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
      std::size_t cur = kNone;
      // Grouped, one stored bucket per query bucket and one value per bucket: each entry goes
      // straight into its group cell.
      if (grouped && q.summary != SummaryFunction::derivative && r0 == q.resolution) {
        std::size_t group = 0;
        r.read_rollup_runs(ids, r0, lo, hi, [&](std::size_t k, const RollupRun& run) {
          if (k != cur) {
            tick();
            cur = k;
            group = out.groups->group_index(refs[begin + k].tags);
          }
          out.groups->add_run(group, run, q.summary);
        }, fields);
        return;
      }
      r.read_rollups(ids, r0, lo, hi, [&](std::size_t k, std::int64_t t, const Agg& a) {
        tick();
        if (k != cur) {
          if (cur != kNone) finish(begin + cur);
          cur = k;
        }
        add_to_buckets(buckets, q.resolution, t, a);
      }, fields);
      if (cur != kNone) finish(begin + cur);
    } else {
      for (std::size_t i = begin; i < end; ++i) {
        r.read_raw(refs[i].id, lo, hi, [&](std::int64_t t, const Agg& a) {
          tick();
          add_to_buckets(buckets, q.resolution, t, a);
        });
        finish(i);
      }
    }
  };
  // Many series: the second half is read by a helper thread, through a reader of its own.
  Part first, second_part;
  std::unique_ptr<SeriesReader> second;
  auto& helpers = QueryHelpers::get();
  if (refs.size() >= kParallelSeries && helpers.available()) second = reader.clone();
  if (second) {
    std::size_t mid = refs.size() / 2;
    auto part = std::make_shared<QueryHelpers::Part>();
    part->fn = [&] { read_part(*second, mid, refs.size(), second_part); };
    helpers.submit(part);
    try {
      read_part(reader, 0, mid, first);
    } catch (...) {
      QueryHelpers::join(*part);  // the helper must be done with this frame's state
      throw;
    }
    QueryHelpers::join(*part);
    reader.report(second->status());
  } else {
    read_part(reader, 0, refs.size(), first);
  }
  if (budget) budget->check_deadline();
  std::vector<SeriesResult> series;
  if (grouped) {
    if (second_part.groups) first.groups->absorb(std::move(*second_part.groups));
    series = first.groups->results();
  } else {
    series = std::move(first.series);
    series.insert(series.end(), std::make_move_iterator(second_part.series.begin()),
                  std::make_move_iterator(second_part.series.end()));
  }
  sort_by_tags(series);
  QueryResult result;
  result.next_start = apply_budget(series, q.max_points);
  result.series = std::move(series);
  return result;
}

LegacyResult run_legacy_query(SeriesReader& reader, const LegacyQuery& q) {
  LegacyResult result;
  auto refs = reader.series_of(q.metric_key);
  refs.erase(std::remove_if(refs.begin(), refs.end(), [&](const SeriesRef& r) { return !q.sources.matches(r.tags); }),
             refs.end());
  if (q.budget && q.start <= q.end) {
    std::uint64_t per_series = estimate_points(1, q.resolution > 0 ? q.resolution : 1, q.start, q.end);
    if (q.count) per_series = std::min<std::uint64_t>(per_series, *q.count);
    const std::uint64_t n = refs.size();
    constexpr std::uint64_t kMaxPoints = std::numeric_limits<std::uint64_t>::max();
    q.budget->plan_points(refs.size(), n == 0 ? 0 : per_series > kMaxPoints / n ? kMaxPoints : per_series * n);
  }
  for (auto& ref : refs) {
    if (q.budget) q.budget->check_deadline();
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
