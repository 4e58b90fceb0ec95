#include "api/router.hpp"

#include <spdlog/spdlog.h>

#include <optional>

#include "actors/alerting/hub.hpp"
#include "actors/engine.hpp"
#include "api/http/encoding.hpp"
#include "engine/stats/prom_text.hpp"

namespace vigil::api {

Router::Router(actors::Engine& engine, RouterOptions opts) : engine_(engine), opts_(std::move(opts)) {}

void Router::add(Dialect& dialect) {
  for (const auto& p : dialect.prefixes()) prefixes_.emplace_back(p, &dialect);
}

Dialect* Router::owner(const std::string& path) const {
  Dialect* best = nullptr;
  std::size_t best_len = 0;
  for (const auto& [p, d] : prefixes_) {
    bool owns = path.compare(0, p.size(), p) == 0 && (path.size() == p.size() || path[p.size()] == '/');
    if (owns && (!best || p.size() > best_len)) {
      best = d;
      best_len = p.size();
    }
  }
  return best;
}

Response& Router::counted(Response& r) {
  if (r.status < 300) responses_2xx_.fetch_add(1, std::memory_order_relaxed);
  else if (r.status < 500) responses_4xx_.fetch_add(1, std::memory_order_relaxed);
  else responses_5xx_.fetch_add(1, std::memory_order_relaxed);
  return r;
}

Response Router::too_large(Dialect* d) {
  rejects_.too_large.fetch_add(1);
  std::string msg = "the request body is over the size limit (" + std::to_string(opts_.max_body_bytes >> 20) +
                    " MiB, server.max_body_mb)";
  return d ? d->error(413, msg) : neutral_error(413, msg);
}

std::optional<Response> Router::admit(const Request& head, Admission& adm) {
  requests_.fetch_add(1, std::memory_order_relaxed);
  std::optional<Response> r;
  if (head.path == "/health" || head.path == "/metrics") {
    adm.operations = true;
    if (head.unread_status) r = too_large(nullptr);
  } else if (Dialect* d = owner(head.path)) {
    adm.owner = d;
    Caller caller;
    r = d->admit(head, caller);
    adm.headers = std::move(caller.headers);
    if (!r && head.unread_status) r = too_large(d);
    if (r)
      for (const auto& h : adm.headers) r->headers.push_back(h);
  } else if (!fallback_) {
    r = neutral_error(404, "no route for " + head.path);
  } else if (head.unread_status) {
    r = too_large(nullptr);
  }
  if (r) counted(*r);
  return r;
}

Response Router::handle(const Request& req, Admission& adm) {
  Response r;
  if (adm.operations) {
    r = req.unread_status ? too_large(nullptr) : operations(req);
  } else if (adm.owner) {
    // The owner is one of the dialects added: admit() set it.
    r = serve(*const_cast<Dialect*>(static_cast<const Dialect*>(adm.owner)), req, adm);
  } else if (req.unread_status) {
    r = too_large(nullptr);
  } else if (fallback_) {
    try {
      r = fallback_(req);
    } catch (const std::exception& e) {
      spdlog::error("handler failed on {} {}: {}", req.method, req.path, e.what());
      r = neutral_error(500, "internal error");
    }
  } else {
    r = neutral_error(404, "no route for " + req.path);
  }
  return counted(r);
}

Response Router::handle(const Request& req) {
  Admission adm;
  if (auto early = admit(req, adm)) return std::move(*early);
  return handle(req, adm);
}

Response Router::refuse(const Request& head, int status, const std::string& message) {
  Response r;
  if (head.path == "/health" || head.path == "/metrics") r = neutral_error(status, message);
  else if (Dialect* d = owner(head.path)) r = d->error(status, message);
  else r = neutral_error(status, message);
  return counted(r);
}

Response Router::serve(Dialect& d, const Request& req, Admission& adm) {
  Response r;
  if (req.unread_status) {
    r = too_large(&d);  // a chunked body that went over the limit while it was read
  } else {
    // A compressed body is inflated once the caller is admitted (an unauthenticated request costs
    // no inflation), within the inflated-size bound.
    std::optional<Request> inflated;
    std::string err;
    if (has_content_encoding(req)) {
      inflated = req;
      if (int st = decode_content(*inflated, opts_.max_inflated_bytes, err); st != 0) {
        (st == 413 ? rejects_.too_large : st == 415 ? rejects_.bad_content_type : rejects_.bad_body).fetch_add(1);
        r = d.error(st, err);
        for (const auto& h : adm.headers) r.headers.push_back(h);
        return r;
      }
    }
    const Request& in = inflated ? *inflated : req;
    try {
      r = dispatch(
          d.routes(), in, [&] { return d.error(404, "no route for " + in.path); },
          [&](const std::string& allow) { return d.error(405, "method not allowed; use " + allow); });
    } catch (const QueryRefused& e) {  // a query limit (engine/query/budget.hpp), in the dialect's words
      spdlog::debug("{} query refused on {} {}: {}", d.name(), req.method, req.path, e.what());
      r = d.refused(e);
    } catch (const std::exception& e) {  // answered here so that the error carries the dialect's headers
      spdlog::error("{} handler failed on {} {}: {}", d.name(), req.method, req.path, e.what());
      r = d.error(500, "internal error");
    }
  }
  for (const auto& h : adm.headers) r.headers.push_back(h);
  return r;
}

Response Router::operations(const Request& req) {
  const std::string& m = req.method;
  Response r;
  if (req.path == "/health") {
    if (m == "GET" || m == "HEAD") return json_answer(200, R"({"status":"ok"})");
    r = neutral_error(405, "method not allowed; use GET");
  } else {
    if (m == "GET") return metrics_page();
    r = neutral_error(405, "method not allowed; use GET");
  }
  r.headers.emplace_back("Allow", "GET");
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
