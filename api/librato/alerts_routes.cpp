#include <algorithm>
#include <nlohmann/json.hpp>

#include "actors/alerting/hub.hpp"
#include "actors/engine.hpp"
#include "api/librato/alerting_routes.hpp"
#include "api/librato/params.hpp"
#include "api/librato/resources.hpp"
#include "engine/urlencoded.hpp"

namespace vigil::api::librato::alert_http {

using nlohmann::json;
using alerting::Alert;

// -- shared helpers ---------------------------------------------------------------------------

std::string form_to_json(const std::vector<std::pair<std::string, std::string>>& pairs) {
  return librato::form_to_json(pairs).dump();
}

std::optional<std::string> body_json(const Request& req, Response& error) {
  json body;
  if (!parse_body(req, body, error)) return std::nullopt;
  return body.dump();
}

std::vector<std::string> path_segments(const std::string& path) {
  std::vector<std::string> segs;
  if (!librato::path_segments(path, "/v1", segs)) segs.clear();
  return segs;
}

// -- alerts -------------------------------------------------------------------------------------

namespace {

json alert_json(actors::AlertHub& hub, const Alert& a) {
  json j = json::parse(alerting::to_json(a));
  json services = json::array();
  for (auto sid : a.services) {
    auto s = hub.get_service(sid);
    if (!s) continue;
    services.push_back({{"id", s->id}, {"title", s->title}, {"name", s->type}, {"type", s->type}});
  }
  j["services"] = services;
  return j;
}

Response json_response(int status, const json& body) { return Response{status, body.dump(), "application/json", {}}; }

Response storage_failure(const std::string& err) { return system_error(503, "could not store the change: " + err); }

// Resolves ":id" (numeric id, or the alert's name).
std::optional<Alert> find(actors::AlertHub& hub, const std::string& ref) {
  if (auto id = alerting::parse_id(ref)) return hub.get_alert(id);
  return hub.find_alert(ref);
}

Response result_error(actors::AlertHub::Result r, const Alert& a, const std::string& err) {
  switch (r) {
    case actors::AlertHub::Result::duplicate_name:
      return params_error(422, {{"name", "an alert named '" + a.name + "' already exists"}});
    case actors::AlertHub::Result::unknown_service:
      return params_error(400, {{"services", "service " + err + " does not exist"}});
    case actors::AlertHub::Result::not_found: return request_error(404, "alert not found");
    default: return storage_failure(err);
  }
}

Response list_alerts(actors::AlertHub& hub, const Request& req) {
  auto q = parse_urlencoded(req.query);
  Response error;
  Page page;
  if (!parse_page(query_json(req), {"updated_at"}, page, error)) return error;
  std::string needle;
  for (const auto& [k, v] : q)
    if (k == "name") needle = metric_key(v);
    else if (k == "version" && v != "2") return params_error(400, {{"version", "only version 2 alerts are served"}});
  auto all = hub.list_alerts();
  std::vector<const Alert*> found;
  for (const auto& a : all)
    if (needle.empty() || metric_key(a.name).find(needle) != std::string::npos) found.push_back(&a);
  std::stable_sort(found.begin(), found.end(), [](const Alert* x, const Alert* y) {
    return x->updated_at != y->updated_at ? x->updated_at < y->updated_at : x->id < y->id;
  });
  if (page.desc) std::reverse(found.begin(), found.end());
  json alerts = json::array();
  for (auto i = static_cast<std::size_t>(page.offset); i < found.size() && alerts.size() < static_cast<std::size_t>(page.length); ++i)
    alerts.push_back(alert_json(hub, *found[i]));
  json body = {{"query", {{"found", found.size()}, {"length", alerts.size()}, {"offset", page.offset}, {"total", all.size()}}},
               {"alerts", alerts}};
  return json_response(200, body);
}

Response status_summary(actors::AlertHub& hub) {
  json firing = json::array(), cleared = json::array();
  for (const auto& a : hub.list_alerts()) {
    auto st = hub.status(a.id);
    if (st.firing)
      firing.push_back({{"id", a.id}, {"triggered_at", st.triggered_at}});
    else if (st.cleared_at > 0)
      cleared.push_back({{"id", a.id}, {"cleared_at", st.cleared_at}});
  }
  return json_response(200, {{"cleared", cleared}, {"firing", firing}});
}

Response alert_status(actors::AlertHub& hub, const Alert& a) {
  auto st = hub.status(a.id);
  json streams = json::array();
  for (const auto& s : st.streams) {
    json tags = json::object();
    for (const auto& [k, v] : s.tags) tags[k] = v;
    json values = json::array();
    for (double v : s.values) values.push_back(v);
    streams.push_back({{"tags", tags},
                       {"state", s.firing ? "triggered" : "ok"},
                       {"triggered_at", s.triggered_at ? json(s.triggered_at) : json(nullptr)},
                       {"cleared_at", s.cleared_at ? json(s.cleared_at) : json(nullptr)},
                       {"values", values}});
  }
  json body = {{"alert", {{"id", a.id}}}, {"status", st.firing ? "triggered" : "ok"}, {"streams", streams}};
  if (st.firing) body["triggered_at"] = st.triggered_at;
  return json_response(200, body);
}

}  // namespace

std::optional<Response> alerts_routes(actors::Engine& engine, const Request& req) {
  auto seg = path_segments(req.path);
  if (seg.empty() || seg[0] != "alerts") return std::nullopt;
  auto& hub = engine.alerts();
  const std::string& m = req.method;
  std::string err;
  if (seg.size() == 1) {
    if (m == "GET") return list_alerts(hub, req);
    if (m != "POST") return method_not_allowed("GET, POST");
    Response error;
    auto body = body_json(req, error);
    if (!body) return error;
    Alert a;
    auto errors = alerting::parse_alert_request(*body, nullptr, a);
    if (!errors.empty()) return params_error(400, errors);
    a.id = 0;
    auto r = hub.put_alert(a, err);
    if (r != actors::AlertHub::Result::ok) return result_error(r, a, err);
    Response resp = json_response(201, alert_json(hub, a));
    resp.headers.emplace_back("Location", "/v1/alerts/" + std::to_string(a.id));
    return resp;
  }
  if (seg.size() == 2 && seg[1] == "status") {
    if (m != "GET") return method_not_allowed("GET");
    return status_summary(hub);
  }
  auto found = find(hub, seg[1]);
  if (!found) return request_error(404, "alert '" + seg[1] + "' not found");
  Alert& a = *found;
  if (seg.size() == 2) {
    if (m == "GET") return json_response(200, alert_json(hub, a));
    if (m == "DELETE") {
      auto r = hub.delete_alert(a.id, err);
      if (r != actors::AlertHub::Result::ok) return result_error(r, a, err);
      return Response{204, "", "application/json", {}};
    }
    if (m != "PUT") return method_not_allowed("GET, PUT, DELETE");
    Response error;
    auto body = body_json(req, error);
    if (!body) return error;
    Alert updated;
    auto errors = alerting::parse_alert_request(*body, &a, updated);
    if (!errors.empty()) return params_error(400, errors);
    auto r = hub.put_alert(updated, err);
    if (r != actors::AlertHub::Result::ok) return result_error(r, updated, err);
    return Response{204, "", "application/json", {}};
  }
  const std::string& sub = seg[2];
  if (seg.size() == 3 && sub == "status") {
    if (m != "GET") return method_not_allowed("GET");
    return alert_status(hub, a);
  }
  if (seg.size() == 3 && sub == "clear") {
    if (m != "POST") return method_not_allowed("POST");
    auto r = hub.clear_alert(a.id, err);
    if (r != actors::AlertHub::Result::ok) return result_error(r, a, err);
    return Response{204, "", "application/json", {}};
  }
  if (seg.size() == 3 && sub == "history") {
    if (m != "GET") return method_not_allowed("GET");
    json events = json::array();
    for (const auto& e : hub.history(a.id)) events.push_back(json::parse(e, nullptr, false));
    return json_response(200, {{"alert", {{"id", a.id}, {"name", a.name}}}, {"events", events}});
  }
  if (sub == "services" && seg.size() == 3) {
    if (m != "POST") return method_not_allowed("POST");
    Response error;
    auto body = body_json(req, error);
    if (!body) return error;
    auto j = json::parse(*body, nullptr, false);
    std::uint64_t sid = 0;
    if (j.is_object() && j.contains("service")) {
      const json& v = j["service"];
      sid = v.is_number_unsigned() ? v.get<std::uint64_t>() : v.is_string() ? alerting::parse_id(v.get<std::string>()) : 0;
    }
    if (sid == 0) return params_error(400, {{"service", "is required: the id of a service"}});
    if (!hub.get_service(sid)) return params_error(400, {{"service", "service " + std::to_string(sid) + " does not exist"}});
    Alert updated = a;
    if (std::find(updated.services.begin(), updated.services.end(), sid) == updated.services.end())
      updated.services.push_back(sid);
    auto r = hub.put_alert(updated, err);
    if (r != actors::AlertHub::Result::ok) return result_error(r, updated, err);
    Response resp{201, "", "application/json", {}};
    resp.headers.emplace_back("Location", "/v1/alerts/" + std::to_string(a.id) + "/services/" + std::to_string(sid));
    return resp;
  }
  if (sub == "services" && seg.size() == 4) {
    if (m != "DELETE") return method_not_allowed("DELETE");
    std::uint64_t sid = alerting::parse_id(seg[3]);
    auto it = std::find(a.services.begin(), a.services.end(), sid);
    if (sid == 0 || it == a.services.end()) return request_error(404, "service " + seg[3] + " is not on this alert");
    Alert updated = a;
    updated.services.erase(updated.services.begin() + (it - a.services.begin()));
    auto r = hub.put_alert(updated, err);
    if (r != actors::AlertHub::Result::ok) return result_error(r, updated, err);
    return Response{204, "", "application/json", {}};
  }
  return request_error(404, "no route for " + req.path);
}

}  // namespace vigil::api::librato::alert_http
