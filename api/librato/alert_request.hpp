// Librato's alert and service requests: validation of POST/PUT bodies into the engine's alert
// model (engine/alerting/alert_model.hpp).
//
// Request bodies arrive as JSON text; form-encoded bodies are converted to JSON by the HTTP layer
// first (bracket notation), so scalar values may arrive as strings ("200", "true") and are
// accepted in that form too.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "engine/alerting/alert_model.hpp"

namespace vigil::alerting {

// Validates a POST (base == nullptr) or PUT (base = the stored alert) body and fills `out`
// (id, created_at and services' existence are the caller's business). Returns the errors.
// On PUT, `conditions` is required; other fields absent from the body keep their stored value,
// except `attributes`, which are replaced when given.
std::vector<ParamError> parse_alert_request(std::string_view body, const Alert* base, Alert& out);

// Alert names: 1..255 characters of [A-Za-z0-9.:_-].
bool valid_alert_name(std::string_view name);

// Validates a service POST (base == nullptr) or PUT body.
std::vector<ParamError> parse_service_request(std::string_view body, const Service* base, Service& out);

// A JSON value (as text) coerced to a service or alert id; 0 if it is not a positive integer.
std::uint64_t parse_id(std::string_view text);

}  // namespace vigil::alerting
