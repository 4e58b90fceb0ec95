// The OpenDataDSL time vocabulary, free of the engine: IANA time zones (the system's zoneinfo),
// calendars (#PT1M .. #PT6H, DAILY, BUSINESS, WEEKLY, MONTHLY) and their periods, the
// `_observed` functions, dates (absolute and relative: T-1Dh0m0s0) and the `_range` forms
// (from, between, within or a single date, last(n)). Times are epoch seconds (UTC).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/civil.hpp"

namespace vigil::api::odsl {

// A time zone of the system's IANA database (/usr/share/zoneinfo). Offsets and transitions come
// from the database; UTC is built in.
class Zone {
 public:
  Zone() = default;  // UTC
  // The zone named `name` ("Europe/London", "UTC"); nullopt when the database has none.
  static std::optional<Zone> find(std::string_view name);

  const std::string& name() const { return name_; }
  bool is_utc() const { return tz_ == nullptr; }
  // Seconds east of UTC at instant `t`.
  std::int64_t offset(std::int64_t t) const;
  // Local wall-clock time of instant `t`, as seconds since 1970-01-01T00:00:00 local.
  std::int64_t local(std::int64_t t) const { return t + offset(t); }
  // The instant of local wall-clock time `l`: for a time that occurs twice (a clock set back),
  // the first (or, with `latest`, the second); for a time that does not occur (a clock set
  // forward), the instant of the change.
  std::int64_t to_utc(std::int64_t l, bool latest = false) const;

 private:
  const void* tz_ = nullptr;  // the database's zone; null for UTC
  std::string name_ = "UTC";
};

// -- calendars ----------------------------------------------------------------------------------

enum class CalendarKind { intraday, daily, business, weekly, monthly };

struct Calendar {
  CalendarKind kind = CalendarKind::daily;
  std::int64_t step = 0;  // intraday: the period length in seconds
  std::string code;       // canonical: "#PT15M", "#PT1H", "DAILY", ...
};

// "#PT1M", "#PT5M", "#PT15M", "#PT30M", "#PT1H", "#PT2H", "#PT6H" (the '#' may be left out),
// "DAILY", "BUSINESS", "WEEKLY", "MONTHLY"; letters in any case. nullopt for anything else.
std::optional<Calendar> parse_calendar(std::string_view s);

// A period of a calendar: [start, end) in UTC seconds.
struct Period {
  std::int64_t start = 0;
  std::int64_t end = 0;
};

// The periods of `cal` in zone `z` whose start lies in [from, to], in order. Intraday periods
// step through local wall-clock time from local midnight; a local time that occurs twice starts
// two periods (one per occurrence). Days, weeks (Monday to Monday) and months start at local
// midnight. BUSINESS periods are the days Monday to Friday. False (out unspecified) when there
// are more than `cap`.
bool periods(const Calendar& cal, const Zone& z, std::int64_t from, std::int64_t to, std::size_t cap,
             std::vector<Period>& out);
// The period of `cal` (ignoring BUSINESS's weekend rule) containing instant `t`.
Period period_of(const Calendar& cal, const Zone& z, std::int64_t t);

// -- observed -----------------------------------------------------------------------------------

enum class Observed { summed, averaged, high, low, beginning, end };

// summed (also sum), averaged, high, low, beginning, end; any case.
std::optional<Observed> parse_observed(std::string_view s);
const char* observed_name(Observed o);

// -- dates and ranges -----------------------------------------------------------------------------

// A date as the instant it names in zone `z`, relative dates against `now`:
//   2024-11-20 | 2024-11-20T10:00 | 2024-11-20T10:00:00 (local time in z; a trailing Z: UTC)
//   T[(+|-)N(D|W|M|Y)]...[hH][mM][sS]: today in z (at 00:00:00) moved by whole days, weeks,
//     months or years, at the given hour, minute and second (each 0 when left out);
//     T-1Dh23m59s59 is yesterday at 23:59:59.
// `date_only` tells whether the text named a day without a time (2024-11-20, T-1D).
// nullopt with `err` set when malformed.
std::optional<std::int64_t> parse_date(std::string_view s, const Zone& z, std::int64_t now, bool& date_only,
                                       std::string& err);

struct Range {
  enum Kind { all, since, between, within, last } kind = all;  // since: from(date)
  std::int64_t from = 0;  // from, between, within (a day: its start)
  std::int64_t to = 0;    // between (inclusive), within of a day (its last second)
  bool point = false;     // within of a date with a time: the period containing `from`
  std::size_t last_n = 0;
  Zone zone;              // the zone given in the range, else UTC
};

// from(date[, tz]) | between(date, date[, tz]) | within(date[, tz]) | date | last(n). The zone,
// an IANA name, applies to the dates and to the calendar's periods. nullopt with `err` when
// malformed, when the zone is unknown or when between's end is before its start.
std::optional<Range> parse_range(std::string_view s, std::int64_t now, std::string& err);

// -- text ---------------------------------------------------------------------------------------

// Instant `t` as local wall-clock text in `z`: 2024-11-20T10:00:00, and for zones other than UTC
// its offset too: 2024-11-20T10:00:00+01:00 (with seconds when it has any: -00:44:30).
std::string format_time(std::int64_t t, const Zone& z);

// Civil dates (proleptic Gregorian) <-> days since 1970-01-01.
using vigil::civil_from_days;
using vigil::days_from_civil;

}  // namespace vigil::api::odsl
