// One data point of POST .../customMetric/:id/dataPoints, read and checked without the engine
// (the route, datapoint_routes.cpp, stores the points of a request whole or not at all).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "api/deeploy/metric_doc.hpp"
#include "api/deeploy/times.hpp"

namespace vigil::api::deeploy {

inline constexpr std::size_t kMaxLabelLength = 1024;

struct Point {
  nlohmann::json x;  // as sent
  double y = 0;
  std::int64_t time = 0;    // timeseries: the xValue; line and bar: the time of receipt
  std::uint64_t label = 0;  // line and bar: the label tag
  nlohmann::json prediction_log_ids;  // as sent ([] when absent)
};

// Checks one data point; false with the error message and its field.
bool parse_point(const nlohmann::json& item, const std::string& at, GraphType graph, const TimeZone& tz,
                 Point& p, std::string& error, std::string& bad);

}  // namespace vigil::api::deeploy
