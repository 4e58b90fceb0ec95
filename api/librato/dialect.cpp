#include "api/librato/dialect.hpp"

#include "api/librato/access.hpp"
#include "api/librato/errors.hpp"

namespace vigil::api::librato {

LibratoDialect::LibratoDialect(Resources& res) : Dialect("librato", {"/v1"}), res_(res) {
  add_ingest_routes(routes_, res);
  add_token_routes(routes_, res);
  add_metric_routes(routes_, res);
  add_source_routes(routes_, res);
  add_annotation_routes(routes_, res);
  add_space_routes(routes_, res);
  add_snapshot_routes(routes_, res);
  add_alert_routes(routes_, res);
  add_service_routes(routes_, res);
}

std::optional<Response> LibratoDialect::admit(const Request& req, Caller& caller) {
  Response denied;
  RateState rate;
  bool ok = res_.access.admit(req, denied, rate);
  Response headers;
  Access::add_headers(rate, headers);
  caller.headers = std::move(headers.headers);
  if (ok) return std::nullopt;
  return denied;
}

Response LibratoDialect::error(int status, const std::string& message) const {
  return status >= 500 ? system_error(status, message) : request_error(status, message);
}

}  // namespace vigil::api::librato
