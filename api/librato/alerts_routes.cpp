#include <algorithm>
#include <nlohmann/json.hpp>

#include "actors/alerting/hub.hpp"
#include "actors/engine.hpp"
#include "api/librato/alert_request.hpp"
#include "api/librato/params.hpp"
#include "api/librato/resources.hpp"
#include "api/http/form.hpp"

namespace vigil::api::librato {

using nlohmann::json;
using alerting::Alert;

namespace {

// -- alerts -------------------------------------------------------------------------------------

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
  bool version1 = false;  // version 1 (legacy) alerts: there are none, the list is empty
  for (const auto& [k, v] : q)
    if (k == "name") needle = metric_key(v);
    else if (k == "version" && v == "1") version1 = true;
    else if (k == "version" && v != "2") return params_error(400, {{"version", "must be 1 or 2"}});
  auto all = hub.list_alerts();
  if (version1) all.clear();
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
  return json_answer(200, body);
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
  return json_answer(200, {{"cleared", cleared}, {"firing", firing}});
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
  return json_answer(200, body);
}

// A handler of an alert's route: the alert of the path exists (404 otherwise).
using AlertHandler = std::function<Response(const Request&, const PathParams&, actors::AlertHub&, Alert&)>;
RouteHandler with_alert(actors::Engine& engine, AlertHandler h) {
  return [&engine, h = std::move(h)](const Request& req, const PathParams& p) {
    auto& hub = engine.alerts();
    auto found = find(hub, p["alert"]);
    if (!found) return request_error(404, "alert '" + p["alert"] + "' not found");
    return h(req, p, hub, *found);
  };
}

Response create_alert(actors::AlertHub& hub, const Request& req) {
  std::string err;
  Response error;
  auto body = body_json(req, error);
  if (!body) return error;
  Alert a;
  auto errors = alerting::parse_alert_request(*body, nullptr, a);
  if (!errors.empty()) return params_error(400, errors);
  a.id = 0;
  auto r = hub.put_alert(a, err);
  if (r != actors::AlertHub::Result::ok) return result_error(r, a, err);
  Response resp = json_answer(201, alert_json(hub, a));
  resp.headers.emplace_back("Location", "/v1/alerts/" + std::to_string(a.id));
  return resp;
}

Response update_alert(actors::AlertHub& hub, const Request& req, const Alert& a) {
  std::string err;
  Response error;
  auto body = body_json(req, error);
  if (!body) return error;
  Alert updated;
  auto errors = alerting::parse_alert_request(*body, &a, updated);
  if (!errors.empty()) return params_error(400, errors);
  auto r = hub.put_alert(updated, err);
  if (r != actors::AlertHub::Result::ok) return result_error(r, updated, err);
  return no_content();
}

Response add_service(actors::AlertHub& hub, const Request& req, const Alert& a) {
  std::string err;
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

Response remove_service(actors::AlertHub& hub, const std::string& ref, const Alert& a) {
  std::string err;
  std::uint64_t sid = alerting::parse_id(ref);
  auto it = std::find(a.services.begin(), a.services.end(), sid);
  if (sid == 0 || it == a.services.end()) return request_error(404, "service " + ref + " is not on this alert");
  Alert updated = a;
  updated.services.erase(updated.services.begin() + (it - a.services.begin()));
  auto r = hub.put_alert(updated, err);
  if (r != actors::AlertHub::Result::ok) return result_error(r, updated, err);
  return no_content();
}

}  // namespace

void add_alert_routes(RouteTable& t, Resources& res) {
  actors::Engine& engine = res.engine;
  t.add("GET", "/v1/alerts", [&engine](const Request& req, const PathParams&) { return list_alerts(engine.alerts(), req); });
  t.add("POST", "/v1/alerts", [&engine](const Request& req, const PathParams&) { return create_alert(engine.alerts(), req); });
  t.add("GET", "/v1/alerts/status", [&engine](const Request&, const PathParams&) { return status_summary(engine.alerts()); });
  t.add("GET", "/v1/alerts/:alert", with_alert(engine, [](const Request&, const PathParams&, actors::AlertHub& hub, Alert& a) {
          return json_answer(200, alert_json(hub, a));
        }));
  t.add("PUT", "/v1/alerts/:alert", with_alert(engine, [](const Request& req, const PathParams&, actors::AlertHub& hub, Alert& a) {
          return update_alert(hub, req, a);
        }));
  t.add("DELETE", "/v1/alerts/:alert", with_alert(engine, [](const Request&, const PathParams&, actors::AlertHub& hub, Alert& a) {
          std::string err;
          auto r = hub.delete_alert(a.id, err);
          return r != actors::AlertHub::Result::ok ? result_error(r, a, err) : no_content();
        }));
  t.add("GET", "/v1/alerts/:alert/status",
        with_alert(engine, [](const Request&, const PathParams&, actors::AlertHub& hub, Alert& a) { return alert_status(hub, a); }));
  t.add("POST", "/v1/alerts/:alert/clear", with_alert(engine, [](const Request&, const PathParams&, actors::AlertHub& hub, Alert& a) {
          std::string err;
          auto r = hub.clear_alert(a.id, err);
          return r != actors::AlertHub::Result::ok ? result_error(r, a, err) : no_content();
        }));
  t.add("GET", "/v1/alerts/:alert/history", with_alert(engine, [](const Request&, const PathParams&, actors::AlertHub& hub, Alert& a) {
          json events = json::array();
          for (const auto& e : hub.history(a.id)) events.push_back(json::parse(e, nullptr, false));
          return json_answer(200, {{"alert", {{"id", a.id}, {"name", a.name}}}, {"events", events}});
        }));
  t.add("POST", "/v1/alerts/:alert/services",
        with_alert(engine, [](const Request& req, const PathParams&, actors::AlertHub& hub, Alert& a) { return add_service(hub, req, a); }));
  t.add("DELETE", "/v1/alerts/:alert/services/:service",
        with_alert(engine, [](const Request&, const PathParams& p, actors::AlertHub& hub, Alert& a) {
          return remove_service(hub, p["service"], a);
        }));
}

}  // namespace vigil::api::librato
