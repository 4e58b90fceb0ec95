// Request bodies and query strings as JSON objects: `application/json`, or
// `application/x-www-form-urlencoded` with bracket notation. Dialects render the errors.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/http/message.hpp"

namespace vigil::api {

// Form pairs with bracket keys as a nested object: `a[b][c]=v` -> {"a":{"b":{"c":"v"}}},
// `a[]=x&a[]=y` -> {"a":["x","y"]}; objects whose keys are all decimal indexes become arrays
// ordered by index (`gauges[0][name]`). Values stay strings; a repeated key collects its values
// into an array (`names=a&names=b` -> {"names":["a","b"]}).
// Refusals (form bodies): a name nested deeper than kMaxFormKeyDepth
// (engine/ingest/urlencoded.hpp), or a name or value that is not UTF-8 once percent-decoded, set
// `*refused` to the reason and give an empty object. Without `refused` (query strings), such a
// name is kept as one flat key, as malformed bracket names are, and invalid UTF-8 bytes become
// U+FFFD. Either way nesting stays bounded and every string is valid JSON text.
nlohmann::json form_to_json(const std::vector<std::pair<std::string, std::string>>& pairs,
                            std::string* refused = nullptr);

struct BodyError {
  int status;  // 400 (not a JSON object; a form name nested too deeply, or not UTF-8) or 415 (another content type)
  std::string message;
};

// The body as a JSON object: `application/json`, or `application/x-www-form-urlencoded` (also
// when the content type is missing). An empty body is an empty object.
std::optional<BodyError> decode_body(const Request& req, nlohmann::json& out);

// The query string as a JSON object (form_to_json of its pairs).
nlohmann::json query_json(const Request& req);

// The JSON answer of a value.
inline Response json_answer(int status, const nlohmann::json& body) { return json_answer(status, body.dump()); }

}  // namespace vigil::api
