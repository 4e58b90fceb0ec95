// Metric metadata: what GET /v1/metrics returns about a metric, independent of its series.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/model.hpp"

namespace vigil {

struct MetricInfo {
  std::string name;  // as first created; look-ups use the lower-cased key
  MetricType type = MetricType::gauge;
  std::string description;   // empty = null
  std::string display_name;  // empty = null
  std::optional<std::int64_t> period;
  std::string attributes_json = "{}";  // a JSON object
  std::int64_t created = 0;
  std::int64_t updated = 0;
};

// The lower-cased metric name: metric names are case-insensitive.
std::string metric_key(std::string_view name);

}  // namespace vigil
