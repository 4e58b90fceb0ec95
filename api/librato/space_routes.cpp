// /v1/spaces and /v1/spaces/:id/charts. Spaces are documents `space/<id>`, their charts
// `space/<id>/chart/<chart id>` (deleting a space deletes its charts).
#include <algorithm>
#include <set>

#include "actors/engine.hpp"
#include "api/librato/params.hpp"
#include "api/librato/resources.hpp"
#include "engine/meta/doc_store.hpp"

namespace vigil::api::librato {

namespace {

using nlohmann::json;

std::string space_key(std::uint64_t id) { return "space/" + DocStore::pad(id); }
std::string chart_prefix(std::uint64_t sid) { return space_key(sid) + "/chart/"; }
std::string chart_key(std::uint64_t sid, std::uint64_t cid) { return chart_prefix(sid) + DocStore::pad(cid); }

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A resource id: decimal, never 0.
bool parse_u64(const std::string& s, std::uint64_t& id) { return parse_id(s, id) && id > 0; }

std::vector<json> spaces(DocStore& docs) {
  std::vector<json> out;
  for (auto& [k, doc] : docs.list("space/"))
    if (k.find('/', 6) == std::string::npos) out.push_back(doc);
  return out;
}

std::optional<double> number(const json& v, bool& bad) {
  if (v.is_null()) return std::nullopt;
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty()) return std::nullopt;
    try {
      std::size_t pos = 0;
      double d = std::stod(s, &pos);
      if (pos == s.size()) return d;
    } catch (const std::exception&) {
    }
  }
  bad = true;
  return std::nullopt;
}

json num_json(double d) {
  return d == static_cast<double>(static_cast<std::int64_t>(d)) ? json(static_cast<std::int64_t>(d)) : json(d);
}

const std::set<std::string> kGroup = {"average", "sum", "min", "max", "breakout"};
const std::set<std::string> kSummary = {"max", "min", "average", "sum", "count", "derivative"};
const std::set<std::string> kDownsample = {"max", "min", "average", "sum", "count"};

// One stream of a chart: metric (+ source or tags) or composite, and display properties.
bool parse_stream(actors::Engine& engine, DocStore& docs, const json& in, json& s, const std::string& at,
                  const std::set<std::uint64_t>& kept_ids, std::vector<ParamError>& errors) {
  if (!in.is_object()) {
    errors.push_back({at, "must be an object"});
    return false;
  }
  std::size_t before = errors.size();
  bool bad = false;
  auto metric = get_string(in, "metric", bad);
  auto composite = get_string(in, "composite", bad);
  auto source = get_string(in, "source", bad);
  if (bad) errors.push_back({at, "metric, composite and source must be strings"});
  s = json::object();
  if (composite) {
    if (metric || source || in.contains("group_function"))
      errors.push_back({at + ".composite", "cannot be combined with metric, source or group_function"});
    std::string perr;
    if (!composite::parse(*composite, perr)) errors.push_back({at + ".composite", perr});
    s["composite"] = *composite;
    s["type"] = "composite";
  } else if (metric && !metric->empty()) {
    s["metric"] = *metric;
    auto info = engine.catalog().get(*metric);
    s["type"] = info ? to_string(info->type) : "gauge";
    if (source) s["source"] = *source;
    if (in.contains("tags")) {
      const json& tags = in["tags"];
      bool ok = tags.is_array();
      if (ok)
        for (const auto& t : tags) ok = ok && t.is_object() && t.contains("name") && t["name"].is_string();
      if (!ok) errors.push_back({at + ".tags", "must be a list of {name, values}"});
      else s["tags"] = tags;
    }
    if (source && in.contains("tags")) errors.push_back({at + ".tags", "cannot be combined with source"});
  } else {
    errors.push_back({at + ".metric", "a metric or a composite is required"});
  }
  auto one_of = [&](const char* key, const std::set<std::string>& allowed) {
    bool b = false;
    auto v = get_string(in, key, b);
    if (b || (v && !allowed.count(*v))) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      errors.push_back({at + "." + key, "must be one of " + list});
    } else if (v) {
      s[key] = *v;
    }
  };
  one_of("group_function", kGroup);
  one_of("summary_function", kSummary);
  one_of("downsample_function", kDownsample);
  bad = false;
  auto color = get_string(in, "color", bad);
  if (bad || (color && (color->size() != 7 || (*color)[0] != '#' ||
                        !std::all_of(color->begin() + 1, color->end(), [](unsigned char c) { return std::isxdigit(c); }))))
    errors.push_back({at + ".color", "must be a color like #52D74C"});
  else if (color) s["color"] = *color;
  for (const char* k : {"name", "units_short", "units_long", "transform_function"}) {
    bad = false;
    auto v = get_string(in, k, bad);
    if (bad) errors.push_back({at + "." + k, "must be a string"});
    else if (v) s[k] = *v;
  }
  for (const char* k : {"min", "max"}) {
    if (!in.contains(k)) continue;
    bad = false;
    auto v = number(in[k], bad);
    if (bad) errors.push_back({at + "." + k, "must be a number"});
    else if (v) s[k] = num_json(*v);
  }
  bad = false;
  auto period = get_int(in, "period", bad);
  if (bad || (period && *period <= 0)) errors.push_back({at + ".period", "must be a positive integer"});
  else if (period) s["period"] = *period;
  if (errors.size() != before) return false;
  // A stream sent with the id of one of the chart's streams keeps it (a client's PUT of the chart
  // it read); any other stream gets a new id.
  if (in.contains("id") && in["id"].is_number_unsigned() && kept_ids.count(in["id"].get<std::uint64_t>())) {
    s["id"] = in["id"];
    return true;
  }
  std::string e;
  s["id"] = docs.allocate_id("stream", e);
  return true;
}

