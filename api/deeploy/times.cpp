#include "api/deeploy/times.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/model/iso8601.hpp"
#include "engine/model/time_text.hpp"

namespace vigil::api::deeploy {

namespace {

constexpr std::int64_t kDay = 86400;

// Reads exactly `n` digits at `pos` into `out`.
bool digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  pos += n;
  return true;
}

// An offset at `pos`: Z, ±HH, ±HH:MM or ±HHMM; the whole rest of `s` must be the offset.
bool parse_offset(std::string_view s, std::size_t pos, std::int32_t& seconds) {
  if (pos >= s.size()) return false;
  if ((s[pos] == 'Z' || s[pos] == 'z') && pos + 1 == s.size()) {
    seconds = 0;
    return true;
  }
  if (s[pos] != '+' && s[pos] != '-') return false;
  int sign = s[pos] == '-' ? -1 : 1;
  ++pos;
  int hh = 0, mm = 0;
  if (!digits(s, pos, 2, hh)) return false;
  if (pos < s.size()) {
    if (s[pos] == ':') ++pos;
    if (!digits(s, pos, 2, mm)) return false;
  }
  if (pos != s.size() || hh > 23 || mm > 59) return false;
  seconds = sign * (hh * 3600 + mm * 60);
  return true;
}

bool valid_zone_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name.front() == '/' ||
      name.find("..") != std::string_view::npos)
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '+' || c == '/';
  });
}

std::int64_t be(const unsigned char* p, int n) {
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  if (n == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  return static_cast<std::int64_t>(v);
}

}  // namespace

std::optional<TimeZone> TimeZone::find(std::string_view name) {
  TimeZone tz;
  std::string upper(name);
  for (auto& c : upper)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  if (upper == "UTC" || upper == "Z" || upper == "GMT") return tz;
  std::string_view rest = name;
  if (upper.rfind("UTC", 0) == 0 || upper.rfind("GMT", 0) == 0) rest = name.substr(3);
  if (!rest.empty() && (rest.front() == '+' || rest.front() == '-')) {
    // ±H, ±HH, ±HH:MM, ±HHMM.
    std::string text(rest);
    if (text.size() == 2) text.insert(1, "0");
    std::int32_t off = 0;
    if (!parse_offset(text, 0, off)) return std::nullopt;
    tz.fixed_ = off;
    return tz;
  }
  if (!valid_zone_name(name)) return std::nullopt;
  const char* dir = std::getenv("TZDIR");
  std::string path =
      std::string(dir && *dir ? dir : "/usr/share/zoneinfo") + "/" + std::string(name);
  // A directory of zones ("America") is no zone: reading it would throw.
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string data;
  try {
    data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } catch (const std::exception&) {
    return std::nullopt;
  }
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t size = data.size();
  // RFC 8536: a v1 block with 32-bit times, then (version 2+) the same with 64-bit times.
  auto parse_block = [&](std::size_t at, int tsize, std::size_t& end) -> bool {
    if (at + 44 > size || data.compare(at, 4, "TZif") != 0) return false;
    std::int64_t isut = be(p + at + 20, 4), isstd = be(p + at + 24, 4), leapc = be(p + at + 28, 4),
                 timec = be(p + at + 32, 4), typec = be(p + at + 36, 4), charc = be(p + at + 40, 4);
    if (isut < 0 || isstd < 0 || leapc < 0 || timec < 0 || typec <= 0 || charc < 0) return false;
    std::size_t body = at + 44;
    std::size_t times = body, idx = times + static_cast<std::size_t>(timec) * tsize,
                types = idx + static_cast<std::size_t>(timec);
    end = types + static_cast<std::size_t>(typec) * 6 + static_cast<std::size_t>(charc) +
          static_cast<std::size_t>(leapc) * (tsize + 4) + static_cast<std::size_t>(isstd + isut);
    if (end > size) return false;
    tz.transitions_.clear();
    for (std::int64_t i = 0; i < timec; ++i) {
      unsigned ti = p[idx + i];
      if (ti >= typec) return false;
      tz.transitions_.emplace_back(be(p + times + i * tsize, tsize),
                                   static_cast<std::int32_t>(be(p + types + ti * 6, 4)));
    }
    tz.initial_ = static_cast<std::int32_t>(be(p + types, 4));
    return true;
  };
  std::size_t end = 0;
  if (!parse_block(0, 4, end)) return std::nullopt;
  if (p[4] >= '2') {
    std::size_t end2 = 0;
    if (!parse_block(end, 8, end2)) return std::nullopt;
  }
  if (tz.transitions_.empty()) tz.fixed_ = tz.initial_;
  return tz;
}

std::int64_t TimeZone::offset_at(std::int64_t utc) const {
  if (transitions_.empty()) return fixed_;
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc,
                             [](std::int64_t t, const auto& tr) { return t < tr.first; });
  if (it == transitions_.begin()) return initial_;
  return std::prev(it)->second;
}

std::int64_t TimeZone::to_utc(std::int64_t local) const {
  if (transitions_.empty()) return local - fixed_;
  // The offsets in force around `local` (any zone's offset is within a day), oldest first, each
  // with the transition that starts it: the first that maps back onto itself wins. None does in
  // a gap (clocks moved forward over `local`): then the offset before the gap.
  std::vector<std::pair<std::int64_t, std::int64_t>> candidates{{0, offset_at(local - 2 * kDay)}};
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), local - 2 * kDay,
                             [](std::int64_t t, const auto& tr) { return t < tr.first; });
  for (; it != transitions_.end() && it->first <= local + 2 * kDay; ++it)
    candidates.emplace_back(it->first, it->second);
  for (const auto& c : candidates)
    if (offset_at(local - c.second) == c.second) return local - c.second;
  for (std::size_t i = 1; i < candidates.size(); ++i)
    if (local - candidates[i - 1].second >= candidates[i].first &&
        local - candidates[i].second < candidates[i].first)
      return local - candidates[i - 1].second;
  return local - candidates.front().second;
}

std::optional<std::int64_t> parse_iso8601(std::string_view s, const TimeZone& tz) {
  const std::optional<IsoDateTime> dt = vigil::parse_iso8601(s);
  if (!dt) return std::nullopt;
  const std::int64_t utc = dt->offset ? dt->utc() : tz.to_utc(dt->local);
  if (utc < 0) return std::nullopt;
  return utc;
}

std::string iso_seconds(std::int64_t t) { return iso8601_utc(t); }

std::string iso_millis(std::int64_t ms) {
  std::int64_t s = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  std::string out = iso_seconds(s);
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03lld", static_cast<long long>(ms - s * 1000));
  out.insert(out.size() - 1, frac);
  return out;
}

std::int64_t choose_bin(std::int64_t first, std::int64_t last) {
  for (std::int64_t res : {60, 900, 3600}) {
    auto floor = [res](std::int64_t t) { return t >= 0 ? t / res : (t - res + 1) / res; };
    if (floor(last) - floor(first) + 1 <= kMaxBins) return res;
  }
  return 86400;
}

}  // namespace vigil::api::deeploy
