#include "api/librato/errors.hpp"

#include <map>
#include <nlohmann/json.hpp>

namespace vigil::api::librato {

Response params_error(int status, const std::vector<ParamError>& errors) {
  nlohmann::json params = nlohmann::json::object();
  for (const auto& e : errors) params[e.param].push_back(e.message);
  nlohmann::json body = {{"errors", {{"params", params}}}};
  return Response{status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json", {}};
}

Response request_error(int status, const std::string& message) {
  nlohmann::json body = {{"errors", {{"request", {message}}}}};
  return Response{status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json", {}};
}

Response system_error(int status, const std::string& message) {
  nlohmann::json body = {{"errors", {{"system", {message}}}}};
  return Response{status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), "application/json", {}};
}

}  // namespace vigil::api::librato
