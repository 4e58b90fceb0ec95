// /v1/sources: the legacy sources, i.e. the values of the `source` tag of every series, plus
// sources created with PUT; display names are kept as documents `source/<name>`.
#include <set>

#include "actors/engine.hpp"
#include "api/librato/params.hpp"
#include "api/librato/resources.hpp"
#include "engine/meta/doc_store.hpp"
#include "api/librato/lang/normalize.hpp"

namespace vigil::api::librato {

namespace {

using nlohmann::json;

json source_json(DocStore& docs, const std::string& name) {
  auto doc = docs.get("source/" + name);
  json j = {{"name", name}, {"display_name", nullptr}};
  if (doc && doc->contains("display_name")) j["display_name"] = (*doc)["display_name"];
  return j;
}

bool known(actors::Engine& engine, DocStore& docs, const std::string& name) {
  if (docs.get("source/" + name)) return true;
  auto all = engine.series().tag_values("source");
  return std::binary_search(all.begin(), all.end(), name);
}

Response list(actors::Engine& engine, DocStore& docs, const Request& req) {
  Page page;
  std::optional<std::string> name;
  Response err;
  if (!parse_name_listing(req, page, name, err)) return err;
  std::set<std::string> all;
  for (auto& v : engine.series().tag_values("source")) all.insert(v);
  for (auto& [k, doc] : docs.list("source/")) all.insert(k.substr(7));
  std::vector<std::string> found;
  std::string pattern = name ? search_pattern(*name) : "";
  // ?name= matches the source name or its display name.
  auto display = [&docs](const std::string& s) -> std::string {
    auto doc = docs.get("source/" + s);
    if (doc && (*doc)["display_name"].is_string()) return (*doc)["display_name"].get<std::string>();
    return {};
  };
  for (const auto& s : all)
    if (!name || glob_match(pattern, s) || glob_match(pattern, display(s))) found.push_back(s);
  auto query = paginate(found, page, all.size());
  json items = json::array();
  for (const auto& s : found) items.push_back(source_json(docs, s));
  return json_answer(200, {{"query", query}, {"sources", items}});
}

Response put(actors::Engine& engine, DocStore& docs, const Request& req, const std::string& raw) {
  std::string name;
  if (auto e = normalize_source(raw, name); !e.empty()) return params_error(400, {{"name", e}});
  json body;
  Response err;
  if (!parse_body(req, body, err)) return err;
  bool bad = false;
  auto display = get_string(body, "display_name", bad);
  if (bad || (display && display->size() > 255))
    return params_error(400, {{"display_name", "must be a string of at most 255 characters"}});
  bool exists = known(engine, docs, name);
  json doc = docs.get("source/" + name).value_or(json{{"name", name}, {"display_name", nullptr}});
  if (body.contains("display_name")) doc["display_name"] = display ? json(*display) : json(nullptr);
  std::string e;
  if (!docs.put("source/" + name, doc, e)) return system_error(503, "cannot store the source: " + e);
  if (exists) return no_content();
  Response r = json_answer(201, source_json(docs, name));
  r.headers.emplace_back("Location", "/v1/sources/" + name);
  return r;
}

}  // namespace

void add_source_routes(RouteTable& t, Resources& res) {
  actors::Engine& engine = res.engine;
  DocStore& docs = res.docs;
  t.add("GET", "/v1/sources", [&engine, &docs](const Request& req, const PathParams&) { return list(engine, docs, req); });
  t.add("GET", "/v1/sources/:name", [&engine, &docs](const Request&, const PathParams& p) {
    std::string name = p["name"];
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return known(engine, docs, name) ? json_answer(200, source_json(docs, name))
                                     : request_error(404, "source '" + p["name"] + "' not found");
  });
  t.add("PUT", "/v1/sources/:name",
        [&engine, &docs](const Request& req, const PathParams& p) { return put(engine, docs, req, p["name"]); });
}

}  // namespace vigil::api::librato
