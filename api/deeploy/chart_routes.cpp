// Chart data: GET .../customMetricsChartData, every custom metric of a deployment with its data
// points binned by the metric's aggregationMethod — per x label for line and bar (labels in the
// order of their first data point), per time bin for timeseries (the bin width from the span of
// the points, times.hpp's choose_bin). Read from the engine's rollups through PendingReader, so
// the answer includes every data point acknowledged before it.
#include <algorithm>
#include <map>
#include <unordered_map>

#include "actors/engine.hpp"
#include "actors/pending_reader.hpp"
#include "api/deeploy/resources.hpp"
#include "api/deeploy/times.hpp"
#include "engine/meta/doc_store.hpp"

namespace vigil::api::deeploy {

namespace {

using nlohmann::json;

double value_of(const Agg& a, AggregationMethod m) {
  switch (m) {
    case AggregationMethod::sum:
      return a.sum;
    case AggregationMethod::min:
      return a.min;
    case AggregationMethod::max:
      return a.max;
    default:
      return a.mean();
  }
}

// The graph data of one metric; false with the storage error.
// Its reads charge `budget`, the request's (a query limit throws QueryRefused).
bool graph_data(Resources& res, const MetricDoc& m, QueryBudget& budget, json& out, Status& err) {
  out = api_json(m);
  json data = json::array(), labels = json::array();
  Agg total;
  if (m.has_points()) {
    actors::PendingReader reader(res.engine, &budget);
    const Tags base = series_tags(m, std::nullopt);
    const bool timeseries = m.graph == GraphType::timeseries;
    // The series of this metric's data points (samples written under other tags are not its own).
    std::unordered_map<std::string, std::size_t> label_pos;
    for (std::size_t i = 0; i < m.labels.size(); ++i)
      label_pos.emplace(std::to_string(m.labels[i].tag), i);
    std::vector<std::uint64_t> ids;
    std::vector<std::size_t> pos;  // line and bar: the label of each id
    for (const auto& s : reader.series_of(metric_key(vigil_metric(m)))) {
      if (timeseries) {
        if (s.tags == base) ids.push_back(s.id), pos.push_back(0);
        continue;
      }
      const std::string* x = find_tag(s.tags, "x");
      if (!x || s.tags.size() != base.size() + 1) continue;
      auto it = label_pos.find(*x);
      if (it == label_pos.end() || series_tags(m, m.labels[it->second].tag) != s.tags) continue;
      ids.push_back(s.id);
      pos.push_back(it->second);
    }
    if (timeseries) {
      const std::int64_t bin = choose_bin(*m.first_time, *m.last_time);
      std::map<std::int64_t, Agg> bins;
      budget.plan(ids.size(), bin, floor_to(*m.first_time, bin), *m.last_time);
      reader.read_rollups(ids, bin, floor_to(*m.first_time, bin), *m.last_time,
                          [&](std::size_t, std::int64_t t, const Agg& a) { bins[t].merge(a); });
      for (const auto& [t, a] : bins) {
        if (a.empty()) continue;
        labels.push_back(iso_seconds(t));
        data.push_back(value_of(a, m.aggregation));
        total.merge(a);
      }
    } else {
      std::vector<Agg> per_label(m.labels.size());
      const std::int64_t day = 86400;
      budget.plan(ids.size(), day, floor_to(*m.first_time, day), *m.last_time);
      reader.read_rollups(
          ids, day, floor_to(*m.first_time, day), *m.last_time,
          [&](std::size_t i, std::int64_t, const Agg& a) { per_label[pos[i]].merge(a); });
      for (std::size_t i = 0; i < per_label.size(); ++i) {
        if (per_label[i].empty()) continue;  // a label whose data points were never stored
        labels.push_back(m.labels[i].value);
        data.push_back(value_of(per_label[i], m.aggregation));
        total.merge(per_label[i]);
      }
    }
    if (!reader.status().ok()) {
      err = reader.status();
      return false;
    }
  }
  out["average"] = total.mean();
  out["data"] = std::move(data);
  out["labels"] = std::move(labels);
  return true;
}

Response chart_data(Resources& res, const PathParams& p) {
  std::string ws, dep;
  Response err;
  if (!path_namespace(p, ws, dep, err)) return err;
  const std::vector<MetricDoc> metrics = metrics_of(res.docs, ws, dep);
  json out = json::array();
  // One budget for the request: every metric's chart charges it (engine/query/budget.hpp).
  QueryBudget budget = res.engine.queries().begin();
  for (const auto& m : metrics) {
    json g;
    Status st;
    // Corruption and I/O errors are the server's fault; the other kinds may pass (as on /v1).
    if (!graph_data(res, m, budget, g, st))
      return error_answer(st.is_corruption() || st.is_io_error() ? 500 : 503,
                          "storage error: " + st.to_string());
    out.push_back(std::move(g));
  }
  return json_answer(200, out.dump());
}

}  // namespace

void add_chart_routes(RouteTable& t, Resources& res) {
  t.add("GET", "/workspaces/:workspace/deployments/:deployment/customMetricsChartData",
        [&res](const Request&, const PathParams& p) { return chart_data(res, p); });
}

}  // namespace vigil::api::deeploy
