// Who is calling: the credentials of an Authorization header checked against the one token store
// (engine/tokens.hpp) and its roles. Every dialect authenticates through this, each with the
// schemes its clients send:
//   Basic  base64(<account email>:<token>)   Librato, Scale, Deeploy's key pair
//   Token  <token>                           UbiOps, Scale
//   Bearer <token>                           OpenDataDSL, Deeploy's deployment tokens
// Scheme names are case-insensitive. A verified header is cached until the token store changes
// (its generation moves), so a request costs one hash-map look-up, not a SHA-256.
#pragma once

#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/meta/tokens.hpp"

namespace vigil::api {

enum Scheme : unsigned { kBasic = 1, kToken = 2, kBearer = 4 };

struct Grant {
  Role role = Role::viewer;
  std::uint64_t token_id = 0;
};

class Authenticator {
 public:
  explicit Authenticator(TokenStore& tokens) : tokens_(tokens) {}

  // The grant of an active token named by `header` in one of `schemes` (a mask of Scheme);
  // nullopt for a missing, malformed, unknown or inactive credential.
  std::optional<Grant> verify(std::string_view header, unsigned schemes);

  TokenStore& tokens() { return tokens_; }

 private:
  std::optional<Grant> check(std::string_view header, unsigned schemes);

  TokenStore& tokens_;
  std::shared_mutex mu_;
  std::uint64_t generation_ = 0;
  std::unordered_map<std::string, std::pair<unsigned, Grant>> cache_;  // header -> (scheme, grant)
};

}  // namespace vigil::api
