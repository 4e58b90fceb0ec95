#include "api/odsl/calendar.hpp"

#include <gtest/gtest.h>

#include "api/odsl/series.hpp"

namespace vigil::api::odsl {
namespace {

constexpr std::int64_t kNov20 = 1732060800;  // 2024-11-20T00:00:00Z, a Wednesday

Zone london() {
  auto z = Zone::find("Europe/London");
  EXPECT_TRUE(z.has_value());
  return z ? *z : Zone();
}

TEST(OdslCalendar, ParsesTheCalendarCodes) {
  EXPECT_EQ(parse_calendar("#PT1M")->step, 60);
  EXPECT_EQ(parse_calendar("#PT15M")->step, 900);
  EXPECT_EQ(parse_calendar("#pt1h")->code, "#PT1H");
  EXPECT_EQ(parse_calendar("PT6H")->step, 21600);
  EXPECT_EQ(parse_calendar("daily")->kind, CalendarKind::daily);
  EXPECT_EQ(parse_calendar("BUSINESS")->kind, CalendarKind::business);
  EXPECT_EQ(parse_calendar("WEEKLY")->kind, CalendarKind::weekly);
  EXPECT_EQ(parse_calendar("MONTHLY")->code, "MONTHLY");
  EXPECT_FALSE(parse_calendar("#PT7M"));
  EXPECT_FALSE(parse_calendar("HOURLY"));
  EXPECT_FALSE(parse_calendar(""));
}

TEST(OdslCalendar, ParsesObserved) {
  EXPECT_EQ(parse_observed("summed"), Observed::summed);
  EXPECT_EQ(parse_observed("sum"), Observed::summed);
  EXPECT_EQ(parse_observed("Averaged"), Observed::averaged);
  EXPECT_EQ(parse_observed("beginning"), Observed::beginning);
  EXPECT_EQ(parse_observed("end"), Observed::end);
  EXPECT_FALSE(parse_observed("mean"));
}

TEST(OdslDates, AbsoluteDates) {
  Zone utc;
  bool only = false;
  std::string err;
  EXPECT_EQ(parse_date("2024-11-20", utc, 0, only, err), kNov20);
  EXPECT_TRUE(only);
  EXPECT_EQ(parse_date("2024-11-20T10:00:00", utc, 0, only, err), kNov20 + 36000);
  EXPECT_FALSE(only);
  EXPECT_EQ(parse_date("2024-11-20T10:30", utc, 0, only, err), kNov20 + 37800);
  EXPECT_EQ(parse_date("2024-07-10T12:00:00", london(), 0, only, err), 1720612800 - 3600);  // BST
  EXPECT_EQ(parse_date("2024-07-10T12:00:00Z", london(), 0, only, err), 1720612800);
  EXPECT_FALSE(parse_date("2024-02-30", utc, 0, only, err));
  EXPECT_FALSE(parse_date("2024-11-20T25:00", utc, 0, only, err));
  EXPECT_FALSE(parse_date("20241120", utc, 0, only, err));
  EXPECT_FALSE(parse_date("yesterday", utc, 0, only, err));
  EXPECT_FALSE(err.empty());
}

TEST(OdslDates, RelativeDates) {
  Zone utc;
  bool only = false;
  std::string err;
  const std::int64_t now = kNov20 + 15 * 3600 + 7;  // 2024-11-20T15:00:07Z
  EXPECT_EQ(parse_date("T-1Dh0m0s0", utc, now, only, err), kNov20 - 86400);
  EXPECT_FALSE(only);
  EXPECT_EQ(parse_date("T-1Dh23m59s59", utc, now, only, err), kNov20 - 1);
  EXPECT_EQ(parse_date("T", utc, now, only, err), kNov20);
  EXPECT_TRUE(only);
  EXPECT_EQ(parse_date("T-1D", utc, now, only, err), kNov20 - 86400);
  EXPECT_EQ(parse_date("T+1W", utc, now, only, err), kNov20 + 7 * 86400);
  EXPECT_EQ(parse_date("Th6", utc, now, only, err), kNov20 + 6 * 3600);
  // months clamp to the end of the month: 2024-03-31 minus one month is 2024-02-29
  EXPECT_EQ(parse_date("T-1M", utc, 1711886400, only, err), 1709164800);
  EXPECT_EQ(parse_date("T-1Y", utc, now, only, err), kNov20 - 366 * 86400);  // 2024 is a leap year
  // today in the zone: 2024-07-10T12:00Z is 13:00 in London; yesterday's midnight there is 23:00Z
  EXPECT_EQ(parse_date("T-1Dh0m0s0", london(), 1720612800, only, err), 1720479600);
  EXPECT_FALSE(parse_date("T-1X", utc, now, only, err));
  EXPECT_FALSE(parse_date("T-1Dh24", utc, now, only, err));
  EXPECT_FALSE(parse_date("Tm0h0", utc, now, only, err));
  EXPECT_FALSE(parse_date("T-1Dh0m60", utc, now, only, err));
}

TEST(OdslRange, Forms) {
  std::string err;
  const std::int64_t now = kNov20 + 3600;
  auto r = parse_range("from(2024-11-20)", now, err);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Range::since);
  EXPECT_EQ(r->from, kNov20);
  r = parse_range("between(2024-11-20T01:00:00, 2024-11-20T05:00:00)", now, err);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Range::between);
  EXPECT_EQ(r->from, kNov20 + 3600);
  EXPECT_EQ(r->to, kNov20 + 5 * 3600);
  r = parse_range("between(2024-11-19,2024-11-20)", now, err);  // a date as the end: its whole day
  ASSERT_TRUE(r);
  EXPECT_EQ(r->to, kNov20 + 86399);
  r = parse_range("between(T-1Dh0m0s0,T-1Dh23m59s59)", now, err);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->from, kNov20 - 86400);
  EXPECT_EQ(r->to, kNov20 - 1);
  r = parse_range("2024-11-20", now, err);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Range::within);
  EXPECT_EQ(r->from, kNov20);
  EXPECT_EQ(r->to, kNov20 + 86399);
  EXPECT_FALSE(r->point);
  r = parse_range("within(2024-11-20T10:15:00)", now, err);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->point);
  EXPECT_EQ(r->from, kNov20 + 36900);
  r = parse_range("last(3)", now, err);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->kind, Range::last);
  EXPECT_EQ(r->last_n, 3u);
  r = parse_range("from(2024-07-10, Europe/London)", now, err);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->zone.name(), "Europe/London");
  EXPECT_EQ(r->from, 1720569600 - 3600);
}