// Chart fields from a body; `create` requires name and streams.
void parse_chart(actors::Engine& engine, DocStore& docs, const json& body, json& chart, bool create,
                 std::vector<ParamError>& errors) {
  bool bad = false;
  auto name = get_string(body, "name", bad);
  if (bad || (name && name->empty()) || (create && !name)) errors.push_back({"name", "is required"});
  else if (name) chart["name"] = *name;
  bad = false;
  auto type = get_string(body, "type", bad);
  if (bad || (type && *type != "line" && *type != "stacked" && *type != "bignumber"))
    errors.push_back({"type", "must be line, stacked or bignumber"});
  else if (type) chart["type"] = *type;
  for (const char* k : {"min", "max"}) {
    if (!body.contains(k)) continue;
    bad = false;
    auto v = number(body[k], bad);
    if (bad) errors.push_back({k, "must be a number"});
    else chart[k] = v ? num_json(*v) : json(nullptr);
  }
  bad = false;
  auto label = get_string(body, "label", bad);
  if (bad) errors.push_back({"label", "must be a string"});
  else if (body.contains("label")) chart["label"] = label ? json(*label) : json(nullptr);
  bad = false;
  auto related = get_int(body, "related_space", bad);
  if (bad) errors.push_back({"related_space", "must be a space id"});
  else if (body.contains("related_space")) chart["related_space"] = related ? json(*related) : json(nullptr);
  for (const char* k : {"use_last_value", "use_log_yaxis", "split_axis"}) {
    if (!body.contains(k)) continue;
    bad = false;
    auto v = get_bool(body, k, bad);
    if (bad) errors.push_back({k, "must be true or false"});
    else chart[k] = v ? json(*v) : json(nullptr);
  }
  if (body.contains("streams")) {
    const json& in = body["streams"];
    if (!in.is_array() || in.empty()) {
      errors.push_back({"streams", "must be a non-empty list of streams"});
    } else {
      std::set<std::uint64_t> kept_ids;
      if (chart.contains("streams") && chart["streams"].is_array())
        for (const auto& old : chart["streams"])
          if (old.contains("id") && old["id"].is_number_unsigned()) kept_ids.insert(old["id"].get<std::uint64_t>());
      json streams = json::array();
      for (std::size_t i = 0; i < in.size(); ++i) {
        json s;
        if (parse_stream(engine, docs, in[i], s, "streams[" + std::to_string(i) + "]", kept_ids, errors))
          streams.push_back(s);
      }
      chart["streams"] = streams;
    }
  } else if (create) {
    errors.push_back({"streams", "is required"});
  }
}

