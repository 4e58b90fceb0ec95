#include "api/scale/plot.hpp"

#include <gtest/gtest.h>

namespace vigil::api::scale {
namespace {

constexpr std::int64_t D0 = 1444003200, D1 = D0 + 86400;

Agg of(std::initializer_list<double> vs) {
  Agg a;
  for (double v : vs) a.add(v, 0);
  return a;
}

// Choice 0 (id 4) has two series, choice 1 (id 9) one; day 1 only choice 1.
std::vector<DayBucket> buckets() {
  return {{D0, 0, of({1, 2, 3})}, {D0, 0, of({10})}, {D0, 1, of({5, 7})}, {D1, 1, of({6})}};
}
const std::vector<std::uint64_t> kIds = {4, 9};

TEST(ScalePlot, sums_within_a_day_and_across_choices) {
  auto v = plot_values(Aggregate::sum, buckets(), kIds, false);
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].day, D0);
  EXPECT_DOUBLE_EQ(v[0].value, 1 + 2 + 3 + 10 + 5 + 7);
  EXPECT_FALSE(v[0].choice_id);
  EXPECT_EQ(v[1].day, D1);
  EXPECT_DOUBLE_EQ(v[1].value, 6);
}

TEST(ScalePlot, avg_is_the_mean_of_each_choices_mean) {
  auto v = plot_values(Aggregate::avg, buckets(), kIds, false);
  ASSERT_EQ(v.size(), 2u);
  // choice 4: (1+2+3+10)/4 = 4; choice 9: (5+7)/2 = 6; across: (4+6)/2.
  EXPECT_DOUBLE_EQ(v[0].value, 5);
  EXPECT_DOUBLE_EQ(v[1].value, 6);
}

TEST(ScalePlot, min_and_max_across_everything) {
  auto lo = plot_values(Aggregate::min, buckets(), kIds, false);
  auto hi = plot_values(Aggregate::max, buckets(), kIds, false);
  ASSERT_EQ(lo.size(), 2u);
  ASSERT_EQ(hi.size(), 2u);
  EXPECT_DOUBLE_EQ(lo[0].value, 1);
  EXPECT_DOUBLE_EQ(hi[0].value, 10);
  EXPECT_DOUBLE_EQ(lo[1].value, 6);
  EXPECT_DOUBLE_EQ(hi[1].value, 6);
}

TEST(ScalePlot, per_choice_values_carry_the_id_oldest_first) {
  auto v = plot_values(Aggregate::avg, buckets(), kIds, true);
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].day, D0);
  EXPECT_EQ(v[0].choice_id, 4u);
  EXPECT_DOUBLE_EQ(v[0].value, 4);
  EXPECT_EQ(v[1].day, D0);
  EXPECT_EQ(v[1].choice_id, 9u);
  EXPECT_DOUBLE_EQ(v[1].value, 6);
  EXPECT_EQ(v[2].day, D1);
  EXPECT_EQ(v[2].choice_id, 9u);
}

TEST(ScalePlot, no_buckets_no_values) {
  EXPECT_TRUE(plot_values(Aggregate::sum, {}, kIds, false).empty());
  EXPECT_TRUE(plot_values(Aggregate::sum, {{D0, 0, Agg{}}}, kIds, true).empty());
}

TEST(ScalePlot, aggregates_by_name) {
  EXPECT_EQ(parse_aggregate("sum"), Aggregate::sum);
  EXPECT_EQ(parse_aggregate("avg"), Aggregate::avg);
  EXPECT_EQ(parse_aggregate("min"), Aggregate::min);
  EXPECT_EQ(parse_aggregate("max"), Aggregate::max);
  EXPECT_EQ(parse_aggregate("mean"), std::nullopt);
}

}  // namespace
}  // namespace vigil::api::scale
