// Librato alerting routes: /v1/alerts (alerts_routes.cpp) and /v1/services plus the outbox view
// /v1/notifications (services_routes.cpp). Each returns nullopt when the path is not theirs.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/http_server.hpp"

namespace vigil::actors {
class Engine;
}

namespace vigil::api::librato::alert_http {

std::optional<Response> alerts_routes(actors::Engine& engine, const Request& req);
std::optional<Response> services_routes(actors::Engine& engine, const Request& req);

// -- shared by both (over the general helpers of params.hpp and resources.hpp) -------------------

// Form pairs with bracket notation ("conditions[0][type]=above", "services[]=3",
// "settings[url]=...") as a JSON object text; values stay strings.
std::string form_to_json(const std::vector<std::pair<std::string, std::string>>& pairs);

// The body of a POST/PUT as JSON object text (params.hpp's parse_body: JSON, or a form converted).
// nullopt and `error` for another content type or a body that is not a JSON object.
std::optional<std::string> body_json(const Request& req, Response& error);

// Path segments after "/v1/": "/v1/alerts/3/services/4" -> {"alerts", "3", "services", "4"};
// none for another path or one with an empty segment.
std::vector<std::string> path_segments(const std::string& path);

}  // namespace vigil::api::librato::alert_http
