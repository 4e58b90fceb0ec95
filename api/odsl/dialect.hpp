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

  std::optional<Response> admit(const Request& req, Caller& caller) override;
  Response error(int status, const std::string& message) const override;

 private:
  Resources& res_;
};

}  // namespace vigil::api::odsl
