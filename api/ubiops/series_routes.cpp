// Time-series data: POST /v2.1/projects/:project_name/time-series/data (create) and
// .../time-series/aggregate, GET .../time-series/data (list), GET .../time-series/search and
// DELETE .../time-series/:time_series_id.
//
// Each value is a sample of its minute (the date floored to the minute) in the series of its
// metric and labels. A minute's value is the sum of its samples (delta) or their mean (gauge).
// Aggregate adds a sample. Create replaces what the minute holds: it writes the one sample that
// brings the minute's sum (delta) or mean (gauge) to the new value, computed from what the minute
// held, under the dialect's write lock, and written with the rest of the request in one ingest
// call (a request is stored whole or not at all).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <iterator>
#include <limits>
#include <map>

#include "actors/engine.hpp"
#include "actors/pending_reader.hpp"
#include "api/http/body.hpp"
#include "api/ubiops/codec.hpp"
#include "api/ubiops/entries.hpp"
#include "api/ubiops/errors.hpp"
#include "api/ubiops/request.hpp"
#include "api/ubiops/resources.hpp"
#include "engine/encoding/series_key.hpp"
#include "engine/model/clock.hpp"
#include "engine/model/limits.hpp"
#include "engine/model/text.hpp"
#include "engine/query/query.hpp"
#include "engine/model/civil.hpp"

