// Librato write routes: POST /v1/measurements and the legacy POST /v1/metrics, plus the metric
// list GET /v1/metrics.
#pragma once

#include "api/http_server.hpp"
#include "api/router.hpp"

namespace vigil::api::librato {

Response post_measurements(actors::Engine& engine, const Request& req, const RouterOptions& opts,
                           RejectCounters& rejects);
Response post_metrics(actors::Engine& engine, const Request& req, const RouterOptions& opts,
                      RejectCounters& rejects);
Response list_metrics(actors::Engine& engine, const Request& req, RejectCounters& rejects);

}  // namespace vigil::api::librato
