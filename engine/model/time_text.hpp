// Epoch seconds as UTC text, for API payloads, notifications and chart labels.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

namespace vigil {

// `t` formatted with strftime's `format` in UTC.
inline std::string utc_format(std::int64_t t, const char* format) {
  std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::size_t n = std::strftime(buf, sizeof buf, format, &tm);
  return std::string(buf, n);
}

// ISO 8601, e.g. 2026-11-22T13:20:32Z.
inline std::string iso8601_utc(std::int64_t t) { return utc_format(t, "%Y-%m-%dT%H:%M:%SZ"); }

}  // namespace vigil
