// Maps requests to handlers: the operations routes (/health, /metrics) and the dialects, each
// owning its path prefixes (api/dialect.hpp). Registering a dialect is one call to add().
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "api/dialect.hpp"
#include "api/http/message.hpp"

namespace vigil::actors {
class Engine;
}

namespace vigil::api {

struct RouterOptions {
  std::function<std::string()> extra_metrics;  // appended to /metrics (e.g. the Kafka consumer's)
  // The largest body a gzip or deflate request body may inflate to (413 beyond).
  std::size_t max_inflated_bytes = std::size_t{64} << 20;
};

class Router {
 public:
  Router(actors::Engine& engine, RouterOptions opts);

  // Serves `dialect` (which must outlive the router) under its prefixes.
  void add(Dialect& dialect);
  Response handle(const Request& req);
  // Serves the paths that neither the operations routes nor a dialect own (the web console).
  void set_fallback(std::function<Response(const Request&)> fallback) { fallback_ = std::move(fallback); }
  // The counters every dialect reports rejected input into.
  RejectCounters& rejects() { return rejects_; }

 private:
  Dialect* owner(const std::string& path) const;
  Response serve(Dialect& d, const Request& req);
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
