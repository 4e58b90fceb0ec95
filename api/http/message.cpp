#include "api/http/message.hpp"

#include <nlohmann/json.hpp>

namespace vigil::api {

Response neutral_error(int status, std::string_view message) {
  return json_answer(status, nlohmann::json{{"error", message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace vigil::api
