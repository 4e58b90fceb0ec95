#include "api/ubiops/entries.hpp"

#include <algorithm>

#include "api/ubiops/codec.hpp"
#include "engine/model/limits.hpp"
#include "engine/query/query.hpp"

namespace vigil::api::ubiops {

using nlohmann::json;

namespace {

std::string item(std::size_t i) { return "[" + std::to_string(i) + "]"; }

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if (a % b != 0 && a < 0) --q;
  return q;
}

std::optional<EntryError> bad_item(const std::string& field, const std::string& message) {
  return EntryError{400, field, message};
}

}  // namespace

std::optional<EntryError> parse_entries(const json& body, const std::vector<MetricDef>& defs, bool aggregate,
                                        std::int64_t newest_us, std::size_t max_samples, std::vector<Entry>& out) {
  json wrapped;
  const json& items = body.is_array() ? body : (wrapped = json::array({body}));
  std::size_t total = 0;
  for (std::size_t i = 0; i < items.size(); ++i) {
    const json& it = items[i];
    const std::string at = item(i);
    if (!it.is_object()) return bad_item(at, "must be an object with metric, labels and data");
    Entry e;
    auto m = it.find("metric");
    if (m == it.end() || !m->is_string()) return bad_item(at + ".metric", "is required: the name of a metric");
    const std::string name = m->get<std::string>();
    auto def = std::find_if(defs.begin(), defs.end(), [&](const MetricDef& d) { return d.name == name; });
    if (def == defs.end()) return bad_item(at + ".metric", "metric '" + name + "' does not exist in the project");
    e.def = static_cast<std::size_t>(def - defs.begin());
    if (auto l = it.find("labels"); l != it.end() && !l->is_null()) {
      if (!l->is_object()) return bad_item(at + ".labels", "must be an object of label keys to string values");
      for (const auto& [k, v] : l->items()) {
        if (!v.is_string()) return bad_item(at + ".labels." + k, "must be a string");
        if (std::find(def->labels.begin(), def->labels.end(), k) == def->labels.end())
          return bad_item(at + ".labels", "'" + k + "' is not a label of metric '" + name + "'");
        e.labels.emplace_back(k, v.get<std::string>());
      }
    }
    if (auto err = labels_to_tags(e.labels, e.tags); !err.empty()) return bad_item(at + ".labels", err);
    std::sort(e.labels.begin(), e.labels.end());
    auto d = it.find("data");
    if (d == it.end() || !d->is_array()) return bad_item(at + ".data", "is required: a list of {date, value}");
    for (std::size_t j = 0; j < d->size(); ++j) {
      const json& p = (*d)[j];
      const std::string pat = at + ".data[" + std::to_string(j) + "]";
      if (!p.is_object()) return bad_item(pat, "must be an object with date and value");
      auto date = p.find("date");
      if (date == p.end() || !date->is_string()) return bad_item(pat + ".date", "is required: an ISO 8601 date");
      auto us = parse_date(date->get<std::string>());
      if (!us) return bad_item(pat + ".date", "is not an ISO 8601 date: '" + date->get<std::string>() + "'");
      if (aggregate && *us > newest_us) return bad_item(pat + ".date", "must be at least two minutes old");
      auto value = p.find("value");
      if (value == p.end() || !value->is_number()) return bad_item(pat + ".value", "must be a number");
      double v = value->get<double>();
      if (auto c = check_float(v); c != FloatCheck::ok) return bad_item(pat + ".value", float_error_message(c));
      e.points.emplace_back(floor_to(floor_div(*us, 1000000), 60), v);
    }
    total += e.points.size();
    out.push_back(std::move(e));
  }
  if (total > max_samples)
    return EntryError{413, "data", "at most " + std::to_string(max_samples) + " data points per request"};
  return std::nullopt;
}


}  // namespace vigil::api::ubiops
