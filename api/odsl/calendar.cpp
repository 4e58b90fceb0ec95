#include "api/odsl/calendar.hpp"

#include <date/tz.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>

namespace vigil::api::odsl {

namespace {

constexpr std::int64_t kDay = 86400;
// Dates are accepted in years 1970..9999.
constexpr std::int64_t kMinYear = 1970, kMaxYear = 9999;

std::int64_t floor_mul(std::int64_t a, std::int64_t b) { return floor_div(a, b) * b; }

// Monday = 0 .. Sunday = 6 of a day number (1970-01-01 was a Thursday).
int weekday(std::int64_t days) { return static_cast<int>(((days + 3) % 7 + 7) % 7); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Reads the decimal digits at s[pos..] (at least one, at most 9) into v.
bool read_number(std::string_view s, std::size_t& pos, std::int64_t& v) {
  std::size_t start = pos;
  v = 0;
  while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos])) && pos - start < 9) {
    v = v * 10 + (s[pos] - '0');
    ++pos;
  }
  return pos > start && (pos >= s.size() || !std::isdigit(static_cast<unsigned char>(s[pos])));
}

// Exactly `n` digits at s[pos..].
bool fixed_digits(std::string_view s, std::size_t& pos, std::size_t n, std::int64_t& v) {
  if (pos + n > s.size()) return false;
  v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  return true;
}

// Day number `days` moved by `months` calendar months (the day clamped to the month's end).
std::int64_t add_months(std::int64_t days, std::int64_t months) {
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  std::int64_t total = y * 12 + (m - 1) + months;
  std::int64_t ny = floor_div(total, 12);
  unsigned nm = static_cast<unsigned>(total - ny * 12) + 1;
  unsigned nd = std::min(d, days_in_month(ny, nm));
  return days_from_civil(ny, nm, nd);
}

bool zone_name_ok(std::string_view n) {
  if (n.empty() || n.size() > 64 || n.front() == '/' || n.find("..") != std::string_view::npos) return false;
  for (char c : n)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+')) return false;
  return true;
}

}  // namespace

// -- civil dates ----------------------------------------------------------------------------------

// -- zones ----------------------------------------------------------------------------------------

