// API tokens: the credentials of HTTP Basic authentication (user = account email, password =
// token), each with a role. Held in memory and persisted in the `meta` column family under
// `token/<id>`; only the SHA-256 of a token is stored, never the token itself.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/meta/persisted_map.hpp"
#include "engine/storage/status.hpp"

namespace vigil {

class Storage;

// viewer: reads only; recorder: submits measurements only; admin: everything.
enum class Role { viewer = 0, recorder = 1, admin = 2 };
const char* role_name(Role r);
std::optional<Role> parse_role(std::string_view s);

struct ApiToken {
  std::uint64_t id = 0;
  std::optional<std::string> name;  // null for generated or configured tokens
  std::string hash;                 // hex SHA-256 of the token
  std::string hint;                 // the first 8 characters of the token
  bool active = true;
  Role role = Role::viewer;
  std::int64_t created = 0;
  std::int64_t updated = 0;
};

// Lower-case hex SHA-256 (OpenSSL libcrypto).
std::string sha256_hex(std::string_view data);
// 64 hex characters from 32 bytes of the OpenSSL random generator.
std::string random_token();

class TokenStore {
 public:
  explicit TokenStore(Storage& storage);

  // Loads tokens and the account email; call once before use. Not OK when they could not be read.
  Status load();

  // Creates a token for `secret` (generated when empty; the value is returned in `secret`).
  std::optional<ApiToken> create(std::optional<std::string> name, Role role, std::string& secret,
                                 std::int64_t now, std::string& err);
  // Replaces the stored token with the same id (name, active, role, updated).
  bool update(const ApiToken& token, std::string& err);
  bool remove(std::uint64_t id, std::string& err);

  std::optional<ApiToken> get(std::uint64_t id) const;
  // The token whose SHA-256 matches `secret`, if any (hashes once).
  std::optional<ApiToken> find_by_secret(std::string_view secret) const;
  // All tokens ordered by id.
  std::vector<ApiToken> list() const;
  std::size_t size() const;

  // The account email (the Basic user); compared case-insensitively.
  std::string account() const;
  bool set_account(const std::string& email, std::string& err);

  // Changes after every successful create, update, remove or set_account: credential caches
  // compare it to know when to drop what they verified.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  struct Codec : BigEndianId {
    static std::string encode(const ApiToken& t);
    static bool decode(std::string_view s, ApiToken& t);
  };

  Storage& storage_;
  mutable std::mutex mu_;
  PersistedMap<std::uint64_t, ApiToken, Codec> tokens_;
  std::unordered_map<std::string, std::uint64_t> by_hash_;
  std::string account_;
  std::uint64_t next_id_ = 1;
  std::atomic<std::uint64_t> generation_{1};
};

}  // namespace vigil
