// Librato measurement routes: POST /v1/measurements and GET /v1/measurements/:name (registered by
// add_ingest_routes), and the parts of /v1/metrics that metric_routes.cpp dispatches to: the
// legacy submit (POST), the metric list (GET) and the legacy read GET /v1/metrics/:name.
#pragma once

#include <string>

#include "api/librato/resources.hpp"

namespace vigil::api::librato {

Response post_metrics(Resources& res, const Request& req);
Response list_metrics(Resources& res, const Request& req);
Response get_legacy_metric(Resources& res, const Request& req, const std::string& name);

}  // namespace vigil::api::librato