Response not_found(const std::string& what) { return request_error(404, what + " not found"); }

Response list_spaces(DocStore& docs, const Request& req) {
  Page page;
  std::optional<std::string> name;
  Response err;
  if (!parse_name_listing(req, page, name, err)) return err;
  auto all = spaces(docs);
  std::vector<json> found;
  std::string pattern = name ? search_pattern(*name) : "";
  for (auto& s : all)
    if (!name || glob_match(pattern, s["name"].get<std::string>())) found.push_back(s);
  std::stable_sort(found.begin(), found.end(), [](const json& a, const json& b) {
    return lower(a["name"].get<std::string>()) < lower(b["name"].get<std::string>());
  });
  auto query = paginate(found, page, all.size());
  return json_answer(200, {{"query", query}, {"spaces", found}});
}

Response create_space(DocStore& docs, const Request& req) {
  json body;
  Response err;
  if (!parse_body(req, body, err)) return err;
  bool bad = false;
  auto name = get_string(body, "name", bad);
  if (bad || !name || name->empty()) return params_error(400, {{"name", "is required"}});
  bad = false;
  auto tags = get_bool(body, "tags", bad);
  if (bad) return params_error(400, {{"tags", "must be true or false"}});
  std::string e;
  std::uint64_t id = docs.allocate_id("space", e);
  if (id == 0) return system_error(503, e);
  json space = {{"id", id}, {"name", *name}};
  if (tags) space["tags"] = *tags;
  if (!docs.put(space_key(id), space, e)) return system_error(503, e);
  Response r = json_answer(201, space);
  r.headers.emplace_back("Location", "/v1/spaces/" + std::to_string(id));
  return r;
}

Response space_detail(DocStore& docs, std::uint64_t id, json space) {
  json charts = json::array();
  for (auto& [k, c] : docs.list(chart_prefix(id))) charts.push_back({{"id", c["id"]}});
  space["charts"] = charts;
  return json_answer(200, space);
}

Response update_space(DocStore& docs, const Request& req, std::uint64_t id, json space) {
  json body;
  Response err;
  if (!parse_body(req, body, err)) return err;
  bool bad = false;
  auto name = get_string(body, "name", bad);
  if (bad || (name && name->empty())) return params_error(400, {{"name", "must be a non-empty string"}});
  auto tags = get_bool(body, "tags", bad);
  if (bad) return params_error(400, {{"tags", "must be true or false"}});
  if (name) space["name"] = *name;
  if (tags) space["tags"] = *tags;
  std::string e;
  return docs.put(space_key(id), space, e) ? no_content() : system_error(503, e);
}

Response list_charts(DocStore& docs, std::uint64_t sid) {
  json out = json::array();
  for (auto& [k, c] : docs.list(chart_prefix(sid))) out.push_back(c);
  return json_answer(200, out);
}

Response create_chart(actors::Engine& engine, DocStore& docs, const Request& req, std::uint64_t sid) {
  std::string e;
  json body;
  Response err;
  if (!parse_body(req, body, err)) return err;
  json chart = {{"id", 0}, {"name", nullptr}, {"type", "line"}, {"streams", json::array()}};
  std::vector<ParamError> errors;
  parse_chart(engine, docs, body, chart, true, errors);
  if (!errors.empty()) return params_error(400, errors);
  std::uint64_t cid = docs.allocate_id("chart", e);
  if (cid == 0) return system_error(503, e);
  chart["id"] = cid;
  if (!docs.put(chart_key(sid, cid), chart, e)) return system_error(503, e);
  Response r = json_answer(201, chart);
  r.headers.emplace_back("Location", "/v1/spaces/" + std::to_string(sid) + "/charts/" + std::to_string(cid));
  return r;
}

