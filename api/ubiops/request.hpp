// Reading UbiOps requests: the project of the path, JSON bodies and query parameters, each
// failure answered with a field error and counted in the reject counters.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "api/http/message.hpp"
#include "api/ubiops/resources.hpp"

namespace vigil::api::ubiops {

// 400 naming project_name unless `project` is a valid project name (codec.hpp).
std::optional<Response> check_project(const std::string& project, Resources& res);
// The body as JSON (application/json, or no content type): 415 for another content type, 400
// for a body that is not JSON. With `object`, it must be a JSON object.
std::optional<Response> read_body(const Request& req, Resources& res, nlohmann::json& out, bool object);
inline std::optional<Response> read_object_body(const Request& req, Resources& res, nlohmann::json& out) {
  return read_body(req, res, out, true);
}

class Query {
 public:
  explicit Query(const Request& req);
  // The last value of `key`, or nullptr.
  const std::string* get(std::string_view key) const;
  // true / false (also True, 1, 0) into `out` when present.
  std::optional<Response> boolean(std::string_view key, std::optional<bool>& out, Resources& res) const;
  // An integer in [lo, hi] into `out` when present.
  std::optional<Response> integer(std::string_view key, std::int64_t lo, std::int64_t hi,
                                  std::optional<std::int64_t>& out, Resources& res) const;

 private:
  std::vector<std::pair<std::string, std::string>> pairs_;
};

// A field error for bad query input, counted as such.
Response query_error(Resources& res, std::string_view field, std::string_view message);

}  // namespace vigil::api::ubiops
