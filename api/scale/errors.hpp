// The error bodies of the Scale dialect, as Scale (a Django REST framework service) writes
// them: {"detail": "<message>"}; a refused query parameter also names it in "parameter".
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "api/http/message.hpp"

namespace vigil::api::scale {

// A JSON answer of `body`. Text that is not UTF-8 (a path or parameter as sent, a Host header)
// is written with U+FFFD in place of its invalid bytes rather than failing the answer.
Response json_body(int status, const nlohmann::ordered_json& body);

// {"detail":"<message>"}
Response detail_error(int status, const std::string& message);
// 400 {"detail":"<param>: <message>","parameter":"<param>"}
Response param_error(const std::string& param, const std::string& message);

}  // namespace vigil::api::scale
