// GET /api/metric (build information), GET /api/metric/v1 (metric entities, listMetrics, virtual
// metric time series), GET /api/metric/v1/:id (one entity), and virtual metric time series on the
// other service paths: /api/{service}/v1[/{source}[/{key}]] select service, source and key.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "actors/engine.hpp"
#include "actors/pending_reader.hpp"
#include "api/odsl/routes_common.hpp"
#include "api/odsl/series.hpp"
#include "config/cli.hpp"
#include "engine/encoding/series_key.hpp"
#include "api/http/form.hpp"
#include "engine/meta/catalog.hpp"
#include "engine/model/clock.hpp"
#include "engine/model/time_text.hpp"
#include "engine/model/limits.hpp"
#include "engine/model/text.hpp"

namespace vigil::api::odsl {

namespace {

using nlohmann::json;

constexpr std::int64_t kTimeMax = kSampleTimeMax;
constexpr std::size_t kDefaultLimit = 100;
constexpr std::size_t kMaxLimit = 1000;

json number(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9007199254740992.0)
    return static_cast<std::int64_t>(v);
  return v;
}

// The seed's field names (tags are stored lower-cased) and which of them are numbers.
struct Field {
  const char* name;
  bool integer;
};
constexpr Field kFields[] = {{"action", false},      {"application", false}, {"detail", false},
                             {"duration", true},     {"environment", false}, {"httpstatus", true},
                             {"invocationId", false}, {"method", false},      {"responseSize", true},
                             {"service", false},     {"type", false},        {"user", false}};

// A metric of the catalog as provider and metric: the text before the first dot and the rest.
struct MetricName {
  std::string full, provider, metric;
};
std::optional<MetricName> split_metric(const std::string& full) {
  auto dot = full.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == full.size()) return std::nullopt;
  return MetricName{full, full.substr(0, dot), full.substr(dot + 1)};
}

json entity_json(const MetricName& m, const Tags& tags, std::int64_t t, std::uint64_t sid, std::uint64_t ordinal,
                 const Agg& a) {
  json e = json::object();
  e["_id"] = entity_id(t, sid, ordinal);
  for (const auto& [k, v] : tags) {
    const Field* f = nullptr;
    for (const auto& fd : kFields)
      if (ascii_lower(fd.name) == k) f = &fd;
    if (f && f->integer) {
      std::int64_t n = 0;
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (ec == std::errc() && p == v.data() + v.size()) {
        e[f->name] = n;
        continue;
      }
    }
    e[f ? f->name : k] = v;
  }
  e["provider"] = m.provider;
  e["metric"] = m.metric;
  e["timestamp"] = iso8601_utc(t);
  e["value"] = number(a.count == 1 ? a.last : a.sum);
  if (a.count != 1) e["count"] = number(a.count);
  return e;
}

Response bad(Resources& res, const std::string& p, const std::string& msg) {
  res.rejects.bad_query.fetch_add(1);
  return error_body(400, p + ": " + msg, p);
}

// -- GET /api/metric --------------------------------------------------------------------------------

Response build_info() {
  json b = {{"name", "metric"},
            {"service", "Vigil metric service (OpenDataDSL dialect)"},
            {"version", std::string(config::version())},
            {"buildTime", std::string(__DATE__) + " " + __TIME__}};
  return json_answer(200, b.dump());
}

// -- listMetrics ----------------------------------------------------------------------------------

