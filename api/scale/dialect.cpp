#include "api/scale/dialect.hpp"

#include <spdlog/spdlog.h>

#include "api/auth.hpp"
#include "api/scale/choices.hpp"
#include "api/scale/errors.hpp"

namespace vigil::api::scale {

ScaleDialect::ScaleDialect(Resources& res)
    : Dialect("scale", {"/v6/metrics"}), res_(res), ids_(std::make_unique<ChoiceIds>(res.docs)) {
  add_metrics_routes(routes_, res_, *ids_);
  spdlog::info("scale: {} metrics type(s) under /v6/metrics", res_.types.size());
}

ScaleDialect::~ScaleDialect() = default;

std::optional<Response> ScaleDialect::refuse(const Request& req) {
  if (!res_.auth_enabled) return std::nullopt;
  auto header = req.header("authorization");
  if (header.empty()) {
    Response r = detail_error(401, "Authentication credentials were not provided.");
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"vigil\"");
    return r;
  }
  auto grant = res_.auth.verify(header, kBasic | kToken);
  if (!grant) {
    Response r = detail_error(401, "Invalid credentials: unknown user, token or inactive token.");
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"vigil\"");
    return r;
  }
  if (grant->role != Role::viewer && grant->role != Role::admin)
    return detail_error(403,
                        std::string("You do not have permission to perform this action: the ") +
                            role_name(grant->role) + " role may not read " + req.path);
  return std::nullopt;
}

Response ScaleDialect::dispatch_here(const Request& req) {
  // Every route is a read that ignores the body: the copy leaves it behind.
  Request stripped;
  stripped.method = req.method;
  stripped.path = req.path.substr(0, req.path.size() - 1);
  stripped.query = req.query;
  stripped.headers = req.headers;
  try {
    return dispatch(
        routes_, stripped, [&] { return error(404, "no route for " + req.path); },
        [&](const std::string& allow) { return error(405, "method not allowed; use " + allow); });
  } catch (const std::exception& e) {
    spdlog::error("scale handler failed on {} {}: {}", req.method, req.path, e.what());
    return error(500, "internal error");
  }
}

std::optional<Response> ScaleDialect::admit(const Request& req, Caller&) {
  if (auto denied = refuse(req)) return denied;
  if (req.path.size() > 1 && req.path.back() == '/') {
    if (req.unread_status) return std::nullopt;  // the router answers 413
    return dispatch_here(req);
  }
  return std::nullopt;
}

Response ScaleDialect::error(int status, const std::string& message) const {
  return detail_error(status, message);
}

}  // namespace vigil::api::scale
