#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "engine/model/limits.hpp"
#include "engine/model/text.hpp"

namespace vigil {

TEST(Limits, float_nan_and_infinity_are_rejected) {
  double nan = std::numeric_limits<double>::quiet_NaN();
  double inf = std::numeric_limits<double>::infinity();
  double ninf = -inf;
  EXPECT_EQ(check_float(nan), FloatCheck::not_finite);
  EXPECT_EQ(check_float(inf), FloatCheck::not_finite);
  EXPECT_EQ(check_float(ninf), FloatCheck::not_finite);
}

TEST(Limits, float_magnitude_above_1e126_is_too_large) {
  double a = 1e200, b = -1e127, c = 1e126;
  EXPECT_EQ(check_float(a), FloatCheck::too_large);
  EXPECT_EQ(check_float(b), FloatCheck::too_large);
  EXPECT_EQ(check_float(c), FloatCheck::ok);
  EXPECT_EQ(c, 1e126);
}

TEST(Limits, float_magnitude_below_1e_130_becomes_zero) {
  double a = 1e-140, b = -3e-131, c = 1e-130, d = 0.0;
  EXPECT_EQ(check_float(a), FloatCheck::ok);
  EXPECT_EQ(a, 0.0);
  EXPECT_EQ(check_float(b), FloatCheck::ok);
  EXPECT_EQ(b, 0.0);
  EXPECT_EQ(check_float(c), FloatCheck::ok);
  EXPECT_EQ(c, 1e-130);
  EXPECT_EQ(check_float(d), FloatCheck::ok);
  EXPECT_EQ(d, 0.0);
}

TEST(Limits, ordinary_floats_pass_unchanged) {
  double a = 88.331, b = -4.5;
  EXPECT_EQ(check_float(a), FloatCheck::ok);
  EXPECT_EQ(a, 88.331);
  EXPECT_EQ(check_float(b), FloatCheck::ok);
  EXPECT_EQ(b, -4.5);
}

TEST(Text, ascii_lower_leaves_non_ascii_bytes) {
  EXPECT_EQ(ascii_lower("AbC-\xc3\x89"), "abc-\xc3\x89");
}

TEST(Text, plain_names) {
  EXPECT_TRUE(is_plain_name("AWS.EC2.DiskWriteBytes", 255));
  EXPECT_FALSE(is_plain_name("", 255));
  EXPECT_FALSE(is_plain_name("abc", 2));
  EXPECT_FALSE(is_plain_name("a b", 255));
}

}  // namespace vigil
