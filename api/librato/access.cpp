#include "api/librato/access.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>

#include "api/librato/params.hpp"

namespace vigil::api::librato {

namespace {

constexpr std::size_t kMaxCached = 10000;

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool is_v1(const std::string& path) { return path == "/v1" || starts_with(path, "/v1/"); }

// Standard base64 (RFC 4648) without line breaks; false on invalid input.
bool base64_decode(std::string_view in, std::string& out) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = val(c);
    if (v < 0) return false;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

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

Access::Access(TokenStore& tokens, AccessOptions opts)
    : tokens_(tokens), opts_(opts), anonymous_(std::make_shared<Window>()) {
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

bool Access::verify(const std::string& header, Grant& grant) {
  std::uint64_t gen = tokens_.generation();
  {
    std::shared_lock lock(mu_);
    if (generation_ == gen) {
      auto it = cache_.find(header);
      if (it != cache_.end()) {
        grant = it->second;
        return true;
      }
    }
  }
  std::string_view h(header);
  if (h.size() < 6 || !iequals(h.substr(0, 6), "basic ")) return false;
  h.remove_prefix(6);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  std::string decoded;
  if (!base64_decode(h, decoded)) return false;
  auto colon = decoded.find(':');
  if (colon == std::string::npos) return false;
  std::string_view user = std::string_view(decoded).substr(0, colon);
  std::string_view secret = std::string_view(decoded).substr(colon + 1);
  if (secret.empty() || !iequals(user, tokens_.account())) return false;
  auto token = tokens_.find_by_secret(secret);
  if (!token || !token->active) return false;
  grant = Grant{token->role, window_of(token->id)};
  std::unique_lock lock(mu_);
  if (tokens_.generation() != gen) return true;  // changed meanwhile: do not cache
  if (generation_ != gen || cache_.size() >= kMaxCached) {
    cache_.clear();
    generation_ = gen;
  }
  cache_.emplace(header, grant);
  return true;
}

bool Access::admit(const Request& req, Response& denied, RateState& rate) {
  if (!is_v1(req.path)) return true;
  if (!opts_.enabled) {
    rate = count(*anonymous_);
  } else {
    auto header = req.header("authorization");
    Grant grant{Role::viewer, nullptr};
    if (header.empty() || !verify(std::string(header), grant)) {
      rate = count(*anonymous_);
      denied = header.empty() ? unauthorized("Please provide credentials for authentication.")
                              : unauthorized("Authentication failed: unknown user, token or inactive token.");
      if (rate.remaining < 0) rate.remaining = 0;
      return false;
    }
    rate = count(*grant.window);
    if (!role_allows(grant.role, classify(req.method, req.path))) {
      if (rate.remaining < 0) rate.remaining = 0;
      denied = request_error(403, std::string("the ") + role_name(grant.role) + " role may not " +
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
  spdlog::warn("generated the first admin token: user {} token {} (also written to {})", tokens.account(), secret,
               path);
  return true;
}

}  // namespace vigil::api::librato
