// The error bodies of the Librato dialect.
#pragma once

#include <string>
#include <vector>

#include "api/http/message.hpp"
#include "engine/model/model.hpp"

namespace vigil::api::librato {

// {"errors":{"params":{"<param>":["<message>", ...]}}}
Response params_error(int status, const std::vector<ParamError>& errors);
// {"errors":{"request":["<message>"]}}
Response request_error(int status, const std::string& message);
// {"errors":{"system":["<message>"]}}
Response system_error(int status, const std::string& message);

}  // namespace vigil::api::librato
