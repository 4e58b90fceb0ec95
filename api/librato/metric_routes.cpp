// Metric metadata changes: PUT /v1/metrics/:name (create or update), DELETE /v1/metrics/:name,
// and the batch forms PUT /v1/metrics and DELETE /v1/metrics (a list of names or wildcard
// patterns), which run as jobs when they touch more than Resources::job_threshold metrics.
#include <algorithm>
#include <memory>
#include <set>

#include "actors/engine.hpp"
#include "api/librato/ingest_routes.hpp"
#include "api/librato/metric_json.hpp"
#include "api/librato/params.hpp"
#include "api/librato/resources.hpp"
#include "api/librato/composite.hpp"
#include "engine/meta/jobs.hpp"
#include "api/http/form.hpp"
#include "api/librato/lang/normalize.hpp"

namespace vigil::api::librato {

namespace {

using nlohmann::json;

const std::string kBase = "/v1/metrics";

// Attributes that Librato also accepts at the top level of a metric update.
const std::set<std::string> kAttributeKeys = {"color",          "display_max",         "display_min",
                                              "display_units_long", "display_units_short", "display_stacked",
                                              "summarize_function", "aggregate",      "created_by_ua",
                                              "gap_detection"};
const std::set<std::string> kNumericAttributes = {"display_max", "display_min"};
const std::set<std::string> kBoolAttributes = {"display_stacked", "aggregate", "gap_detection"};
const std::set<std::string> kGaugeAttributes = {"summarize_function", "aggregate"};

// A change of metric properties, parsed from a body.
struct Patch {
  std::optional<std::string> display_name, description;
  bool period_set = false;
  std::optional<std::int64_t> period;
  bool source_lag_set = false;
  std::optional<std::int64_t> source_lag;
  json attributes = json::object();  // merged into the metric's; null removes a key
};

// Form values arrive as text: numbers and booleans of known attributes are converted.
bool typed_attribute(const std::string& key, json& v) {
  if (!v.is_string()) return true;
  const auto& s = v.get_ref<const std::string&>();
  if (kNumericAttributes.count(key)) {
    if (s.empty()) {
      v = nullptr;
      return true;
    }
    try {
      std::size_t pos = 0;
      double d = std::stod(s, &pos);
      if (pos != s.size()) return false;
      v = d == static_cast<double>(static_cast<std::int64_t>(d)) ? json(static_cast<std::int64_t>(d)) : json(d);
    } catch (const std::exception&) {
      return false;
    }
  } else if (kBoolAttributes.count(key)) {
    if (s == "true" || s == "1") v = true;
    else if (s == "false" || s == "0") v = false;
    else return false;
  }
  return true;
}

void parse_patch(const json& body, Patch& p, std::vector<ParamError>& errors) {
  bool bad = false;
  p.display_name = get_string(body, "display_name", bad);
  if (bad) errors.push_back({"display_name", "must be a string"});
  if (body.contains("display_name") && body["display_name"].is_null()) p.display_name = "";
  bad = false;
  p.description = get_string(body, "description", bad);
  if (bad) errors.push_back({"description", "must be a string"});
  if (body.contains("description") && body["description"].is_null()) p.description = "";
  // An optional number of seconds: null or "" clears it.
  auto seconds = [&](const char* key, std::int64_t min, const char* message, bool& set, std::optional<std::int64_t>& out) {
    if (!body.contains(key)) return;
    set = true;
    const auto& v = body[key];
    if (v.is_null() || (v.is_string() && v.get<std::string>().empty())) return;
    bool b = false;
    out = get_int(body, key, b);
    if (b || !out || *out < min) errors.push_back({key, message});
  };
  seconds("period", 1, "must be a positive integer (seconds)", p.period_set, p.period);
  seconds("source_lag", 0, "must be a non-negative integer (seconds)", p.source_lag_set, p.source_lag);
  if (body.contains("attributes")) {
    if (!body["attributes"].is_object()) errors.push_back({"attributes", "must be an object"});
    else p.attributes = body["attributes"];
  }
  for (const auto& key : kAttributeKeys)
    if (body.contains(key)) p.attributes[key] = body[key];
  for (auto& [k, v] : p.attributes.items())
    if (!typed_attribute(k, v)) errors.push_back({"attributes." + k, kNumericAttributes.count(k) ? "must be a number" : "must be true or false"});
}

void apply(MetricInfo& m, const Patch& p, std::int64_t now) {
  if (p.display_name) m.display_name = *p.display_name;
  if (p.description) m.description = *p.description;
  if (p.period_set) m.period = p.period;
  if (p.source_lag_set) m.source_lag = p.source_lag;
  if (!p.attributes.empty()) {
    json attrs = json::parse(m.attributes_json, nullptr, false);
    if (attrs.is_discarded() || !attrs.is_object()) attrs = json::object();
    for (const auto& [k, v] : p.attributes.items()) {
      // summarize_function and aggregate are gauge attributes (seed: "Gauge Attribute"): a counter
      // does not take them, so a batch update over gauges and counters changes only the gauges.
      if (m.type == MetricType::counter && kGaugeAttributes.count(k)) continue;
      if (v.is_null()) attrs.erase(k);
      else attrs[k] = v;
    }
    m.attributes_json = attrs.dump();
  }
  m.updated = now;
}

bool delete_one(actors::Engine& engine, const std::string& name, std::string& err) {
  Storage::Batch batch;
  batch.del(Cf::meta, Catalog::storage_key(name));
  std::size_t removed = 0;
  if (!engine.series().remove_metric(metric_key(name), batch, removed, err)) return false;
  engine.catalog().forget(name);
  return true;
}

Response put_metric(actors::Engine& engine, const Request& req, const std::string& name) {
  if (!valid_metric_name(name))
    return params_error(400, {{"name", "must be 1-255 characters of A-Za-z0-9.:-_"}});
  json body;
  Response err;
  if (!parse_body(req, body, err)) return err;
  std::vector<ParamError> errors;
  Patch patch;
  parse_patch(body, patch, errors);
  bool bad = false;
  auto type_text = get_string(body, "type", bad);
  std::optional<MetricType> type;
  if (type_text) {
    if (*type_text == "gauge") type = MetricType::gauge;
    else if (*type_text == "counter") type = MetricType::counter;
    else if (*type_text == "composite") type = MetricType::composite;
    else bad = true;
  }
  if (bad) errors.push_back({"type", "must be gauge, counter or composite"});
  auto existing = engine.catalog().get(name);
  if (!existing && !type && errors.empty()) errors.push_back({"type", "is required to create a metric"});
  if (existing && type && *type != existing->type)
    errors.push_back({"type", std::string("cannot change the type of a ") + to_string(existing->type) + " metric"});
  // A composite metric's definition: required on create, replaceable on update; parsed here so
  // that a malformed expression is refused with its position.
  bool composite = existing ? existing->type == MetricType::composite : type == MetricType::composite;
  bad = false;
  auto definition = get_string(body, "composite", bad);
  if (bad) errors.push_back({"composite", "must be a composite expression"});
  if (composite && !existing && !definition && !bad) errors.push_back({"composite", "is required for a composite metric"});
  if (!composite && definition) errors.push_back({"composite", "only a composite metric has a definition"});
  if (composite && definition) {
    std::string perr;
    if (!composite::parse(*definition, perr)) errors.push_back({"composite", perr});
  }
  if (!errors.empty()) return params_error(400, errors);
  std::int64_t now = now_seconds();
  std::string e;
  if (existing) {
    if (definition) existing->composite = *definition;
    apply(*existing, patch, now);
    if (!engine.catalog().put(*existing, e)) return system_error(503, "cannot store the metric: " + e);
    return no_content();
  }
  MetricInfo m;
  m.name = name;
  m.type = *type;
  if (definition) m.composite = *definition;
  m.created = now;
  if (auto ua = req.header("user-agent"); !ua.empty() && !patch.attributes.contains("created_by_ua"))
    patch.attributes["created_by_ua"] = std::string(ua);
  apply(m, patch, now);
  if (!engine.catalog().put(m, e)) return system_error(503, "cannot store the metric: " + e);
  Response r{201, metric_json(m).dump(), "application/json", {}};
  r.headers.emplace_back("Location", kBase + "/" + name);
  return r;
}

Response delete_metric(actors::Engine& engine, const std::string& name) {
  if (!engine.catalog().get(name)) return request_error(404, "metric '" + name + "' not found");
  engine.sync();  // pending samples of the metric are flushed before its data is deleted
  std::string e;
  if (!delete_one(engine, name, e)) return system_error(503, "cannot delete the metric: " + e);
  return no_content();
}

// The metrics selected by `names`: exact names (case-insensitive; unknown ones are skipped) and
// wildcard patterns, less those `exclude` names. False with a 400 answer if `names` is missing or
// not names.
bool select_metrics(actors::Engine& engine, const json& body, std::vector<std::string>& out, Response& err) {
  bool bad = false;
  auto names = get_strings(body, "names", bad);
  if (!names && !bad) names = get_strings(body, "name", bad);  // a single pattern as `name`
  if (bad || !names || names->empty()) {
    err = params_error(400, {{"names", "is required: a list of metric names or one wildcard pattern"}});
    return false;
  }
  // `exclude`: a name or a list of names (wildcards allowed) kept out of the selection.
  auto exclude = get_strings(body, "exclude", bad);
  if (bad) {
    err = params_error(400, {{"exclude", "must be a metric name or a list of names (wildcards allowed)"}});
    return false;
  }
  auto excluded = [&](const std::string& name) {
    if (!exclude) return false;
    return std::any_of(exclude->begin(), exclude->end(),
                       [&](const std::string& x) { return glob_match(x, name); });
  };
  std::set<std::string> picked;
  for (const auto& n : *names) {
    if (n.find('*') != std::string::npos) {
      for (const auto& m : engine.catalog().list())
        if (glob_match(n, m.name) && !excluded(m.name)) picked.insert(m.name);
    } else if (auto m = engine.catalog().get(n)) {
      if (!excluded(m->name)) picked.insert(m->name);
    }
  }
  out.assign(picked.begin(), picked.end());
  return true;
}

Response accepted(std::uint64_t id) {
  Response r{202, json({{"id", id}, {"state", "queued"}}).dump(), "application/json", {}};
  r.headers.emplace_back("Location", "/v1/jobs/" + std::to_string(id));
  return r;
}

// Runs `each` over the names, in a job when there are more than the threshold.
Response run_batch(actors::Engine& engine, Resources& res, std::vector<std::string> names, bool sync_first,
                   std::function<bool(const std::string&, std::string&)> each) {
  if (static_cast<std::int64_t>(names.size()) <= res.job_threshold) {
    if (sync_first) engine.sync();
    for (const auto& n : names) {
      std::string e;
      if (!each(n, e)) return system_error(503, "metric '" + n + "': " + e);
    }
    return no_content();
  }
  std::string err;
  auto id = res.jobs.submit(
      [&engine, names = std::move(names), sync_first, each = std::move(each)](JobTable::Context& ctx) {
        if (sync_first) engine.sync();
        for (std::size_t i = 0; i < names.size(); ++i) {
          std::string e;
          if (!each(names[i], e)) ctx.error(names[i], e);
          ctx.progress(100.0 * static_cast<double>(i + 1) / static_cast<double>(names.size()));
        }
        return true;
      },
      now_seconds(), err);
  if (id == 0) return system_error(503, "cannot start the job: " + err);
  return accepted(id);
}

Response put_metrics(actors::Engine& engine, Resources& res, const Request& req) {
  json body;
  Response err;
  if (!parse_body(req, body, err)) return err;
  std::vector<ParamError> errors;
  auto patch = std::make_shared<Patch>();
  parse_patch(body, *patch, errors);
  if (!errors.empty()) return params_error(400, errors);
  std::vector<std::string> names;
  if (!select_metrics(engine, body, names, err)) return err;
  return run_batch(engine, res, std::move(names), false, [&engine, patch](const std::string& n, std::string& e) {
    auto m = engine.catalog().get(n);
    if (!m) return true;  // deleted meanwhile
    apply(*m, *patch, now_seconds());
    return engine.catalog().put(*m, e);
  });
}

Response delete_metrics(actors::Engine& engine, Resources& res, const Request& req) {
  json body;
  Response err;
  if (!parse_body(req, body, err)) return err;
  if (body.empty()) body = query_json(req);  // names in the query string
  std::vector<std::string> names;
  if (!select_metrics(engine, body, names, err)) return err;
  return run_batch(engine, res, std::move(names), true,
                   [&engine](const std::string& n, std::string& e) { return delete_one(engine, n, e); });
}

Response get_job(Resources& res, const std::string& rest) {
  std::uint64_t id = 0;
  try {
    std::size_t pos = 0;
    id = std::stoull(rest, &pos);
    if (pos != rest.size()) id = 0;
  } catch (const std::exception&) {
    id = 0;
  }
  auto job = id ? res.jobs.get(id) : std::nullopt;
  if (!job) return request_error(404, "job " + rest + " not found");
  json j = {{"id", job->id}, {"state", job_state_name(job->state)}};
  if (job->state != JobState::queued) j["progress"] = job->progress;
  if (!job->errors.empty()) j["errors"] = job->errors;
  return json_answer(200, j);
}

}  // namespace

void add_metric_routes(RouteTable& t, Resources& res) {
  actors::Engine& engine = res.engine;
  t.add("GET", "/v1/metrics", [&res](const Request& req, const PathParams&) {
    return query_json(req).contains("compose") ? get_composite(res, req) : list_metrics(res, req);
  });
  t.add("POST", "/v1/metrics", [&res](const Request& req, const PathParams&) { return post_metrics(res, req); });
  t.add("PUT", "/v1/metrics", [&engine, &res](const Request& req, const PathParams&) { return put_metrics(engine, res, req); });
  t.add("DELETE", "/v1/metrics",
        [&engine, &res](const Request& req, const PathParams&) { return delete_metrics(engine, res, req); });
  // A composite metric read with a time interval evaluates its definition; any other read is the
  // legacy GET /v1/metrics/:name.
  t.add("GET", "/v1/metrics/:name", [&engine, &res](const Request& req, const PathParams& p) {
    const std::string& name = p["name"];
    auto info = engine.catalog().get(name);
    if (info && info->type == MetricType::composite) {
      auto q = query_json(req);
      if (q.contains("start_time") || q.contains("resolution")) return get_composite(res, req, &info->composite);
    }
    return get_legacy_metric(res, req, name);
  });
  t.add("PUT", "/v1/metrics/:name",
        [&engine](const Request& req, const PathParams& p) { return put_metric(engine, req, p["name"]); });
  t.add("DELETE", "/v1/metrics/:name",
        [&engine](const Request&, const PathParams& p) { return delete_metric(engine, p["name"]); });
  t.add("GET", "/v1/jobs/:id", [&res](const Request&, const PathParams& p) { return get_job(res, p["id"]); });
}

}  // namespace vigil::api::librato
