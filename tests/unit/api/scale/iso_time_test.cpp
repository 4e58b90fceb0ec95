#include "api/scale/iso_time.hpp"

#include <gtest/gtest.h>

namespace vigil::api::scale {
namespace {

constexpr std::int64_t k20151005 = 1444003200;  // 2015-10-05T00:00:00Z

TEST(ScaleIsoTime, datetimes_in_the_forms_clients_send) {
  EXPECT_EQ(parse_datetime("2015-10-05"), k20151005);
  EXPECT_EQ(parse_datetime("2015-10-05T00:00:00Z"), k20151005);
  EXPECT_EQ(parse_datetime("2015-10-05T15:53:00"), k20151005 + 15 * 3600 + 53 * 60);
  EXPECT_EQ(parse_datetime("2015-10-05T15:53"), k20151005 + 15 * 3600 + 53 * 60);
  EXPECT_EQ(parse_datetime("2015-10-05 15:53:07.999Z"), k20151005 + 15 * 3600 + 53 * 60 + 7);
  EXPECT_EQ(parse_datetime("2015-10-05T02:00:00+02:00"), k20151005);
  EXPECT_EQ(parse_datetime("2015-10-04T22:30:00-0130"), k20151005);
  EXPECT_EQ(parse_datetime("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_datetime("2016-02-29"), 1456704000);
}

TEST(ScaleIsoTime, malformed_datetimes_are_refused) {
  for (const char* s :
       {"", "2015", "2015-10", "2015-13-01", "2015-02-29", "2015-10-05T24:00:00", "2015-10-05T10",
        "2015-10-05T10:61", "2015-10-05T10:00:00X", "2015-10-05T10:00:00Zjunk", "1969-12-31",
        "2015-10-05T10:00:00.", "yesterday", "1444003200"})
    EXPECT_EQ(parse_datetime(s), std::nullopt) << s;
}

TEST(ScaleIsoTime, durations_with_date_and_time_parts) {
  auto d = parse_duration("PT3H0M0S");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->seconds, 3 * 3600);
  EXPECT_EQ(parse_duration("P1D")->seconds, 86400);
  EXPECT_EQ(parse_duration("P2W")->seconds, 14 * 86400);
  EXPECT_EQ(parse_duration("P1DT1M")->seconds, 86400 + 60);
  EXPECT_EQ(parse_duration("PT1.75S")->seconds, 1);
  auto ym = parse_duration("P1Y2M");
  ASSERT_TRUE(ym);
  EXPECT_EQ(ym->years, 1);
  EXPECT_EQ(ym->months, 2);
  EXPECT_EQ(ym->seconds, 0);
  for (const char* s : {"", "P", "PT", "P1DT", "P1H", "PT1D", "P1.5D", "PT1H2H", "P1M1Y", "3H",
                        "PT-1H", "PTH", "P99999999999999999999D"})
    EXPECT_EQ(parse_duration(s), std::nullopt) << s;
}

TEST(ScaleIsoTime, before_steps_calendar_months_then_seconds) {
  const std::int64_t t = *parse_datetime("2016-03-31T12:00:00Z");
  EXPECT_EQ(before(t, *parse_duration("PT3H0M0S")), *parse_datetime("2016-03-31T09:00:00Z"));
  EXPECT_EQ(before(t, *parse_duration("P1M")), *parse_datetime("2016-02-29T12:00:00Z"));  // clamped
  EXPECT_EQ(before(t, *parse_duration("P1Y1M")), *parse_datetime("2015-02-28T12:00:00Z"));
  EXPECT_EQ(before(t, *parse_duration("P3M1D")), *parse_datetime("2015-12-30T12:00:00Z"));
  EXPECT_EQ(before(t, *parse_duration("P100Y")), std::nullopt);
}

TEST(ScaleIsoTime, dates_and_datetimes_render_in_utc) {
  EXPECT_EQ(format_date(k20151005 + 86399), "2015-10-05");
  EXPECT_EQ(format_datetime(k20151005), "2015-10-05T00:00:00");
  EXPECT_EQ(format_datetime(k20151005 + 15 * 3600 + 53 * 60 + 1), "2015-10-05T15:53:01");
  EXPECT_EQ(format_datetime(0), "1970-01-01T00:00:00");
}

}  // namespace
}  // namespace vigil::api::scale
