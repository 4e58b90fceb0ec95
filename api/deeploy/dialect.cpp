#include "api/deeploy/dialect.hpp"

namespace vigil::api::deeploy {

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool allows(Role role, RouteClass cls) {
  switch (role) {
    case Role::admin:
      return true;
    case Role::viewer:
      return cls == RouteClass::read;
    case Role::recorder:
      return cls == RouteClass::push;
  }
  return false;
}

const char* what(RouteClass cls) {
  switch (cls) {
    case RouteClass::read:
      return "read custom metrics";
    case RouteClass::push:
      return "push data points";
    default:
      return "manage custom metrics";
  }
}

Response unauthorized(const std::string& message, RouteClass cls) {
  Response r = error_answer(401, message);
  r.headers.emplace_back("WWW-Authenticate", cls == RouteClass::manage
                                                 ? "Basic realm=\"vigil\""
                                                 : "Basic realm=\"vigil\", Bearer realm=\"vigil\"");
  return r;
}

}  // namespace

RouteClass classify(const std::string& method, const std::string& path) {
  if (method == "GET" || method == "HEAD") return RouteClass::read;
  if (method == "POST" && ends_with(path, "/dataPoints")) return RouteClass::push;
  return RouteClass::manage;
}

DeeployDialect::DeeployDialect(Resources& res) : Dialect("deeploy", {"/workspaces"}), res_(res) {
  add_metric_routes(routes_, res);
  add_datapoint_routes(routes_, res);
  add_chart_routes(routes_, res);
}

std::optional<Response> DeeployDialect::admit(const Request& req, Caller&) {
  if (!res_.auth_enabled) return std::nullopt;
  RouteClass cls = classify(req.method, req.path);
  std::string_view header = req.header("authorization");
  if (header.empty())
    return unauthorized("Please provide credentials: the HTTP Basic key pair or a Bearer token.",
                        cls);
  auto grant = res_.auth.verify(header, kBasic | kBearer);
  if (!grant)
    return unauthorized("Authentication failed: unknown key pair or token, or an inactive token.",
                        cls);
  bool bearer = res_.auth.verify(header, kBearer).has_value();
  if (bearer && cls == RouteClass::manage)
    return error_answer(
        403, "a Bearer (deployment) token may not manage custom metrics; use the key pair");
  if (!allows(grant->role, cls))
    return error_answer(
        403, std::string("the ") + role_name(grant->role) + " role may not " + what(cls));
  return std::nullopt;
}

Response DeeployDialect::error(int status, const std::string& message) const {
  return error_answer(status, message);
}

}  // namespace vigil::api::deeploy
