// ISO 8601 as the Scale v6 API speaks it: the datetimes and durations of `started` / `ended`,
// and the dates and datetimes of plot data. All times are UTC epoch seconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::api::scale {

// "2015-10-05", "2015-10-05T15:53:00", "2015-10-05T15:53:00Z", "2015-10-05T15:53:00.250+02:00",
// "2015-10-05 15:53" (a space for the T; seconds and fractions optional; a fraction is cut to
// the second; no zone means UTC). Years 1970..9999. nullopt for anything else.
std::optional<std::int64_t> parse_datetime(std::string_view s);

// An ISO 8601 duration: P[nY][nM][nW][nD][T[nH][nM][n[.f]S]], at least one part ("PT3H0M0S",
// "P1D", "P2W", "P1Y2M", "PT0.5S"). Years and months are calendar steps, so the duration is
// resolved against the instant it is counted back from.
struct Duration {
  std::int64_t years = 0, months = 0;
  std::int64_t seconds = 0;  // weeks, days, hours, minutes and whole seconds together
};
std::optional<Duration> parse_duration(std::string_view s);

// `t` minus `d`: the calendar months first (the day of the month clamped to the month's last
// day), then the seconds. nullopt when the result is before 1970.
std::optional<std::int64_t> before(std::int64_t t, const Duration& d);

// "2015-10-05" / "2015-10-05T00:00:00" of an epoch second (UTC).
std::string format_date(std::int64_t t);
std::string format_datetime(std::int64_t t);

}  // namespace vigil::api::scale
