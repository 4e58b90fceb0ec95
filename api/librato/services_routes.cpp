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
using alerting::Service;

namespace {

Response json_response(int status, const json& body) { return Response{status, body.dump(), "application/json", {}}; }

json service_json(const Service& s) { return json::parse(alerting::to_json(s)); }

Response list_services(actors::AlertHub& hub, const Request& req) {
  Response error;
  Page page;
  if (!parse_page(query_json(req), {"title", "updated_at"}, page, error)) return error;
  auto all = hub.list_services();
  std::vector<const Service*> found;
  for (const auto& s : all) found.push_back(&s);
  bool by_title = page.orderby == "title";
  std::stable_sort(found.begin(), found.end(), [by_title](const Service* x, const Service* y) {
    if (by_title && x->title != y->title) return x->title < y->title;
    if (!by_title && x->updated_at != y->updated_at) return x->updated_at < y->updated_at;
    return x->id < y->id;
  });
  if (page.desc) std::reverse(found.begin(), found.end());
  json services = json::array();
  for (auto i = static_cast<std::size_t>(page.offset); i < found.size() && services.size() < static_cast<std::size_t>(page.length); ++i)
    services.push_back(service_json(*found[i]));
  json body = {{"query", {{"found", found.size()}, {"length", services.size()}, {"offset", page.offset}, {"total", all.size()}}},
               {"services", services}};
  return json_response(200, body);
}

// GET /v1/notifications[?state=pending|failed]: the outbox.
Response list_notifications(actors::AlertHub& hub, const Request& req) {
  std::string state;
  for (const auto& [k, v] : parse_urlencoded(req.query))
    if (k == "state") state = v;
  if (!state.empty() && state != "pending" && state != "failed")
    return params_error(400, {{"state", "must be pending or failed"}});
  json out = json::array();
  for (const auto& text : hub.outbox()) {
    auto r = json::parse(text, nullptr, false);
    if (!r.is_object()) continue;
    if (!state.empty() && r.value("state", "") != state) continue;
    json svc = r.value("service", json::object());
    out.push_back({{"id", r["id"]},
                   {"kind", r["kind"]},
                   {"state", r["state"]},
                   {"idempotency_key", r["idempotency_key"]},
                   {"alert", {{"id", r["alert"].value("id", 0)}, {"name", r["alert"].value("name", "")}}},
                   {"service", {{"id", svc.value("id", 0)}, {"type", svc.value("type", "")}, {"title", svc.value("title", "")}}},
                   {"stream", r["stream"]},
                   {"attempts", r["attempts"]},
                   {"next_attempt_ms", r["next_attempt_ms"]},
                   {"last_error", r["last_error"]},
                   {"created_at", r.value("created_ms", std::int64_t{0}) / 1000}});
  }
  return json_response(200, {{"notifications", out}});
}

}  // namespace

std::optional<Response> services_routes(actors::Engine& engine, const Request& req) {
  auto seg = path_segments(req.path);
  if (seg.empty()) return std::nullopt;
  auto& hub = engine.alerts();
  const std::string& m = req.method;
  std::string err;
  if (seg[0] == "notifications" && seg.size() == 1) {
    if (m != "GET") return method_not_allowed("GET");
    return list_notifications(hub, req);
  }
  if (seg[0] != "services") return std::nullopt;
  if (seg.size() == 1) {
    if (m == "GET") return list_services(hub, req);
    if (m != "POST") return method_not_allowed("GET, POST");
    Response error;
    auto body = body_json(req, error);
    if (!body) return error;
    Service s;
    auto errors = alerting::parse_service_request(*body, nullptr, s);
    if (!errors.empty()) return params_error(400, errors);
    s.id = 0;
    if (hub.put_service(s, err) != actors::AlertHub::Result::ok)
      return system_error(503, "could not store the service: " + err);
    Response r = json_response(201, service_json(s));
    r.headers.emplace_back("Location", "/v1/services/" + std::to_string(s.id));
    return r;
  }
  std::uint64_t id = alerting::parse_id(seg[1]);
  auto found = id ? hub.get_service(id) : std::nullopt;
  if (!found) return request_error(404, "service '" + seg[1] + "' not found");
  if (seg.size() == 2) {
    if (m == "GET") return json_response(200, service_json(*found));
    if (m == "DELETE") {
      if (hub.delete_service(id, err) != actors::AlertHub::Result::ok)
        return system_error(503, "could not delete the service: " + err);
      return Response{204, "", "application/json", {}};
    }
    if (m != "PUT") return method_not_allowed("GET, PUT, DELETE");
    Response error;
    auto body = body_json(req, error);
    if (!body) return error;
    Service s;
    auto errors = alerting::parse_service_request(*body, &*found, s);
    if (!errors.empty()) return params_error(400, errors);
    if (hub.put_service(s, err) != actors::AlertHub::Result::ok)
      return system_error(503, "could not store the service: " + err);
    return Response{204, "", "application/json", {}};
  }
  if (seg.size() == 3 && seg[2] == "test") {
    if (m != "POST") return method_not_allowed("POST");
    auto nid = hub.send_test(id, err);
    if (!nid) return system_error(503, "could not queue the test notification: " + err);
    return json_response(202, {{"notification", {{"id", *nid}, {"state", "pending"}}}});
  }
  return request_error(404, "no route for " + req.path);
}

}  // namespace vigil::api::librato::alert_http
