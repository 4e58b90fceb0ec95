#include "api/ubiops/codec.hpp"

#include <algorithm>
#include <cstdio>

#include "engine/model/validate.hpp"

namespace vigil::api::ubiops {

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool plain_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::int64_t> parse_date(std::string_view s) {
  int y, mo, d, h = 0, mi = 0, sec = 0;
  if (s.size() < 10 || !digits(s, 0, 4, y) || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
      !digits(s, 8, 2, d))
    return std::nullopt;
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > kDays[mo - 1] + (mo == 2 && leap(y) ? 1 : 0))
    return std::nullopt;
  std::size_t p = 10;
  std::int64_t micros = 0;
  std::int64_t offset = 0;  // seconds east of UTC
  if (p < s.size()) {
    if (s[p] != 'T' && s[p] != 't' && s[p] != ' ') return std::nullopt;
    ++p;
    if (!digits(s, p, 2, h) || p + 2 >= s.size() || s[p + 2] != ':' || !digits(s, p + 3, 2, mi)) return std::nullopt;
    p += 5;
    if (p < s.size() && s[p] == ':') {
      if (!digits(s, p + 1, 2, sec)) return std::nullopt;
      p += 3;
      if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
        ++p;
        std::size_t start = p;
        std::int64_t scale = 100000;
        while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
          micros += (s[p] - '0') * scale;
          scale /= 10;
          ++p;
        }
        if (p == start) return std::nullopt;
      }
    }
    if (h > 23 || mi > 59 || sec > 59) return std::nullopt;
    if (p < s.size()) {
      if ((s[p] == 'Z' || s[p] == 'z') && p + 1 == s.size()) {
        p = s.size();
      } else if (s[p] == '+' || s[p] == '-') {
        int sign = s[p] == '-' ? -1 : 1;
        int oh = 0, om = 0;
        std::string_view rest = s.substr(p + 1);
        if (!digits(rest, 0, 2, oh)) return std::nullopt;
        if (rest.size() == 2) {
        } else if (rest.size() == 5 && rest[2] == ':' && digits(rest, 3, 2, om)) {
        } else if (rest.size() == 4 && digits(rest, 2, 2, om)) {
        } else {
          return std::nullopt;
        }
        if (oh > 23 || om > 59) return std::nullopt;
        offset = sign * (oh * 3600 + om * 60);
        p = s.size();
      } else {
        return std::nullopt;
      }
    }
  }
  std::int64_t secs = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
                      h * 3600 + mi * 60 + sec - offset;
  if (secs < 0) return std::nullopt;
  return secs * 1000000 + micros;
}

std::string format_seconds(std::int64_t t) {
  std::int64_t days = t / 86400, rem = t % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // civil_from_days
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ", static_cast<long long>(y), m, d,
                static_cast<long long>(rem / 3600), static_cast<long long>(rem % 3600 / 60),
                static_cast<long long>(rem % 60));
  return buf;
}

std::string format_micros(std::int64_t us) {
  std::int64_t s = us / 1000000, frac = us % 1000000;
  if (frac < 0) {
    frac += 1000000;
    --s;
  }
  std::string out = format_seconds(s);
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%06lldZ", static_cast<long long>(frac));
  out.pop_back();
  out += buf;
  return out;
}

std::string encode_label(std::string_view s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (plain_label_char(c)) {
      out.push_back(c);
    } else {
      auto u = static_cast<unsigned char>(c);
      out.push_back(':');
      out.push_back(hex[u >> 4]);
      out.push_back(hex[u & 15]);
    }
  }
  return out;
}

std::optional<std::string> decode_label(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (plain_label_char(c)) {
      out.push_back(c);
      continue;
    }
    if (c != ':' || i + 2 >= s.size()) return std::nullopt;
    int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    char d = static_cast<char>(hi * 16 + lo);
    if (plain_label_char(d)) return std::nullopt;  // not what encode_label writes
    out.push_back(d);
    i += 2;
  }
  return out;
}

std::string labels_to_tags(const std::vector<std::pair<std::string, std::string>>& labels, Tags& out) {
  out.clear();
  if (labels.size() > kMaxLabels) return "at most " + std::to_string(kMaxLabels) + " labels";
  for (const auto& [k, v] : labels) {
    if (k.empty()) return "label keys must not be empty";
    if (v.empty()) return "the value of label '" + k + "' must not be empty";
    std::string name = encode_label(k), value = encode_label(v);
    if (name.size() > kMaxTagNameLength) return "label key '" + k + "' is too long";
    if (value.size() > kMaxTagValueLength) return "the value of label '" + k + "' is too long";
    out.emplace_back(std::move(name), std::move(value));
  }
  std::sort(out.begin(), out.end());
  for (std::size_t i = 1; i < out.size(); ++i)
    if (out[i].first == out[i - 1].first) return "label keys must be unique";
  if (out.empty()) out.emplace_back(std::string(kNoLabelsTag), std::string(kNoLabelsValue));
  return {};
}

bool tags_to_labels(const Tags& tags, std::vector<std::pair<std::string, std::string>>& out) {
  out.clear();
  for (const auto& [k, v] : tags) {
    if (k == kNoLabelsTag) continue;
    auto dk = decode_label(k), dv = decode_label(v);
    if (!dk || !dv) return false;
    out.emplace_back(std::move(*dk), std::move(*dv));
  }
  std::sort(out.begin(), out.end());
  return true;
}

std::string parse_label_filter(std::string_view text, std::vector<std::pair<std::string, std::string>>& out) {
  out.clear();
  if (trim(text).empty()) return {};
  while (true) {
    auto comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    auto colon = item.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == item.size())
      return "each label must be key:value, got '" + std::string(item) + "'";
    std::string key(trim(item.substr(0, colon)));
    std::string value(trim(item.substr(colon + 1)));
    if (key.empty() || value.empty()) return "each label must be key:value, got '" + std::string(item) + "'";
    for (const auto& [k, v] : out)
      if (k == key) return "label '" + key + "' is given twice";
    out.emplace_back(std::move(key), std::move(value));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return {};
}

bool valid_project_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '-') return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

std::string check_metric_name(std::string_view s) {
  constexpr std::string_view kPrefix = "custom.";
  if (s.substr(0, kPrefix.size()) != kPrefix) return "must start with 'custom.'";
  if (s.size() == kPrefix.size()) return "must have a name after 'custom.'";
  if (s.size() > 64) return "must be at most 64 characters";
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
          c == '-'))
      return "may only hold letters, digits, '_', '.' and '-'";
  return {};
}

}  // namespace vigil::api::ubiops
