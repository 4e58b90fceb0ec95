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
using alerting::Service;

namespace {


// A service as the API shows it: its stored form with its secrets masked, plus `status`:
// "undeliverable" for the types of services that no longer exist (kept so that alert migrations
// do not fail), else "deliverable".
json service_json(const Service& s) {
  json j = json::parse(alerting::to_json(s));
  j["settings"] = json::parse(alerting::masked_settings_json(s));  // secrets are write-only
  j["status"] = alerting::deliverable_service_type(s.type) ? "deliverable" : "undeliverable";
  return j;
}

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
  return json_answer(200, body);
}

// GET /v1/notifications[?state=pending|failed][&offset=&length=&sort=asc|desc]: the outbox, in
// outbox order (orderby id), paged as Librato's lists are (length 1..100, default 100).
Response list_notifications(actors::AlertHub& hub, const Request& req) {
  std::string state;
  for (const auto& [k, v] : parse_urlencoded(req.query))
    if (k == "state") state = v;
  if (!state.empty() && state != "pending" && state != "failed")
    return params_error(400, {{"state", "must be pending or failed"}});
  Response error;
  Page page;
  if (!parse_page(query_json(req), {"id"}, page, error)) return error;
  std::vector<json> found;
  std::size_t total = 0;
  for (const auto& text : hub.outbox()) {
    auto r = json::parse(text, nullptr, false);
    if (!r.is_object()) continue;
    ++total;
    if (!state.empty() && r.value("state", "") != state) continue;
    found.push_back(std::move(r));
  }
  if (page.desc) std::reverse(found.begin(), found.end());
  json out = json::array();
  for (auto i = static_cast<std::size_t>(page.offset);
       i < found.size() && out.size() < static_cast<std::size_t>(page.length); ++i) {
    const json& r = found[i];
    json svc = r.value("service", json::object());
    json n = {{"id", r["id"]},
              {"kind", r["kind"]},
              {"state", r["state"]},
              {"idempotency_key", r["idempotency_key"]},
              {"alert", {{"id", r["alert"].value("id", 0)}, {"name", r["alert"].value("name", "")}}},
              {"service", {{"id", svc.value("id", 0)}, {"type", svc.value("type", "")}, {"title", svc.value("title", "")}}},
              {"stream", r["stream"]},
              {"attempts", r["attempts"]},
              {"next_attempt_ms", r["next_attempt_ms"]},
              {"last_error", r["last_error"]},
              {"created_at", r.value("created_ms", std::int64_t{0}) / 1000}};
    if (r.contains("failed_ms")) n["failed_at"] = r.value("failed_ms", std::int64_t{0}) / 1000;
    out.push_back(std::move(n));
  }
  json query = {{"found", found.size()}, {"length", out.size()}, {"offset", page.offset}, {"total", total}};
  return json_answer(200, {{"query", query}, {"notifications", out}});
}

// A handler of a service's route: the service of the path exists (404 otherwise).
using ServiceHandler = std::function<Response(const Request&, actors::AlertHub&, std::uint64_t id, Service&)>;
RouteHandler with_service(actors::Engine& engine, ServiceHandler h) {
  return [&engine, h = std::move(h)](const Request& req, const PathParams& p) {
    auto& hub = engine.alerts();
    std::uint64_t id = alerting::parse_id(p["service"]);
    auto found = id ? hub.get_service(id) : std::nullopt;
    if (!found) return request_error(404, "service '" + p["service"] + "' not found");
    return h(req, hub, id, *found);
  };
}

// POST and PUT: the service parsed from the body (over `base` for PUT) and stored.
Response store_service(actors::AlertHub& hub, const Request& req, const Service* base, int status) {
  std::string err;
  Response error;
  auto body = body_json(req, error);
  if (!body) return error;
  Service s;
  auto errors = alerting::parse_service_request(*body, base, s);
  if (!errors.empty()) return params_error(400, errors);
  if (!base) s.id = 0;
  if (hub.put_service(s, err) != actors::AlertHub::Result::ok) return system_error(503, "could not store the service: " + err);
  if (base) return no_content();
  Response r = json_answer(status, service_json(s));
  r.headers.emplace_back("Location", "/v1/services/" + std::to_string(s.id));
  return r;
}

}  // namespace

void add_service_routes(RouteTable& t, Resources& res) {
  actors::Engine& engine = res.engine;
  t.add("GET", "/v1/notifications",
        [&engine](const Request& req, const PathParams&) { return list_notifications(engine.alerts(), req); });
  t.add("GET", "/v1/services", [&engine](const Request& req, const PathParams&) { return list_services(engine.alerts(), req); });
  t.add("POST", "/v1/services",
        [&engine](const Request& req, const PathParams&) { return store_service(engine.alerts(), req, nullptr, 201); });
  t.add("GET", "/v1/services/:service", with_service(engine, [](const Request&, actors::AlertHub&, std::uint64_t, Service& s) {
          return json_answer(200, service_json(s));
        }));
  t.add("PUT", "/v1/services/:service", with_service(engine, [](const Request& req, actors::AlertHub& hub, std::uint64_t, Service& s) {
          return store_service(hub, req, &s, 204);
        }));
  t.add("DELETE", "/v1/services/:service", with_service(engine, [](const Request&, actors::AlertHub& hub, std::uint64_t id, Service&) {
          std::string err;
          if (hub.delete_service(id, err) != actors::AlertHub::Result::ok)
            return system_error(503, "could not delete the service: " + err);
          return no_content();
        }));
  t.add("POST", "/v1/services/:service/test", with_service(engine, [](const Request&, actors::AlertHub& hub, std::uint64_t id, Service&) {
          std::string err;
          bool full = false;
          auto nid = hub.send_test(id, err, &full);
          // A full outbox (alerts.outbox_max) is 507, as a full disk is: nothing was queued.
          if (!nid) return system_error(full ? 507 : 503, "could not queue the test notification: " + err);
          return json_answer(202, {{"notification", {{"id", *nid}, {"state", "pending"}}}});
        }));
}

}  // namespace vigil::api::librato
