// Metric time series and metric entities over the engine: the selection (`_metric`, `_filter`,
// the service path), the evaluation of a calendar + observed function over a range (from rollups
// where the periods align with a stored resolution), and stored samples as entities.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http/message.hpp"
#include "api/odsl/calendar.hpp"
#include "api/odsl/resources.hpp"

namespace vigil::api::odsl {

// A selection of samples by field values (the `_filter` object and the service path). Tag names
// are lower-cased; values are normalised as ingest stores them: lower-cased, with the characters
// a tag value cannot hold (anything but letters, digits and - . : _) left out, so `#HENG`
// selects the value `heng`. `provider` and `metric` select metrics instead of tags.
struct Filter {
  std::vector<std::pair<std::string, std::string>> tags;
  std::optional<std::string> provider, metric;  // lower-cased
  bool nothing = false;                         // a value that no stored sample can hold

  void add(std::string_view field, std::string_view value);
};

// A tag value as ingest would store it (see Filter).
std::string normalize_value(std::string_view v);

// Parses a `_filter` JSON object of field -> string, number or boolean into `out` (added to what
// it holds). False with `err` when it is not such an object, or names a field that is not a tag
// (_id, value, timestamp).
bool parse_filter(std::string_view text, Filter& out, std::string& err);

// What a time series evaluates: the metric `provider.metric`, the calendar and observed function,
// the range (relative dates already resolved), the filter.
struct SeriesSpec {
  std::string id;  // the answer's _id ("ODSLRequest/ReadRequests", or "AAA:PROCESS_RUNS_HOURLY")
  std::string provider, metric;
  Calendar calendar;
  Observed observed = Observed::summed;
  Range range;
  Filter filter;
};

// The stored rollup resolution that periods are read from: the largest of kResolutions dividing
// every period boundary, or 0 when none does (raw samples are read).
std::int64_t aligned_resolution(const std::vector<Period>& ps);

// The VarTimeSeries answer (200), or a 400 / 5xx in the dialect's format.
Response evaluate_series(Resources& res, const SeriesSpec& spec);

// A stable sample id: 24 hex digits (time, series id, position among the series' samples of
// that second), or 40 when the series id or the position does not fit.
std::string entity_id(std::int64_t time, std::uint64_t sid, std::uint64_t ordinal);
bool parse_entity_id(std::string_view id, std::int64_t& time, std::uint64_t& sid, std::uint64_t& ordinal);

}  // namespace vigil::api::odsl
