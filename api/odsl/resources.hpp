// What the OpenDataDSL dialect's routes share (the engine, the token check, the stored objects,
// the reject counters), and one registration function per route file.
#pragma once

#include <string>

#include "api/dialect.hpp"
#include "api/http/routes.hpp"

namespace vigil {
class DocStore;
}
namespace vigil::actors {
class Engine;
}

namespace vigil::api {
class Authenticator;
}

namespace vigil::api::odsl {

struct Resources {
  actors::Engine& engine;
  Authenticator& auth;
  DocStore& docs;  // stored objects under "odsl/object/<id>"
  RejectCounters& rejects;
  bool auth_enabled = true;  // auth.enabled: false admits every request as admin
};

// GET /api/metric, /api/metric/v1 (entities, listMetrics, virtual time series), /api/metric/v1/:id,
// and the virtual time series on the other service paths (metric_routes.cpp).
void add_metric_routes(RouteTable& t, Resources& res);
// POST /api/object/v1, GET /api/object/v1/private/:id, GET /api/data/v1/private/:id:property
// (object_routes.cpp).
void add_object_routes(RouteTable& t, Resources& res);

// The dialect's error body: {"status": 400, "error": "Bad Request", "message": "...",
// "parameter": "_range"} (parameter only when one is named).
Response error_body(int status, const std::string& message, const std::string& parameter = {});

}  // namespace vigil::api::odsl
