#include "api/http/body.hpp"

#include <algorithm>
#include <cctype>
#include <map>

#include "api/http/form.hpp"

namespace vigil::api {

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

nlohmann::json form_to_json(const std::vector<std::pair<std::string, std::string>>& pairs, std::string* refused) {
  nlohmann::json root = nlohmann::json::object();
  std::string repaired_key, repaired_value;
  for (const auto& [raw_key, raw_value] : pairs) {
    // JSON strings are UTF-8: a body says so, a query string is repaired.
    const bool key_ok = valid_utf8(raw_key), value_ok = valid_utf8(raw_value);
    if ((!key_ok || !value_ok) && refused) {
      *refused = "the parameter " + shown_name(raw_key) + (key_ok ? "" : " (its name)") +
                 " is not valid UTF-8";
      return nlohmann::json::object();
    }
    if (!key_ok) repaired_key = repaired_utf8(raw_key);
    if (!value_ok) repaired_value = repaired_utf8(raw_value);
    const std::string& key = key_ok ? raw_key : repaired_key;
    const std::string& value = value_ok ? raw_value : repaired_value;
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
      if (parts.size() > kMaxFormKeyDepth + 1) {
        if (refused) {
          *refused = "the parameter name " + shown_name(key) + " nests deeper than " + std::to_string(kMaxFormKeyDepth) +
                     " levels";
          return nlohmann::json::object();
        }
        ok = false;
      }
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

std::optional<BodyError> decode_body(const Request& req, nlohmann::json& out) {
  std::string type = lower(media_type(req.header("content-type")));
  if (type == "application/json") {
    if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
      out = nlohmann::json::object();
      return std::nullopt;
    }
    out = nlohmann::json::parse(req.body, nullptr, false);
    if (out.is_discarded() || !out.is_object()) {
      return BodyError{400, "the body is not a JSON object"};
    }
    return std::nullopt;
  }
  if (type.empty() || type == "application/x-www-form-urlencoded") {
    std::string refused;
    out = form_to_json(parse_urlencoded(req.body), &refused);
    if (!refused.empty()) return BodyError{400, refused};
    return std::nullopt;
  }
  return BodyError{415, "Content-Type must be application/json or application/x-www-form-urlencoded"};
}

nlohmann::json query_json(const Request& req) { return form_to_json(parse_urlencoded(req.query)); }

}  // namespace vigil::api
