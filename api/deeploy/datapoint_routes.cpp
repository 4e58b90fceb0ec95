// Data points: POST .../customMetric/:id/dataPoints (a JSON list, applied whole or not at all)
// and DELETE .../customMetric/:id/dataPoints (clears them). Each data point is one engine sample
// (api/deeploy/metric_doc.hpp has the mapping); a line or bar point is stored at the time it was
// received, a timeseries point at its xValue.
#include <unordered_map>

#include "actors/engine.hpp"
#include "api/deeploy/points.hpp"
#include "api/deeploy/resources.hpp"
#include "api/deeploy/times.hpp"
#include "api/http/form.hpp"
#include "engine/meta/doc_store.hpp"
#include "engine/model/clock.hpp"
#include "engine/model/limits.hpp"
#include "engine/model/text.hpp"

namespace vigil::api::deeploy {

namespace {

using nlohmann::json;

const std::string kBase =
    "/workspaces/:workspace/deployments/:deployment/customMetric/:id/dataPoints";
constexpr std::size_t kMaxLabels = 1000;

Response invalid(Resources& res, const std::string& error, const std::string& field) {
  res.rejects.invalid_items.fetch_add(1);
  return error_answer(400, error, field);
}

Response push(Resources& res, const Request& req, const PathParams& pp) {
  std::string ws, dep;
  Response err;
  if (!path_namespace(pp, ws, dep, err)) return err;
  TimeZone tz = TimeZone::utc();
  for (const auto& [k, v] : parse_urlencoded(req.query)) {
    if (k != "timezone") continue;
    auto found = TimeZone::find(v);
    if (!found) {
      res.rejects.bad_query.fetch_add(1);
      return error_answer(
          400,
          "timezone must be UTC, an offset such as +02:00, or an IANA zone name such as "
          "Europe/Amsterdam (got \"" +
              v + "\")",
          "timezone");
    }
    tz = *found;
  }
  json body;
  if (!json_body(res, req, body, err)) return err;
  if (!body.is_array()) {
    res.rejects.bad_body.fetch_add(1);
    return error_answer(400, "the body must be a JSON list of data points", "body");
  }
  if (body.size() > res.max_batch_samples) {
    res.rejects.too_large.fetch_add(1);
    return error_answer(
        413, "at most " + std::to_string(res.max_batch_samples) + " data points per request",
        "body");
  }
  std::lock_guard lock(res.write_mu);
  auto found = find_metric(res, ws, dep, pp["id"], err);
  if (!found) return err;
  const MetricDoc before = *found;
  MetricDoc m = before;
  const std::int64_t now_ms = now_millis();
  const std::int64_t now_s = now_ms / 1000;
  std::vector<Point> points(body.size());
  std::unordered_map<std::string, std::uint64_t> labels;
  for (const auto& l : m.labels) labels.emplace(label_key(l.value), l.tag);
  std::string error, bad;
  for (std::size_t i = 0; i < body.size(); ++i) {
    Point& p = points[i];
    const std::string at = "[" + std::to_string(i) + "]";
    if (!parse_point(body[i], at, m.graph, tz, p, error, bad)) return invalid(res, error, bad);
    if (m.graph != GraphType::timeseries) {
      p.time = now_s;
      auto [it, added] = labels.emplace(label_key(p.x), m.next_label);
      if (added) {
        if (m.labels.size() >= kMaxLabels)
          return invalid(res, at + ".xValue: a metric has at most 1000 distinct x labels",
                         at + ".xValue");
        m.labels.push_back({p.x, m.next_label++});
      }
      p.label = it->second;
    }
    if (!m.first_time || p.time < *m.first_time) m.first_time = p.time;
    if (!m.last_time || p.time > *m.last_time) m.last_time = p.time;
  }
  if (!points.empty()) {
    std::vector<Measurement> ms(points.size());
    const std::string name = vigil_metric(m);
    for (std::size_t i = 0; i < points.size(); ++i) {
      ms[i].name = name;
      ms[i].tags = series_tags(m, m.graph == GraphType::timeseries
                                      ? std::nullopt
                                      : std::optional<std::uint64_t>(points[i].label));
      ms[i].time = points[i].time;
      ms[i].agg = Agg::of_value(points[i].y, points[i].time);
    }
    // The document first: a sample is never stored under a label tag the document does not know.
    std::string store_err;
    if (!res.docs.put(doc_key(ws, dep, m.id), to_json(m), store_err))
      return error_answer(500, "storage error: " + store_err);
    auto r = res.engine.ingest(ms, now_s);
    if (!r.ok) {
      std::string undo_err;
      res.docs.put(doc_key(ws, dep, m.id), to_json(before), undo_err);
      if (!r.refused_series.empty())  // a series limit: nothing of the request is stored
        return error_answer(400, "the data points were not stored: " +
                                     res.engine.refusal_text(ms[r.refused_series.front().index], r.refused_series.front()));
      if (r.no_space) return error_answer(507, "insufficient storage: the data points were not stored: " + r.error);
      Response busy = error_answer(503, "the data points were not stored: " + r.error);
      if (r.busy) busy.headers.emplace_back("Retry-After", "1");
      return busy;
    }
  }
  json out = json::array();
  const std::string created = iso_millis(now_ms);
  for (auto& p : points)
    out.push_back({{"id", new_uuid()},
                   {"customMetricId", m.id},
                   {"xValue", std::move(p.x)},
                   {"yValue", p.y},
                   {"predictionLogIds", std::move(p.prediction_log_ids)},
                   {"createdAt", created},
                   {"updatedAt", created}});
  return json_answer(201, out.dump());
}

Response clear(Resources& res, const PathParams& pp) {
  std::string ws, dep;
  Response err;
  if (!path_namespace(pp, ws, dep, err)) return err;
  std::lock_guard lock(res.write_mu);
  auto found = find_metric(res, ws, dep, pp["id"], err);
  if (!found) return err;
  MetricDoc m = *found;
  std::string store_err;
  if (!drop_samples(res, m, store_err)) return error_answer(500, "storage error: " + store_err);
  m.labels.clear();  // next_label stays: label tags are never reused
  m.first_time.reset();
  m.last_time.reset();
  if (!res.docs.put(doc_key(ws, dep, m.id), to_json(m), store_err))
    return error_answer(500, "storage error: " + store_err);
  return no_content();
}

}  // namespace

void add_datapoint_routes(RouteTable& t, Resources& res) {
  t.add("POST", kBase,
        [&res](const Request& req, const PathParams& p) { return push(res, req, p); });
  t.add("DELETE", kBase, [&res](const Request&, const PathParams& p) { return clear(res, p); });
}

}  // namespace vigil::api::deeploy
