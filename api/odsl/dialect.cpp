#include "api/odsl/dialect.hpp"

#include <nlohmann/json.hpp>

#include "api/auth.hpp"

namespace vigil::api::odsl {

namespace {

const char* reason(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Payload Too Large";
    case 415: return "Unsupported Media Type";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "Error";
  }
}

}  // namespace

Response error_body(int status, const std::string& message, const std::string& parameter) {
  nlohmann::json b = {{"status", status}, {"error", reason(status)}, {"message", message}};
  if (!parameter.empty()) b["parameter"] = parameter;
  return json_answer(status, b.dump());
}

OdslDialect::OdslDialect(Resources& res) : Dialect("odsl", {"/api"}), res_(res) {
  add_object_routes(routes_, res);
  add_metric_routes(routes_, res);
}

std::optional<Response> OdslDialect::admit(const Request& req, Caller& /*caller*/) {
  if (!res_.auth_enabled) return std::nullopt;
  auto grant = res_.auth.verify(req.header("authorization"), kBearer);
  if (!grant) {
    Response r = error_body(401, "a valid 'Authorization: Bearer <token>' header is required");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  // Reads: every role. Writes (objects): admin.
  bool read = req.method == "GET" || req.method == "HEAD";
  if (!read && grant->role != Role::admin)
    return error_body(403, std::string("the token's role (") + role_name(grant->role) +
                               ") may only read; writing objects needs an admin token");
  return std::nullopt;
}

Response OdslDialect::error(int status, const std::string& message) const { return error_body(status, message); }

}  // namespace vigil::api::odsl
