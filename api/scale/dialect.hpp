// The Scale dialect: the read-only v6 metrics API of Scale (/v6/metrics/...) over the engine,
// with the metrics types declared in [[scale.metric_types]] (config/config.hpp).
//
// Requests are admitted with HTTP Basic (account email and API token, as for Librato) or
// `Authorization: Token <token>`; viewer and admin tokens read, recorder tokens (which may only
// submit measurements) are refused with 403. Errors are Scale's bodies ({"detail": "..."}).
//
// Scale's clients address every resource with a trailing slash ("/v6/metrics/job-types/"),
// which the route table does not match (it refuses empty segments): admit() serves such a
// request itself, through the same table, without the final slash, so both spellings reach one
// handler.
#pragma once

#include <memory>

#include "api/dialect.hpp"
#include "api/scale/resources.hpp"

namespace vigil::api::scale {

class ScaleDialect final : public Dialect {
 public:
  explicit ScaleDialect(Resources& res);
  ~ScaleDialect() override;

  std::optional<Response> admit(const Request& req, Caller& caller) override;
  Response error(int status, const std::string& message) const override;

 private:
  std::optional<Response> refuse(const Request& req);
  Response dispatch_here(const Request& req);

  Resources& res_;
  std::unique_ptr<ChoiceIds> ids_;
};

}  // namespace vigil::api::scale
