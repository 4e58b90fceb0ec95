#include "api/scale/iso_time.hpp"

#include <cstdio>
#include <limits>

#include "engine/model/civil.hpp"
#include "engine/model/iso8601.hpp"

namespace vigil::api::scale {

namespace {

constexpr std::int64_t kMaxCount = 1'000'000'000'000;  // any larger part of a duration is refused

}  // namespace

std::optional<std::int64_t> parse_datetime(std::string_view s) {
  const std::optional<IsoDateTime> dt = parse_iso8601(s);
  if (!dt || dt->utc() < 0) return std::nullopt;
  return dt->utc();
}

std::optional<Duration> parse_duration(std::string_view s) {
  if (s.size() < 2 || (s[0] != 'P' && s[0] != 'p')) return std::nullopt;
  Duration d;
  std::size_t pos = 1;
  bool time = false, any = false;
  // The designators in the order they must come: date part, then time part.
  const char* order_date = "YMWD";
  const char* order_time = "HMS";
  std::size_t next_date = 0, next_time = 0;
  while (pos < s.size()) {
    char c = s[pos];
    if (c == 'T' || c == 't') {
      if (time) return std::nullopt;
      time = true;
      ++pos;
      if (pos == s.size()) return std::nullopt;  // "PT" / "P1DT" without a time part
      continue;
    }
    std::size_t start = pos;
    std::int64_t n = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      n = n * 10 + (s[pos] - '0');
      if (n > kMaxCount) return std::nullopt;
      ++pos;
    }
    bool fraction = false;
    if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
      ++pos;
      std::size_t fstart = pos;
      while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
      if (pos == fstart) return std::nullopt;
      fraction = true;  // only seconds may carry one; it is cut to the second
    }
    if (pos == start || pos >= s.size()) return std::nullopt;
    char unit = static_cast<char>(s[pos] >= 'a' && s[pos] <= 'z' ? s[pos] - 'a' + 'A' : s[pos]);
    ++pos;
    if (fraction && !(time && unit == 'S')) return std::nullopt;
    if (!time) {
      while (order_date[next_date] != '\0' && order_date[next_date] != unit) ++next_date;
      if (order_date[next_date] == '\0') return std::nullopt;
      ++next_date;
      if (unit == 'Y')
        d.years = n;
      else if (unit == 'M')
        d.months = n;
      else if (unit == 'W')
        d.seconds += n * 7 * 86400;
      else
        d.seconds += n * 86400;
    } else {
      while (order_time[next_time] != '\0' && order_time[next_time] != unit) ++next_time;
      if (order_time[next_time] == '\0') return std::nullopt;
      ++next_time;
      if (unit == 'H')
        d.seconds += n * 3600;
      else if (unit == 'M')
        d.seconds += n * 60;
      else
        d.seconds += n;
    }
    any = true;
  }
  if (!any) return std::nullopt;
  return d;
}

std::optional<std::int64_t> before(std::int64_t t, const Duration& d) {
  if (d.years > 10000 || d.months > 120000) return std::nullopt;
  std::int64_t day = floor_div(t, 86400);
  std::int64_t second_of_day = t - day * 86400;
  if (d.years != 0 || d.months != 0) {
    CivilDate c = civil_from_days(day);
    std::int64_t months = c.y * 12 + (c.m - 1) - d.years * 12 - d.months;
    std::int64_t y = floor_div(months, 12);
    unsigned m = static_cast<unsigned>(months - y * 12) + 1;
    unsigned dd = c.d > days_in_month(y, m) ? days_in_month(y, m) : c.d;
    day = days_from_civil(y, m, dd);
  }
  std::int64_t r = day * 86400 + second_of_day - d.seconds;
  if (r < 0) return std::nullopt;
  return r;
}

std::string format_date(std::int64_t t) {
  CivilDate c = civil_from_days(floor_div(t, 86400));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(c.y), c.m, c.d);
  return buf;
}

std::string format_datetime(std::int64_t t) {
  std::int64_t day = floor_div(t, 86400);
  std::int64_t s = t - day * 86400;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%sT%02lld:%02lld:%02lld", format_date(t).c_str(),
                static_cast<long long>(s / 3600), static_cast<long long>(s / 60 % 60),
                static_cast<long long>(s % 60));
  return buf;
}

}  // namespace vigil::api::scale
