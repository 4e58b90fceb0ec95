#include "api/librato/access.hpp"

#include <cstdio>

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "api/librato/params.hpp"

namespace vigil::api::librato {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool is_v1(const std::string& path) { return path == "/v1" || starts_with(path, "/v1/"); }

Response unauthorized(const std::string& message) {
  Response r = request_error(401, message);
  r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"vigil\"");
  return r;
}

}  // namespace

struct Access::Window {
  std::atomic<std::int64_t> start{0};
  std::atomic<std::int64_t> used{0};
};

RouteClass classify(const std::string& method, const std::string& path) {
  if (path == "/v1/api_tokens" || starts_with(path, "/v1/api_tokens/")) return RouteClass::tokens;
  if (method == "POST" && (path == "/v1/measurements" || path == "/v1/metrics")) return RouteClass::submit;
  if (method == "GET" || method == "HEAD") return RouteClass::read;
  return RouteClass::write;
}

bool role_allows(Role role, RouteClass cls) {
  switch (role) {
    case Role::admin: return true;
    case Role::viewer: return cls == RouteClass::read;
    case Role::recorder: return cls == RouteClass::submit;
  }
  return false;
}

Access::Access(Authenticator& auth, AccessOptions opts)
    : auth_(auth), opts_(opts), anonymous_(std::make_shared<Window>()) {
  if (opts_.rate_window < 1) opts_.rate_window = 1;
}
Access::~Access() = default;

std::shared_ptr<Access::Window> Access::window_of(std::uint64_t token_id) {
  std::lock_guard lock(windows_mu_);
  auto& w = windows_[token_id];
  if (!w) w = std::make_shared<Window>();
  return w;
}

RateState Access::count(Window& w) {
  std::int64_t now = now_seconds();
  std::int64_t window_start = now - now % opts_.rate_window;
  std::int64_t start = w.start.load(std::memory_order_relaxed);
  if (start != window_start && w.start.compare_exchange_strong(start, window_start))
    w.used.store(0, std::memory_order_relaxed);
  std::int64_t used = w.used.fetch_add(1, std::memory_order_relaxed) + 1;
  RateState r;
  r.present = true;
  r.limit = opts_.rate_limit;
  r.remaining = used >= opts_.rate_limit ? 0 : opts_.rate_limit - used;
  r.reset = window_start + opts_.rate_window;
  if (used > opts_.rate_limit) r.remaining = -1;  // marks "over the limit"
  return r;
}

bool Access::admit(const Request& req, Response& denied, RateState& rate) {
  if (!is_v1(req.path)) return true;
  if (!opts_.enabled) {
    rate = count(*anonymous_);
  } else {
    auto header = req.header("authorization");
    auto grant = auth_.verify(header, kBasic);
    if (!grant) {
      rate = count(*anonymous_);
      denied = header.empty() ? unauthorized("Please provide credentials for authentication.")
                              : unauthorized("Authentication failed: unknown user, token or inactive token.");
      if (rate.remaining < 0) rate.remaining = 0;
      return false;
    }
    rate = count(*window_of(grant->token_id));
    if (!role_allows(grant->role, classify(req.method, req.path))) {
      if (rate.remaining < 0) rate.remaining = 0;
      denied = request_error(403, std::string("the ") + role_name(grant->role) + " role may not " +
                                      (req.method == "GET" || req.method == "HEAD" ? "read " : "change ") + req.path);
      return false;
    }
  }
  if (rate.remaining < 0) {
    rate.remaining = 0;
    denied = request_error(429, "rate limit exceeded: " + std::to_string(rate.limit) + " requests per " +
                                    std::to_string(opts_.rate_window) + " s");
    return false;
  }
  return true;
}

void Access::add_headers(const RateState& rate, Response& r) {
  if (!rate.present) return;
  r.headers.emplace_back("X-Librato-RateLimit-Limit", std::to_string(rate.limit));
  r.headers.emplace_back("X-Librato-RateLimit-Remaining", std::to_string(rate.remaining));
  r.headers.emplace_back("X-Librato-RateLimit-Reset", std::to_string(rate.reset));
}

bool bootstrap_tokens(TokenStore& tokens, const std::string& user, const std::string& token,
                      const std::string& data_dir, std::string& err) {
  if (!user.empty()) {
    if (!tokens.set_account(user, err)) return false;
  } else if (tokens.account().empty()) {
    if (!tokens.set_account("admin@localhost", err)) return false;
  }
  std::int64_t now = now_seconds();
  if (!token.empty()) {
    if (auto t = tokens.find_by_secret(token)) {
      if (!t->active || t->role != Role::admin) {
        t->active = true;
        t->role = Role::admin;
        t->updated = now;
        return tokens.update(*t, err);
      }
      return true;
    }
    std::string secret = token;
    return tokens.create(std::string("admin (configured)"), Role::admin, secret, now, err).has_value();
  }
  if (tokens.size() > 0) return true;
  std::string secret;
  if (!tokens.create(std::string("admin (generated)"), Role::admin, secret, now, err)) return false;
  std::string path = (std::filesystem::path(data_dir) / "admin-token").string();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    err = "cannot write " + path;
    return false;
  }
  ::fchmod(fd, 0600);
  std::string line = secret + "\n";
  bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  ::close(fd);
  if (!ok) {
    err = "cannot write " + path;
    return false;
  }
  // The secret goes to standard output once and to the file, never into the log (which is often
  // collected and kept elsewhere).
  std::printf("generated the first admin token: user %s token %s\n", tokens.account().c_str(), secret.c_str());
  std::fflush(stdout);
  spdlog::warn("generated the first admin token for user {}: printed on standard output and written to {}",
               tokens.account(), path);
  return true;
}

}  // namespace vigil::api::librato
