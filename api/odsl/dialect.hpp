// The OpenDataDSL dialect: the metric service of OpenDataDSL under /api (metric entities, the
// listMetrics function, virtual metric time series on the service paths, stored
// VarMetricTimeSeries objects). Requests carry `Authorization: Bearer <token>`; every role may
// read, writing objects (POST /api/object/v1) needs the admin role.
#pragma once

#include "api/dialect.hpp"
#include "api/odsl/resources.hpp"

namespace vigil::api::odsl {

class OdslDialect final : public Dialect {
 public:
  explicit OdslDialect(Resources& res);

  std::string_view name() const override { return "odsl"; }
  std::vector<std::string> prefixes() const override { return {"/api"}; }
  std::optional<Response> admit(const Request& req, Caller& caller) override;
  const RouteTable& routes() const override { return routes_; }
  Response error(int status, const std::string& message) const override;

 private:
  Resources& res_;
  RouteTable routes_;
};

}  // namespace vigil::api::odsl
