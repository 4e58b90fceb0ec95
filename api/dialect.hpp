// The dialect contract: what the router knows of an API dialect (Librato's /v1, and each facade
// that serves another service's API over the same engine).
//
// A dialect owns path prefixes; the router hands it every request under them (a prefix P owns P
// and every path under "P/"; the longest owning prefix wins). For each request the router asks
// the dialect to admit it (authentication against the one token store, through api/auth.hpp, and
// whatever else the dialect checks: roles, rate limits), then dispatches it through the dialect's
// route table. 404 (no route), 405 (another method; the Allow header is added), 413 (a body over
// the server's limit) and 500 (a handler that threw) are rendered by the dialect's error(), so a
// client only ever sees its own service's error bodies. A path no dialect owns gets a neutral
// 404 (api/http/message.hpp's neutral_error). A query over one of the engine's query limits
// (engine/query/budget.hpp) throws QueryRefused out of its handler; the router answers it with
// the dialect's refused().
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http/message.hpp"
#include "api/http/routes.hpp"
#include "engine/query/budget.hpp"

namespace vigil::api {

// What the router learns from admit(): headers to add to every answer of the request (for
// example rate-limit state), the refusal included.
struct Caller {
  std::vector<std::pair<std::string, std::string>> headers;
};

class Dialect {
 public:
  virtual ~Dialect() = default;

  // A short name, for logs ("librato").
  std::string_view name() const { return name_; }
  // The path prefixes the dialect owns, e.g. {"/v1"}.
  const std::vector<std::string>& prefixes() const { return prefixes_; }
  // The dialect's routes, which its constructor adds to routes_.
  const RouteTable& routes() const { return routes_; }
  // nullopt to let the request through, or the answer that refuses it (401, 403, 429, ...).
  virtual std::optional<Response> admit(const Request& req, Caller& caller) = 0;
  // An error answer in the dialect's format.
  virtual Response error(int status, const std::string& message) const = 0;
  // The answer to a query refused by a query limit: by default error() with the refusal's status
  // (400 for series and points, 503 for the deadline and concurrency) and message (which names
  // the limit and its setting), plus `Retry-After: 1` on a 503.
  virtual Response refused(const QueryRefused& e) const {
    Response r = error(e.status(), e.what());
    if (e.status() == 503) r.headers.emplace_back("Retry-After", "1");
    return r;
  }

 protected:
  Dialect(std::string_view name, std::vector<std::string> prefixes)
      : name_(name), prefixes_(std::move(prefixes)) {}

  RouteTable routes_;

 private:
  std::string name_;
  std::vector<std::string> prefixes_;
};

// Counters of rejected input, by kind, that every dialect reports into; exported on /metrics.
struct RejectCounters {
  std::atomic<std::uint64_t> bad_body{0};          // unparseable or empty body
  std::atomic<std::uint64_t> invalid_items{0};     // measurements rejected by validation
  std::atomic<std::uint64_t> bad_content_type{0};  // 415
  std::atomic<std::uint64_t> too_large{0};         // batch over the limit
  std::atomic<std::uint64_t> bad_query{0};         // 400 on a read route
};

}  // namespace vigil::api
