// The Librato dialect: the /v1 API of Librato Metrics. Requests are admitted by Access (HTTP Basic
// with the account email and an API token, the token's role against the class of the route, the
// per-token rate limit reported in X-Librato-RateLimit-* on every answer); errors are Librato's
// bodies ({"errors":{"request":[...]}} for 4xx, {"errors":{"system":[...]}} for 5xx).
#pragma once

#include "api/dialect.hpp"
#include "api/librato/resources.hpp"

namespace vigil::api::librato {

class LibratoDialect final : public Dialect {
 public:
  explicit LibratoDialect(Resources& res);

  std::optional<Response> admit(const Request& req, Caller& caller) override;
  Response error(int status, const std::string& message) const override;

 private:
  Resources& res_;
};

}  // namespace vigil::api::librato
