#include "api/deeploy/points.hpp"

#include "engine/model/limits.hpp"

namespace vigil::api::deeploy {

using nlohmann::json;

// Checks one data point; false with the error message and its field.
bool parse_point(const json& item, const std::string& at, GraphType graph, const TimeZone& tz,
                 Point& p, std::string& error, std::string& bad) {
  if (!item.is_object()) {
    error = at + " must be a data point object";
    bad = at;
    return false;
  }
  auto x = item.find("xValue");
  bad = at + ".xValue";
  if (x == item.end() || x->is_null()) {
    error = bad + " is required";
    return false;
  }
  if (graph == GraphType::timeseries) {
    std::optional<std::int64_t> t;
    if (x->is_string()) t = parse_iso8601(x->get_ref<const std::string&>(), tz);
    if (!t) {
      error = bad +
              " must be an ISO 8601 datetime (e.g. 2024-01-15T10:30:00Z, years 1970-9999) on a "
              "timeseries "
              "metric (got " +
              x->dump() + ")";
      return false;
    }
    p.time = *t;
  } else if (x->is_string()) {
    if (x->get_ref<const std::string&>().size() > kMaxLabelLength) {
      error = bad + " must be at most 1024 characters";
      return false;
    }
  } else if (!x->is_number()) {
    error = bad + " must be a string or a number (got " + x->dump() + ")";
    return false;
  }
  p.x = *x;
  auto y = item.find("yValue");
  bad = at + ".yValue";
  if (y == item.end() || y->is_null()) {
    error = bad + " is required";
    return false;
  }
  if (!y->is_number()) {
    error = bad + " must be a number (got " + y->dump() + ")";
    return false;
  }
  p.y = y->get<double>();
  if (FloatCheck c = check_float(p.y); c != FloatCheck::ok) {
    error = bad + ": " + float_error_message(c);
    return false;
  }
  p.prediction_log_ids = json::array();
  auto ids = item.find("predictionLogIds");
  if (ids != item.end() && !ids->is_null()) {
    bad = at + ".predictionLogIds";
    if (!ids->is_array()) {
      error = bad + " must be a list of strings";
      return false;
    }
    for (const auto& id : *ids)
      if (!id.is_string()) {
        error = bad + " must be a list of strings";
        return false;
      }
    p.prediction_log_ids = *ids;
  }
  bad.clear();
  return true;
}

}  // namespace vigil::api::deeploy
