#include "engine/query/query.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <stdexcept>
#include <thread>

#include "tests/support/fake_reader.hpp"

namespace vigil {

namespace {

using test_support::FakeReader;

// The naive reference: statistics straight from the raw values of each bucket.
struct RefBucket {
  std::vector<double> values;
  std::int64_t last_time = std::numeric_limits<std::int64_t>::min();
  double last = 0;
};

std::map<std::int64_t, RefBucket> reference_buckets(
    const std::vector<std::pair<std::int64_t, double>>& samples, std::int64_t res,
    std::int64_t start, std::int64_t end) {
  std::map<std::int64_t, RefBucket> out;
  for (const auto& [t, v] : samples) {
    std::int64_t b = floor_to(t, res);
    if (b < floor_to(start, res) || b > floor_to(end, res)) continue;
    auto& r = out[b];
    r.values.push_back(v);
    if (t >= r.last_time) {
      r.last_time = t;
      r.last = v;
    }
  }
  return out;
}

double ref_value(const RefBucket& b, SummaryFunction f) {
  const auto& v = b.values;
  double n = static_cast<double>(v.size());
  double sum = 0;
  for (double x : v) sum += x;
  switch (f) {
    case SummaryFunction::sum:
      return sum;
    case SummaryFunction::count:
      return n;
    case SummaryFunction::min:
      return *std::min_element(v.begin(), v.end());
    case SummaryFunction::max:
      return *std::max_element(v.begin(), v.end());
    case SummaryFunction::stddev: {
      double m = sum / n, acc = 0;
      for (double x : v) acc += (x - m) * (x - m);
      return std::sqrt(acc / n);
    }
    default:
      return sum / n;
  }
}

std::vector<std::pair<std::int64_t, double>> reference_derivative(
    const std::map<std::int64_t, RefBucket>& buckets, bool counter) {
  std::vector<std::pair<std::int64_t, double>> out;
  bool have = false;
  double prev = 0;
  for (const auto& [t, b] : buckets) {
    if (have) {
      double d = b.last - prev;
      if (counter && d < 0) d = b.last;
      out.emplace_back(t, d);
    }
    prev = b.last;
    have = true;
  }
  return out;
}

MeasurementQuery query(std::int64_t start, std::int64_t end, std::int64_t res,
                       SummaryFunction f = SummaryFunction::mean) {
  MeasurementQuery q;
  q.metric_key = "m";
  q.start = start;
  q.end = end;
  q.resolution = res;
  q.summary = f;
  return q;
}

}  // namespace

TEST(Query, choose_rollup_picks_largest_dividing_stored_resolution) {
  EXPECT_EQ(choose_rollup(60), 60);
  EXPECT_EQ(choose_rollup(120), 60);
  EXPECT_EQ(choose_rollup(300), 60);   // 300 is served from 60 (not stored)
  EXPECT_EQ(choose_rollup(600), 60);
  EXPECT_EQ(choose_rollup(1800), 900);
  EXPECT_EQ(choose_rollup(3600), 3600);
  EXPECT_EQ(choose_rollup(7200), 3600);
  EXPECT_EQ(choose_rollup(21600), 3600);
  EXPECT_EQ(choose_rollup(86400), 86400);
  EXPECT_EQ(choose_rollup(604800), 86400);
  EXPECT_EQ(choose_rollup(1), 0);
  EXPECT_EQ(choose_rollup(30), 0);
  EXPECT_EQ(choose_rollup(90), 0);  // not a multiple of 60
}

TEST(Query, reads_from_the_chosen_rollup_or_raw) {
  FakeReader r;
  auto id = r.add_series("m", {{"host", "a"}});
  r.add(id, 1000, 1);
  read_buckets(r, id, 600, 0, 5000);
  read_buckets(r, id, 3600, 0, 5000);
  ASSERT_EQ(r.rollup_reads.size(), 2u);
  EXPECT_EQ(r.rollup_reads[0], 60);
  EXPECT_EQ(r.rollup_reads[1], 3600);
  EXPECT_EQ(r.raw_reads, 0);
  read_buckets(r, id, 90, 0, 5000);
  EXPECT_EQ(r.raw_reads, 1);
}

TEST(Query, downsamples_into_whole_buckets_floored_to_the_resolution) {
  FakeReader r;
  auto id = r.add_series("m", {{"host", "a"}});
  // Out of order on purpose.
  r.add(id, 250, 8);
  r.add(id, 10, 1);
  r.add(id, 70, 3);
  r.add(id, 130, 5);
  r.add(id, 239, 7);
  auto b = read_buckets(r, id, 120, 100, 200);  // buckets 0 and 120, whole
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].time, 0);
  EXPECT_EQ(b[0].agg.count, 2);
  EXPECT_DOUBLE_EQ(b[0].agg.mean(), 2);
  EXPECT_EQ(b[0].agg.last, 3);
  EXPECT_EQ(b[1].time, 120);
  EXPECT_DOUBLE_EQ(b[1].agg.sum, 12);
  EXPECT_EQ(b[1].agg.min, 5);
  EXPECT_EQ(b[1].agg.max, 7);
  EXPECT_EQ(b[1].agg.last, 7);

  auto raw = read_buckets(r, id, 100, 0, 299);  // raw path, out-of-order input
  ASSERT_EQ(raw.size(), 3u);
  EXPECT_EQ(raw[0].time, 0);
  EXPECT_DOUBLE_EQ(raw[0].agg.sum, 4);
  EXPECT_EQ(raw[1].time, 100);
  EXPECT_DOUBLE_EQ(raw[1].agg.sum, 5);
  EXPECT_EQ(raw[2].time, 200);
  EXPECT_DOUBLE_EQ(raw[2].agg.sum, 15);
  EXPECT_EQ(raw[2].agg.last, 8);
}

