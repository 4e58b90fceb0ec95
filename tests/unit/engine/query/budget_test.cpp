// The query cost bounds: the estimate of points before reading, the budget a request's reads
// share (composites charge one budget many times), the deadline, the concurrency slots and the
// refusal counters; run_query and run_legacy_query refuse before reading anything.
#include <gtest/gtest.h>

#include <limits>
#include <thread>

#include "engine/query/budget.hpp"
#include "engine/query/query.hpp"
#include "tests/support/fake_reader.hpp"

using namespace vigil;
using vigil::test_support::FakeReader;

TEST(QueryEstimate, is_series_times_the_buckets_of_the_range) {
  // [0, 3599] at 60 s: 60 buckets.
  EXPECT_EQ(estimate_points(1, 60, 0, 3599), 60u);
  EXPECT_EQ(estimate_points(10, 60, 0, 3599), 600u);
  // Whole buckets: a range from inside one bucket to inside another counts both.
  EXPECT_EQ(estimate_points(1, 60, 59, 60), 2u);
  EXPECT_EQ(estimate_points(1, 60, 30, 30), 1u);
  // W2's queries: 1,700,000,000 .. 1,700,001,990 at 60 s is 34 buckets (the range starts at
  // 1,699,999,980's bucket).
  EXPECT_EQ(estimate_points(10000, 60, 1700000000, 1700001990), 340000u);
  // Raw samples count as resolution 1.
  EXPECT_EQ(estimate_points(2, 1, 0, 99), 200u);
  EXPECT_EQ(estimate_points(2, 0, 0, 99), 200u);
  // No series, or an empty range: nothing.
  EXPECT_EQ(estimate_points(0, 60, 0, 3599), 0u);
  EXPECT_EQ(estimate_points(5, 60, 10, 9), 0u);
  // The query: 1 .. 4,000,000,000 at resolution 1.
  EXPECT_EQ(estimate_points(1, 1, 1, 4000000000), 4000000000u);
  // Saturates rather than overflows.
  EXPECT_EQ(estimate_points(std::numeric_limits<std::size_t>::max(), 1, kSampleTimeMin, kSampleTimeMax),
            std::numeric_limits<std::uint64_t>::max());
}

