// ISO 8601 date-times as the dialects accept them in requests:
//
//   YYYY-MM-DD [ (T|t|' ') hh:mm [ :ss [ (.|,) digits ] ] [ Z | z | (+|-)hh [ [:]mm ] ] ]
//
// years 1970..9999, a valid day of the month, hh 00..23, mm and ss 00..59; an offset only after
// a time. The wall-clock time is returned with the offset apart, since a dialect without an
// offset in the text may read it in a time zone of its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace vigil {

struct IsoDateTime {
  std::int64_t local = 0;   // seconds since 1970-01-01T00:00:00 of the wall-clock date and time
  std::int64_t micros = 0;  // the fraction of the second, in microseconds (digits past six ignored)
  bool has_time = false;
  std::optional<std::int32_t> offset;  // seconds east of UTC, when the text gives one

  // The instant, reading a text without an offset as UTC.
  std::int64_t utc() const { return local - offset.value_or(0); }
};

std::optional<IsoDateTime> parse_iso8601(std::string_view s);

}  // namespace vigil
