#include "engine/model/iso8601.hpp"

#include <cstddef>

#include "engine/model/civil.hpp"

namespace vigil {

namespace {

// Reads exactly `n` digits at `pos`.
bool digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

}  // namespace

std::optional<IsoDateTime> parse_iso8601(std::string_view s) {
  std::size_t pos = 0;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(s, pos, 4, y) || pos >= s.size() || s[pos++] != '-' || !digits(s, pos, 2, mo) ||
      pos >= s.size() || s[pos++] != '-' || !digits(s, pos, 2, d))
    return std::nullopt;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 ||
      static_cast<unsigned>(d) > days_in_month(y, static_cast<unsigned>(mo)))
    return std::nullopt;
  IsoDateTime out;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't' && s[pos] != ' ') return std::nullopt;
    ++pos;
    out.has_time = true;
    if (!digits(s, pos, 2, h) || pos >= s.size() || s[pos++] != ':' || !digits(s, pos, 2, mi))
      return std::nullopt;
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!digits(s, pos, 2, sec)) return std::nullopt;
      if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
        ++pos;
        const std::size_t start = pos;
        std::int64_t scale = 100000;
        for (; pos < s.size() && s[pos] >= '0' && s[pos] <= '9'; ++pos) {
          out.micros += (s[pos] - '0') * scale;
          scale /= 10;
        }
        if (pos == start) return std::nullopt;
      }
    }
    if (h > 23 || mi > 59 || sec > 59) return std::nullopt;
    if (pos < s.size()) {
      const char z = s[pos++];
      if ((z == 'Z' || z == 'z') && pos == s.size()) {
        out.offset = 0;
      } else if (z == '+' || z == '-') {
        int oh = 0, om = 0;
        if (!digits(s, pos, 2, oh)) return std::nullopt;
        if (pos < s.size()) {
          if (s[pos] == ':') ++pos;
          if (!digits(s, pos, 2, om)) return std::nullopt;
        }
        if (pos != s.size() || oh > 23 || om > 59) return std::nullopt;
        out.offset = (z == '+' ? 1 : -1) * (oh * 3600 + om * 60);
      } else {
        return std::nullopt;
      }
    }
  }
  out.local = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 +
              mi * 60 + sec;
  return out;
}

}  // namespace vigil
