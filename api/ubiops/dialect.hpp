// The UbiOps dialect: the metrics and time-series API of UbiOps under /v2.1 (custom metrics per
// project, time-series data create / aggregate / list / search / delete, and GET /v2.1/status).
// Requests authenticate with `Authorization: Token <token>`; viewer tokens read, recorder tokens
// write time-series data only, admin tokens do everything. Errors are {"error": ...} bodies.
#pragma once

#include "api/dialect.hpp"
#include "api/ubiops/resources.hpp"

namespace vigil::api::ubiops {

class UbiOpsDialect final : public Dialect {
 public:
  explicit UbiOpsDialect(Resources& res);

  std::optional<Response> admit(const Request& req, Caller& caller) override;
  Response error(int status, const std::string& message) const override;

 private:
  Resources& res_;
};

// What a route needs of a token's role: reading, writing time-series data, or anything else.
enum class Need { read, record, admin };
Need need_of(const std::string& method, const std::string& path);
bool role_allows(Role role, Need need);

}  // namespace vigil::api::ubiops
