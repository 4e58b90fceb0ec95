#include "api/console/console.hpp"

#include <nlohmann/json.hpp>

#include "actors/engine.hpp"
#include "api/auth.hpp"
#include "api/console/live.hpp"
#include "api/console/static_files.hpp"
#include "api/http/body.hpp"
#include "api/http/routes.hpp"

namespace vigil::api::console {

namespace {

// Served with every page file: nothing is loaded from elsewhere, and no other site frames it.
void page_headers(Response& r) {
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("Content-Security-Policy",
                         "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
                         "connect-src 'self'; frame-ancestors 'none'");
}

Response method_not_allowed(const char* allow) {
  return with_allow(neutral_error(405, std::string("method not allowed; use ") + allow), allow);
}

Response unauthorized(const char* why) {
  Response r = neutral_error(401, why);
  // No WWW-Authenticate: Basic here, or the browser would show its own sign-in box over the page.
  return r;
}

}  // namespace

Console::Console(actors::Engine& engine, Authenticator& auth, ConsoleOptions opts)
    : engine_(engine), auth_(auth), opts_(std::move(opts)), files_(std::make_unique<StaticFiles>()) {
  files_->load(opts_.web_root, load_error_);
  hub_ = std::make_shared<LiveHub>(engine_);
}

Console::~Console() { engine_.set_apply_listener(nullptr); }

Response Console::handle(const Request& req) {
  if (req.path == "/console/session") return session(req);
  if (req.path == "/console/live") return live(req);
  return file(req);
}

Response Console::file(const Request& req) {
  std::string_view path = req.path;
  if (path == "/") path = "/index.html";
  const StaticFile* f = files_->find(path);
  if (!f) {
    if (req.path == "/" && !load_error_.empty()) return neutral_error(404, load_error_);
    return neutral_error(404, "no route for " + req.path);
  }
  if (req.method != "GET" && req.method != "HEAD") return method_not_allowed("GET, HEAD");
  Response r{200, req.method == "HEAD" ? std::string() : f->body, f->content_type, {}};
  page_headers(r);
  return r;
}

Response Console::session(const Request& req) {
  if (req.method != "GET") return method_not_allowed("GET");
  nlohmann::json out;
  if (!opts_.auth_enabled) {
    out = {{"email", ""}, {"role", "admin"}};
  } else {
    auto grant = auth_.verify(req.header("authorization"), kBasic);
    if (!grant) return unauthorized("the email or API token is not valid");
    out = {{"email", auth_.tokens().account()}, {"role", role_name(grant->role)}, {"token_id", grant->token_id}};
  }
  Response r = json_answer(200, out);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

Response Console::live(const Request& req) {
  if (req.method != "GET") return method_not_allowed("GET");
  if (opts_.auth_enabled && !auth_.verify(req.header("authorization"), kBasic))
    return unauthorized("the email or API token is not valid");
  nlohmann::json q = query_json(req);
  if (!q.contains("name") || !q["name"].is_string() || q["name"].get<std::string>().empty())
    return neutral_error(400, "name: the metric to follow is required (GET /console/live?name=METRIC)");
  const std::string name = q["name"].get<std::string>();
  if (name.size() > 255) return neutral_error(400, "name: at most 255 characters");
  auto stream = hub_->subscribe(name);
  if (!stream) return neutral_error(503, "too many live streams are open");
  Response r;
  r.content_type = "text/event-stream";
  r.stream = std::move(stream);
  r.headers.emplace_back("X-Accel-Buffering", "no");
  return r;
}

}  // namespace vigil::api::console
