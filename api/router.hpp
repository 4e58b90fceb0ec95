// Maps requests to handlers: the operations routes (/health, /metrics) and the dialects, each
// owning its path prefixes (api/dialect.hpp). Registering a dialect is one call to add().
//
// As the HTTP server's handler (api/http/server.hpp) it works in two steps: admit() runs on the
// head alone, before any body byte is read: the owning dialect authenticates the request from
// its headers (every dialect's admit() reads only the method, path and headers) and a refusal
// (401, 403, 429, and 413 for a declared body over the limit) is answered at once. handle() then
// serves the whole request. The operations routes and the web console (the fallback) take no
// credentials at admission: the console checks its own on the whole request.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "api/dialect.hpp"
#include "api/http/message.hpp"
#include "api/http/server.hpp"

namespace vigil::actors {
class Engine;
}

namespace vigil::api {

struct RouterOptions {
  std::function<std::string()> extra_metrics;  // appended to /metrics (e.g. the Kafka consumer's)
  // The largest body a gzip or deflate request body may inflate to (413 beyond).
  std::size_t max_inflated_bytes = std::size_t{64} << 20;
  // The server's body limit (server.max_body_mb), named in the 413 answer.
  std::uint64_t max_body_bytes = std::uint64_t{32} << 20;
};

class Router : public HttpHandler {
 public:
  Router(actors::Engine& engine, RouterOptions opts);

  // Serves `dialect` (which must outlive the router) under its prefixes.
  void add(Dialect& dialect);
  // HttpHandler: the head, then the whole request; refuse() renders the server's own refusals
  // (503) in the owning dialect's format.
  std::optional<Response> admit(const Request& head, Admission& adm) override;
  Response handle(const Request& req, Admission& adm) override;
  Response refuse(const Request& head, int status, const std::string& message) override;
  // Both steps on a whole request.
  Response handle(const Request& req);
  // Serves the paths that neither the operations routes nor a dialect own (the web console).
  void set_fallback(std::function<Response(const Request&)> fallback) { fallback_ = std::move(fallback); }
  // The counters every dialect reports rejected input into.
  RejectCounters& rejects() { return rejects_; }

 private:
  Dialect* owner(const std::string& path) const;
  Response serve(Dialect& d, const Request& req, Admission& adm);
  Response too_large(Dialect* d);
  Response& counted(Response& r);
  Response operations(const Request& req);
  Response metrics_page();

  actors::Engine& engine_;
  RouterOptions opts_;
  std::function<Response(const Request&)> fallback_;
  std::vector<std::pair<std::string, Dialect*>> prefixes_;
  RejectCounters rejects_;
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> responses_2xx_{0}, responses_4xx_{0}, responses_5xx_{0};
};

}  // namespace vigil::api
