// Times of the Deeploy dialect: ISO 8601 datetimes of time-series data points (read in the
// `timezone` of the request when they carry no offset), the ISO text of createdAt / updatedAt and
// of chart labels, and the bin width of a time-series chart chosen from the span of its points.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace vigil::api::deeploy {

// A time zone that converts local wall-clock times to UTC: a fixed offset (UTC, Z, GMT, +02:00,
// -0530, UTC+2) or an IANA zone read from the system's zoneinfo files (TZif).
class TimeZone {
 public:
  // The zone named `name`; nullopt for an unknown name or a malformed offset.
  static std::optional<TimeZone> find(std::string_view name);
  static TimeZone utc() { return TimeZone(); }

  // UTC seconds of local wall-clock seconds `local` (a time in a DST gap is read with the offset
  // before the change; one repeated by a change, with the first of the two offsets).
  std::int64_t to_utc(std::int64_t local) const;

 private:
  TimeZone() = default;
  std::int64_t offset_at(std::int64_t utc) const;  // seconds east of UTC

  std::int32_t fixed_ = 0;
  // IANA zones: offsets after each transition (UTC seconds, ascending); `initial_` before the
  // first.
  std::vector<std::pair<std::int64_t, std::int32_t>> transitions_;
  std::int32_t initial_ = 0;
};

// An ISO 8601 datetime: YYYY-MM-DD, optionally followed by 'T' (or a space) and HH:MM[:SS[.frac]]
// and an offset (Z, ±HH:MM, ±HHMM, ±HH). Without an offset it is read in `tz`. The fraction is
// dropped (data points are stored at one-second precision). Years 1970..9999; nullopt otherwise.
std::optional<std::int64_t> parse_iso8601(std::string_view text, const TimeZone& tz);

// "2026-03-06T10:30:00Z" (seconds) and "2026-03-06T10:30:00.123Z" (milliseconds).
std::string iso_seconds(std::int64_t t);
std::string iso_millis(std::int64_t ms);

// The bin width of a time-series chart whose points span [first, last] (UTC seconds): the finest
// of 60, 900, 3600 and 86400 s that puts them in at most kMaxBins bins, else 86400.
inline constexpr std::int64_t kMaxBins = 100;
std::int64_t choose_bin(std::int64_t first, std::int64_t last);

}  // namespace vigil::api::deeploy
