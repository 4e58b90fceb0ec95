#include <gtest/gtest.h>

#include "engine/meta/catalog.hpp"
#include "engine/model/model.hpp"

namespace vigil {

TEST(Agg, merge_keeps_last_by_time_even_out_of_order) {
  Agg a = Agg::of_value(5, 100);
  a.merge(Agg::of_value(7, 50));
  EXPECT_EQ(a.count, 2);
  EXPECT_EQ(a.last, 5);
  EXPECT_EQ(a.min, 5 < 7 ? 5 : 7);
  EXPECT_EQ(a.max, 7);
  EXPECT_DOUBLE_EQ(a.mean(), 6);
  EXPECT_DOUBLE_EQ(a.stddev(), 1);
}

TEST(Model, floor_to_handles_negative_times) {
  EXPECT_EQ(floor_to(119, 60), 60);
  EXPECT_EQ(floor_to(-1, 60), -60);
  EXPECT_EQ(floor_to(0, 60), 0);
}

TEST(Catalog, metric_key_is_lower_case) { EXPECT_EQ(metric_key("AWS.EC2.Disk"), "aws.ec2.disk"); }

}  // namespace vigil
