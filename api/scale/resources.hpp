// What the Scale dialect's routes share: the engine (reads only), the credentials, the document
// store holding the choice ids, the reject counters and the declared metrics types.
#pragma once

#include <vector>

#include "api/dialect.hpp"
#include "api/http/routes.hpp"
#include "config/config.hpp"

namespace vigil {
class DocStore;
}
namespace vigil::actors {
class Engine;
}

namespace vigil::api {
class Authenticator;
}

namespace vigil::api::scale {

class ChoiceIds;

struct Resources {
  actors::Engine& engine;
  Authenticator& auth;
  DocStore& docs;
  RejectCounters& rejects;
  std::vector<config::ScaleMetricType> types;  // [[scale.metric_types]], in file order
  bool auth_enabled = true;                    // auth.enabled: false admits every request
};

// GET /v6/metrics, /v6/metrics/:name and /v6/metrics/:name/plot-data (metrics_routes.cpp).
void add_metrics_routes(RouteTable& t, Resources& res, ChoiceIds& ids);

}  // namespace vigil::api::scale
