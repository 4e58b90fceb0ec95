#include "api/http/json_out.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace vigil::api::json_out {
namespace {

using nlohmann::json;

std::string str(std::string_view s) {
  std::string out;
  string(out, s);
  return out;
}

std::string num(double v) {
  std::string out;
  number(out, v);
  return out;
}

TEST(JsonOut, strings_are_escaped_as_nlohmann_dumps_them) {
  const std::string cases[] = {"", "plain", "h0000", "quote\"back\\slash", "tab\tnew\nline\r",
                               std::string("nul\0byte", 8), "\x01\x1f\x7f", "bell\b\f", "ünïcode ✓"};
  for (const auto& s : cases) EXPECT_EQ(str(s), json(s).dump()) << s;
}

TEST(JsonOut, doubles_read_back_exactly_and_keep_a_decimal_point) {
  const double cases[] = {0.0, -0.0, 1.0, 5.0, -42.0, 0.1, 1.0 / 3, 53.86275, 49787.67549999998,
                          1e15, 1e16, 1e21, 1e-5, 1.5e-7, 123456789.125, -2.5e300,
                          std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min()};
  for (double v : cases) {
    const std::string text = num(v);
    const json parsed = json::parse(text);
    ASSERT_TRUE(parsed.is_number_float()) << text;  // a float, as nlohmann's own dump reads back
    EXPECT_EQ(parsed.get<double>(), v) << text;
    EXPECT_EQ(std::signbit(parsed.get<double>()), std::signbit(v)) << text;
  }
  EXPECT_EQ(num(5.0), "5.0");
  EXPECT_EQ(num(0.25), json(0.25).dump());
  EXPECT_EQ(num(53.86275), json(53.86275).dump());
}

TEST(JsonOut, non_finite_doubles_are_null) {
  EXPECT_EQ(num(std::nan("")), "null");
  EXPECT_EQ(num(std::numeric_limits<double>::infinity()), "null");
  EXPECT_EQ(num(-std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonOut, integers_and_counts) {
  std::string out;
  integer(out, -9223372036854775807LL - 1);
  out.push_back(' ');
  integer(out, 1700000000);
  out.push_back(' ');
  count(out, 12.0);
  out.push_back(' ');
  count(out, 2.5);
  out.push_back(' ');
  count(out, 1e17);  // beyond 2^53: a double
  EXPECT_EQ(out, "-9223372036854775808 1700000000 12 2.5 1e+17");
}

}  // namespace
}  // namespace vigil::api::json_out