std::optional<Zone> Zone::find(std::string_view name) {
  std::string u = upper(name);
  if (u == "UTC" || u == "ETC/UTC" || u == "Z" || u == "GMT" || u == "ETC/GMT") return Zone();
  if (!zone_name_ok(name)) return std::nullopt;
  try {
    const date::time_zone* tz = date::locate_zone(std::string(name));
    if (tz == nullptr) return std::nullopt;
    Zone z;
    z.tz_ = tz;
    z.name_ = tz->name();
    return z;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::int64_t Zone::offset(std::int64_t t) const {
  if (tz_ == nullptr) return 0;
  auto tz = static_cast<const date::time_zone*>(tz_);
  auto info = tz->get_info(date::sys_seconds{std::chrono::seconds{t}});
  return info.offset.count();
}

std::int64_t Zone::to_utc(std::int64_t l, bool latest) const {
  if (tz_ == nullptr) return l;
  auto tz = static_cast<const date::time_zone*>(tz_);
  auto sys = tz->to_sys(date::local_seconds{std::chrono::seconds{l}},
                        latest ? date::choose::latest : date::choose::earliest);
  return sys.time_since_epoch().count();
}

// -- calendars ------------------------------------------------------------------------------------

std::optional<Calendar> parse_calendar(std::string_view s) {
  std::string u = upper(trim(s));
  if (u == "DAILY") return Calendar{CalendarKind::daily, 0, "DAILY"};
  if (u == "BUSINESS") return Calendar{CalendarKind::business, 0, "BUSINESS"};
  if (u == "WEEKLY") return Calendar{CalendarKind::weekly, 0, "WEEKLY"};
  if (u == "MONTHLY") return Calendar{CalendarKind::monthly, 0, "MONTHLY"};
  if (!u.empty() && u.front() == '#') u.erase(0, 1);
  static constexpr std::pair<const char*, std::int64_t> kIntraday[] = {
      {"PT1M", 60},     {"PT5M", 300},    {"PT15M", 900}, {"PT30M", 1800},
      {"PT1H", 3600},   {"PT2H", 7200},   {"PT6H", 21600}};
  for (auto [code, step] : kIntraday)
    if (u == code) return Calendar{CalendarKind::intraday, step, std::string("#") + code};
  return std::nullopt;
}

bool periods(const Calendar& cal, const Zone& z, std::int64_t from, std::int64_t to, std::size_t cap,
             std::vector<Period>& out) {
  out.clear();
  if (to < from) return true;
  std::vector<std::int64_t> bounds;
  const std::size_t max_labels = cap * 2 + 16;
  std::size_t labels = 0;
  int extra = 0;
  auto push_label = [&](std::int64_t local, bool both) {
    std::int64_t e = z.to_utc(local);
    bounds.push_back(e);
    if (both) {
      std::int64_t l = z.to_utc(local, true);
      if (l != e) bounds.push_back(l);
    }
    ++labels;
    if (e > to) ++extra;
  };
  const std::int64_t lfrom = z.local(from);
  if (cal.kind == CalendarKind::intraday) {
    for (std::int64_t l = floor_mul(lfrom, cal.step) - cal.step; extra < 2; l += cal.step) {
      if (labels > max_labels) return false;
      push_label(l, true);
    }
  } else {
    std::int64_t d = floor_div(lfrom, kDay) - 1;
    if (cal.kind == CalendarKind::weekly) d -= weekday(d);
    if (cal.kind == CalendarKind::monthly) {
      std::int64_t y;
      unsigned m, dd;
      civil_from_days(d, y, m, dd);
      d = days_from_civil(y, m, 1);
    }
    while (extra < 2) {
      if (labels > max_labels) return false;
      push_label(d * kDay, false);
      if (cal.kind == CalendarKind::weekly) d += 7;
      else if (cal.kind == CalendarKind::monthly) d = add_months(d, 1);
      else d += 1;
    }
  }
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  for (std::size_t i = 0; i + 1 < bounds.size(); ++i) {
    if (bounds[i] < from || bounds[i] > to) continue;
    if (cal.kind == CalendarKind::business) {
      std::int64_t day = floor_div(z.local(bounds[i]), kDay);
      if (weekday(day) >= 5) continue;
    }
    if (out.size() >= cap) return false;
    out.push_back(Period{bounds[i], bounds[i + 1]});
  }
  return true;
}

Period period_of(const Calendar& cal, const Zone& z, std::int64_t t) {
  Calendar c = cal;
  if (c.kind == CalendarKind::business) c.kind = CalendarKind::daily;
  std::int64_t span = c.kind == CalendarKind::intraday ? c.step + 2 * 3600
                      : c.kind == CalendarKind::daily  ? 2 * kDay
                      : c.kind == CalendarKind::weekly ? 8 * kDay
                                                       : 32 * kDay;
  std::vector<Period> ps;
  periods(c, z, t - span, t, 100000, ps);
  for (auto it = ps.rbegin(); it != ps.rend(); ++it)
    if (it->start <= t && t < it->end) return *it;
  return Period{t, t + 1};
}

// -- observed -------------------------------------------------------------------------------------

std::optional<Observed> parse_observed(std::string_view s) {
  std::string u = upper(trim(s));
  if (u == "SUMMED" || u == "SUM") return Observed::summed;
  if (u == "AVERAGED") return Observed::averaged;
  if (u == "HIGH") return Observed::high;
  if (u == "LOW") return Observed::low;
  if (u == "BEGINNING") return Observed::beginning;
  if (u == "END") return Observed::end;
  return std::nullopt;
}

const char* observed_name(Observed o) {
  switch (o) {
    case Observed::summed: return "summed";
    case Observed::averaged: return "averaged";
    case Observed::high: return "high";
    case Observed::low: return "low";
    case Observed::beginning: return "beginning";
    case Observed::end: return "end";
  }
  return "summed";
}

// -- dates ----------------------------------------------------------------------------------------

std::optional<std::int64_t> parse_date(std::string_view s, const Zone& z, std::int64_t now, bool& date_only,
                                       std::string& err) {
  s = trim(s);
  date_only = true;
  if (s.empty()) {
    err = "a date is empty";
    return std::nullopt;
  }
  if (s.front() == 'T' || s.front() == 't') {
    std::int64_t days = floor_div(z.local(now), kDay);
    std::int64_t h = 0, m = 0, sec = 0;
    std::size_t pos = 1;
    int time_stage = 0;  // h, m, s must come in this order
    while (pos < s.size()) {
      char c = s[pos];
      if (c == '+' || c == '-') {
        if (time_stage > 0) {
          err = "relative date '" + std::string(s) + "': day offsets come before h, m and s";
          return std::nullopt;
        }
        ++pos;
        std::int64_t n = 0;
        if (!read_number(s, pos, n) || pos >= s.size()) {
          err = "relative date '" + std::string(s) + "': expected a number and one of D, W, M, Y after " + c;
          return std::nullopt;
        }
        if (c == '-') n = -n;
        char unit = s[pos++];
        if (unit == 'D' || unit == 'd') days += n;
        else if (unit == 'W' || unit == 'w') days += 7 * n;
        else if (unit == 'M') days = add_months(days, n);
        else if (unit == 'Y' || unit == 'y') days = add_months(days, 12 * n);
        else {
          err = "relative date '" + std::string(s) + "': unknown unit '" + std::string(1, unit) +
                "' (use D, W, M or Y)";
          return std::nullopt;
        }
        continue;
      }
      int stage = c == 'h' ? 1 : c == 'm' ? 2 : c == 's' ? 3 : 0;
      if (stage == 0 || stage <= time_stage) {
        err = "relative date '" + std::string(s) + "': unexpected '" + std::string(1, c) + "'";
        return std::nullopt;
      }
      time_stage = stage;
      ++pos;
      std::int64_t v = 0;
      if (!read_number(s, pos, v) || v > (stage == 1 ? 23 : 59)) {
        err = "relative date '" + std::string(s) + "': " + std::string(1, c) + " needs a number from 0 to " +
              (stage == 1 ? "23" : "59");
        return std::nullopt;
      }
      (stage == 1 ? h : stage == 2 ? m : sec) = v;
      date_only = false;
    }
    std::int64_t y;
    unsigned mo, d;
    civil_from_days(days, y, mo, d);
    if (y < kMinYear || y > kMaxYear) {
      err = "relative date '" + std::string(s) + "' is outside the years 1970 to 9999";
      return std::nullopt;
    }
    return z.to_utc(days * kDay + h * 3600 + m * 60 + sec);
  }
  std::size_t pos = 0;
  std::int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  bool ok = fixed_digits(s, pos, 4, y) && pos < s.size() && s[pos++] == '-' && fixed_digits(s, pos, 2, mo) &&
            pos < s.size() && s[pos++] == '-' && fixed_digits(s, pos, 2, d);
  bool utc = false;
  if (ok && pos < s.size()) {
    ok = s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ';
    ++pos;
    ok = ok && fixed_digits(s, pos, 2, h) && pos < s.size() && s[pos++] == ':' && fixed_digits(s, pos, 2, mi);
    if (ok && pos < s.size() && s[pos] == ':') {
      ++pos;
      ok = fixed_digits(s, pos, 2, sec);
    }
    if (ok && pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
      utc = true;
      ++pos;
    }
    ok = ok && pos == s.size();
    date_only = false;
  }
  if (!ok) {
    err = "'" + std::string(s) + "' is not a date (2024-11-20, 2024-11-20T10:00:00 or T-1Dh0m0s0)";
    return std::nullopt;
  }
  if (y < kMinYear || y > kMaxYear || mo < 1 || mo > 12 || d < 1 ||
      d > days_in_month(y, static_cast<unsigned>(mo)) || h > 23 || mi > 59 || sec > 59) {
    err = "'" + std::string(s) + "' is not a valid date";
    return std::nullopt;
  }
  std::int64_t local = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * kDay + h * 3600 +
                       mi * 60 + sec;
  return utc ? local : z.to_utc(local);
}

// -- ranges ---------------------------------------------------------------------------------------

namespace {

std::vector<std::string_view> split_args(std::string_view s) {
  std::vector<std::string_view> out;
  while (true) {
    auto comma = s.find(',');
    out.push_back(trim(s.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

// The instant after the local day that starts at `day_start` (the next local midnight), minus 1.
std::int64_t day_last_second(std::int64_t day_start, const Zone& z) {
  std::int64_t day = floor_div(z.local(day_start), kDay);
  return z.to_utc((day + 1) * kDay) - 1;
}

}  // namespace

std::optional<Range> parse_range(std::string_view text, std::int64_t now, std::string& err) {
  std::string_view s = trim(text);
  Range r;
  if (s.empty()) {
    err = "is empty";
    return std::nullopt;
  }
  std::string_view fn, body;
  auto open = s.find('(');
  if (open != std::string_view::npos) {
    if (s.back() != ')') {
      err = "'" + std::string(s) + "': missing ')'";
      return std::nullopt;
    }
    fn = trim(s.substr(0, open));
    body = s.substr(open + 1, s.size() - open - 2);
  }
  std::string f = upper(fn);
  if (open != std::string_view::npos && f != "FROM" && f != "BETWEEN" && f != "WITHIN" && f != "LAST") {
    err = "unknown range function '" + std::string(fn) + "' (use from, between, within or last)";
    return std::nullopt;
  }
  if (f == "LAST") {
    std::string_view n = trim(body);
    std::size_t v = 0;
    auto [p, ec] = std::from_chars(n.data(), n.data() + n.size(), v);
    if (ec != std::errc() || p != n.data() + n.size() || v < 1 || v > 100000) {
      err = "last(n) needs a whole number n from 1 to 100000";
      return std::nullopt;
    }
    r.kind = Range::last;
    r.last_n = v;
    return r;
  }
  std::vector<std::string_view> args = open == std::string_view::npos ? std::vector<std::string_view>{s}
                                                                      : split_args(body);
  const std::size_t dates = f == "BETWEEN" ? 2 : 1;
  if (args.size() < dates || args.size() > dates + 1) {
    err = f.empty() ? "'" + std::string(s) + "' is not a range"
                    : std::string(fn) + "() takes " + (dates == 2 ? "two dates" : "one date") +
                          " and an optional time zone";
    return std::nullopt;
  }
  if (args.size() == dates + 1) {
    auto z = Zone::find(args.back());
    if (!z) {
      err = "unknown time zone '" + std::string(args.back()) + "'";
      return std::nullopt;
    }
    r.zone = *z;
  }
  bool only1 = false, only2 = false;
  auto d1 = parse_date(args[0], r.zone, now, only1, err);
  if (!d1) return std::nullopt;
  if (f == "FROM") {
    r.kind = Range::since;
    r.from = *d1;
    return r;
  }
  if (f == "BETWEEN") {
    auto d2 = parse_date(args[1], r.zone, now, only2, err);
    if (!d2) return std::nullopt;
    r.kind = Range::between;
    r.from = *d1;
    r.to = only2 ? day_last_second(*d2, r.zone) : *d2;
    if (r.to < r.from) {
      err = "between(): the end is before the start";
      return std::nullopt;
    }
    return r;
  }
  r.kind = Range::within;
  r.from = *d1;
  if (only1) {
    r.to = day_last_second(*d1, r.zone);
  } else {
    r.to = *d1;
    r.point = true;
  }
  return r;
}

// -- text -----------------------------------------------------------------------------------------

std::string format_time(std::int64_t t, const Zone& z) {
  std::int64_t off = z.offset(t);
  std::int64_t l = t + off;
  std::int64_t days = floor_div(l, kDay);
  std::int64_t sod = l - days * kDay;
  std::int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[48];
  int n = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld", static_cast<long long>(y), m, d,
                        static_cast<long long>(sod / 3600), static_cast<long long>(sod / 60 % 60),
                        static_cast<long long>(sod % 60));
  std::string out(buf, static_cast<std::size_t>(n));
  if (!z.is_utc()) {
    std::int64_t a = off < 0 ? -off : off;
    n = std::snprintf(buf, sizeof buf, "%c%02lld:%02lld", off < 0 ? '-' : '+', static_cast<long long>(a / 3600),
                      static_cast<long long>(a / 60 % 60));
    out.append(buf, static_cast<std::size_t>(n));
    if (a % 60 != 0) {  // offsets of local mean time, e.g. Africa/Monrovia until 1972: -00:44:30
      n = std::snprintf(buf, sizeof buf, ":%02lld", static_cast<long long>(a % 60));
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  return out;
}

}  // namespace vigil::api::odsl