TEST(Query, summary_functions_match_naive_reference_on_random_data) {
  std::mt19937 rng(12345);
  const std::int64_t t0 = 1'700'000'000;  // not aligned to every resolution
  const std::int64_t span = 4 * 3600 + 77;
  // Distinct random times, inserted in shuffled order.
  std::vector<std::int64_t> times(span);
  for (std::int64_t i = 0; i < span; ++i) times[static_cast<std::size_t>(i)] = t0 + i;
  std::shuffle(times.begin(), times.end(), rng);
  times.resize(3000);
  std::uniform_real_distribution<double> val(-50, 150);
  std::vector<std::pair<std::int64_t, double>> samples;
  for (auto t : times) samples.emplace_back(t, std::round(val(rng) * 1000) / 1000);

  FakeReader r;
  auto id = r.add_series("m", {{"host", "a"}});
  for (const auto& [t, v] : samples) r.add(id, t, v);

  const std::int64_t start = t0 + 1234, end = t0 + 3 * 3600 + 999;
  std::size_t checked = 0;
  for (std::int64_t res : {60, 120, 300, 3600, 90, 7}) {
    auto ref = reference_buckets(samples, res, start, end);
    ASSERT_FALSE(ref.empty());
    for (auto f : {SummaryFunction::mean, SummaryFunction::sum, SummaryFunction::min,
                   SummaryFunction::max, SummaryFunction::count, SummaryFunction::stddev}) {
      auto result = run_query(r, query(start, end, res, f));
      ASSERT_EQ(result.series.size(), 1u);
      const auto& pts = result.series[0].points;
      ASSERT_EQ(pts.size(), ref.size()) << "res " << res << " fn " << to_string(f);
      std::size_t i = 0;
      for (const auto& [t, b] : ref) {
        EXPECT_EQ(pts[i].time, t);
        EXPECT_EQ(pts[i].time % res, 0);
        EXPECT_NEAR(pts[i].value, ref_value(b, f), 1e-6) << "res " << res << " fn " << to_string(f);
        ++i;
        ++checked;
      }
    }
    auto deriv = run_query(r, query(start, end, res, SummaryFunction::derivative));
    auto dref = reference_derivative(ref, false);
    ASSERT_EQ(deriv.series.size(), 1u);
    ASSERT_EQ(deriv.series[0].points.size(), dref.size());
    ASSERT_EQ(dref.size(), ref.size() - 1);
    for (std::size_t i = 0; i < dref.size(); ++i) {
      EXPECT_EQ(deriv.series[0].points[i].time, dref[i].first);
      EXPECT_NEAR(deriv.series[0].points[i].value, dref[i].second, 1e-9);
    }
  }
  // Count of buckets checked: (3h + ...) over several resolutions, all six functions.
  EXPECT_GT(checked, 6u * 180u);
}

