// The Deeploy dialect: the custom metrics routes of Deeploy's API, under /workspaces (what the
// official `deeploy` Python client calls). Requests are admitted through the one token store:
// metric management takes the HTTP Basic key pair (Vigil user and an admin token); data points
// and chart data also take `Authorization: Bearer <token>` (recorder to push, viewer to read).
// Errors are {"statusCode", "error", "message"[, "field"]} bodies.
#pragma once

#include "api/deeploy/resources.hpp"
#include "api/dialect.hpp"

namespace vigil::api::deeploy {

// What a route needs of the caller.
enum class RouteClass { read, push, manage };
RouteClass classify(const std::string& method, const std::string& path);

class DeeployDialect final : public Dialect {
 public:
  explicit DeeployDialect(Resources& res);

  std::optional<Response> admit(const Request& req, Caller& caller) override;
  Response error(int status, const std::string& message) const override;

 private:
  Resources& res_;
};

}  // namespace vigil::api::deeploy
