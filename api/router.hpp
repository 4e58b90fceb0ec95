// Maps requests to handlers: operations routes (/health, /metrics) and the Librato API (/v1).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "api/http_server.hpp"

namespace vigil::actors {
class Engine;
}

namespace vigil::api {

namespace librato {
struct Resources;
}

struct RouterOptions {
  std::size_t max_points = 100000;         // query.max_points
  std::size_t max_batch_samples = 100000;  // engine.max_batch_samples
  std::function<std::string()> extra_metrics;  // appended to /metrics (e.g. the Kafka consumer's)
  librato::Resources* librato = nullptr;   // auth, roles, rate limits, resource routes of /v1
};

// Counters of rejected input, by kind, exported on /metrics.
struct RejectCounters {
  std::atomic<std::uint64_t> bad_body{0};         // unparseable or empty body
  std::atomic<std::uint64_t> invalid_items{0};    // measurements rejected by validation
  std::atomic<std::uint64_t> bad_content_type{0}; // 415
  std::atomic<std::uint64_t> too_large{0};        // batch over the limit
  std::atomic<std::uint64_t> bad_query{0};        // 400 on a read route
};

class Router {
 public:
  Router(actors::Engine& engine, RouterOptions opts);
  Response handle(const Request& req);

 private:
  // The answer of an admitted request.
  Response route(const Request& req);
  Response metrics_page();

  actors::Engine& engine_;
  RouterOptions opts_;
  RejectCounters rejects_;
  std::atomic<std::uint64_t> requests_{0};
  std::atomic<std::uint64_t> responses_2xx_{0}, responses_4xx_{0}, responses_5xx_{0};
};

}  // namespace vigil::api
