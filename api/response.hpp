// An HTTP response as the API handlers produce it, and the Librato error bodies.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "engine/model.hpp"

namespace vigil::api {

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// {"errors":{"params":{"<param>":["<message>", ...]}}}
Response params_error(int status, const std::vector<ParamError>& errors);
// {"errors":{"request":["<message>"]}}
Response request_error(int status, const std::string& message);
// {"errors":{"system":["<message>"]}}
Response system_error(int status, const std::string& message);

}  // namespace vigil::api
