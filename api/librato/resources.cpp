#include "api/librato/resources.hpp"

namespace vigil::api::librato {

bool route_resources(actors::Engine& engine, Resources& res, const Request& req, Response& out) {
  return route_tokens(res.access, req, out) || route_metrics(engine, res, req, out) || route_jobs(res, req, out);
}

Response method_not_allowed(const std::string& allow) {
  Response r = request_error(405, "method not allowed; use " + allow);
  r.headers.emplace_back("Allow", allow);
  return r;
}

}  // namespace vigil::api::librato
