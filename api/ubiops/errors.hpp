// The error bodies of the UbiOps dialect: {"error": "<message>"}, and for bad input
// {"error": "<field>: <message>", "field": "<field>"}.
#pragma once

#include <string>
#include <string_view>

#include "api/http/message.hpp"

namespace vigil::api::ubiops {

Response error_response(int status, std::string_view message);
Response field_error(int status, std::string_view field, std::string_view message);

}  // namespace vigil::api::ubiops
