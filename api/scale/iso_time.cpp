#include "api/scale/iso_time.hpp"

#include <cstdio>
#include <limits>

namespace vigil::api::scale {

namespace {

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
  std::int64_t y;
  unsigned m, d;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned month_days(std::int64_t y, unsigned m) {
  static const unsigned days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : days[m - 1];
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if (a % b != 0 && (a < 0) != (b < 0)) --q;
  return q;
}

// Reads exactly `n` digits at `pos`.
bool digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

constexpr std::int64_t kMaxCount = 1'000'000'000'000;  // any larger part of a duration is refused

}  // namespace

std::optional<std::int64_t> parse_datetime(std::string_view s) {
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, pos, 4, y) || pos >= s.size() || s[pos++] != '-' || !digits(s, pos, 2, mo) ||
      pos >= s.size() || s[pos++] != '-' || !digits(s, pos, 2, d))
    return std::nullopt;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
      static_cast<unsigned>(d) > month_days(y, static_cast<unsigned>(mo)))
    return std::nullopt;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
    ++pos;
    if (!digits(s, pos, 2, h) || pos >= s.size() || s[pos++] != ':' || !digits(s, pos, 2, mi))
      return std::nullopt;
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!digits(s, pos, 2, sec)) return std::nullopt;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        std::size_t start = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
        if (pos == start) return std::nullopt;
      }
    }
    if (h > 23 || mi > 59 || sec > 59) return std::nullopt;
  }
  std::int64_t offset = 0;
  if (pos < s.size()) {
    char z = s[pos];
    if ((z == 'Z' || z == 'z') && pos + 1 == s.size()) {
      ++pos;
    } else if (z == '+' || z == '-') {
      ++pos;
      int oh = 0, om = 0;
      if (!digits(s, pos, 2, oh)) return std::nullopt;
      if (pos < s.size() && s[pos] == ':') ++pos;
      if (pos < s.size() && !digits(s, pos, 2, om)) return std::nullopt;
      if (oh > 23 || om > 59) return std::nullopt;
      offset = (z == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    } else {
      return std::nullopt;
    }
  }
  if (pos != s.size()) return std::nullopt;
  std::int64_t t = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                   h * 3600 + mi * 60 + sec - offset;
  if (t < 0) return std::nullopt;
  return t;
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
    Civil c = civil_from_days(day);
    std::int64_t months = c.y * 12 + (c.m - 1) - d.years * 12 - d.months;
    std::int64_t y = floor_div(months, 12);
    unsigned m = static_cast<unsigned>(months - y * 12) + 1;
    unsigned dd = c.d > month_days(y, m) ? month_days(y, m) : c.d;
    day = days_from_civil(y, m, dd);
  }
  std::int64_t r = day * 86400 + second_of_day - d.seconds;
  if (r < 0) return std::nullopt;
  return r;
}

std::string format_date(std::int64_t t) {
  Civil c = civil_from_days(floor_div(t, 86400));
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
