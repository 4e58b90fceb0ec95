// Custom metrics: POST/GET /v2.1/projects/:project_name/metrics, GET/PATCH/DELETE
// /v2.1/projects/:project_name/metrics/:metric_name, and GET /v2.1/status.
#include <algorithm>
#include <chrono>

#include "actors/engine.hpp"
#include "api/http/body.hpp"
#include "api/ubiops/request.hpp"
#include "api/ubiops/codec.hpp"
#include "api/ubiops/errors.hpp"
#include "api/ubiops/resources.hpp"
#include "engine/meta/catalog.hpp"
#include "engine/meta/doc_store.hpp"
#include "engine/model/limits.hpp"
#include "engine/model/text.hpp"

namespace vigil::api::ubiops {

using nlohmann::json;

namespace {

const std::string kBase = "/v2.1/projects/:project_name/metrics";
constexpr std::size_t kMaxDescription = 400;
constexpr std::size_t kMaxUnit = 32;

// The fields of a MetricCreate / MetricUpdate body; each left unset when absent.
struct Fields {
  std::optional<std::string> name, metric_type;
  bool description_set = false, unit_set = false;
  std::optional<std::string> description, unit;  // null clears
  std::optional<std::vector<std::string>> labels;
};

// Reads the fields of `body` (an object); the first bad one answers.
std::optional<Response> read_fields(const json& body, bool create, Fields& f) {
  if (auto it = body.find("name"); it != body.end() && !(it->is_null() && !create)) {
    if (!it->is_string()) return field_error(400, "name", "must be a string");
    f.name = it->get<std::string>();
    if (auto e = check_metric_name(*f.name); !e.empty()) return field_error(400, "name", e);
  } else if (create) {
    return field_error(400, "name", "is required");
  }
  if (auto it = body.find("metric_type"); it != body.end() && create) {
    if (!it->is_string()) return field_error(400, "metric_type", "must be 'delta' or 'gauge'");
    f.metric_type = it->get<std::string>();
    if (*f.metric_type != "delta" && *f.metric_type != "gauge")
      return field_error(400, "metric_type", "must be 'delta' or 'gauge'");
  } else if (create) {
    return field_error(400, "metric_type", "is required");
  } else if (body.contains("metric_type")) {
    return field_error(400, "metric_type", "cannot be changed");
  }
  auto text = [&](const char* key, std::size_t max, bool& set, std::optional<std::string>& out) -> std::optional<Response> {
    auto it = body.find(key);
    if (it == body.end()) return std::nullopt;
    set = true;
    if (it->is_null()) return std::nullopt;
    if (!it->is_string()) return field_error(400, key, "must be a string or null");
    out = it->get<std::string>();
    if (out->size() > max) return field_error(400, key, "must be at most " + std::to_string(max) + " characters");
    return std::nullopt;
  };
  if (auto e = text("description", kMaxDescription, f.description_set, f.description)) return e;
  if (auto e = text("unit", kMaxUnit, f.unit_set, f.unit)) return e;
  if (auto it = body.find("labels"); it != body.end() && !it->is_null()) {
    if (!it->is_array()) return field_error(400, "labels", "must be a list of strings");
    std::vector<std::string> labels;
    for (const auto& l : *it) {
      if (!l.is_string() || l.get<std::string>().empty()) return field_error(400, "labels", "must be a list of non-empty strings");
      std::string s = l.get<std::string>();
      if (encode_label(s).size() > kMaxTagNameLength) return field_error(400, "labels", "label '" + s + "' is too long");
      if (std::find(labels.begin(), labels.end(), s) != labels.end())
        return field_error(400, "labels", "label '" + s + "' is given twice");
      labels.push_back(std::move(s));
    }
    if (labels.size() > kMaxLabels) return field_error(400, "labels", "at most " + std::to_string(kMaxLabels) + " labels");
    f.labels = std::move(labels);
  }
  return std::nullopt;
}

// The Vigil catalog entry of a metric: its data reads as sums (delta) or means (gauge) through
// the other dialects too, under a display name that carries the UbiOps name.
bool put_catalog(actors::Engine& engine, const MetricDef& m, std::string& err) {
  MetricInfo info;
  if (auto old = engine.catalog().get(m.vigil_name())) info = *old;
  info.name = m.vigil_name();
  info.type = MetricType::gauge;
  info.display_name = m.project + ": " + m.name;
  info.description = m.description.value_or("");
  json attrs = {{"summarize_function", m.metric_type == "delta" ? "sum" : "mean"}};
  if (m.unit) attrs["display_units_long"] = *m.unit;
  info.attributes_json = attrs.dump();
  if (info.created == 0) info.created = m.created_us / 1000000;
  info.updated = m.updated_us / 1000000;
  return engine.catalog().put(info, err);
}

Response storage_failure(const std::string& what, const std::string& err) {
  return error_response(503, what + ": " + err);
}

Response create_metric(Resources& res, const Request& req, const PathParams& p) {
  std::string project = p["project_name"];
  if (auto e = check_project(project, res)) return *e;
  json body;
  if (auto e = read_object_body(req, res, body)) return *e;
  Fields f;
  if (auto e = read_fields(body, true, f)) {
    res.rejects.invalid_items.fetch_add(1);
    return *e;
  }
  std::lock_guard lock(res.write_mu);
  if (find_metric(res.docs, project, *f.name)) return field_error(409, "name", "a metric named '" + *f.name + "' exists");
  std::string err;
  MetricDef m;
  m.id = res.docs.allocate_id("ubiops.metric", err);
  if (m.id == 0) return storage_failure("cannot store the metric", err);
  m.project = project;
  m.name = *f.name;
  m.metric_type = *f.metric_type;
  m.description = f.description;
  m.unit = f.unit;
  m.labels = f.labels.value_or(std::vector<std::string>{});
  m.created_us = m.updated_us = now_micros();
  if (!put_catalog(res.engine, m, err) || !res.docs.put(m.doc_key(), m.doc(), err))
    return storage_failure("cannot store the metric", err);
  return json_answer(201, m.detail());
}

Response list_metrics(Resources& res, const Request& req, const PathParams& p) {
  std::string project = p["project_name"];
  if (auto e = check_project(project, res)) return *e;
  Query q(req);
  std::optional<bool> custom;
  if (auto e = q.boolean("custom", custom, res)) return *e;
  json out = json::array();
  if (custom.value_or(true))
    for (const auto& m : project_metrics(res.docs, project)) out.push_back(m.detail());
  return json_answer(200, out);
}

Response get_metric(Resources& res, const Request& /*req*/, const PathParams& p) {
  std::string project = p["project_name"];
  if (auto e = check_project(project, res)) return *e;
  auto m = find_metric(res.docs, project, p["metric_name"]);
  if (!m) return error_response(404, "metric '" + p["metric_name"] + "' not found");
  return json_answer(200, m->detail());
}

std::optional<Response> check_custom(const std::string& name) {
  if (name.rfind("custom.", 0) != 0) return field_error(400, "metric_name", "only custom metrics can be changed or deleted");
  return std::nullopt;
}

Response update_metric(Resources& res, const Request& req, const PathParams& p) {
  std::string project = p["project_name"];
  if (auto e = check_project(project, res)) return *e;
  if (auto e = check_custom(p["metric_name"])) return *e;
  json body;
  if (auto e = read_object_body(req, res, body)) return *e;
  Fields f;
  if (auto e = read_fields(body, false, f)) {
    res.rejects.invalid_items.fetch_add(1);
    return *e;
  }
  std::lock_guard lock(res.write_mu);
  auto m = find_metric(res.docs, project, p["metric_name"]);
  if (!m) return error_response(404, "metric '" + p["metric_name"] + "' not found");
  if (f.name && *f.name != m->name && find_metric(res.docs, project, *f.name))
    return field_error(409, "name", "a metric named '" + *f.name + "' exists");
  if (f.name) m->name = *f.name;
  if (f.description_set) m->description = f.description;
  if (f.unit_set) m->unit = f.unit;
  if (f.labels) m->labels = *f.labels;
  m->updated_us = now_micros();
  std::string err;
  if (!put_catalog(res.engine, *m, err) || !res.docs.put(m->doc_key(), m->doc(), err))
    return storage_failure("cannot store the metric", err);
  return json_answer(200, m->detail());
}

Response delete_metric(Resources& res, const Request& /*req*/, const PathParams& p) {
  std::string project = p["project_name"];
  if (auto e = check_project(project, res)) return *e;
  if (auto e = check_custom(p["metric_name"])) return *e;
  std::lock_guard lock(res.write_mu);
  auto m = find_metric(res.docs, project, p["metric_name"]);
  if (!m) return error_response(404, "metric '" + p["metric_name"] + "' not found");
  res.engine.sync();  // pending samples of the metric are flushed before its data is deleted
  std::string err;
  Storage::Batch batch;
  batch.del(Cf::meta, Catalog::storage_key(m->vigil_name()));
  std::size_t removed = 0;
  if (!res.engine.series().remove_metric(metric_key(m->vigil_name()), batch, removed, err))
    return storage_failure("cannot delete the metric", err);
  res.engine.catalog().forget(m->vigil_name());
  if (!res.docs.remove(m->doc_key(), err) && !err.empty()) return storage_failure("cannot delete the metric", err);
  return no_content();
}

}  // namespace

std::int64_t now_micros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string MetricDef::doc_key() const { return "ubiops/metric/" + project + "/" + DocStore::pad(id); }

json MetricDef::detail() const {
  json o = json::object();
  o["id"] = id;
  o["name"] = name;
  o["description"] = description ? json(*description) : json(nullptr);
  o["creation_date"] = format_micros(created_us);
  o["last_updated"] = format_micros(updated_us);
  o["custom"] = true;
  o["metric_type"] = metric_type;
  o["unit"] = unit ? json(*unit) : json(nullptr);
  o["labels"] = labels;
  return o;
}

json MetricDef::doc() const {
  json o = detail();
  o["project"] = project;
  o["created_us"] = created_us;
  o["updated_us"] = updated_us;
  return o;
}

std::optional<MetricDef> MetricDef::from_doc(const json& d) {
  try {
    MetricDef m;
    m.id = d.at("id").get<std::uint64_t>();
    m.project = d.at("project").get<std::string>();
    m.name = d.at("name").get<std::string>();
    if (!d.at("description").is_null()) m.description = d["description"].get<std::string>();
    if (!d.at("unit").is_null()) m.unit = d["unit"].get<std::string>();
    m.metric_type = d.at("metric_type").get<std::string>();
    m.labels = d.at("labels").get<std::vector<std::string>>();
    m.created_us = d.at("created_us").get<std::int64_t>();
    m.updated_us = d.at("updated_us").get<std::int64_t>();
    return m;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

std::vector<MetricDef> project_metrics(const DocStore& docs, const std::string& project) {
  std::vector<MetricDef> out;
  for (const auto& [key, doc] : docs.list("ubiops/metric/" + project + "/"))
    if (auto m = MetricDef::from_doc(doc)) out.push_back(std::move(*m));
  return out;
}

std::optional<MetricDef> find_metric(const DocStore& docs, const std::string& project, const std::string& name) {
  for (auto& m : project_metrics(docs, project))
    if (m.name == name) return std::move(m);
  return std::nullopt;
}

void add_metric_routes(RouteTable& t, Resources& res) {
  t.add("GET", "/v2.1/status", [](const Request&, const PathParams&) { return json_answer(200, std::string(R"({"status":"ok"})")); });
  t.add("POST", kBase, [&res](const Request& r, const PathParams& p) { return create_metric(res, r, p); });
  t.add("GET", kBase, [&res](const Request& r, const PathParams& p) { return list_metrics(res, r, p); });
  t.add("GET", kBase + "/:metric_name", [&res](const Request& r, const PathParams& p) { return get_metric(res, r, p); });
  t.add("PATCH", kBase + "/:metric_name",
        [&res](const Request& r, const PathParams& p) { return update_metric(res, r, p); });
  t.add("DELETE", kBase + "/:metric_name",
        [&res](const Request& r, const PathParams& p) { return delete_metric(res, r, p); });
}

}  // namespace vigil::api::ubiops
