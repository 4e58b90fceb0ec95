// /v1/api_tokens: create, list and search, retrieve, update and delete API tokens.
#include <algorithm>

#include "api/librato/access.hpp"
#include "api/librato/params.hpp"
#include "api/librato/resources.hpp"
#include "api/http/form.hpp"

namespace vigil::api::librato {

namespace {

const std::string kBase = "/v1/api_tokens";

// The token text is returned whole only when it is created; afterwards only its first 8
// characters are known (the store keeps a hash).
nlohmann::json token_json(const ApiToken& t, const Request& req, const std::string* secret) {
  nlohmann::json j;
  j["name"] = t.name ? nlohmann::json(*t.name) : nlohmann::json(nullptr);
  j["token"] = secret ? *secret : t.hint + std::string(56, '*');
  j["active"] = t.active;
  j["role"] = role_name(t.role);
  j["href"] = base_url(req) + kBase + "/" + std::to_string(t.id);
  j["created_at"] = utc_text(t.created);
  j["updated_at"] = utc_text(t.updated);
  return j;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}


// Whether removing admin rights from token `id` would leave no active admin token.
bool last_admin(Access& access, std::uint64_t id) {
  for (const auto& t : access.tokens().list())
    if (t.id != id && t.active && t.role == Role::admin) return false;
  return true;
}

Response last_admin_error() {
  return request_error(400, "the last active admin token cannot be deleted, deactivated or given another role");
}

Response list(Access& access, const Request& req, const std::optional<std::string>& term) {
  auto q = query_json(req);
  Page page;
  Response err;
  if (!parse_page(q, {"id", "name"}, page, err)) return err;
  bool bad = false;
  auto name = term ? term : get_string(q, "name", bad);
  if (bad) return params_error(400, {{"name", "must be a string"}});
  auto all = access.tokens().list();
  std::vector<ApiToken> found;
  std::string pattern = name ? search_pattern(*name) : "";
  for (auto& t : all)
    if (!name || (t.name && glob_match(pattern, *t.name))) found.push_back(t);
  if (page.orderby == "name")
    std::stable_sort(found.begin(), found.end(),
                     [](const ApiToken& a, const ApiToken& b) { return lower(a.name.value_or("")) < lower(b.name.value_or("")); });
  auto query = paginate(found, page, all.size());
  nlohmann::json items = nlohmann::json::array();
  for (const auto& t : found) items.push_back(token_json(t, req, nullptr));
  return json_answer(200, {{"query", query}, {"api_tokens", items}});
}

Response create(Access& access, const Request& req) {
  nlohmann::json body;
  Response err;
  if (!parse_body(req, body, err)) return err;
  std::vector<ParamError> errors;
  bool bad = false;
  auto name = get_string(body, "name", bad);
  if (bad || !name || name->empty()) errors.push_back({"name", "is required"});
  bad = false;
  auto role_text = get_string(body, "role", bad);
  auto role = role_text ? parse_role(*role_text) : std::nullopt;
  if (!role) errors.push_back({"role", "must be one of admin, recorder, viewer"});
  if (!errors.empty()) return params_error(400, errors);
  std::string secret, e;
  auto t = access.tokens().create(*name, *role, secret, now_seconds(), e);
  if (!t) return system_error(503, "cannot store the token: " + e);
  Response r = json_answer(201, token_json(*t, req, &secret));
  r.headers.emplace_back("Location", kBase + "/" + std::to_string(t->id));
  return r;
}

Response update(Access& access, const Request& req, std::uint64_t id) {
  auto t = access.tokens().get(id);
  if (!t) return request_error(404, "api token " + std::to_string(id) + " not found");
  nlohmann::json body;
  Response err;
  if (!parse_body(req, body, err)) return err;
  std::vector<ParamError> errors;
  bool bad = false;
  if (body.contains("name")) {
    auto name = get_string(body, "name", bad);
    if (bad || (name && name->empty())) errors.push_back({"name", "must be a non-empty string"});
    else t->name = name;
  }
  bad = false;
  if (auto active = get_bool(body, "active", bad)) t->active = *active;
  if (bad) errors.push_back({"active", "must be true or false"});
  bad = false;
  if (auto role_text = get_string(body, "role", bad)) {
    if (auto role = parse_role(*role_text)) t->role = *role;
    else bad = true;
  }
  if (bad) errors.push_back({"role", "must be one of admin, recorder, viewer"});
  if (!errors.empty()) return params_error(400, errors);
  auto before = access.tokens().get(id);
  if (before && before->active && before->role == Role::admin && (!t->active || t->role != Role::admin) &&
      last_admin(access, id))
    return last_admin_error();
  t->updated = now_seconds();
  std::string e;
  if (!access.tokens().update(*t, e)) return system_error(503, "cannot store the token: " + e);
  return json_answer(200, token_json(*t, req, nullptr));
}

}  // namespace

void add_token_routes(RouteTable& t, Resources& res) {
  Access& access = res.access;
  t.add("GET", "/v1/api_tokens", [&access](const Request& req, const PathParams&) { return list(access, req, std::nullopt); });
  t.add("POST", "/v1/api_tokens", [&access](const Request& req, const PathParams&) { return create(access, req); });
  // GET with a name that is not an id lists the tokens of that name.
  t.add("GET", "/v1/api_tokens/:id", [&access](const Request& req, const PathParams& p) {
    const std::string& rest = p["id"];
    std::uint64_t id = 0;
    if (!parse_id(rest, id)) return list(access, req, rest);
    if (auto tok = access.tokens().get(id)) return json_answer(200, token_json(*tok, req, nullptr));
    return request_error(404, "api token " + rest + " not found");
  });
  t.add("PUT", "/v1/api_tokens/:id", [&access](const Request& req, const PathParams& p) {
    std::uint64_t id = 0;
    return parse_id(p["id"], id) ? update(access, req, id) : request_error(404, "api token " + p["id"] + " not found");
  });
  t.add("DELETE", "/v1/api_tokens/:id", [&access](const Request&, const PathParams& p) {
    std::string e;
    std::uint64_t id = 0;
    auto tok = parse_id(p["id"], id) ? access.tokens().get(id) : std::nullopt;
    if (!tok) return request_error(404, "api token " + p["id"] + " not found");
    if (tok->active && tok->role == Role::admin && last_admin(access, id)) return last_admin_error();
    if (!access.tokens().remove(id, e)) return system_error(503, "cannot delete the token: " + e);
    return no_content();
  });
}

}  // namespace vigil::api::librato
