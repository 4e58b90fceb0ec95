#include "api/router.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "actors/alerting/hub.hpp"
#include "actors/engine.hpp"
#include "actors/pending_reader.hpp"
#include "api/librato/access.hpp"
#include "api/librato/alerting_routes.hpp"
#include "api/librato/ingest_routes.hpp"
#include "api/librato/query_api.hpp"
#include "api/librato/resources.hpp"
#include "actors/pending_reader.hpp"
#include "engine/prom_text.hpp"
#include "engine/store_reader.hpp"
#include "engine/urlencoded.hpp"

namespace vigil::api {

namespace {

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// "/v1/measurements/cpu" with prefix "/v1/measurements/" -> "cpu" (decoded); empty if no match
// or if the rest holds another '/'.
bool match_name(std::string_view path, std::string_view prefix, std::string& name) {
  if (path.size() <= prefix.size() || path.substr(0, prefix.size()) != prefix) return false;
  std::string_view rest = path.substr(prefix.size());
  if (rest.find('/') != std::string_view::npos) return false;
  name = url_decode(rest, false);
  return !name.empty();
}

Response method_not_allowed(const std::string& allow) {
  Response r = request_error(405, "method not allowed; use " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

}  // namespace

Router::Router(actors::Engine& engine, RouterOptions opts) : engine_(engine), opts_(opts) {}

Response Router::handle(const Request& req) {
  requests_.fetch_add(1);
  Response r;
  librato::RateState rate;
  if (opts_.librato && !opts_.librato->access.admit(req, r, rate)) {
    // refused: r holds the 401, 403 or 429 answer
  } else if (req.unread_status) {
    rejects_.too_large.fetch_add(1);
    r = request_error(req.unread_status, "the request body is over the size limit (64 MiB)");
  } else {
    try {
      r = route(req);
    } catch (const std::exception& e) {  // answered here so that the error carries the rate headers
      spdlog::error("handler failed on {} {}: {}", req.method, req.path, e.what());
      r = system_error(500, "internal error");
    }
  }
  librato::Access::add_headers(rate, r);
  if (r.status < 300) responses_2xx_.fetch_add(1);
  else if (r.status < 500) responses_4xx_.fetch_add(1);
  else responses_5xx_.fetch_add(1);
  return r;
}

Response Router::route(const Request& req) {
  Response r;
  const std::string& p = req.path;
  const std::string& m = req.method;
  std::string name;
  if (p == "/health") {
    r = m == "GET" || m == "HEAD" ? Response{200, R"({"status":"ok"})", "application/json", {}}
                                  : method_not_allowed("GET");
  } else if (p == "/metrics") {
    r = m == "GET" ? metrics_page() : method_not_allowed("GET");
  } else if (opts_.librato && librato::route_resources(engine_, *opts_.librato, req, r)) {
    // tokens and the other Librato resources
  } else if (p == "/v1/measurements") {
    r = m == "POST" ? librato::post_measurements(engine_, req, opts_, rejects_) : method_not_allowed("POST");
  } else if (match_name(p, "/v1/measurements/", name)) {
    if (m != "GET") {
      r = method_not_allowed("GET");
    } else {
      auto info = engine_.catalog().get(name);
      // Storage and the shards' unflushed samples together: the query does not wait for a flush.
      actors::PendingReader reader(engine_);
      r = librato::get_measurements(name, parse_urlencoded(req.query), info ? &*info : nullptr,
                                    reader, now_seconds(), opts_.max_points);
      if (r.status == 400) rejects_.bad_query.fetch_add(1);
    }
  } else if (p == "/v1/metrics") {
    if (m == "POST")
      r = librato::post_metrics(engine_, req, opts_, rejects_);
    else if (m == "GET")
      r = librato::list_metrics(engine_, req, rejects_);
    else
      r = method_not_allowed("GET, POST");
  } else if (match_name(p, "/v1/metrics/", name)) {
    if (m != "GET") {
      r = method_not_allowed("GET");
    } else if (auto info = engine_.catalog().get(name); !info) {
      r = request_error(404, "metric '" + name + "' not found");
    } else {
      actors::PendingReader reader(engine_);
      r = librato::get_metric(name, parse_urlencoded(req.query), *info, reader, now_seconds(),
                              opts_.max_points);
      if (r.status == 400) rejects_.bad_query.fetch_add(1);
    }
  } else if (auto ar = librato::alert_http::alerts_routes(engine_, req)) {
    r = std::move(*ar);
  } else if (auto sr = librato::alert_http::services_routes(engine_, req)) {
    r = std::move(*sr);
  } else {
    r = request_error(404, "no route for " + p);
  }
  return r;
}

Response Router::metrics_page() {
  std::string out = engine_.metrics_text();
  out += engine_.alerts().metrics_text();
  auto counter = [&](const char* name, const char* help, const char* label,
                     std::initializer_list<std::pair<const char*, std::uint64_t>> values) {
    prom::head(out, name, "counter", help);
    for (const auto& [lv, v] : values) prom::sample(out, name, label, lv, v);
  };
  counter("vigil_rejected_inputs_total", "Rejected input by reason.", "reason",
          {{"bad_body", rejects_.bad_body.load()},
           {"invalid_measurement", rejects_.invalid_items.load()},
           {"content_type", rejects_.bad_content_type.load()},
           {"too_large", rejects_.too_large.load()},
           {"bad_query", rejects_.bad_query.load()}});
  counter("vigil_http_responses_total", "HTTP responses by status class.", "class",
          {{"2xx", responses_2xx_.load()}, {"4xx", responses_4xx_.load()}, {"5xx", responses_5xx_.load()}});
  if (opts_.extra_metrics) out += opts_.extra_metrics();
  return Response{200, out, "text/plain; version=0.0.4", {}};
}

}  // namespace vigil::api
