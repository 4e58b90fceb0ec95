#include "api/librato/params.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <ctime>
#include <limits>
#include <map>

#include "api/http/form.hpp"
#include "engine/model/time_text.hpp"

namespace vigil::api::librato {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

bool parse_body(const Request& req, nlohmann::json& out, Response& error) {
  if (auto e = decode_body(req, out)) {
    error = request_error(e->status, e->message);
    return false;
  }
  return true;
}

std::optional<std::string> body_json(const Request& req, Response& error) {
  nlohmann::json body;
  if (!parse_body(req, body, error)) return std::nullopt;
  return body.dump();
}

std::optional<std::string> get_string(const nlohmann::json& obj, const char* key, bool& bad) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
  bad = true;
  return std::nullopt;
}

std::optional<bool> get_bool(const nlohmann::json& obj, const char* key, bool& bad) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string()) {
    auto s = lower(it->get<std::string>());
    if (s == "true" || s == "1") return true;
    if (s == "false" || s == "0") return false;
  }
  bad = true;
  return std::nullopt;
}

std::optional<std::int64_t> get_int(const nlohmann::json& obj, const char* key, bool& bad) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (it->is_number_unsigned()) {
    auto u = it->get<std::uint64_t>();
    if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return static_cast<std::int64_t>(u);
  } else if (it->is_number_integer()) {
    return it->get<std::int64_t>();
  } else if (it->is_number_float()) {
    // Only an integral value that an int64 holds: the cast of any other double is undefined.
    double d = it->get<double>();
    if (std::isfinite(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0 && d == std::floor(d))
      return static_cast<std::int64_t>(d);
  }
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    try {
      std::size_t pos = 0;
      long long v = std::stoll(s, &pos);
      if (pos == s.size()) return v;
    } catch (const std::exception&) {
    }
  }
  bad = true;
  return std::nullopt;
}

std::optional<std::vector<std::string>> get_strings(const nlohmann::json& obj, const char* key, bool& bad) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  std::vector<std::string> out;
  if (it->is_array()) {
    for (const auto& e : *it) {
      if (!e.is_string()) {
        bad = true;
        return std::nullopt;
      }
      out.push_back(e.get<std::string>());
    }
    return out;
  }
  if (it->is_string()) {
    const auto& s = it->get_ref<const std::string&>();
    std::size_t start = 0;
    while (start <= s.size()) {
      auto comma = s.find(',', start);
      if (comma == std::string::npos) comma = s.size();
      if (comma > start) out.push_back(s.substr(start, comma - start));
      start = comma + 1;
    }
    return out;
  }
  bad = true;
  return std::nullopt;
}

bool parse_id(std::string_view s, std::uint64_t& id) {
  if (s.empty() || s.size() > 19 || !std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); }))
    return false;
  id = std::stoull(std::string(s));
  return true;
}

std::string search_pattern(std::string_view term) {
  if (term.find('*') != std::string_view::npos || term.find('?') != std::string_view::npos) return std::string(term);
  return "*" + std::string(term) + "*";
}

bool parse_page(const nlohmann::json& q, const std::vector<std::string>& orderbys, Page& page, Response& error) {
  bool bad = false;
  std::vector<ParamError> errors;
  auto offset = get_int(q, "offset", bad);
  if (bad || (offset && *offset < 0)) errors.push_back({"offset", "must be a non-negative integer"});
  bad = false;
  auto length = get_int(q, "length", bad);
  if (bad || (length && (*length < 1 || *length > 100))) errors.push_back({"length", "must be an integer between 1 and 100"});
  bad = false;
  auto orderby = get_string(q, "orderby", bad);
  if (bad || (orderby && std::find(orderbys.begin(), orderbys.end(), *orderby) == orderbys.end())) {
    std::string allowed;
    for (const auto& o : orderbys) allowed += (allowed.empty() ? "" : ", ") + o;
    errors.push_back({"orderby", "must be one of: " + allowed});
  }
  bad = false;
  auto sort = get_string(q, "sort", bad);
  if (bad || (sort && *sort != "asc" && *sort != "desc")) errors.push_back({"sort", "must be asc or desc"});
  if (!errors.empty()) {
    error = params_error(400, errors);
    return false;
  }
  if (offset) page.offset = *offset;
  if (length) page.length = *length;
  page.orderby = orderby ? *orderby : (orderbys.empty() ? "" : orderbys.front());
  page.desc = sort && *sort == "desc";
  return true;
}

bool parse_name_listing(const Request& req, Page& page, std::optional<std::string>& name, Response& error) {
  auto q = query_json(req);
  if (!parse_page(q, {"name"}, page, error)) return false;
  bool bad = false;
  name = get_string(q, "name", bad);
  if (bad) {
    error = params_error(400, {{"name", "must be a string"}});
    return false;
  }
  return true;
}

std::string utc_text(std::int64_t epoch_seconds) { return utc_format(epoch_seconds, "%Y-%m-%d %H:%M:%S UTC"); }

std::string base_url(const Request& req) {
  auto host = req.header("host");
  return "http://" + std::string(host.empty() ? "localhost" : host);
}

}  // namespace vigil::api::librato
