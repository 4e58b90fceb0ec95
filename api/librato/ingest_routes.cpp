#include "api/librato/ingest_routes.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "actors/engine.hpp"
#include "actors/pending_reader.hpp"
#include "api/librato/metric_json.hpp"
#include "api/librato/query_api.hpp"
#include "engine/model/clock.hpp"
#include "api/librato/lang/ingest_parser.hpp"
#include "api/http/form.hpp"

namespace vigil::api::librato {

namespace {

bool is_json(std::string_view ct) {
  auto semi = ct.find(';');
  std::string_view base = ct.substr(0, semi);
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  std::string lower(base);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json";
}

bool is_form(std::string_view ct) {
  std::string lower(ct.substr(0, ct.find(';')));
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/x-www-form-urlencoded" || lower.empty();
}

nlohmann::json summary(std::size_t total, std::size_t accepted, std::size_t failed) {
  return {{"summary", {{"total", total}, {"accepted", accepted}, {"failed", failed}, {"filtered", 0}}}};
}

// Type conflicts: a measurement of another type than its metric's (a gauge submitted to a
// counter or the reverse), as errors naming the measurement, in the words Librato used: the
// statsd backend reads the metric name out of `params.type` ("'x' is a counter, but was submitted
// as different type") to stop sending it.
void add_type_conflicts(const Catalog::BatchCheck& check, const std::vector<Measurement>& ms,
                        std::vector<ParamError>& errors) {
  for (const auto& [i, type] : check.conflicts) {
    const Measurement& m = ms[i];
    errors.push_back({"type", "'" + m.name + "' is a " + to_string(type) + ", but was submitted as different type (" +
                                  to_string(m.type) + "): a metric has one type"});
  }
}

// The properties of the metrics a stored batch created that the engine's create does not set:
// display_name and description from whichever measurement of the batch carries them (the first
// one), and created_by_ua from the request's User-Agent, as PUT /v1/metrics/:name records it.
void describe_created(Catalog& catalog, const Catalog::BatchCheck& check, const ParseOutcome& out,
                      std::string_view user_agent, std::int64_t now) {
  if (check.fresh.empty()) return;
  for (const std::string& key : check.fresh) {
    auto info = catalog.get(key);
    if (!info || info->created != now) continue;  // not the one this batch created
    bool changed = false;
    for (const MetricText& t : out.texts) {
      if (metric_key(out.measurements[t.index].name) != key) continue;
      if (t.display_name && info->display_name.empty()) info->display_name = *t.display_name, changed = true;
      if (t.description && info->description.empty()) info->description = *t.description, changed = true;
    }
    if (!user_agent.empty()) {
      auto attrs = nlohmann::json::parse(info->attributes_json, nullptr, false);
      if (attrs.is_object() && !attrs.contains("created_by_ua")) {
        attrs["created_by_ua"] = std::string(user_agent);
        info->attributes_json = attrs.dump();
        changed = true;
      }
    }
    std::string err;
    if (changed && !catalog.put(*info, err))
      spdlog::error("metric '{}': its samples are stored, its properties could not be: {}", info->name, err);
  }
}

// Stores a parsed body whole or not at all, and builds the answer: `ok_status` when everything
// was stored; 400 with the Librato params error naming every bad item (and a summary that says
// nothing was accepted) when any item is invalid. A client that resends a refused batch then
// counts nothing twice.
Response store(Resources& res, const Request& req, ParseOutcome& out, int ok_status, bool with_summary,
               std::int64_t now) {
  actors::Engine& engine = res.engine;
  RejectCounters& rejects = res.rejects;
  if (!out.request_error.empty()) {
    rejects.bad_body.fetch_add(1);
    return request_error(400, out.request_error);
  }
  std::size_t total = out.measurements.size() + out.errors.size();
  if (total > res.max_batch_samples) {
    rejects.too_large.fetch_add(1);
    return request_error(413, "too many measurements in one request: " + std::to_string(total) +
                                  " (the limit is " + std::to_string(res.max_batch_samples) + ")");
  }
  Catalog::BatchCheck check = engine.catalog().check_batch(out.measurements);
  add_type_conflicts(check, out.measurements, out.errors);
  if (!out.errors.empty()) {
    std::size_t failed = out.errors.size();
    rejects.invalid_items.fetch_add(failed);
    Response r = params_error(400, out.errors);
    auto body = nlohmann::json::parse(r.body);
    body["measurements"] = summary(total, 0, failed);
    r.body = body.dump();
    return r;
  }
  if (!out.measurements.empty()) {
    auto res = engine.ingest(out.measurements, now);
    if (!res.refused_series.empty()) {
      // New series beyond a series limit: the whole batch is refused (nothing stored), each
      // refused measurement named like the other per-item errors.
      std::vector<ParamError> errors;
      for (const auto& r : res.refused_series)
        errors.push_back({"series", engine.refusal_text(out.measurements[r.index], r)});
      Response refused = params_error(400, errors);
      auto body = nlohmann::json::parse(refused.body);
      body["measurements"] = summary(total, 0, res.refused_series.size());
      refused.body = body.dump();
      return refused;
    }
    if (!res.ok) {
      if (res.busy) {
        Response busy = system_error(503, "could not store the measurements: " + res.error);
        busy.headers.emplace_back("Retry-After", "1");
        return busy;
      }
      spdlog::error("ingest failed: {}", res.error);
      // Out of space: 507 and Retry-After; the store resumes by itself once space returns.
      // Any other storage failure: 503 and Retry-After. Nothing of the request was stored.
      Response r = res.no_space
                       ? system_error(507, "insufficient storage: the disk is full, nothing was stored; retry once space is freed (" +
                                               res.error + ")")
                       : system_error(503, "could not store the measurements: " + res.error);
      r.headers.emplace_back("Retry-After", res.no_space ? "5" : "1");
      return r;
    }
    describe_created(engine.catalog(), check, out, req.header("user-agent"), now);
  }
  if (!with_summary) return Response{ok_status, "{}", "application/json", {}};
  nlohmann::json body = {{"measurements", summary(total, total, 0)}};
  return Response{ok_status, body.dump(), "application/json", {}};
}

Response post_measurements(Resources& res, const Request& req) {
  actors::Engine& engine = res.engine;
  if (!is_json(req.header("content-type"))) {
    res.rejects.bad_content_type.fetch_add(1);
    return request_error(415, "Content-Type must be application/json");
  }
  auto now = now_seconds();
  CompositeRefusal composites(engine.catalog());
  auto out = parse_measurements_json(req.body, now, &composites);
  Response r = store(res, req, out, 200, true, now);
  recycle(out);
  return r;
}

// GET /v1/measurements/:name. Storage and the shards' unflushed samples together: the query
// does not wait for a flush.
Response get_measurements_route(Resources& res, const Request& req, const PathParams& p) {
  const std::string& name = p["name"];
  auto info = res.engine.catalog().get(name);
  QueryBudget budget = res.engine.queries().begin();
  actors::PendingReader reader(res.engine, &budget);
  // links.next.href is absolute (the clients follow it as it is): below the Host the request named.
  std::string_view host = req.header("host");
  std::string origin = host.empty() ? std::string() : "http://" + std::string(host);
  Response r = get_measurements(name, parse_urlencoded(req.query), info ? &*info : nullptr, reader, now_seconds(),
                                res.max_points, origin, &budget);
  if (r.status == 400) res.rejects.bad_query.fetch_add(1);
  return r;
}

}  // namespace

Response get_legacy_metric(Resources& res, const Request& req, const std::string& name) {
  auto info = res.engine.catalog().get(name);
  if (!info) return request_error(404, "metric '" + name + "' not found");
  QueryBudget budget = res.engine.queries().begin();
  actors::PendingReader reader(res.engine, &budget);
  Response r = get_metric(name, parse_urlencoded(req.query), *info, reader, now_seconds(), res.max_points, &budget);
  if (r.status == 400) res.rejects.bad_query.fetch_add(1);
  return r;
}

void add_ingest_routes(RouteTable& t, Resources& res) {
  t.add("POST", "/v1/measurements", [&res](const Request& req, const PathParams&) { return post_measurements(res, req); });
  t.add("GET", "/v1/measurements/:name",
        [&res](const Request& req, const PathParams& p) { return get_measurements_route(res, req, p); });
}

Response post_metrics(Resources& res, const Request& req) {
  actors::Engine& engine = res.engine;
  RejectCounters& rejects = res.rejects;
  auto ct = req.header("content-type");
  auto now = now_seconds();
  CompositeRefusal composites(engine.catalog());
  ParseOutcome out;
  if (is_json(ct)) {
    out = parse_legacy_json(req.body, now, &composites);
  } else if (is_form(ct)) {
    out = parse_legacy_form(req.body, now, &composites);
  } else {
    rejects.bad_content_type.fetch_add(1);
    return request_error(415, "Content-Type must be application/json or application/x-www-form-urlencoded");
  }
  return store(res, req, out, 200, false, now);
}

Response list_metrics(Resources& res, const Request& req) {
  actors::Engine& engine = res.engine;
  RejectCounters& rejects = res.rejects;
  auto params = parse_urlencoded(req.query);
  std::string name;
  std::int64_t offset = 0, length = 100;
  bool desc = false;
  std::vector<ParamError> errors;
  auto parse_int = [&](const std::string& key, const std::string& v, std::int64_t& out, std::int64_t lo,
                       std::int64_t hi) {
    try {
      std::size_t pos = 0;
      long long x = std::stoll(v, &pos);
      if (pos != v.size() || x < lo || x > hi) throw std::out_of_range(key);
      out = x;
    } catch (const std::exception&) {
      errors.push_back({key, "must be an integer between " + std::to_string(lo) + " and " + std::to_string(hi)});
    }
  };
  for (const auto& [k, v] : params) {
    if (k == "name") name = v;
    else if (k == "offset") parse_int(k, v, offset, 0, INT64_MAX);
    else if (k == "length") parse_int(k, v, length, 1, 100);
    else if (k == "orderby") {
      if (v != "name") errors.push_back({k, "the only permissible value is name"});
    } else if (k == "sort") {
      if (v == "desc") desc = true;
      else if (v != "asc") errors.push_back({k, "must be asc or desc"});
    }
  }
  if (!errors.empty()) {
    rejects.bad_query.fetch_add(1);
    return params_error(400, errors);
  }
  auto all = engine.catalog().list();
  std::string needle = metric_key(name);
  std::vector<const MetricInfo*> found;
  for (const auto& m : all)
    if (needle.empty() || metric_key(m.name).find(needle) != std::string::npos) found.push_back(&m);
  if (desc) std::reverse(found.begin(), found.end());
  nlohmann::json metrics = nlohmann::json::array();
  for (std::size_t i = static_cast<std::size_t>(offset);
       i < found.size() && metrics.size() < static_cast<std::size_t>(length); ++i)
    metrics.push_back(metric_json(*found[i]));
  nlohmann::json body = {{"query",
                          {{"found", found.size()},
                           {"length", metrics.size()},
                           {"offset", offset},
                           {"total", all.size()}}},
                         {"metrics", metrics}};
  return Response{200, body.dump(), "application/json", {}};
}

}  // namespace vigil::api::librato
