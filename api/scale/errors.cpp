#include "api/scale/errors.hpp"

#include <nlohmann/json.hpp>

namespace vigil::api::scale {

Response detail_error(int status, const std::string& message) {
  return json_answer(status, nlohmann::json{{"detail", message}}.dump());
}

Response param_error(const std::string& param, const std::string& message) {
  nlohmann::ordered_json body = {{"detail", param + ": " + message}, {"parameter", param}};
  return json_answer(400, body.dump());
}

}  // namespace vigil::api::scale