TEST(Query, counter_derivative_matches_naive_reference_with_resets) {
  std::mt19937 rng(777);
  const std::int64_t t0 = 1'600'000'000;
  // A counter sampled every 10 s, incremented by 0..20, reset to a small value now and then.
  std::vector<std::pair<std::int64_t, double>> samples;
  double c = 0;
  std::uniform_int_distribution<int> inc(0, 20), reset(0, 99);
  int resets = 0;
  for (std::int64_t t = t0; t < t0 + 6 * 3600; t += 10) {
    if (reset(rng) == 0) {
      c = inc(rng);
      ++resets;
    } else {
      c += inc(rng);
    }
    samples.emplace_back(t, c);
  }
  ASSERT_GT(resets, 5);
  auto shuffled = samples;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  FakeReader r;
  auto id = r.add_series("m", {{"source", "s"}});
  for (const auto& [t, v] : shuffled) r.add(id, t, v);

  for (std::int64_t res : {60, 120, 300, 3600}) {
    auto ref = reference_buckets(samples, res, t0, t0 + 6 * 3600);
    auto q = query(t0, t0 + 6 * 3600, res, SummaryFunction::derivative);
    q.counter = true;
    auto result = run_query(r, q);
    auto dref = reference_derivative(ref, true);
    ASSERT_EQ(result.series.size(), 1u);
    const auto& pts = result.series[0].points;
    ASSERT_EQ(pts.size(), dref.size()) << res;
    for (std::size_t i = 0; i < pts.size(); ++i) {
      EXPECT_EQ(pts[i].time, dref[i].first);
      EXPECT_DOUBLE_EQ(pts[i].value, dref[i].second);
      EXPECT_GE(pts[i].value, 0);  // a counter never goes negative
    }
  }
}

TEST(Query, derivative_concrete_gauge_and_counter) {
  FakeReader r;
  auto id = r.add_series("m", {{"host", "a"}});
  r.add(id, 60, 10);
  r.add(id, 130, 15);
  r.add(id, 125, 99);  // earlier in its bucket: not the last
  r.add(id, 300, 3);   // bucket 240 empty in between
  r.add(id, 360, 8);
  auto q = query(0, 400, 60, SummaryFunction::derivative);
  auto g = run_query(r, q);
  ASSERT_EQ(g.series.size(), 1u);
  ASSERT_EQ(g.series[0].points.size(), 3u);
  EXPECT_EQ(g.series[0].points[0].time, 120);
  EXPECT_DOUBLE_EQ(g.series[0].points[0].value, 5);
  EXPECT_EQ(g.series[0].points[1].time, 300);
  EXPECT_DOUBLE_EQ(g.series[0].points[1].value, -12);
  EXPECT_EQ(g.series[0].points[2].time, 360);
  EXPECT_DOUBLE_EQ(g.series[0].points[2].value, 5);

  q.counter = true;
  auto c = run_query(r, q);
  ASSERT_EQ(c.series[0].points.size(), 3u);
  EXPECT_DOUBLE_EQ(c.series[0].points[0].value, 5);
  EXPECT_DOUBLE_EQ(c.series[0].points[1].value, 3);  // reset: the new value
  EXPECT_DOUBLE_EQ(c.series[0].points[2].value, 5);
}

TEST(Query, concrete_stddev_is_population) {
  FakeReader r;
  auto id = r.add_series("m", {{"host", "a"}});
  for (double v : {2, 4, 4, 4, 5, 5, 7, 9}) r.add(id, 61, v);
  auto res = run_query(r, query(0, 100, 60, SummaryFunction::stddev));
  ASSERT_EQ(res.series[0].points.size(), 1u);
  EXPECT_DOUBLE_EQ(res.series[0].points[0].value, 2);
  EXPECT_EQ(res.series[0].points[0].time, 60);
}

namespace {

// Four series of metric "m": values chosen so every group function gives a distinct answer.
FakeReader grouped_reader() {
  FakeReader r;
  auto a = r.add_series("m", {{"host", "a"}, {"region", "us"}});
  auto b = r.add_series("m", {{"host", "b"}, {"region", "us"}});
  auto c = r.add_series("m", {{"host", "c"}, {"region", "eu"}});
  auto d = r.add_series("m", {{"host", "d"}});  // no region
  r.add_series("other", {{"host", "a"}, {"region", "us"}});
  r.add(a, 0, 1);
  r.add(a, 60, 2);
  r.add(b, 0, 10);
  r.add(b, 30, 20);  // bucket 0 of b: mean 15
  r.add(c, 0, 100);
  r.add(c, 60, 200);
  r.add(d, 0, 1000);
  r.add(d, 60, 2000);
  return r;
}

}  // namespace

