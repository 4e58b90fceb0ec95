#include "api/librato/params.hpp"

#include <algorithm>
#include <chrono>
#include <cctype>
#include <ctime>
#include <map>

#include "engine/urlencoded.hpp"
#include "engine/time_text.hpp"

namespace vigil::api::librato {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view media_type(std::string_view ct) {
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  return ct;
}

bool is_index(const std::string& k) {
  return !k.empty() && k.size() < 10 && std::all_of(k.begin(), k.end(), [](unsigned char c) { return std::isdigit(c); });
}

// Objects whose keys are all indexes become arrays, recursively.
void arrays_from_indexes(nlohmann::json& j) {
  if (j.is_array()) {
    for (auto& e : j) arrays_from_indexes(e);
    return;
  }
  if (!j.is_object()) return;
  bool all_index = !j.empty();
  for (auto& [k, v] : j.items()) {
    arrays_from_indexes(v);
    if (!is_index(k)) all_index = false;
  }
  if (!all_index) return;
  std::map<long, nlohmann::json> ordered;
  for (auto& [k, v] : j.items()) ordered.emplace(std::stol(k), v);
  nlohmann::json arr = nlohmann::json::array();
  for (auto& [i, v] : ordered) arr.push_back(std::move(v));
  j = std::move(arr);
}

}  // namespace

nlohmann::json form_to_json(const std::vector<std::pair<std::string, std::string>>& pairs) {
  nlohmann::json root = nlohmann::json::object();
  for (const auto& [key, value] : pairs) {
    // Split "a[b][]" into "a", "b", "".
    std::vector<std::string> parts;
    auto open = key.find('[');
    parts.push_back(key.substr(0, open));
    bool ok = !parts[0].empty();
    while (ok && open != std::string::npos) {
      auto close = key.find(']', open);
      if (close == std::string::npos) {
        ok = false;
        break;
      }
      parts.push_back(key.substr(open + 1, close - open - 1));
      open = close + 1 < key.size() ? (key[close + 1] == '[' ? close + 1 : std::string::npos) : std::string::npos;
      if (open == std::string::npos && close + 1 < key.size()) ok = false;
    }
    if (!ok) {
      root[key] = value;
      continue;
    }
    nlohmann::json* node = &root;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      bool last = i + 1 == parts.size();
      const std::string& p = parts[i];
      if (p.empty() && i > 0) {  // "[]": append
        if (!node->is_array()) *node = nlohmann::json::array();
        if (last) {
          node->push_back(value);
        } else {
          node->push_back(nlohmann::json::object());
          node = &node->back();
        }
        continue;
      }
      if (!node->is_object()) *node = nlohmann::json::object();
      if (!last) {
        node = &(*node)[p];
      } else if (auto it = node->find(p); it == node->end()) {
        (*node)[p] = value;
      } else if (it->is_array()) {
        it->push_back(value);
      } else if (it->is_string()) {
        *it = nlohmann::json::array({*it, value});
      } else {
        *it = value;
      }
    }
  }
  arrays_from_indexes(root);
  if (!root.is_object()) root = nlohmann::json::object();
  return root;
}

bool parse_body(const Request& req, nlohmann::json& out, Response& error) {
  std::string type = lower(media_type(req.header("content-type")));
  if (type == "application/json") {
    if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
      out = nlohmann::json::object();
      return true;
    }
    out = nlohmann::json::parse(req.body, nullptr, false);
    if (out.is_discarded() || !out.is_object()) {
      error = request_error(400, "the body is not a JSON object");
      return false;
    }
    return true;
  }
  if (type.empty() || type == "application/x-www-form-urlencoded") {
    out = form_to_json(parse_urlencoded(req.body));
    return true;
  }
  error = request_error(415, "Content-Type must be application/json or application/x-www-form-urlencoded");
  return false;
}

nlohmann::json query_json(const Request& req) { return form_to_json(parse_urlencoded(req.query)); }

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
  if (it->is_number_integer()) return it->get<std::int64_t>();
  if (it->is_number_float()) {
    double d = it->get<double>();
    if (d == static_cast<double>(static_cast<std::int64_t>(d))) return static_cast<std::int64_t>(d);
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

bool wildcard_match(std::string_view pattern, std::string_view text) {
  auto eqc = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && (pattern[p] == '?' || (pattern[p] != '*' && eqc(pattern[p], text[t])))) {
      ++p;
      ++t;
    } else if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
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

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace vigil::api::librato