Response list_metrics(Resources& res, const Params& q) {
  const std::string* p = param(q, "provider");
  if (p == nullptr || p->empty()) return bad(res, "provider", "is required with _function=listMetrics");
  std::string want = ascii_lower(*p);
  std::vector<std::string> names;
  for (const auto& info : res.engine.catalog().list()) {
    auto m = split_metric(info.name);
    if (m && ascii_lower(m->provider) == want) names.push_back(m->metric);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return json_answer(200, json(names).dump());
}

// -- entities -------------------------------------------------------------------------------------

struct Sample {
  std::int64_t t;
  std::uint64_t sid;
  std::uint64_t ordinal;
  std::size_t series;  // index into the candidate series
  Agg agg;
};

Response list_entities(Resources& res, const Params& q, std::int64_t now) {
  Filter filter;
  std::string err;
  if (const std::string* f = param(q, "_filter"); f && !parse_filter(*f, filter, err)) return bad(res, "_filter", err);
  std::size_t limit = kDefaultLimit, skip = 0;
  auto count_param = [&](const char* key, std::size_t lo, std::size_t hi, std::size_t& out) -> bool {
    const std::string* s = param(q, key);
    if (s == nullptr) return true;
    std::size_t v = 0;
    auto [p, ec] = std::from_chars(s->data(), s->data() + s->size(), v);
    if (ec != std::errc() || p != s->data() + s->size() || v < lo || v > hi) {
      err = "must be a whole number from " + std::to_string(lo) + " to " + std::to_string(hi);
      return false;
    }
    out = v;
    return true;
  };
  if (!count_param("_limit", 1, kMaxLimit, limit)) return bad(res, "_limit", err);
  if (!count_param("_skip", 0, 100000000, skip)) return bad(res, "_skip", err);
  std::int64_t from = 0, to = kTimeMax;
  if (const std::string* r = param(q, "_range")) {
    auto range = parse_range(*r, now, err);
    if (!range) return bad(res, "_range", err);
    if (range->kind == Range::since) from = range->from;
    if (range->kind == Range::between || range->kind == Range::within) {
      from = range->from;
      to = range->to;
    }
    if (range->kind == Range::last) {  // the newest n entities
      if (skip >= range->last_n) return json_answer(200, "[]");
      limit = std::min(limit, range->last_n - skip);
    }
  }

  // The candidate series: of every provider metric the filter admits.
  std::vector<MetricName> metrics;
  std::vector<SeriesRef> series;
  std::vector<std::size_t> metric_of;
  if (!filter.nothing) {
    TagFilter tf;
    for (const auto& [n, v] : filter.tags) tf.add(n, v);
    actors::PendingReader lister(res.engine);  // the index only
    for (const auto& info : res.engine.catalog().list()) {
      auto m = split_metric(info.name);
      if (!m || info.type == MetricType::composite) continue;
      if (filter.provider && ascii_lower(m->provider) != *filter.provider) continue;
      if (filter.metric && ascii_lower(m->metric) != *filter.metric) continue;
      auto refs = lister.series_matching(metric_key(m->full), tf);
      if (refs.empty()) continue;
      metrics.push_back(*m);
      for (auto& r : refs) {
        series.push_back(std::move(r));
        metric_of.push_back(metrics.size() - 1);
      }
    }
  }
  json out = json::array();
  if (series.empty()) return json_answer(200, out.dump());
  std::vector<std::uint64_t> ids;
  for (const auto& s : series) ids.push_back(s.id);

  // Samples per UTC day from the daily rollups; then newest day first, whole days inside the range
  // that the skip passes over are counted, not read. The query limits: the candidate series, the
  // deadline (the entities read are bounded by _limit, their days by the data).
  QueryBudget budget = res.engine.queries().begin();
  budget.plan_points(ids.size(), 0);
  actors::PendingReader reader(res.engine, &budget);
  struct Day {
    double count = 0;
    std::vector<std::size_t> series;  // the candidate series with samples that day
  };
  std::map<std::int64_t, Day> per_day;
  reader.read_rollups(ids, 86400, floor_to(from, 86400), to, [&](std::size_t i, std::int64_t t, const Agg& a) {
    if (a.empty()) return;
    Day& d = per_day[t];
    d.count += a.count;
    d.series.push_back(i);
  }, 0);
  if (!reader.status().ok()) return error_body(500, "storage error: " + reader.status().to_string());
  std::size_t passed = 0;  // entities newer than the current day, skipped or shown
  for (auto it = per_day.rbegin(); it != per_day.rend() && out.size() < limit; ++it) {
    const std::int64_t day = it->first;
    const auto n = static_cast<std::size_t>(it->second.count);
    const bool whole = day >= from && day + 86399 <= to;
    if (whole && passed + n <= skip) {
      passed += n;
      continue;
    }
    std::vector<Sample> day_samples;
    const std::int64_t a = std::max(day, from), b = std::min(day + 86399, to);
    std::vector<std::size_t>& with = it->second.series;
    std::sort(with.begin(), with.end());
    with.erase(std::unique(with.begin(), with.end()), with.end());
    for (std::size_t i : with) {
      std::int64_t last_t = std::numeric_limits<std::int64_t>::min();
      std::uint64_t ord = 0;
      reader.read_raw(ids[i], a, b, [&](std::int64_t t, const Agg& g) {
        ord = t == last_t ? ord + 1 : 0;
        last_t = t;
        day_samples.push_back(Sample{t, ids[i], ord, i, g});
      });
    }
    if (!reader.status().ok()) return error_body(500, "storage error: " + reader.status().to_string());
    std::sort(day_samples.begin(), day_samples.end(), [](const Sample& x, const Sample& y) {
      if (x.t != y.t) return x.t > y.t;
      if (x.sid != y.sid) return x.sid > y.sid;
      return x.ordinal > y.ordinal;
    });
    for (const auto& s : day_samples) {
      if (out.size() >= limit) break;
      if (passed++ < skip) continue;
      out.push_back(entity_json(metrics[metric_of[s.series]], series[s.series].tags, s.t, s.sid, s.ordinal, s.agg));
    }
  }
  return json_answer(200, out.dump());
}

Response entity_by_id(Resources& res, const std::string& id) {
  std::int64_t t = 0;
  std::uint64_t sid = 0, ordinal = 0;
  auto not_found = [&] { return error_body(404, "no metric with id '" + id + "'"); };
  if (!parse_entity_id(id, t, sid, ordinal)) return not_found();
  std::string key = res.engine.series().key_of(sid);
  if (key.empty()) return not_found();
  std::string mkey;
  Tags tags;
  if (!enc::parse_series_key(key, mkey, tags)) return not_found();
  auto info = res.engine.catalog().get(mkey);
  if (!info) return not_found();
  auto m = split_metric(info->name);
  if (!m) return not_found();
  actors::PendingReader reader(res.engine);
  std::optional<json> found;
  std::uint64_t ord = 0;
  reader.read_raw(sid, t, t, [&](std::int64_t st, const Agg& a) {
    if (st != t) return;
    if (ord++ == ordinal && !found) found = entity_json(*m, tags, t, sid, ordinal, a);
  });
  if (!reader.status().ok()) return error_body(500, "storage error: " + reader.status().to_string());
  if (!found) return not_found();
  return json_answer(200, found->dump());
}

Response metric_v1(Resources& res, const Request& req) {
  Params q = parse_urlencoded(req.query);
  if (const std::string* fn = param(q, "_function")) {
    if (ascii_lower(*fn) == "listmetrics") return list_metrics(res, q);
    return bad(res, "_function", "unknown function '" + *fn + "' (the metric service has listMetrics)");
  }
  if (param(q, "_metric") != nullptr) return virtual_series(res, req, {});
  return list_entities(res, q, now_seconds());
}

Response service_path(Resources& res, const Request& req, const PathParams& p) {
  std::vector<std::pair<std::string, std::string>> path;
  path.emplace_back("service", p["service"]);
  if (!p["source"].empty()) path.emplace_back("source", p["source"]);
  if (!p["key"].empty()) path.emplace_back("key", p["key"]);
  return virtual_series(res, req, path);
}

}  // namespace