TEST(Query, group_by_tag_with_each_function) {
  auto r = grouped_reader();
  struct Case {
    GroupFunction f;
    double us0, us60, eu0, eu60;
  };
  for (const auto& c :
       {Case{GroupFunction::sum, 16, 2, 100, 200}, Case{GroupFunction::min, 1, 2, 100, 200},
        Case{GroupFunction::max, 15, 2, 100, 200}, Case{GroupFunction::mean, 8, 2, 100, 200}}) {
    auto q = query(0, 119, 60);
    q.group_by = {"region"};
    q.group_function = c.f;
    auto res = run_query(r, q);
    ASSERT_EQ(res.series.size(), 2u) << to_string(c.f);  // host=d lacks region: filtered out
    EXPECT_EQ(res.series[0].tags, (Tags{{"region", "eu"}}));
    EXPECT_EQ(res.series[1].tags, (Tags{{"region", "us"}}));
    ASSERT_EQ(res.series[0].points.size(), 2u);
    ASSERT_EQ(res.series[1].points.size(), 2u);
    EXPECT_DOUBLE_EQ(res.series[1].points[0].value, c.us0) << to_string(c.f);
    EXPECT_DOUBLE_EQ(res.series[1].points[1].value, c.us60) << to_string(c.f);
    EXPECT_DOUBLE_EQ(res.series[0].points[0].value, c.eu0);
    EXPECT_DOUBLE_EQ(res.series[0].points[1].value, c.eu60);
    EXPECT_EQ(res.series[1].points[0].time, 0);
    EXPECT_EQ(res.series[1].points[1].time, 60);
  }
}

TEST(Query, group_by_star_aggregates_everything_into_one_untagged_series) {
  auto r = grouped_reader();
  auto q = query(0, 119, 60, SummaryFunction::sum);
  q.group_all = true;
  q.group_function = GroupFunction::sum;
  auto res = run_query(r, q);
  ASSERT_EQ(res.series.size(), 1u);
  EXPECT_TRUE(res.series[0].tags.empty());
  ASSERT_EQ(res.series[0].points.size(), 2u);
  EXPECT_DOUBLE_EQ(res.series[0].points[0].value, 1 + 30 + 100 + 1000);
  EXPECT_DOUBLE_EQ(res.series[0].points[1].value, 2 + 200 + 2000);

  q.group_function = GroupFunction::max;
  q.summary = SummaryFunction::count;
  res = run_query(r, q);
  EXPECT_DOUBLE_EQ(res.series[0].points[0].value, 2);  // host b has 2 samples in bucket 0
  EXPECT_DOUBLE_EQ(res.series[0].points[1].value, 1);
}

TEST(Query, group_by_several_tags_and_with_filter) {
  auto r = grouped_reader();
  auto q = query(0, 59, 60);
  q.group_by = {"region", "host"};
  q.group_function = GroupFunction::sum;
  q.filter.add("host", "!c");
  auto res = run_query(r, q);
  ASSERT_EQ(res.series.size(), 2u);
  EXPECT_EQ(res.series[0].tags, (Tags{{"host", "a"}, {"region", "us"}}));
  EXPECT_EQ(res.series[1].tags, (Tags{{"host", "b"}, {"region", "us"}}));
  EXPECT_DOUBLE_EQ(res.series[0].points[0].value, 1);
  EXPECT_DOUBLE_EQ(res.series[1].points[0].value, 15);
}