TEST(OdslRange, Errors) {
  std::string err;
  EXPECT_FALSE(parse_range("between(2024-11-21, 2024-11-20T00:00)", 0, err));
  EXPECT_NE(err.find("before"), std::string::npos);
  EXPECT_FALSE(parse_range("from(2024-11-20, Mars/Olympus)", 0, err));
  EXPECT_NE(err.find("time zone"), std::string::npos);
  EXPECT_FALSE(parse_range("from(2024-11-20, ../../etc/passwd)", 0, err));
  EXPECT_FALSE(parse_range("until(2024-11-20)", 0, err));
  EXPECT_FALSE(parse_range("last(0)", 0, err));
  EXPECT_FALSE(parse_range("last(x)", 0, err));
  EXPECT_FALSE(parse_range("from(2024-11-20", 0, err));
  EXPECT_FALSE(parse_range("between(2024-11-20)", 0, err));
  EXPECT_FALSE(parse_range("", 0, err));
}

TEST(OdslPeriods, IntradayInUtc) {
  std::vector<Period> ps;
  ASSERT_TRUE(periods(*parse_calendar("#PT15M"), Zone(), kNov20, kNov20 + 3599, 1000, ps));
  ASSERT_EQ(ps.size(), 4u);
  EXPECT_EQ(ps[0].start, kNov20);
  EXPECT_EQ(ps[3].end, kNov20 + 3600);
  // periods are chosen by their start: 00:10 starts none of them, so the first is 00:15
  ASSERT_TRUE(periods(*parse_calendar("#PT15M"), Zone(), kNov20 + 600, kNov20 + 3599, 1000, ps));
  EXPECT_EQ(ps.front().start, kNov20 + 900);
  EXPECT_FALSE(periods(*parse_calendar("#PT1M"), Zone(), kNov20, kNov20 + 86400 * 10, 1000, ps));
}

TEST(OdslPeriods, DaylightSavingInLondon) {
  Zone z = london();
  std::vector<Period> ps;
  // 2024-10-27: clocks go back at 02:00 BST (01:00Z); the local day lasts 25 hours
  ASSERT_TRUE(periods(*parse_calendar("DAILY"), z, 1729983600, 1729983600, 10, ps));
  ASSERT_EQ(ps.size(), 1u);
  EXPECT_EQ(ps[0].start, 1729983600);  // 2024-10-26T23:00Z = local midnight
  EXPECT_EQ(ps[0].end, 1730073600);    // 2024-10-28T00:00Z
  // hourly: local 01:00 occurs twice, each starts a period of one hour
  ASSERT_TRUE(periods(*parse_calendar("#PT1H"), z, 1729983600, 1729983600 + 4 * 3600 - 1, 10, ps));
  ASSERT_EQ(ps.size(), 4u);
  for (const auto& p : ps) EXPECT_EQ(p.end - p.start, 3600);
  EXPECT_EQ(format_time(ps[1].start, z), "2024-10-27T01:00:00+01:00");
  EXPECT_EQ(format_time(ps[2].start, z), "2024-10-27T01:00:00+00:00");
}

