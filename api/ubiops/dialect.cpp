#include "api/ubiops/dialect.hpp"

#include <nlohmann/json.hpp>

#include "api/ubiops/errors.hpp"

namespace vigil::api::ubiops {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Response error_response(int status, std::string_view message) {
  nlohmann::json body = {{"error", std::string(message)}};
  return Response{status, body.dump(), "application/json", {}};
}

Response field_error(int status, std::string_view field, std::string_view message) {
  nlohmann::json body = {{"error", std::string(field) + ": " + std::string(message)}, {"field", std::string(field)}};
  return Response{status, body.dump(), "application/json", {}};
}

Need need_of(const std::string& method, const std::string& path) {
  if (method == "GET" || method == "HEAD") return Need::read;
  if (method == "POST" && (ends_with(path, "/time-series/data") || ends_with(path, "/time-series/aggregate")))
    return Need::record;
  return Need::admin;
}

bool role_allows(Role role, Need need) {
  switch (role) {
    case Role::admin: return true;
    case Role::viewer: return need == Need::read;
    case Role::recorder: return need == Need::record;
  }
  return false;
}

UbiOpsDialect::UbiOpsDialect(Resources& res) : Dialect("ubiops", {"/v2.1"}), res_(res) {
  add_metric_routes(routes_, res);
  add_series_routes(routes_, res);
}

std::optional<Response> UbiOpsDialect::admit(const Request& req, Caller& /*caller*/) {
  if (req.path == "/v2.1/status") return std::nullopt;  // service_status() needs no token
  if (!res_.auth_enabled) return std::nullopt;
  auto header = req.header("authorization");
  auto grant = res_.auth.verify(header, kToken);
  if (!grant) {
    Response r = error_response(401, header.empty() ? "Authentication credentials were not provided."
                                                    : "Invalid token.");
    r.headers.emplace_back("WWW-Authenticate", "Token");
    return r;
  }
  if (!role_allows(grant->role, need_of(req.method, req.path)))
    return error_response(403, std::string("the ") + role_name(grant->role) + " role may not " +
                                   (req.method == "GET" || req.method == "HEAD" ? "read " : "change ") + req.path);
  return std::nullopt;
}

Response UbiOpsDialect::error(int status, const std::string& message) const {
  return error_response(status, message);
}

}  // namespace vigil::api::ubiops