Response update_chart(actors::Engine& engine, DocStore& docs, const Request& req, std::uint64_t sid,
                      std::uint64_t cid, json chart) {
  std::string e;
  json body;
  Response err;
  if (!parse_body(req, body, err)) return err;
  std::vector<ParamError> errors;
  parse_chart(engine, docs, body, chart, false, errors);
  if (!errors.empty()) return params_error(400, errors);
  if (!docs.put(chart_key(sid, cid), chart, e)) return system_error(503, e);
  return json_answer(200, chart);
}

// A handler of a space's route: the space of the path exists (404 otherwise).
using SpaceHandler = std::function<Response(const Request&, const PathParams&, std::uint64_t sid, json& space)>;
RouteHandler with_space(DocStore& docs, SpaceHandler h) {
  return [&docs, h = std::move(h)](const Request& req, const PathParams& p) {
    std::uint64_t sid = 0;
    std::optional<json> space;
    if (parse_u64(p["space"], sid)) space = docs.get(space_key(sid));
    if (!space) return not_found("space " + p["space"]);
    return h(req, p, sid, *space);
  };
}

// A handler of a chart's route: the space and the chart of the path exist.
using ChartHandler = std::function<Response(const Request&, std::uint64_t sid, std::uint64_t cid, json& chart)>;
RouteHandler with_chart(DocStore& docs, ChartHandler h) {
  return with_space(docs, [&docs, h = std::move(h)](const Request& req, const PathParams& p, std::uint64_t sid, json&) {
    std::uint64_t cid = 0;
    std::optional<json> chart;
    if (parse_u64(p["chart"], cid)) chart = docs.get(chart_key(sid, cid));
    if (!chart) return not_found("chart " + p["chart"] + " in space " + std::to_string(sid));
    return h(req, sid, cid, *chart);
  });
}

}  // namespace

void add_space_routes(RouteTable& t, Resources& res) {
  actors::Engine& engine = res.engine;
  DocStore& docs = res.docs;
  t.add("GET", "/v1/spaces", [&docs](const Request& req, const PathParams&) { return list_spaces(docs, req); });
  t.add("POST", "/v1/spaces", [&docs](const Request& req, const PathParams&) { return create_space(docs, req); });
  t.add("GET", "/v1/spaces/:space", with_space(docs, [&docs](const Request&, const PathParams&, std::uint64_t sid, json& space) {
          return space_detail(docs, sid, space);
        }));
  t.add("PUT", "/v1/spaces/:space", with_space(docs, [&docs](const Request& req, const PathParams&, std::uint64_t sid, json& space) {
          return update_space(docs, req, sid, space);
        }));
  t.add("DELETE", "/v1/spaces/:space", with_space(docs, [&docs](const Request&, const PathParams&, std::uint64_t sid, json&) {
          std::string e;
          return docs.remove(space_key(sid), e) ? no_content() : system_error(503, e);
        }));
  t.add("GET", "/v1/spaces/:space/charts",
        with_space(docs, [&docs](const Request&, const PathParams&, std::uint64_t sid, json&) { return list_charts(docs, sid); }));
  t.add("POST", "/v1/spaces/:space/charts",
        with_space(docs, [&engine, &docs](const Request& req, const PathParams&, std::uint64_t sid, json&) {
          return create_chart(engine, docs, req, sid);
        }));
  t.add("GET", "/v1/spaces/:space/charts/:chart",
        with_chart(docs, [](const Request&, std::uint64_t, std::uint64_t, json& chart) { return json_answer(200, chart); }));
  t.add("PUT", "/v1/spaces/:space/charts/:chart",
        with_chart(docs, [&engine, &docs](const Request& req, std::uint64_t sid, std::uint64_t cid, json& chart) {
          return update_chart(engine, docs, req, sid, cid, chart);
        }));
  t.add("DELETE", "/v1/spaces/:space/charts/:chart",
        with_chart(docs, [&docs](const Request&, std::uint64_t sid, std::uint64_t cid, json&) {
          std::string e;
          return docs.remove(chart_key(sid, cid), e) ? no_content() : system_error(503, e);
        }));
}

}  // namespace vigil::api::librato