TEST(QueryBudget, charges_accumulate_and_refuse_past_the_limits_naming_the_setting) {
  QueryGovernor gov(QueryLimits{10, 1000, 0, 0});
  QueryBudget b = gov.begin();
  b.plan(4, 60, 0, 3599);  // 4 series, 240 points
  b.plan(6, 60, 0, 3599);  // 10 series, 600 points: at the limits, not over
  EXPECT_EQ(b.series(), 10u);
  EXPECT_EQ(b.points(), 600u);
  try {
    b.plan(1, 60, 0, 59);
    FAIL() << "the 11th series is over query.max_series";
  } catch (const QueryRefused& e) {
    EXPECT_EQ(e.limit(), QueryLimit::series);
    EXPECT_EQ(e.status(), 400);
    EXPECT_NE(std::string(e.what()).find("query.max_series (10)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("11 series"), std::string::npos) << e.what();
  }
  EXPECT_EQ(b.series(), 10u) << "a refused charge is not kept";
  EXPECT_EQ(gov.refused(QueryLimit::series), 1u);
  try {
    b.plan_points(0, 401);
    FAIL() << "601 + 400 points are over query.max_read_points";
  } catch (const QueryRefused& e) {
    EXPECT_EQ(e.limit(), QueryLimit::points);
    EXPECT_EQ(e.status(), 400);
    EXPECT_NE(std::string(e.what()).find("query.max_read_points (1000)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1001 points"), std::string::npos) << e.what();
  }
  // One request is counted once, whatever it met after its first refusal.
  EXPECT_EQ(gov.refused(QueryLimit::points), 0u);
  b.plan_points(0, 400);  // exactly at the limit
  EXPECT_EQ(b.points(), 1000u);
}

TEST(QueryBudget, zero_limits_and_a_default_budget_are_unlimited) {
  QueryGovernor gov(QueryLimits{0, 0, 0, 0});
  QueryBudget b = gov.begin();
  b.plan(1'000'000, 1, 0, 4000000000);
  b.check_deadline();
  QueryBudget free_budget;
  free_budget.plan(std::numeric_limits<std::size_t>::max() / 2, 1, kSampleTimeMin, kSampleTimeMax);
  free_budget.check_deadline();
}

TEST(QueryBudget, the_deadline_refuses_once_the_timeout_has_passed) {
  QueryGovernor gov(QueryLimits{0, 0, 20, 0});
  QueryBudget b = gov.begin();
  b.check_deadline();  // well within 20 ms
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  try {
    b.check_deadline();
    FAIL() << "40 ms is past a 20 ms deadline";
  } catch (const QueryRefused& e) {
    EXPECT_EQ(e.limit(), QueryLimit::deadline);
    EXPECT_EQ(e.status(), 503);
    EXPECT_NE(std::string(e.what()).find("query.timeout_ms (20 ms)"), std::string::npos) << e.what();
  }
  EXPECT_THROW(b.plan(1, 60, 0, 59), QueryRefused) << "every charge checks the deadline first";
  EXPECT_EQ(gov.refused(QueryLimit::deadline), 1u);
}

TEST(QueryGovernor, concurrency_slots_are_held_by_live_budgets) {
  QueryGovernor gov(QueryLimits{0, 0, 0, 2});
  {
    QueryBudget a = gov.begin();
    QueryBudget b = gov.begin();
    EXPECT_EQ(gov.running(), 2u);
    try {
      QueryBudget c = gov.begin();
      FAIL() << "a third request is over query.max_concurrent";
    } catch (const QueryRefused& e) {
      EXPECT_EQ(e.limit(), QueryLimit::concurrency);
      EXPECT_EQ(e.status(), 503);
      EXPECT_NE(std::string(e.what()).find("query.max_concurrent (2)"), std::string::npos) << e.what();
    }
    EXPECT_EQ(gov.running(), 2u) << "a refused request holds no slot";
  }
  EXPECT_EQ(gov.running(), 0u);
  QueryBudget again = gov.begin();
  EXPECT_EQ(gov.running(), 1u);
  EXPECT_EQ(gov.refused(QueryLimit::concurrency), 1u);
  std::string text;
  gov.metrics_text(text);
  EXPECT_NE(text.find("vigil_query_refused_total{limit=\"concurrency\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_query_refused_total{limit=\"series\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_queries_running 1\n"), std::string::npos) << text;
}

namespace {

// Counts reads: a refused query must not read anything.
class CountingReader : public FakeReader {
 public:
  void read_rollup(std::uint64_t id, std::int64_t res, std::int64_t from, std::int64_t to,
                   const std::function<void(std::int64_t, const Agg&)>& fn) override {
    ++reads;
    FakeReader::read_rollup(id, res, from, to, fn);
  }
  void read_raw(std::uint64_t id, std::int64_t from, std::int64_t to,
                const std::function<void(std::int64_t, const Agg&)>& fn) override {
    ++reads;
    FakeReader::read_raw(id, from, to, fn);
  }
  int reads = 0;
};

}  // namespace

TEST(QueryBudget, run_query_refuses_before_reading_and_answers_within_the_limits) {
  CountingReader reader;
  for (int h = 0; h < 3; ++h) {
    auto id = reader.add_series("cpu", {{"host", "h" + std::to_string(h)}});
    for (int t = 0; t < 600; t += 10) reader.add(id, t, h * 100 + t);
  }
  MeasurementQuery q;
  q.metric_key = "cpu";
  q.start = 0;
  q.end = 599;
  q.resolution = 60;  // 10 buckets x 3 series = 30 points
  {
    QueryGovernor gov(QueryLimits{2, 0, 0, 0});
    QueryBudget b = gov.begin();
    q.budget = &b;
    EXPECT_THROW(run_query(reader, q), QueryRefused);
    EXPECT_EQ(reader.reads, 0) << "refused on the series count before any read";
  }
  {
    QueryGovernor gov(QueryLimits{0, 29, 0, 0});
    QueryBudget b = gov.begin();
    q.budget = &b;
    EXPECT_THROW(run_query(reader, q), QueryRefused);
    EXPECT_EQ(reader.reads, 0) << "refused on the estimate before any read";
    EXPECT_EQ(gov.refused(QueryLimit::points), 1u);
  }
  {
    // A filter that leaves one series: 10 points, within 29.
    QueryGovernor gov(QueryLimits{1, 29, 0, 0});
    QueryBudget b = gov.begin();
    q.budget = &b;
    q.filter.add("host", "h1");
    QueryResult r = run_query(reader, q);
    ASSERT_EQ(r.series.size(), 1u);
    ASSERT_EQ(r.series[0].points.size(), 10u);
    EXPECT_EQ(r.series[0].points[0].time, 0);
    EXPECT_DOUBLE_EQ(r.series[0].points[0].value, 100 + 25);  // mean of 100, 110, ..., 150
    EXPECT_EQ(b.points(), 10u);
    EXPECT_EQ(b.series(), 1u);
    // A second query of the same request (a composite's next series set) shares the budget:
    // 10 more points fit, 10 more series do not.
    EXPECT_THROW(run_query(reader, q), QueryRefused);
  }
}

TEST(QueryBudget, legacy_raw_queries_count_a_point_a_second_at_most_count_per_series) {
  CountingReader reader;
  auto id = reader.add_series("cpu", {{"source", "a"}});
  for (int t = 0; t < 100; ++t) reader.add(id, t, t);
  LegacyQuery q;
  q.metric_key = "cpu";
  q.start = 0;
  q.end = 99;  // raw: 100 points
  {
    QueryGovernor gov(QueryLimits{0, 99, 0, 0});
    QueryBudget b = gov.begin();
    q.budget = &b;
    EXPECT_THROW(run_legacy_query(reader, q), QueryRefused);
    EXPECT_EQ(reader.reads, 0);
  }
  {
    QueryGovernor gov(QueryLimits{0, 99, 0, 0});
    QueryBudget b = gov.begin();
    q.budget = &b;
    q.count = 5;
    auto r = run_legacy_query(reader, q);
    ASSERT_EQ(r.series.size(), 1u);
    EXPECT_EQ(r.series[0].points.size(), 5u);
    EXPECT_EQ(b.points(), 5u);
  }
}