namespace {

// A FakeReader whose clone (a copy) lets run_query read the second half of a large query on a
// helper thread; `fail_clone_reads` makes the copy's reads throw.
class CloningReader : public FakeReader {
 public:
  bool fail_reads = false;
  bool fail_clone_reads = false;
  std::unique_ptr<SeriesReader> clone() override {
    auto c = std::make_unique<CloningReader>(*this);
    c->fail_reads = fail_clone_reads;
    return c;
  }
  void read_rollup(std::uint64_t id, std::int64_t res, std::int64_t from, std::int64_t to,
                   const std::function<void(std::int64_t, const Agg&)>& fn) override {
    if (fail_reads) throw std::runtime_error("read failed");
    FakeReader::read_rollup(id, res, from, to, fn);
  }
};

// 1,000 series (two regions), a few samples each.
template <class Reader>
void fill_many(Reader& r) {
  std::mt19937 rng(3);
  for (int i = 0; i < 1000; ++i) {
    auto id = r.add_series("m", {{"host", "h" + std::to_string(i)}, {"region", i % 2 ? "us" : "eu"}});
    for (int k = 0; k < 5; ++k) r.add(id, static_cast<std::int64_t>(rng() % 240), static_cast<double>(rng() % 1000) / 8);
  }
}

}  // namespace

TEST(Query, large_queries_read_in_two_parts_equal_one_part) {
  FakeReader serial;  // no clone: one part
  CloningReader parallel;
  fill_many(serial);
  fill_many(parallel);
  for (bool grouped : {false, true}) {
    auto q = query(0, 239, 60, SummaryFunction::sum);
    if (grouped) {
      q.group_by = {"region"};
      q.group_function = GroupFunction::sum;
    }
    auto a = run_query(serial, q);
    auto b = run_query(parallel, q);
    ASSERT_EQ(a.series.size(), grouped ? 2u : 1000u);
    ASSERT_EQ(a.series.size(), b.series.size());
    for (std::size_t i = 0; i < a.series.size(); ++i) {
      EXPECT_EQ(a.series[i].tags, b.series[i].tags);
      ASSERT_EQ(a.series[i].points.size(), b.series[i].points.size());
      for (std::size_t j = 0; j < a.series[i].points.size(); ++j) {
        EXPECT_EQ(a.series[i].points[j].time, b.series[i].points[j].time);
        EXPECT_DOUBLE_EQ(a.series[i].points[j].value, b.series[i].points[j].value);
      }
    }
  }
}

TEST(Query, a_failing_read_of_either_part_fails_the_query) {
  CloningReader r;
  fill_many(r);
  auto q = query(0, 239, 60);
  r.fail_clone_reads = true;  // the second part's reader (or the first, without helper threads)
  if (std::thread::hardware_concurrency() > 1) {
    EXPECT_THROW(run_query(r, q), std::runtime_error);
  }
  r.fail_clone_reads = false;
  r.fail_reads = true;  // the query's own reader
  EXPECT_THROW(run_query(r, q), std::runtime_error);
  r.fail_reads = false;
  EXPECT_EQ(run_query(r, q).series.size(), 1000u);  // and the helpers still serve
}

TEST(Query, summary_all_cannot_be_grouped) {
  auto r = grouped_reader();
  auto q = query(0, 59, 60, SummaryFunction::all);
  q.group_all = true;
  EXPECT_THROW(run_query(r, q), std::invalid_argument);
}

TEST(Query, series_are_sorted_by_tag_pairs_and_filtered) {
  FakeReader r;
  for (const char* h : {"zeta", "alpha", "mid"}) {
    auto id = r.add_series("m", {{"host", h}, {"region", "x"}});
    r.add(id, 5, 1);
  }
  auto id = r.add_series("m", {{"az", "b"}, {"host", "zeta"}});
  r.add(id, 5, 1);
  auto res = run_query(r, query(0, 59, 60));
  ASSERT_EQ(res.series.size(), 4u);
  EXPECT_EQ(res.series[0].tags, (Tags{{"az", "b"}, {"host", "zeta"}}));
  EXPECT_EQ(res.series[1].tags[0].second, "alpha");
  EXPECT_EQ(res.series[2].tags[0].second, "mid");
  EXPECT_EQ(res.series[3].tags[0].second, "zeta");

  auto q = query(0, 59, 60);
  q.filter.add("host", "*a");
  q.filter.add("host", "m*");
  q.filter.add("region", "x");
  res = run_query(r, q);
  ASSERT_EQ(res.series.size(), 3u);  // alpha, mid, zeta with region=x
  EXPECT_EQ(res.series[0].tags[0].second, "alpha");
}

