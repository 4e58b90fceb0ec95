#include <gtest/gtest.h>

#include "engine/model/civil.hpp"
#include "engine/model/iso8601.hpp"

namespace vigil {

TEST(Civil, days_and_dates_round_trip) {
  for (std::int64_t z = -800000; z <= 3000000; z += 997) {
    const CivilDate c = civil_from_days(z);
    EXPECT_EQ(days_from_civil(c.y, c.m, c.d), z);
  }
  EXPECT_EQ(days_in_month(2024, 2), 29u);
  EXPECT_EQ(days_in_month(1900, 2), 28u);
  EXPECT_EQ(days_in_month(2000, 2), 29u);
  EXPECT_EQ(floor_div(-1, 86400), -1);
  EXPECT_EQ(floor_div(86399, 86400), 0);
}

TEST(Iso8601, dates_times_fractions_and_offsets) {
  auto t = parse_iso8601("2024-05-01");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->has_time);
  EXPECT_EQ(t->utc(), 1714521600);
  t = parse_iso8601("2024-05-01T10:00:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t->offset, 0);
  EXPECT_EQ(t->utc(), 1714557600);
  t = parse_iso8601("2024-05-01 10:00:30.25+02:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->utc(), 1714557600 + 30 - 7200);
  EXPECT_EQ(t->micros, 250000);
  t = parse_iso8601("2024-05-01t10:00-0130");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->utc(), 1714557600 + 5400);
  t = parse_iso8601("2024-05-01T10:00:00");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->offset);
  EXPECT_EQ(t->local, 1714557600);
  EXPECT_EQ(parse_iso8601("2024-05-01T10:00:00.1234567Z")->micros, 123456);
}

TEST(Iso8601, refuses_what_is_not_a_valid_date_time) {
  for (const char* bad : {"", "2024", "2024-5-01", "2024-02-30", "2023-02-29", "1969-12-31", "2024-05-01T24:00",
                          "2024-05-01T10:60", "2024-05-01T10:00:61", "2024-05-01T10", "2024-05-01X10:00",
                          "2024-05-01T10:00:00.", "2024-05-01T10:00Zx", "2024-05-01T10:00+5", "2024-05-01T10:00+05:",
                          "2024-05-01T10:00+24:00", "2024-05-01T10:00:00 ", "10000-01-01"})
    EXPECT_FALSE(parse_iso8601(bad)) << bad;
  EXPECT_TRUE(parse_iso8601("2024-02-29"));
  EXPECT_TRUE(parse_iso8601("9999-12-31T23:59:59Z"));
}

}  // namespace vigil
