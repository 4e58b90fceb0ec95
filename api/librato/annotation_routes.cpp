// /v1/annotations: annotation streams (`annstream/<name>`) and their events
// (`annevent/<stream>/<padded id>`), with the links sub-resource of an event.
#include <algorithm>
#include <map>

#include "api/librato/params.hpp"
#include "api/librato/resources.hpp"
#include "engine/meta/doc_store.hpp"
#include "api/librato/lang/normalize.hpp"

namespace vigil::api::librato {

namespace {

using nlohmann::json;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string stream_key(const std::string& name) { return "annstream/" + lower(name); }
std::string event_key(const std::string& name, std::uint64_t id) {
  return "annevent/" + lower(name) + "/" + DocStore::pad(id);
}

// A resource id: decimal, never 0.
bool parse_u64(const std::string& s, std::uint64_t& id) { return parse_id(s, id) && id > 0; }

// A link {rel, href, label}: rel and href required.
bool parse_link(const json& in, json& link, std::vector<ParamError>& errors, const std::string& where) {
  bool bad = false;
  auto rel = in.is_object() ? get_string(in, "rel", bad) : std::nullopt;
  auto href = in.is_object() ? get_string(in, "href", bad) : std::nullopt;
  auto label = in.is_object() ? get_string(in, "label", bad) : std::nullopt;
  if (!rel || rel->empty()) errors.push_back({where + "rel", "is required"});
  if (!href || href->empty()) errors.push_back({where + "href", "is required"});
  if (!rel || !href || rel->empty() || href->empty()) return false;
  link = {{"rel", *rel}, {"href", *href}};
  if (label) link["label"] = *label;
  return true;
}

// links given as an array (JSON or links[0][rel]=...); rel unique.
bool parse_links(const json& body, json& links, std::vector<ParamError>& errors) {
  links = json::array();
  if (!body.contains("links") || body["links"].is_null()) return true;
  const json& in = body["links"];
  if (!in.is_array()) {
    errors.push_back({"links", "must be a list of {rel, href, label}"});
    return false;
  }
  for (std::size_t i = 0; i < in.size(); ++i) {
    json link;
    if (!parse_link(in[i], link, errors, "links[" + std::to_string(i) + "].")) continue;
    for (const auto& l : links)
      if (l["rel"] == link["rel"]) errors.push_back({"links", "rel '" + link["rel"].get<std::string>() + "' is not unique"});
    links.push_back(link);
  }
  return true;
}

// Fields of an event from a body: title, source, description, start_time, end_time, links.
void parse_event(const json& body, json& ev, bool create, std::vector<ParamError>& errors) {
  bool bad = false;
  auto title = get_string(body, "title", bad);
  if (bad || (create && (!title || title->empty())) || (title && title->empty())) errors.push_back({"title", "is required"});
  else if (title) ev["title"] = *title;
  for (const char* k : {"description", "source"}) {
    bad = false;
    if (!body.contains(k)) continue;
    auto v = get_string(body, k, bad);
    if (bad) errors.push_back({k, "must be a string"});
    else ev[k] = v ? json(*v) : json(nullptr);
  }
  for (const char* k : {"start_time", "end_time"}) {
    if (!body.contains(k)) continue;
    bad = false;
    auto v = get_int(body, k, bad);
    if (bad || (v && *v < 0)) errors.push_back({k, "must be a unix time in seconds"});
    else ev[k] = v ? json(*v) : json(nullptr);
  }
  if (ev["start_time"].is_null()) errors.push_back({"start_time", "must be a unix time in seconds"});
  if (ev["end_time"].is_number() && ev["start_time"].is_number() &&
      ev["end_time"].get<std::int64_t>() < ev["start_time"].get<std::int64_t>())
    errors.push_back({"end_time", "must not be before start_time"});
  if (body.contains("links")) {
    json links;
    if (parse_links(body, links, errors)) ev["links"] = links;
  }
}

Response not_found(const std::string& what) { return request_error(404, what + " not found"); }

Response list_streams(DocStore& docs, const Request& req) {
  Page page;
  std::optional<std::string> name;
  Response err;
  if (!parse_name_listing(req, page, name, err)) return err;
  auto all = docs.list("annstream/");
  std::vector<json> found;
  std::string pattern = name ? search_pattern(*name) : "";
  for (auto& [k, doc] : all)
    if (!name || glob_match(pattern, doc["name"].get<std::string>())) found.push_back(doc);
  auto query = paginate(found, page, all.size());
  return json_answer(200, {{"query", query}, {"annotations", found}});
}

Response get_stream(DocStore& docs, const Request& req, const std::string& name) {
  auto stream = docs.get(stream_key(name));
  if (!stream) return not_found("annotation stream '" + name + "'");
  auto q = query_json(req);
  bool bad = false;
  auto start = get_int(q, "start_time", bad);
  auto end = get_int(q, "end_time", bad);
  auto sources = get_strings(q, "sources", bad);
  if (bad) return params_error(400, {{"start_time", "start_time and end_time must be unix times; sources a list"}});
  std::vector<json> events;
  for (auto& [k, ev] : docs.list("annevent/" + lower(name) + "/")) {
    std::int64_t t = ev["start_time"].get<std::int64_t>();
    if ((start && t < *start) || (end && t > *end)) continue;
    std::string src = ev["source"].is_string() ? ev["source"].get<std::string>() : "unassigned";
    if (sources && !std::any_of(sources->begin(), sources->end(), [&](const std::string& p) { return glob_match(p, src); }))
      continue;
    events.push_back(ev);
  }
  std::stable_sort(events.begin(), events.end(), [](const json& a, const json& b) {
    return a["start_time"].get<std::int64_t>() < b["start_time"].get<std::int64_t>();
  });
  json by_source = json::object();
  for (auto& ev : events) {
    std::string src = ev["source"].is_string() ? ev["source"].get<std::string>() : "unassigned";
    by_source[src].push_back(ev);
  }
  json out = *stream;
  out["events"] = by_source;  // keyed by source, as the clients read it (docs/API.md)
  return json_answer(200, out);
}

Response post_event(DocStore& docs, const Request& req, const std::string& name) {
  if (!valid_metric_name(name))
    return params_error(400, {{"name", "annotation stream names are 1-255 characters of A-Za-z0-9.:-_"}});
  json body;
  Response err;
  if (!parse_body(req, body, err)) return err;
  json ev = {{"id", 0},          {"title", nullptr},   {"description", nullptr}, {"source", nullptr},
             {"start_time", now_seconds()}, {"end_time", nullptr}, {"links", json::array()}};
  std::vector<ParamError> errors;
  parse_event(body, ev, true, errors);
  if (!errors.empty()) return params_error(400, errors);
  std::string e;
  if (!docs.get(stream_key(name)) && !docs.put(stream_key(name), {{"name", name}, {"display_name", nullptr}}, e))
    return system_error(503, "cannot store the stream: " + e);
  std::uint64_t id = docs.allocate_id("annotation", e);
  if (id == 0) return system_error(503, "cannot store the annotation: " + e);
  ev["id"] = id;
  if (!docs.put(event_key(name, id), ev, e)) return system_error(503, "cannot store the annotation: " + e);
  Response r = json_answer(201, ev);
  r.headers.emplace_back("Location", "/v1/annotations/" + name + "/" + std::to_string(id));
  return r;
}

Response put_stream(DocStore& docs, const Request& req, const std::string& name) {
  auto stream = docs.get(stream_key(name));
  if (!stream) return not_found("annotation stream '" + name + "'");
  json body;
  Response err;
  if (!parse_body(req, body, err)) return err;
  bool bad = false;
  auto display = get_string(body, "display_name", bad);
  if (bad || (display && display->size() > 255)) return params_error(400, {{"display_name", "must be a string"}});
  if (body.contains("display_name")) (*stream)["display_name"] = display ? json(*display) : json(nullptr);
  std::string e;
  if (!docs.put(stream_key(name), *stream, e)) return system_error(503, "cannot store the stream: " + e);
  return no_content();
}

Response delete_stream(DocStore& docs, const std::string& name) {
  std::string e;
  if (!docs.remove(stream_key(name), e)) return e.empty() ? not_found("annotation stream '" + name + "'") : system_error(503, e);
  docs.remove("annevent/" + lower(name), e);
  return no_content();
}

// A handler of an event's route: the event of the path exists (404 otherwise).
using EventHandler =
    std::function<Response(const Request&, const PathParams&, const std::string& name, std::uint64_t id, json& ev)>;
RouteHandler with_event(DocStore& docs, EventHandler h) {
  return [&docs, h = std::move(h)](const Request& req, const PathParams& p) {
    const std::string& name = p["stream"];
    std::uint64_t id = 0;
    std::optional<json> ev;
    if (parse_u64(p["event"], id)) ev = docs.get(event_key(name, id));
    if (!ev) return not_found("annotation " + p["event"] + " in stream '" + name + "'");
    return h(req, p, name, id, *ev);
  };
}

Response update_event(DocStore& docs, const Request& req, const std::string& name, std::uint64_t id, const json& ev) {
  json body;
  Response out;
  if (!parse_body(req, body, out)) return out;
  std::vector<ParamError> errors;
  json updated = ev;
  parse_event(body, updated, false, errors);
  if (!errors.empty()) return params_error(400, errors);
  std::string e;
  return docs.put(event_key(name, id), updated, e) ? no_content() : system_error(503, e);
}

Response add_link(DocStore& docs, const Request& req, const std::string& name, std::uint64_t id, const std::string& ref,
                  json& ev) {
  json& links = ev["links"];
  json body;
  Response out;
  if (!parse_body(req, body, out)) return out;
  std::vector<ParamError> errors;
  json link;
  if (!parse_link(body, link, errors, "")) return params_error(400, errors);
  for (const auto& l : links)
    if (l["rel"] == link["rel"])
      return request_error(422, "the annotation already has a link with rel '" + link["rel"].get<std::string>() + "'");
  links.push_back(link);
  std::string e;
  if (!docs.put(event_key(name, id), ev, e)) return system_error(503, e);
  out = json_answer(201, link);
  out.headers.emplace_back("Location", "/v1/annotations/" + name + "/" + ref + "/links/" + link["rel"].get<std::string>());
  return out;
}

// A handler of a link's route: the event and its link of the path exist.
using LinkHandler = std::function<Response(const std::string& name, std::uint64_t id, json& ev, json::iterator link)>;
RouteHandler with_link(DocStore& docs, LinkHandler h) {
  return with_event(docs, [h = std::move(h)](const Request&, const PathParams& p, const std::string& name,
                                             std::uint64_t id, json& ev) {
    json& links = ev["links"];
    auto it = std::find_if(links.begin(), links.end(), [&](const json& l) { return l["rel"] == p["rel"]; });
    if (it == links.end()) return not_found("link '" + p["rel"] + "'");
    return h(name, id, ev, it);
  });
}

}  // namespace

void add_annotation_routes(RouteTable& t, Resources& res) {
  DocStore& docs = res.docs;
  t.add("GET", "/v1/annotations", [&docs](const Request& req, const PathParams&) { return list_streams(docs, req); });
  t.add("GET", "/v1/annotations/:stream",
        [&docs](const Request& req, const PathParams& p) { return get_stream(docs, req, p["stream"]); });
  t.add("POST", "/v1/annotations/:stream",
        [&docs](const Request& req, const PathParams& p) { return post_event(docs, req, p["stream"]); });
  t.add("PUT", "/v1/annotations/:stream",
        [&docs](const Request& req, const PathParams& p) { return put_stream(docs, req, p["stream"]); });
  t.add("DELETE", "/v1/annotations/:stream",
        [&docs](const Request&, const PathParams& p) { return delete_stream(docs, p["stream"]); });
  t.add("GET", "/v1/annotations/:stream/:event",
        with_event(docs, [](const Request&, const PathParams&, const std::string&, std::uint64_t, json& ev) {
          return json_answer(200, ev);
        }));
  t.add("PUT", "/v1/annotations/:stream/:event",
        with_event(docs, [&docs](const Request& req, const PathParams&, const std::string& name, std::uint64_t id, json& ev) {
          return update_event(docs, req, name, id, ev);
        }));
  t.add("DELETE", "/v1/annotations/:stream/:event",
        with_event(docs, [&docs](const Request&, const PathParams&, const std::string& name, std::uint64_t id, json&) {
          std::string e;
          return docs.remove(event_key(name, id), e) ? no_content() : system_error(503, e);
        }));
  t.add("POST", "/v1/annotations/:stream/:event/links",
        with_event(docs, [&docs](const Request& req, const PathParams& p, const std::string& name, std::uint64_t id, json& ev) {
          return add_link(docs, req, name, id, p["event"], ev);
        }));
  t.add("GET", "/v1/annotations/:stream/:event/links/:rel",
        with_link(docs, [](const std::string&, std::uint64_t, json&, json::iterator link) { return json_answer(200, *link); }));
  t.add("DELETE", "/v1/annotations/:stream/:event/links/:rel",
        with_link(docs, [&docs](const std::string& name, std::uint64_t id, json& ev, json::iterator link) {
          ev["links"].erase(link);
          std::string e;
          return docs.put(event_key(name, id), ev, e) ? no_content() : system_error(503, e);
        }));
}

}  // namespace vigil::api::librato