TEST(OdslPeriods, BusinessWeeklyMonthly) {
  std::vector<Period> ps;
  // Mon 2024-11-18 .. Sun 2024-11-24: five business days
  ASSERT_TRUE(periods(*parse_calendar("BUSINESS"), Zone(), 1731888000, 1731888000 + 7 * 86400 - 1, 100, ps));
  EXPECT_EQ(ps.size(), 5u);
  Period w = period_of(*parse_calendar("WEEKLY"), Zone(), kNov20 + 5);
  EXPECT_EQ(w.start, 1731888000);  // Monday 2024-11-18
  EXPECT_EQ(w.end, 1732492800);
  Period m = period_of(*parse_calendar("MONTHLY"), Zone(), 1706745600 + 86400 * 10);
  EXPECT_EQ(m.start, 1706745600);  // 2024-02-01
  EXPECT_EQ(m.end, 1709251200);    // 2024-03-01
}

TEST(OdslPeriods, ReadFromTheCoarsestAlignedRollup) {
  auto res = [](const char* cal, const char* zone, std::int64_t from, std::int64_t to) {
    std::vector<Period> ps;
    EXPECT_TRUE(periods(*parse_calendar(cal), *Zone::find(zone), from, to, 10000, ps));
    return aligned_resolution(ps);
  };
  const std::int64_t jul = 1720569600;  // 2024-07-10T00:00:00Z
  EXPECT_EQ(res("#PT1M", "UTC", kNov20, kNov20 + 3599), 60);
  EXPECT_EQ(res("#PT5M", "UTC", kNov20, kNov20 + 3599), 60);
  EXPECT_EQ(res("#PT15M", "UTC", kNov20, kNov20 + 3599), 900);
  EXPECT_EQ(res("#PT30M", "UTC", kNov20, kNov20 + 86399), 900);
  EXPECT_EQ(res("#PT6H", "UTC", kNov20, kNov20 + 86399), 3600);
  EXPECT_EQ(res("DAILY", "UTC", kNov20, kNov20 + 5 * 86400), 86400);
  EXPECT_EQ(res("MONTHLY", "UTC", kNov20 - 60 * 86400, kNov20), 86400);
  EXPECT_EQ(res("DAILY", "Europe/London", kNov20, kNov20 + 5 * 86400), 86400);  // GMT
  EXPECT_EQ(res("DAILY", "Europe/London", jul, jul + 5 * 86400), 3600);         // BST: 23:00Z
  EXPECT_EQ(res("#PT1H", "Asia/Kolkata", kNov20, kNov20 + 86399), 900);         // +05:30
  EXPECT_EQ(res("#PT1H", "Asia/Kathmandu", kNov20, kNov20 + 86399), 900);       // +05:45
}

TEST(OdslText, FormatTime) {
  EXPECT_EQ(format_time(kNov20 + 3661, Zone()), "2024-11-20T01:01:01");
  EXPECT_EQ(format_time(1720612800, london()), "2024-07-10T13:00:00+01:00");
}

TEST(OdslFilter, ValuesAsIngestStoresThem) {
  EXPECT_EQ(normalize_value("#HENG"), "heng");
  EXPECT_EQ(normalize_value("ICE.NDEX.NLB"), "ice.ndex.nlb");
  Filter f;
  std::string err;
  ASSERT_TRUE(parse_filter(R"({"Application":"API","httpstatus":200,"provider":"ODSLRequest"})", f, err));
  ASSERT_EQ(f.tags.size(), 2u);
  EXPECT_EQ(f.tags[0], (std::pair<std::string, std::string>("application", "api")));
  EXPECT_EQ(f.tags[1], (std::pair<std::string, std::string>("httpstatus", "200")));
  EXPECT_EQ(f.provider, "odslrequest");
  EXPECT_FALSE(parse_filter("[1]", f, err));
  EXPECT_FALSE(parse_filter("{\"a\":{}}", f, err));
  EXPECT_FALSE(parse_filter("{\"value\":1}", f, err));
  EXPECT_FALSE(parse_filter("{bad", f, err));
  Filter g;
  g.add("key", "#");
  EXPECT_TRUE(g.nothing);
}

TEST(OdslIds, RoundTrip) {
  std::int64_t t = 0;
  std::uint64_t sid = 0, ord = 0;
  std::string id = entity_id(1732060800, 42, 3);
  EXPECT_EQ(id.size(), 24u);
  ASSERT_TRUE(parse_entity_id(id, t, sid, ord));
  EXPECT_EQ(t, 1732060800);
  EXPECT_EQ(sid, 42u);
  EXPECT_EQ(ord, 3u);
  id = entity_id(5, 1ULL << 41, 1);
  EXPECT_EQ(id.size(), 40u);
  ASSERT_TRUE(parse_entity_id(id, t, sid, ord));
  EXPECT_EQ(sid, 1ULL << 41);
  EXPECT_FALSE(parse_entity_id("673db77858834c6a164edfdz", t, sid, ord));
  EXPECT_FALSE(parse_entity_id("abc", t, sid, ord));
}

}  // namespace
}  // namespace vigil::api::odsl
