#include "api/ubiops/request.hpp"

#include <cctype>
#include <charconv>

#include "api/ubiops/codec.hpp"
#include "api/ubiops/errors.hpp"
#include "api/http/form.hpp"

namespace vigil::api::ubiops {

Response query_error(Resources& res, std::string_view field, std::string_view message) {
  res.rejects.bad_query.fetch_add(1);
  return field_error(400, field, message);
}

std::optional<Response> check_project(const std::string& project, Resources& res) {
  if (valid_project_name(project)) return std::nullopt;
  return query_error(res, "project_name", "must be 1 to 64 of lower-case letters, digits and '-'");
}

std::optional<Response> read_body(const Request& req, Resources& res, nlohmann::json& out, bool object) {
  std::string_view ct = req.header("content-type");
  if (!ct.empty()) {
    std::string type(ct.substr(0, ct.find(';')));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    for (auto& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (type != "application/json") {
      res.rejects.bad_content_type.fetch_add(1);
      return field_error(415, "Content-Type", "must be application/json");
    }
  }
  out = nlohmann::json::parse(req.body, nullptr, false);
  if (out.is_discarded()) {
    res.rejects.bad_body.fetch_add(1);
    return field_error(400, "body", "is not valid JSON");
  }
  if (object && !out.is_object()) {
    res.rejects.bad_body.fetch_add(1);
    return field_error(400, "body", "must be a JSON object");
  }
  return std::nullopt;
}

Query::Query(const Request& req) : pairs_(parse_urlencoded(req.query)) {}

const std::string* Query::get(std::string_view key) const {
  const std::string* found = nullptr;
  for (const auto& [k, v] : pairs_)
    if (k == key) found = &v;
  return found;
}

std::optional<Response> Query::boolean(std::string_view key, std::optional<bool>& out, Resources& res) const {
  const std::string* v = get(key);
  if (v == nullptr) return std::nullopt;
  if (*v == "true" || *v == "True" || *v == "1") out = true;
  else if (*v == "false" || *v == "False" || *v == "0") out = false;
  else return query_error(res, key, "must be true or false");
  return std::nullopt;
}

std::optional<Response> Query::integer(std::string_view key, std::int64_t lo, std::int64_t hi,
                                       std::optional<std::int64_t>& out, Resources& res) const {
  const std::string* v = get(key);
  if (v == nullptr) return std::nullopt;
  std::int64_t n = 0;
  auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (v->empty() || ec != std::errc() || ptr != v->data() + v->size()) return query_error(res, key, "must be an integer");
  if (n < lo || n > hi)
    return query_error(res, key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi));
  out = n;
  return std::nullopt;
}

}  // namespace vigil::api::ubiops
