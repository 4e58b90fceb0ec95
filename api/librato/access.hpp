// Who may call the /v1 routes: HTTP Basic credentials checked against the token store, the role
// of the token against the class of the route, and a per-token request rate limit whose state is
// reported in the X-Librato-RateLimit-* headers of every /v1 answer.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "api/auth.hpp"
#include "api/http/message.hpp"
#include "engine/meta/tokens.hpp"

namespace vigil::api::librato {

struct AccessOptions {
  bool enabled = true;                  // auth.enabled
  std::int64_t rate_limit = 1'000'000;  // auth.rate_limit: requests per token per window
  std::int64_t rate_window = 60;        // seconds
};

// What a route needs: `read` (GET, HEAD), `submit` (POST /v1/measurements, POST /v1/metrics),
// `write` (every other change), `tokens` (anything under /v1/api_tokens).
enum class RouteClass { read, submit, write, tokens };
RouteClass classify(const std::string& method, const std::string& path);
bool role_allows(Role role, RouteClass cls);

// The rate-limit state of the caller, to be reported on the answer.
struct RateState {
  std::int64_t limit = 0;
  std::int64_t remaining = 0;
  std::int64_t reset = 0;  // epoch seconds when the window ends
  bool present = false;
};

class Access {
 public:
  Access(Authenticator& auth, AccessOptions opts);
  ~Access();

  // For /v1 paths: true if the request may proceed; false with a 401, 403 or 429 answer in
  // `denied`. Other paths always pass. `rate` is filled for /v1 paths.
  bool admit(const Request& req, Response& denied, RateState& rate);
  // Adds the X-Librato-RateLimit-* headers (if `rate` is present).
  static void add_headers(const RateState& rate, Response& r);

  TokenStore& tokens() { return auth_.tokens(); }
  bool enabled() const { return opts_.enabled; }

 private:
  struct Window;
  std::shared_ptr<Window> window_of(std::uint64_t token_id);
  RateState count(Window& w);

  Authenticator& auth_;
  AccessOptions opts_;
  std::mutex windows_mu_;
  std::unordered_map<std::uint64_t, std::shared_ptr<Window>> windows_;  // by token id
  std::shared_ptr<Window> anonymous_;  // unauthenticated requests, or all when auth is off
};

// Installs the first admin credentials at start:
//  - `user` non-empty: it becomes the account email; otherwise the stored one is kept, and on a
//    fresh store "admin@localhost" is used.
//  - `token` non-empty: an active admin token with this value exists afterwards.
//  - neither a token given nor any token stored: a token is generated, logged once and written
//    to <data_dir>/admin-token (mode 0600).
bool bootstrap_tokens(TokenStore& tokens, const std::string& user, const std::string& token,
                      const std::string& data_dir, std::string& err);

}  // namespace vigil::api::librato