namespace vigil::api::ubiops {

using nlohmann::json;

namespace {

const std::string kBase = "/v2.1/projects/:project_name/time-series";
constexpr std::int64_t kPeriods[] = {60, 300, 900, 3600, 7200, 21600, 86400};
// The default aggregation period is the finest one giving at most this many periods.
constexpr std::int64_t kDefaultPeriodBudget = 1440;
constexpr std::int64_t kAggregateMinAgeUs = 120 * 1000000LL;
constexpr std::int64_t kSearchMaxLimit = 100000;

json labels_json(const Labels& labels) {
  json o = json::object();
  for (const auto& [k, v] : labels) o[k] = v;
  return o;
}

std::int64_t ceil_to(std::int64_t t, std::int64_t p) { return -floor_to(-t, p); }

std::optional<Response> bad_item(Resources& res, const std::string& field, const std::string& message) {
  res.rejects.invalid_items.fetch_add(1);
  return field_error(400, field, message);
}

// The stored series of `name` with exactly `tags`, or 0.
std::uint64_t find_series(actors::PendingReader& reader, const std::string& key, const Tags& tags) {
  TagFilter f;
  for (const auto& [k, v] : tags) f.add(k, v);
  for (const auto& r : reader.series_matching(key, f))
    if (r.tags == tags) return r.id;
  return 0;
}

Response write_data(Resources& res, const Request& req, const PathParams& p, bool aggregate) {
  const std::string project = p["project_name"];
  if (auto e = check_project(project, res)) return *e;
  json body;
  if (auto e = read_body(req, res, body, false)) return *e;
  if (!body.is_array() && !body.is_object()) {
    res.rejects.bad_body.fetch_add(1);
    return field_error(400, "body", "must be a list of {metric, labels, data}");
  }
  std::lock_guard lock(res.write_mu);
  const std::vector<MetricDef> defs = project_metrics(res.docs, project);
  std::vector<Entry> entries;
  if (auto e = parse_entries(body, defs, aggregate, now_micros() - kAggregateMinAgeUs, res.max_batch_samples, entries)) {
    (e->status == 413 ? res.rejects.too_large : res.rejects.invalid_items).fetch_add(1);
    return field_error(e->status, e->field, e->message);
  }

  std::vector<Measurement> ms;
  auto add = [&](const Entry& e, std::int64_t minute, double v) {
    Measurement m;
    m.name = defs[e.def].vigil_name();
    m.tags = e.tags;
    m.time = minute;
    m.agg = Agg::of_value(v, minute);
    ms.push_back(std::move(m));
  };
  if (aggregate) {
    for (const auto& e : entries)
      for (const auto& [minute, v] : e.points) add(e, minute, v);
  } else {
    // The new value of each (series, minute): the last one the request gives.
    std::map<std::pair<std::string, Tags>, std::pair<const Entry*, std::map<std::int64_t, double>>> series;
    for (const auto& e : entries) {
      auto& s = series[{defs[e.def].vigil_name(), e.tags}];
      s.first = &e;
      for (const auto& [minute, v] : e.points) s.second[minute] = v;
    }
    actors::PendingReader reader(res.engine);
    for (auto& [key, s] : series) {
      const Entry& e = *s.first;
      auto& minutes = s.second;
      if (minutes.empty()) continue;
      std::map<std::int64_t, Agg> held;
      if (std::uint64_t id = find_series(reader, metric_key(key.first), key.second)) {
        reader.read_rollups({id}, 60, minutes.begin()->first, minutes.rbegin()->first,
                            [&](std::size_t, std::int64_t t, const Agg& a) {
                              if (minutes.count(t)) held[t].merge(a);
                            });
      }
      const bool delta = defs[e.def].metric_type == "delta";
      for (const auto& [minute, v] : minutes) {
        double x = v;
        auto h = held.find(minute);
        if (h != held.end() && !h->second.empty())
          x = delta ? v - h->second.sum : v * (h->second.count + 1) - h->second.sum;
        if (check_float(x) != FloatCheck::ok)
          return *bad_item(res, "data", "a value out of range once combined with what its minute holds");
        add(e, minute, x);
      }
    }
    if (!reader.status().ok()) return error_response(503, "storage error: " + reader.status().to_string());
  }
  if (!ms.empty()) {
    auto r = res.engine.ingest(ms, now_seconds());
    if (!r.refused_series.empty())  // a series limit: nothing of the request is stored
      return error_response(400, "the data was not stored: " +
                                     res.engine.refusal_text(ms[r.refused_series.front().index], r.refused_series.front()));
    if (!r.ok) {
      if (r.no_space) return error_response(507, "insufficient storage, nothing was stored: " + r.error);
      Response busy = error_response(503, "cannot store the data: " + r.error);
      if (r.busy) busy.headers.emplace_back("Retry-After", "1");
      return busy;
    }
  }
  json out = json::array();
  for (const auto& e : entries) {
    json data = json::array();
    for (const auto& [minute, v] : e.points) data.push_back({{"date", format_seconds(minute)}, {"value", v}});
    out.push_back({{"metric", defs[e.def].name}, {"labels", labels_json(e.labels)}, {"data", std::move(data)}});
  }
  return json_answer(aggregate ? 200 : 201, out);
}

std::optional<Response> label_filter(const Query& q, Resources& res, Labels& labels, TagFilter& filter) {
  const std::string* text = q.get("labels");
  if (text == nullptr) return std::nullopt;
  if (auto err = parse_label_filter(*text, labels); !err.empty()) return query_error(res, "labels", err);
  for (const auto& [k, v] : labels) filter.add(encode_label(k), encode_label(v));
  std::sort(labels.begin(), labels.end());
  return std::nullopt;
}

Response list_data(Resources& res, const Request& req, const PathParams& p) {
  const std::string project = p["project_name"];
  if (auto e = check_project(project, res)) return *e;
  Query q(req);
  const std::string* metric = q.get("metric");
  if (metric == nullptr || metric->empty()) return query_error(res, "metric", "is required");
  std::optional<std::int64_t> dates[2];
  const char* names[2] = {"start_date", "end_date"};
  for (int i = 0; i < 2; ++i) {
    const std::string* s = q.get(names[i]);
    if (s == nullptr) return query_error(res, names[i], "is required");
    dates[i] = parse_date(*s);
    // An offset's '+' sent unescaped in a query string arrives as a space.
    if (!dates[i] && s->size() > 19 && (*s)[s->size() - 6] == ' ') {
      std::string fixed = *s;
      fixed[fixed.size() - 6] = '+';
      dates[i] = parse_date(fixed);
    }
    if (!dates[i]) return query_error(res, names[i], "is not an ISO 8601 date: '" + *s + "'");
  }
  if (*dates[1] <= *dates[0]) return query_error(res, "end_date", "must be after start_date");
  std::optional<std::int64_t> period, unit_period;
  if (auto e = q.integer("aggregation_period", 1, 86400, period, res)) return *e;
  if (period && std::find(std::begin(kPeriods), std::end(kPeriods), *period) == std::end(kPeriods))
    return query_error(res, "aggregation_period", "must be one of 60, 300, 900, 3600, 7200, 21600, 86400");
  if (auto e = q.integer("unit_period", 1, 86400 * 366, unit_period, res)) return *e;
  Labels labels;
  TagFilter filter;
  if (auto e = label_filter(q, res, labels, filter)) return *e;
  auto def = find_metric(res.docs, project, *metric);
  if (!def) return field_error(404, "metric", "metric '" + *metric + "' not found");

  const std::int64_t start = floor_div(*dates[0], 1000000);
  const std::int64_t end = -floor_div(-*dates[1], 1000000);  // seconds, rounded up
  if (!period) {
    period = kPeriods[std::size(kPeriods) - 1];
    for (std::int64_t c : kPeriods)
      if ((ceil_to(end, c) - floor_to(start, c)) / c <= kDefaultPeriodBudget) {
        period = c;
        break;
      }
  }
  const std::int64_t P = *period;
  const std::int64_t s0 = floor_to(start, P), e0 = ceil_to(end, P);
  if (static_cast<std::size_t>((e0 - s0) / P) > res.max_points)
    return query_error(res, "aggregation_period",
                       "the range holds more than " + std::to_string(res.max_points) + " periods of " +
                           std::to_string(P) + " s");

  QueryBudget budget = res.engine.queries().begin();  // the query limits (engine/query/budget.hpp)
  actors::PendingReader reader(res.engine, &budget);
  std::vector<std::uint64_t> ids;
  for (const auto& r : reader.series_matching(metric_key(def->vigil_name()), filter)) ids.push_back(r.id);
  // period start -> (sum of values, number of values)
  std::map<std::int64_t, std::pair<double, double>> periods;
  // The stored buckets read, before reading them.
  budget.plan(ids.size(), def->metric_type == "delta" ? choose_rollup(P) : 60, s0, e0 - 1);
  if (!ids.empty()) {
    if (def->metric_type == "delta") {
      reader.read_rollups(ids, choose_rollup(P), s0, e0 - 1, [&](std::size_t, std::int64_t t, const Agg& a) {
        if (a.empty()) return;
        auto& acc = periods[floor_to(t, P)];
        acc.first += a.sum;
        acc.second += 1;
      }, 0);
    } else {
      reader.read_rollups(ids, 60, s0, e0 - 1, [&](std::size_t, std::int64_t t, const Agg& a) {
        if (a.empty()) return;
        auto& acc = periods[floor_to(t, P)];
        acc.first += a.mean();
        acc.second += 1;
      }, 0);
    }
  }
  if (!reader.status().ok()) return error_response(503, "storage error: " + reader.status().to_string());
  json points = json::array();
  const bool delta = def->metric_type == "delta";
  for (const auto& [t, acc] : periods) {
    double v = delta ? acc.first : acc.first / acc.second;
    points.push_back({{"start_date", format_seconds(t)}, {"end_date", format_seconds(t + P)}, {"value", v}});
  }
  json out = json::object();
  out["metric"] = def->name;
  out["metric_type"] = def->metric_type;
  out["unit"] = def->unit ? json(*def->unit) : json(nullptr);
  out["start_date"] = format_seconds(s0);
  out["end_date"] = format_seconds(e0);
  out["aggregation_period"] = P;
  out["labels"] = labels_json(labels);
  out["data_points"] = std::move(points);
  return json_answer(200, out);
}

Response search(Resources& res, const Request& req, const PathParams& p) {
  const std::string project = p["project_name"];
  if (auto e = check_project(project, res)) return *e;
  Query q(req);
  std::optional<bool> custom, exact;
  std::optional<std::int64_t> limit, offset;
  if (auto e = q.boolean("custom", custom, res)) return *e;
  if (auto e = q.boolean("exact_match", exact, res)) return *e;
  if (auto e = q.integer("limit", 0, kSearchMaxLimit, limit, res)) return *e;
  if (auto e = q.integer("offset", 0, std::numeric_limits<std::int64_t>::max(), offset, res)) return *e;
  Labels labels;
  TagFilter filter;
  if (auto e = label_filter(q, res, labels, filter)) return *e;
  const std::string* metric = q.get("metric");
  struct Found {
    std::uint64_t id;
    const MetricDef* def;
    Labels labels;
  };
  std::vector<Found> found;
  const std::vector<MetricDef> defs = project_metrics(res.docs, project);
  if (custom.value_or(true)) {
    for (const auto& d : defs) {
      if (metric != nullptr && !metric->empty() && d.name != *metric) continue;
      res.engine.series().visit(metric_key(d.vigil_name()), filter, [&](const SeriesEntry& e) {
        Labels l;
        if (!tags_to_labels(e.tags, l)) return;
        if (exact.value_or(false) && l != labels) return;
        found.push_back({e.id, &d, std::move(l)});
      });
    }
  }
  std::sort(found.begin(), found.end(), [](const Found& a, const Found& b) { return a.id < b.id; });
  json out = json::array();
  const auto from = static_cast<std::size_t>(std::min<std::int64_t>(offset.value_or(0), static_cast<std::int64_t>(found.size())));
  const auto n = static_cast<std::size_t>(limit.value_or(500));
  for (std::size_t i = from; i < found.size() && i - from < n; ++i)
    out.push_back({{"id", found[i].id},
                   {"metric", found[i].def->name},
                   {"labels", labels_json(found[i].labels)},
                   {"resolution", 60}});
  return json_answer(200, out);
}

Response delete_series(Resources& res, const Request& /*req*/, const PathParams& p) {
  const std::string project = p["project_name"];
  if (auto e = check_project(project, res)) return *e;
  const std::string& text = p["time_series_id"];
  std::uint64_t id = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size())
    return query_error(res, "time_series_id", "must be the integer id of a time series");
  auto not_found = [&] { return error_response(404, "time series " + text + " not found"); };
  std::lock_guard lock(res.write_mu);
  std::string key = res.engine.series().key_of(id);
  std::string metric;
  Tags tags;
  if (key.empty() || !enc::parse_series_key(key, metric, tags)) return not_found();
  const std::string prefix = "ubiops." + project + ".";
  if (metric.compare(0, prefix.size(), prefix) != 0) return not_found();
  res.engine.sync();  // pending samples of the series are flushed before its data is deleted
  Storage::Batch batch;
  bool removed = false;
  std::string err;
  if (!res.engine.series().remove_series(id, batch, removed, err))
    return error_response(503, "cannot delete the time series: " + err);
  if (!removed) return not_found();
  return no_content();
}

}  // namespace

void add_series_routes(RouteTable& t, Resources& res) {
  t.add("POST", kBase + "/data", [&res](const Request& r, const PathParams& p) { return write_data(res, r, p, false); });
  t.add("GET", kBase + "/data", [&res](const Request& r, const PathParams& p) { return list_data(res, r, p); });
  t.add("POST", kBase + "/aggregate",
        [&res](const Request& r, const PathParams& p) { return write_data(res, r, p, true); });
  t.add("GET", kBase + "/search", [&res](const Request& r, const PathParams& p) { return search(res, r, p); });
  t.add("DELETE", kBase + "/:time_series_id",
        [&res](const Request& r, const PathParams& p) { return delete_series(res, r, p); });
}

}  // namespace vigil::api::ubiops
