#include <gtest/gtest.h>

#include <string>

#include "engine/encoding/values.hpp"

namespace vigil {

TEST(Encoding, aggregates_and_samples_round_trip) {
  Agg a = Agg::of_value(2.5, 100);
  a.merge(Agg::of_value(-7, 90));
  std::string s;
  enc::put_agg(s, a);
  ASSERT_EQ(s.size(), enc::kAggSize);
  Agg b;
  ASSERT_TRUE(enc::get_agg(s, b));
  EXPECT_EQ(b.count, 2);
  EXPECT_EQ(b.sum, -4.5);
  EXPECT_EQ(b.min, -7);
  EXPECT_EQ(b.max, 2.5);
  EXPECT_EQ(b.last, 2.5);
  EXPECT_EQ(b.last_time, 100);
  EXPECT_EQ(b.sumsq, 2.5 * 2.5 + 49);

  std::string v;
  enc::put_sample_value(v, Agg::of_value(3.25, 10), 10);
  EXPECT_EQ(v.size(), 8u) << "a single value is stored in 8 bytes";
  Agg c;
  ASSERT_TRUE(enc::get_sample_value(v, 10, c));
  EXPECT_EQ(c.sum, 3.25);
  EXPECT_EQ(c.count, 1);
  v.clear();
  enc::put_sample_value(v, a, 100);
  EXPECT_EQ(v.size(), enc::kAggSize) << "a summary keeps every field";
  EXPECT_FALSE(enc::get_agg("short", c));
}

}  // namespace vigil
