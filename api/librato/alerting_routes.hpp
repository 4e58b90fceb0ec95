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

// -- shared by both ------------------------------------------------------------------------------

// Form pairs with bracket notation ("conditions[0][type]=above", "services[]=3",
// "settings[url]=...") as a JSON object text; values stay strings.
std::string form_to_json(const std::vector<std::pair<std::string, std::string>>& pairs);

// The body of a POST/PUT as JSON text: a JSON body as is, a form body converted. nullopt and
// `error` for another content type or malformed JSON.
std::optional<std::string> body_json(const Request& req, Response& error);

// Path segments after "/v1/": "/v1/alerts/3/services/4" -> {"alerts", "3", "services", "4"}.
std::vector<std::string> path_segments(const std::string& path);

struct Page {
  std::size_t offset = 0;
  std::size_t length = 100;
  bool desc = false;
  std::string orderby;
};
// offset, length (1..100), orderby (one of `allowed`, default the first), sort (asc|desc).
std::optional<Page> parse_page(const std::vector<std::pair<std::string, std::string>>& q,
                               const std::vector<std::string>& allowed, Response& error);

Response method_not_allowed(const std::string& allow);

}  // namespace vigil::api::librato::alert_http
