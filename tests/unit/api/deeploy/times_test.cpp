#include "api/deeploy/times.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace vigil::api::deeploy {
namespace {

std::optional<std::int64_t> utc(std::string_view s) { return parse_iso8601(s, TimeZone::utc()); }

// Found by fuzz/deeploy_body: a zone name naming a directory of the zoneinfo tree ("America")
// threw from the file read (a 500 for ?timezone=America); it is an unknown zone.
TEST(DeeployTimes, a_directory_of_zones_is_no_zone) {
  EXPECT_FALSE(TimeZone::find("America").has_value());
  EXPECT_FALSE(TimeZone::find("Etc").has_value());
  EXPECT_TRUE(TimeZone::find("America/New_York").has_value());
}

TEST(DeeployTimes, iso_datetimes_with_offsets_read_as_utc) {
  EXPECT_EQ(utc("2024-01-15T10:30:00Z"), 1705314600);
  EXPECT_EQ(utc("2024-01-15T10:30:00.999Z"), 1705314600);  // the fraction is dropped
  EXPECT_EQ(utc("2024-01-15T12:30:00+02:00"), 1705314600);
  EXPECT_EQ(utc("2024-01-15T05:00:00-0530"), 1705314600);
  EXPECT_EQ(utc("2024-01-15T11:30+01"), 1705314600);
  EXPECT_EQ(utc("2024-01-15 10:30:00z"), 1705314600);
  EXPECT_EQ(utc("2026-03-06T00:00:00Z"), 1772755200);
  EXPECT_EQ(utc("2026-03-06"), 1772755200);  // a date alone is midnight
  EXPECT_EQ(utc("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(utc("2024-02-29T00:00:00Z"), 1709164800);
}

TEST(DeeployTimes, malformed_or_out_of_range_datetimes_are_refused) {
  for (const char* s :
       {"", "yesterday", "2024-1-15", "2024-01-15T", "2024-01-15T10", "2024-01-15T10:30:00Q",
        "2024-13-01", "2023-02-29", "2024-01-32", "2024-01-15T24:00:00Z", "2024-01-15T10:60Z",
        "2024-01-15T10:30:00.Z", "2024-01-15T10:30:00+2", "1969-12-31T23:59:59Z",
        "1970-01-01T00:30:00+01:00", "12345", "2024-01-15T10:30:00Z "})
    EXPECT_FALSE(utc(s).has_value()) << s;
}

TEST(DeeployTimes, datetimes_without_offset_are_read_in_the_time_zone) {
  auto plus2 = TimeZone::find("+02:00");
  ASSERT_TRUE(plus2);
  EXPECT_EQ(parse_iso8601("2024-01-15T12:30:00", *plus2), 1705314600);
  EXPECT_EQ(parse_iso8601("2024-01-15T10:30:00Z", *plus2), 1705314600);  // an offset wins
  for (const char* name : {"UTC", "utc", "Z", "GMT"}) {
    auto tz = TimeZone::find(name);
    ASSERT_TRUE(tz) << name;
    EXPECT_EQ(parse_iso8601("2024-01-15T10:30:00", *tz), 1705314600) << name;
  }
  auto minus = TimeZone::find("UTC-05:30");
  ASSERT_TRUE(minus);
  EXPECT_EQ(parse_iso8601("2024-01-15T05:00:00", *minus), 1705314600);
  auto short_form = TimeZone::find("GMT+3");
  ASSERT_TRUE(short_form);
  EXPECT_EQ(parse_iso8601("2024-01-15T13:30:00", *short_form), 1705314600);
  for (const char* name :
       {"", "Mars/Olympus", "../etc/passwd", "+25:00", "+2:30", "UTC+", "/etc/passwd"})
    EXPECT_FALSE(TimeZone::find(name).has_value()) << name;
}

TEST(DeeployTimes, iana_zones_follow_daylight_saving_time) {
  const char* dir = std::getenv("TZDIR");
  if (!std::filesystem::exists(std::string(dir ? dir : "/usr/share/zoneinfo") +
                               "/Europe/Amsterdam"))
    GTEST_SKIP() << "no zoneinfo files";
  auto ams = TimeZone::find("Europe/Amsterdam");
  ASSERT_TRUE(ams);
  // Winter: UTC+1; summer: UTC+2.
  EXPECT_EQ(parse_iso8601("2024-01-15T11:30:00", *ams), 1705314600);
  EXPECT_EQ(parse_iso8601("2024-07-01T12:00:00", *ams), 1719828000);
  // 2024-03-31 02:30 does not exist (clocks go from 02:00 to 03:00): read with the offset before.
  EXPECT_EQ(parse_iso8601("2024-03-31T02:30:00", *ams),
            parse_iso8601("2024-03-31T01:30:00Z", TimeZone::utc()));
  // 2024-10-27 02:30 happens twice: the first (summer time, UTC+2).
  EXPECT_EQ(parse_iso8601("2024-10-27T02:30:00", *ams),
            parse_iso8601("2024-10-27T00:30:00Z", TimeZone::utc()));
  auto ny = TimeZone::find("America/New_York");
  ASSERT_TRUE(ny);
  EXPECT_EQ(parse_iso8601("2024-01-15T05:30:00", *ny), 1705314600);
}

TEST(DeeployTimes, iso_text_of_times) {
  EXPECT_EQ(iso_seconds(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(iso_seconds(1705314600), "2024-01-15T10:30:00Z");
  EXPECT_EQ(iso_seconds(1709164800 + 86399), "2024-02-29T23:59:59Z");
  EXPECT_EQ(iso_millis(1705314600123), "2024-01-15T10:30:00.123Z");
  EXPECT_EQ(iso_millis(1705314600005), "2024-01-15T10:30:00.005Z");
}

TEST(DeeployTimes, bin_width_is_the_finest_with_at_most_100_bins) {
  const std::int64_t day0 = 1772755200;  // 2026-03-06T00:00:00Z
  EXPECT_EQ(choose_bin(day0, day0), 60);
  EXPECT_EQ(choose_bin(day0, day0 + 99 * 60), 60);      // 100 minutes
  EXPECT_EQ(choose_bin(day0, day0 + 100 * 60), 900);    // 101 minutes
  EXPECT_EQ(choose_bin(day0, day0 + 86399), 900);       // one day: 96 quarters
  EXPECT_EQ(choose_bin(day0, day0 + 2 * 86400), 3600);  // two days: 49 hours
  EXPECT_EQ(choose_bin(day0, day0 + 99 * 3600), 3600);
  EXPECT_EQ(choose_bin(day0, day0 + 6 * 86400), 86400);  // a week: one bin per day
  EXPECT_EQ(choose_bin(day0, day0 + 400 * 86400), 86400);
  EXPECT_EQ(choose_bin(day0 + 59, day0 + 99 * 60), 60);  // bins are aligned to the epoch
  EXPECT_EQ(choose_bin(day0 + 59, day0 + 100 * 60 + 1), 900);
}

}  // namespace
}  // namespace vigil::api::deeploy
