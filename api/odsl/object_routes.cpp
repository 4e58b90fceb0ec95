// Stored objects holding VarMetricTimeSeries properties: POST /api/object/v1 saves one (DocStore,
// key "odsl/object/<_id>", so objects survive restarts), GET /api/object/v1/private/:id returns
// it, GET /api/data/v1/private/<id>:<property> evaluates the property over `_range`. With
// `_metric`, both GET paths serve a virtual metric time series instead (service path filter).
#include <nlohmann/json.hpp>
#include <optional>

#include "api/http/body.hpp"
#include "api/odsl/routes_common.hpp"
#include "api/odsl/series.hpp"
#include "api/http/form.hpp"
#include "engine/meta/doc_store.hpp"
#include "engine/model/clock.hpp"
#include "engine/model/limits.hpp"
#include "engine/model/text.hpp"

namespace vigil::api::odsl {

namespace {

using nlohmann::json;

const std::string kPrefix = "odsl/object/";
constexpr std::size_t kMaxIdLength = 256;


bool is_metric_series(const json& v) {
  return v.is_object() && v.contains("_type") && v["_type"].is_string() &&
         v["_type"].get<std::string>() == "VarMetricTimeSeries";
}

// The filter of a stored definition: an object, or the same as JSON text.
bool stored_filter(const json& def, Filter& out, std::string& err) {
  if (!def.contains("filter") || def["filter"].is_null()) return true;
  const json& f = def["filter"];
  if (f.is_string()) return parse_filter(f.get<std::string>(), out, err);
  if (f.is_object()) return parse_filter(f.dump(), out, err);
  err = "must be a JSON object of field names and values";
  return false;
}

// A VarMetricTimeSeries property `prop` as the series it defines (range: every period); nullopt
// with the failing field (e.g. "HOURLY.calendar") in `field` and the reason in `err`.
std::optional<SeriesSpec> definition(const std::string& prop, const json& def, std::string& field, std::string& err) {
  auto text = [&](const char* k, bool required, std::string& out) -> bool {
    field = prop + "." + k;
    if (!def.contains(k) || def[k].is_null()) {
      if (required) err = "is required";
      return !required;
    }
    if (!def[k].is_string() || (required && def[k].get<std::string>().empty())) {
      err = "must be a non-empty string";
      return false;
    }
    out = def[k].get<std::string>();
    return true;
  };
  SeriesSpec spec;
  std::string calendar, observed, name, description;
  if (!text("provider", true, spec.provider) || !text("metric", true, spec.metric) ||
      !text("calendar", true, calendar) || !text("observed", true, observed) || !text("name", false, name) ||
      !text("description", false, description))
    return std::nullopt;
  const std::string full = spec.provider + "." + spec.metric;
  if (!is_plain_name(full, kMaxMetricNameLength) || spec.provider.find('.') != std::string::npos) {
    field = prop + ".metric";
    err = "'" + full + "' is not a valid metric name";
    return std::nullopt;
  }
  auto cal = parse_calendar(calendar);
  if (!cal) {
    field = prop + ".calendar";
    err = "unknown calendar '" + calendar + "'";
    return std::nullopt;
  }
  spec.calendar = *cal;
  auto obs = parse_observed(observed);
  if (!obs) {
    field = prop + ".observed";
    err = "unknown '" + observed + "' (summed, averaged, high, low, beginning, end)";
    return std::nullopt;
  }
  spec.observed = *obs;
  if (!stored_filter(def, spec.filter, err)) {
    field = prop + ".filter";
    return std::nullopt;
  }
  return spec;
}

Response post_object(Resources& res, const Request& req) {
  json body;
  if (auto e = decode_body(req, body)) {
    if (e->status == 415) res.rejects.bad_content_type.fetch_add(1);
    else res.rejects.bad_body.fetch_add(1);
    return error_body(e->status, e->message);
  }
  auto reject = [&](const std::string& p, const std::string& msg) {
    res.rejects.bad_body.fetch_add(1);
    return error_body(400, p + ": " + msg, p);
  };
  if (!body.is_object()) return reject("body", "must be a JSON object");
  if (!body.contains("_id") || !body["_id"].is_string() || body["_id"].get<std::string>().empty())
    return reject("_id", "is required: a non-empty string");
  const std::string id = body["_id"].get<std::string>();
  if (id.size() > kMaxIdLength || id.find_first_of("/:") != std::string::npos)
    return reject("_id", "must be at most 256 characters, without '/' or ':'");
  for (auto& [k, v] : body.items()) {
    if (!is_metric_series(v)) continue;
    std::string field, err;
    if (!definition(k, v, field, err)) return reject(field, err);
    if (!v.contains("_id")) v["_id"] = k;
  }
  const bool existed = res.docs.get(kPrefix + id).has_value();
  std::string err;
  if (!res.docs.put(kPrefix + id, body, err)) return error_body(500, "storage error: " + err);
  return json_answer(existed ? 200 : 201, body.dump());
}

Response get_object(Resources& res, const Request& req, const std::string& id) {
  Params q = parse_urlencoded(req.query);
  if (param(q, "_metric") != nullptr) return virtual_series(res, req, {{"service", "object"}, {"source", "private"}, {"key", id}});
  auto doc = res.docs.get(kPrefix + id);
  if (!doc) return error_body(404, "no object with _id '" + id + "'");
  return json_answer(200, doc->dump());
}

Response get_data(Resources& res, const Request& req, const std::string& ref) {
  Params q = parse_urlencoded(req.query);
  if (param(q, "_metric") != nullptr) return virtual_series(res, req, {{"service", "data"}, {"source", "private"}, {"key", ref}});
  auto colon = ref.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == ref.size())
    return error_body(404, "no data '" + ref + "': use <object id>:<property>, or _metric for a virtual series");
  const std::string id = ref.substr(0, colon), prop = ref.substr(colon + 1);
  auto doc = res.docs.get(kPrefix + id);
  if (!doc) return error_body(404, "no object with _id '" + id + "'");
  if (!doc->contains(prop) || !is_metric_series((*doc)[prop]))
    return error_body(404, "object '" + id + "' has no VarMetricTimeSeries property '" + prop + "'");
  std::string field, err;
  auto def = definition(prop, (*doc)[prop], field, err);
  if (!def) return error_body(500, "the stored definition " + field + " is invalid: " + err);
  SeriesSpec spec = std::move(*def);
  spec.id = ref;
  const std::int64_t now = now_seconds();
  if (const std::string* r = param(q, "_range")) {
    auto range = parse_range(*r, now, err);
    if (!range) {
      res.rejects.bad_query.fetch_add(1);
      return error_body(400, "_range: " + err, "_range");
    }
    spec.range = *range;
  }
  if (const std::string* f = param(q, "_filter"); f && !parse_filter(*f, spec.filter, err)) {
    res.rejects.bad_query.fetch_add(1);
    return error_body(400, "_filter: " + err, "_filter");
  }
  return evaluate_series(res, spec);
}

}  // namespace

void add_object_routes(RouteTable& t, Resources& res) {
  t.add("POST", "/api/object/v1", [&res](const Request& req, const PathParams&) { return post_object(res, req); });
  // The metric time series of the object service (the path is more specific than /api/:service/v1).
  t.add("GET", "/api/object/v1",
        [&res](const Request& req, const PathParams&) { return virtual_series(res, req, {{"service", "object"}}); });
  t.add("GET", "/api/object/v1/private/:id",
        [&res](const Request& req, const PathParams& p) { return get_object(res, req, p["id"]); });
  t.add("GET", "/api/data/v1/private/:ref",
        [&res](const Request& req, const PathParams& p) { return get_data(res, req, p["ref"]); });
}

}  // namespace vigil::api::odsl
