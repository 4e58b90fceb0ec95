// What the Deeploy dialect's routes share: the engine, the credentials, the document store that
// holds the metric definitions, the reject counters and the limits; the helpers every route file
// uses (errors, path ids, bodies, metric look-up); and one registration function per route file.
#pragma once

#include <cstddef>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "api/auth.hpp"
#include "api/deeploy/metric_doc.hpp"
#include "api/dialect.hpp"
#include "api/http/routes.hpp"

namespace vigil {
class DocStore;
}
namespace vigil::actors {
class Engine;
}

namespace vigil::api::deeploy {

struct Resources {
  actors::Engine& engine;
  Authenticator& auth;
  DocStore& docs;
  RejectCounters& rejects;
  bool auth_enabled = true;                // auth.enabled
  std::size_t max_batch_samples = 100000;  // engine.max_batch_samples: data points per request
  // Serialises every change of a metric document together with the samples it accounts for
  // (label tags, the time span, deletes and clears).
  std::mutex write_mu{};
};

// The routes, one registration per file.
void add_metric_routes(RouteTable& t, Resources& res);     // metric_routes.cpp
void add_datapoint_routes(RouteTable& t, Resources& res);  // datapoint_routes.cpp
void add_chart_routes(RouteTable& t, Resources& res);      // chart_routes.cpp

// The dialect's error body: {"statusCode", "error" (the reason phrase), "message"} and, when the
// error is about one field of the request, "field".
Response error_answer(int status, const std::string& message, const std::string& field = "");

// The workspace and deployment of the path, checked against their charset; false with the 400.
bool path_namespace(const PathParams& p, std::string& workspace, std::string& deployment,
                    Response& err);

// The JSON body of a request (an empty body is null); false with the 400 or 415, counted.
bool json_body(Resources& res, const Request& req, nlohmann::json& out, Response& err);

// The metric `id` of a deployment; nullopt with the 404 (field customMetricId).
std::optional<MetricDoc> find_metric(Resources& res, const std::string& workspace,
                                     const std::string& deployment, const std::string& id,
                                     Response& err);

// Removes every sample of a metric (its Vigil metric and series); false with the error text.
bool drop_samples(Resources& res, const MetricDoc& m, std::string& err);

}  // namespace vigil::api::deeploy
