// Custom metric definitions: list (GET .../customMetrics), create (POST .../customMetric),
// update (PATCH .../customMetric/:id) and delete (DELETE .../customMetric/:id, with its data
// points). Definitions are DocStore documents (api/deeploy/metric_doc.hpp).
#include <algorithm>

#include "api/deeploy/resources.hpp"
#include "engine/meta/doc_store.hpp"
#include "engine/model/clock.hpp"

namespace vigil::api::deeploy {

namespace {

using nlohmann::json;

const std::string kBase = "/workspaces/:workspace/deployments/:deployment";
constexpr std::size_t kMaxText = 255;

// A field of a definition body: absent, null, or a value.
struct Field {
  bool present = false;  // given and not null
  bool null = false;     // given as null
  const json* value = nullptr;
};

Field field(const json& body, const char* key) {
  Field f;
  auto it = body.find(key);
  if (it == body.end()) return f;
  if (it->is_null()) {
    f.null = true;
    return f;
  }
  f.present = true;
  f.value = &*it;
  return f;
}

// A text field: a string of 1..255 characters (empty allowed when `allow_empty`).
bool text(const Field& f, const char* key, std::optional<std::string>& out, std::string& error) {
  if (!f.present) return true;
  if (!f.value->is_string()) {
    error = std::string(key) + " must be a string";
    return false;
  }
  const auto& s = f.value->get_ref<const std::string&>();
  if (s.empty() || s.size() > kMaxText) {
    error = std::string(key) + " must be 1-255 characters";
    return false;
  }
  out = s;
  return true;
}

// The changes a create or update body asks for. For a create every field not given is absent.
struct Changes {
  std::optional<std::string> name, title_x, title_y, unit_x, unit_y;
  bool null_title_x = false, null_title_y = false, null_unit_x = false, null_unit_y = false;
  std::optional<GraphType> graph;
  std::optional<AggregationMethod> aggregation;
};

// Parses `body` (an object); false with the error and its field.
bool parse_changes(const json& body, Changes& c, std::string& error, std::string& bad_field) {
  auto fail = [&](const char* f) {
    bad_field = f;
    return false;
  };
  Field name = field(body, "name");
  if (name.null) {
    error = "name must be a string";
    return fail("name");
  }
  if (!text(name, "name", c.name, error)) return fail("name");
  Field graph = field(body, "graphType");
  if (graph.null) {
    error = "graphType must be one of line, bar, timeseries";
    return fail("graphType");
  }
  if (graph.present) {
    if (graph.value->is_string())
      c.graph = parse_graph_type(graph.value->get_ref<const std::string&>());
    if (!c.graph) {
      error = "graphType must be one of line, bar, timeseries (got " + graph.value->dump() + ")";
      return fail("graphType");
    }
  }
  Field agg = field(body, "aggregationMethod");
  if (agg.null) c.aggregation = AggregationMethod::average;
  if (agg.present) {
    if (agg.value->is_string())
      c.aggregation = parse_aggregation(agg.value->get_ref<const std::string&>());
    if (!c.aggregation) {
      error =
          "aggregationMethod must be one of average, sum, min, max (got " + agg.value->dump() + ")";
      return fail("aggregationMethod");
    }
  }
  struct Text {
    const char* key;
    std::optional<std::string>* out;
    bool* null;
  } texts[] = {{"titleXAxis", &c.title_x, &c.null_title_x},
               {"titleYAxis", &c.title_y, &c.null_title_y},
               {"unitXAxis", &c.unit_x, &c.null_unit_x},
               {"unitYAxis", &c.unit_y, &c.null_unit_y}};
  for (const auto& t : texts) {
    Field f = field(body, t.key);
    *t.null = f.null;
    if (!text(f, t.key, *t.out, error)) return fail(t.key);
  }
  return true;
}

// The seed's rules on a complete definition: line and bar need titleXAxis; timeseries takes no
// x-axis fields (its x axis is the data points' time). Every metric has a titleYAxis.
bool check_definition(const MetricDoc& m, std::string& error, std::string& bad_field) {
  if (m.graph == GraphType::timeseries) {
    if (m.title_x) {
      error =
          "titleXAxis must not be given for a timeseries metric (its x axis is the data point "
          "time)";
      bad_field = "titleXAxis";
      return false;
    }
    if (m.unit_x) {
      error =
          "unitXAxis must not be given for a timeseries metric (its x axis is the data point time)";
      bad_field = "unitXAxis";
      return false;
    }
  } else if (!m.title_x) {
    error = std::string("titleXAxis is required for a ") + to_string(m.graph) + " metric";
    bad_field = "titleXAxis";
    return false;
  }
  if (!m.title_y) {
    error = "titleYAxis is required";
    bad_field = "titleYAxis";
    return false;
  }
  return true;
}

Response invalid(Resources& res, const std::string& error, const std::string& field) {
  res.rejects.invalid_items.fetch_add(1);
  return error_answer(400, error, field);
}

bool object_body(Resources& res, const Request& req, json& body, Response& err) {
  if (!json_body(res, req, body, err)) return false;
  if (!body.is_object()) {
    res.rejects.bad_body.fetch_add(1);
    err = error_answer(400, "the body must be a JSON object", "body");
    return false;
  }
  return true;
}

Response storage_failure(const std::string& err) {
  return error_answer(500, "storage error: " + err);
}

Response list_metrics(Resources& res, const PathParams& p) {
  std::string ws, dep;
  Response err;
  if (!path_namespace(p, ws, dep, err)) return err;
  const std::vector<MetricDoc> metrics = metrics_of(res.docs, ws, dep);
  json out = json::array();
  for (const auto& m : metrics) out.push_back(api_json(m));
  return json_answer(200, out.dump());
}

Response create_metric(Resources& res, const Request& req, const PathParams& p) {
  std::string ws, dep;
  Response err;
  if (!path_namespace(p, ws, dep, err)) return err;
  json body;
  if (!object_body(res, req, body, err)) return err;
  Changes c;
  std::string error, bad;
  if (!parse_changes(body, c, error, bad)) return invalid(res, error, bad);
  if (!c.name) return invalid(res, "name is required", "name");
  if (!c.graph) return invalid(res, "graphType is required (line, bar or timeseries)", "graphType");
  MetricDoc m;
  m.workspace = ws;
  m.deployment = dep;
  m.name = *c.name;
  m.graph = *c.graph;
  m.aggregation = c.aggregation.value_or(AggregationMethod::average);
  m.title_x = c.title_x;
  m.title_y = c.title_y;
  m.unit_x = c.unit_x;
  m.unit_y = c.unit_y;
  if (!check_definition(m, error, bad)) return invalid(res, error, bad);
  std::lock_guard lock(res.write_mu);
  std::string store_err;
  m.seq = res.docs.allocate_id("deeploy.metric", store_err);
  if (m.seq == 0) return storage_failure(store_err);
  m.id = new_uuid();
  m.created_ms = m.updated_ms = now_millis();
  if (!res.docs.put(doc_key(ws, dep, m.id), to_json(m), store_err))
    return storage_failure(store_err);
  return json_answer(201, api_json(m).dump());
}

Response update_metric(Resources& res, const Request& req, const PathParams& p) {
  std::string ws, dep;
  Response err;
  if (!path_namespace(p, ws, dep, err)) return err;
  json body;
  if (!object_body(res, req, body, err)) return err;
  Changes c;
  std::string error, bad;
  if (!parse_changes(body, c, error, bad)) return invalid(res, error, bad);
  std::lock_guard lock(res.write_mu);
  auto found = find_metric(res, ws, dep, p["id"], err);
  if (!found) return err;
  MetricDoc m = *found;
  if (c.graph && *c.graph != m.graph) {
    bool crosses = (*c.graph == GraphType::timeseries) != (m.graph == GraphType::timeseries);
    if (crosses && (m.has_points() || !m.labels.empty()))
      return error_answer(409,
                          std::string("graphType cannot change from ") + to_string(m.graph) +
                              " to " + to_string(*c.graph) +
                              " while the metric has data points; clear them first",
                          "graphType");
    // Switching to timeseries drops the x-axis fields unless the body sets them (then 400 below).
    if (*c.graph == GraphType::timeseries) m.title_x.reset(), m.unit_x.reset();
    m.graph = *c.graph;
  }
  if (c.name) m.name = *c.name;
  if (c.aggregation) m.aggregation = *c.aggregation;
  if (c.title_x) m.title_x = c.title_x;
  if (c.null_title_x) m.title_x.reset();
  if (c.title_y) m.title_y = c.title_y;
  if (c.null_title_y) m.title_y.reset();
  if (c.unit_x) m.unit_x = c.unit_x;
  if (c.null_unit_x) m.unit_x.reset();
  if (c.unit_y) m.unit_y = c.unit_y;
  if (c.null_unit_y) m.unit_y.reset();
  if (!check_definition(m, error, bad)) return invalid(res, error, bad);
  m.updated_ms = std::max(now_millis(), m.created_ms);
  std::string store_err;
  if (!res.docs.put(doc_key(ws, dep, m.id), to_json(m), store_err))
    return storage_failure(store_err);
  return json_answer(200, api_json(m).dump());
}

Response delete_metric(Resources& res, const PathParams& p) {
  std::string ws, dep;
  Response err;
  if (!path_namespace(p, ws, dep, err)) return err;
  std::lock_guard lock(res.write_mu);
  auto m = find_metric(res, ws, dep, p["id"], err);
  if (!m) return err;
  std::string store_err;
  // Samples first: a failure between the two writes leaves a metric without data points, never
  // data points without their metric.
  if (!drop_samples(res, *m, store_err)) return storage_failure(store_err);
  if (!res.docs.remove(doc_key(ws, dep, m->id), store_err) && !store_err.empty())
    return storage_failure(store_err);
  return no_content();
}

}  // namespace

void add_metric_routes(RouteTable& t, Resources& res) {
  t.add("GET", kBase + "/customMetrics",
        [&res](const Request&, const PathParams& p) { return list_metrics(res, p); });
  t.add("POST", kBase + "/customMetric",
        [&res](const Request& req, const PathParams& p) { return create_metric(res, req, p); });
  t.add("PATCH", kBase + "/customMetric/:id",
        [&res](const Request& req, const PathParams& p) { return update_metric(res, req, p); });
  t.add("DELETE", kBase + "/customMetric/:id",
        [&res](const Request&, const PathParams& p) { return delete_metric(res, p); });
}

}  // namespace vigil::api::deeploy
