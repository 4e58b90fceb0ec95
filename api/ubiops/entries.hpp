// The body of a time-series data write (POST .../time-series/data and .../aggregate), read and
// checked without the engine: a TimeSeriesDataCreate object or a list of them, against the
// project's metric definitions. The routes (series_routes.cpp) count and answer the errors.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/ubiops/resources.hpp"
#include "engine/model/model.hpp"

namespace vigil::api::ubiops {

using Labels = std::vector<std::pair<std::string, std::string>>;

// One TimeSeriesDataCreate of a request, checked.
struct Entry {
  std::size_t def = 0;  // index into the project's metrics
  Tags tags;
  Labels labels;
  std::vector<std::pair<std::int64_t, double>> points;  // (minute, value)
};

struct EntryError {
  int status = 400;  // 400: an invalid item; 413: more than `max_samples` data points
  std::string field, message;
};

// The entries of `body` (an object or a list of objects) into `out`. With `aggregate`, dates
// after `newest_us` (epoch microseconds) are refused. The first error found, or nullopt.
std::optional<EntryError> parse_entries(const nlohmann::json& body, const std::vector<MetricDef>& defs, bool aggregate,
                                        std::int64_t newest_us, std::size_t max_samples, std::vector<Entry>& out);

}  // namespace vigil::api::ubiops