TEST(Query, max_points_cuts_at_a_bucket_time) {
  FakeReader r;
  for (const char* h : {"a", "b", "c"}) {
    auto id = r.add_series("m", {{"host", h}});
    for (int i = 0; i < 10; ++i) r.add(id, i * 60 + 1, i);
  }
  auto q = query(0, 10 * 60, 60);
  q.max_points = 25;
  auto res = run_query(r, q);
  ASSERT_TRUE(res.next_start.has_value());
  EXPECT_EQ(*res.next_start, 8 * 60);
  ASSERT_EQ(res.series.size(), 3u);
  for (const auto& s : res.series) {
    ASSERT_EQ(s.points.size(), 8u);
    EXPECT_EQ(s.points.back().time, 7 * 60);
    EXPECT_DOUBLE_EQ(s.points.back().value, 7);
  }
  // Resuming at next_start returns the rest.
  q.start = *res.next_start;
  auto rest = run_query(r, q);
  EXPECT_FALSE(rest.next_start.has_value());
  ASSERT_EQ(rest.series[0].points.size(), 2u);
  EXPECT_EQ(rest.series[0].points[0].time, 480);

  q.max_points = 30;
  q.start = 0;
  EXPECT_FALSE(run_query(r, q).next_start.has_value());
}

TEST(Query, max_points_keeps_at_least_one_bucket_time) {
  EXPECT_EQ(budget_cut({{1, 2, 3}, {1, 2, 3}, {1, 3}}, 2), std::optional<std::int64_t>(2));
  EXPECT_EQ(budget_cut({{1, 2, 3}, {2, 3}, {3}}, 3), std::optional<std::int64_t>(3));
  EXPECT_EQ(budget_cut({{1, 2, 3}, {2, 3}, {3}}, 6), std::nullopt);
  EXPECT_EQ(budget_cut({{1, 2, 3}}, 0), std::nullopt);
  EXPECT_EQ(budget_cut({{5}, {5}, {5}}, 1), std::nullopt);  // a single time: nothing to cut
}

TEST(LegacyQuery, raw_points_count_first_and_last) {
  FakeReader r;
  auto a = r.add_series("m", {{"source", "s1"}});
  for (int i = 0; i < 6; ++i) r.add(a, 100 + i * 10, i);
  LegacyQuery q;
  q.metric_key = "m";
  q.start = 110;
  q.end = 1000;
  auto res = run_legacy_query(r, q);
  ASSERT_EQ(res.series.size(), 1u);
  ASSERT_EQ(res.series[0].points.size(), 5u);
  EXPECT_EQ(res.series[0].points[0].time, 110);  // raw times, not floored

  q.count = 2;
  res = run_legacy_query(r, q);
  ASSERT_EQ(res.series[0].points.size(), 2u);
  EXPECT_EQ(res.series[0].points[0].time, 110);
  EXPECT_EQ(res.series[0].points[1].time, 120);

  q.from_start = false;
  q.start = 0;
  q.end = 135;
  res = run_legacy_query(r, q);
  ASSERT_EQ(res.series[0].points.size(), 2u);
  EXPECT_EQ(res.series[0].points[0].time, 120);
  EXPECT_EQ(res.series[0].points[1].time, 130);
  EXPECT_DOUBLE_EQ(res.series[0].points[1].agg.mean(), 3);
}

TEST(LegacyQuery, resolution_sources_and_next_time) {
  FakeReader r;
  auto a = r.add_series("m", {{"source", "web1"}});
  auto b = r.add_series("m", {{"source", "web2"}});
  auto c = r.add_series("m", {{"source", "db1"}});
  for (auto id : {a, b, c})
    for (int i = 0; i < 4; ++i) {
      r.add(id, i * 60, i);
      r.add(id, i * 60 + 30, i + 1);
    }
  LegacyQuery q;
  q.metric_key = "m";
  q.start = 0;
  q.end = 239;
  q.resolution = 60;
  q.sources.set_pattern("web*");
  q.max_points = 5;
  auto res = run_legacy_query(r, q);
  ASSERT_EQ(res.series.size(), 2u);
  EXPECT_EQ(res.series[0].tags[0].second, "web1");
  ASSERT_EQ(res.series[0].points.size(), 2u);
  EXPECT_EQ(res.series[0].points[1].time, 60);
  EXPECT_DOUBLE_EQ(res.series[0].points[1].agg.mean(), 1.5);
  EXPECT_EQ(res.series[0].points[1].agg.count, 2);
  EXPECT_EQ(res.next_time, std::optional<std::int64_t>(120));
}

}  // namespace vigil
