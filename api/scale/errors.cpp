#include "api/scale/errors.hpp"

#include <nlohmann/json.hpp>

namespace vigil::api::scale {

Response json_body(int status, const nlohmann::ordered_json& body) {
  return json_answer(status,
                     body.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace));
}

Response detail_error(int status, const std::string& message) {
  return json_body(status, nlohmann::ordered_json{{"detail", message}});
}

Response param_error(const std::string& param, const std::string& message) {
  nlohmann::ordered_json body = {{"detail", param + ": " + message}, {"parameter", param}};
  return json_body(400, body);
}

}  // namespace vigil::api::scale