// -- virtual metric time series -------------------------------------------------------------------

Response virtual_series(Resources& res, const Request& req, const std::vector<std::pair<std::string, std::string>>& path) {
  Params q = parse_urlencoded(req.query);
  std::string err;
  const std::string* metric = param(q, "_metric");
  if (metric == nullptr)
    return bad(res, "_metric", "is required: this path serves virtual metric time series (_metric=provider/metric)");
  SeriesSpec spec;
  auto slash = metric->find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == metric->size() ||
      metric->find('/', slash + 1) != std::string::npos || metric->substr(0, slash).find('.') != std::string::npos ||
      !is_plain_name(metric->substr(0, slash) + "." + metric->substr(slash + 1), kMaxMetricNameLength))
    return bad(res, "_metric", "'" + *metric + "' is not provider/metric (e.g. ODSLRequest/ReadRequests)");
  spec.provider = metric->substr(0, slash);
  spec.metric = metric->substr(slash + 1);
  spec.id = *metric;
  const std::string* cal = param(q, "_calendar");
  if (cal == nullptr) return bad(res, "_calendar", "is required (e.g. #PT1H, DAILY)");
  auto c = parse_calendar(*cal);
  if (!c)
    return bad(res, "_calendar",
               "unknown calendar '" + *cal + "' (#PT1M, #PT5M, #PT15M, #PT30M, #PT1H, #PT2H, #PT6H, DAILY, "
                                             "BUSINESS, WEEKLY, MONTHLY)");
  spec.calendar = *c;
  if (const std::string* o = param(q, "_observed")) {
    auto ob = parse_observed(*o);
    if (!ob) return bad(res, "_observed", "unknown '" + *o + "' (summed, averaged, high, low, beginning, end)");
    spec.observed = *ob;
  }
  const std::int64_t now = now_seconds();
  if (const std::string* r = param(q, "_range")) {
    auto range = parse_range(*r, now, err);
    if (!range) return bad(res, "_range", err);
    spec.range = *range;
  }
  if (const std::string* f = param(q, "_filter"); f && !parse_filter(*f, spec.filter, err)) return bad(res, "_filter", err);
  for (const auto& [k, v] : path) spec.filter.add(k, v);
  return evaluate_series(res, spec);
}

void add_metric_routes(RouteTable& t, Resources& res) {
  t.add("GET", "/api/metric", [](const Request&, const PathParams&) { return build_info(); });
  t.add("GET", "/api/metric/v1", [&res](const Request& req, const PathParams&) { return metric_v1(res, req); });
  t.add("GET", "/api/metric/v1/:id",
        [&res](const Request&, const PathParams& p) { return entity_by_id(res, p["id"]); });
  auto svc = [&res](const Request& req, const PathParams& p) { return service_path(res, req, p); };
  t.add("GET", "/api/:service/v1", svc);
  t.add("GET", "/api/:service/v1/:source", svc);
  t.add("GET", "/api/:service/v1/:source/:key", svc);
}

}  // namespace vigil::api::odsl
