// The error bodies of the Scale dialect, as Scale (a Django REST framework service) writes
// them: {"detail": "<message>"}; a refused query parameter also names it in "parameter".
#pragma once

#include <string>

#include "api/http/message.hpp"

namespace vigil::api::scale {

// {"detail":"<message>"}
Response detail_error(int status, const std::string& message);
// 400 {"detail":"<param>: <message>","parameter":"<param>"}
Response param_error(const std::string& param, const std::string& message);

}  // namespace vigil::api::scale
