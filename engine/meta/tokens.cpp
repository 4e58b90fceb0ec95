#include "engine/meta/tokens.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "engine/storage/storage.hpp"

namespace vigil {

namespace {

const std::string kPrefix = "token/";
const std::string kAccountKey = "account/email";

std::string hex(const unsigned char* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

}  // namespace

std::string TokenStore::Codec::encode(const ApiToken& t) {
  nlohmann::json j = {{"id", t.id},           {"hash", t.hash},       {"hint", t.hint},
                      {"active", t.active},   {"role", role_name(t.role)},
                      {"created", t.created}, {"updated", t.updated}};
  j["name"] = t.name ? nlohmann::json(*t.name) : nlohmann::json(nullptr);
  return j.dump();
}

bool TokenStore::Codec::decode(std::string_view s, ApiToken& t) {
  auto j = nlohmann::json::parse(s, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  t.id = j.value("id", std::uint64_t{0});
  t.hash = j.value("hash", "");
  t.hint = j.value("hint", "");
  t.active = j.value("active", false);
  auto role = parse_role(j.value("role", ""));
  if (!role) return false;
  t.role = *role;
  t.created = j.value("created", std::int64_t{0});
  t.updated = j.value("updated", std::int64_t{0});
  if (j.contains("name") && j["name"].is_string()) t.name = j["name"].get<std::string>();
  return t.id != 0 && t.hash.size() == 64;
}

TokenStore::TokenStore(Storage& storage) : storage_(storage), tokens_(storage, std::string(kPrefix)) {}

const char* role_name(Role r) {
  switch (r) {
    case Role::viewer: return "viewer";
    case Role::recorder: return "recorder";
    case Role::admin: return "admin";
  }
  return "viewer";
}

std::optional<Role> parse_role(std::string_view s) {
  if (s == "viewer") return Role::viewer;
  if (s == "recorder") return Role::recorder;
  if (s == "admin") return Role::admin;
  return std::nullopt;
}

std::string sha256_hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 failed");
  return hex(md, len);
}

std::string random_token() {
  unsigned char buf[32];
  if (RAND_bytes(buf, sizeof buf) != 1) throw std::runtime_error("no random bytes available");
  return hex(buf, sizeof buf);
}

Status TokenStore::load() {
  std::lock_guard lock(mu_);
  Status st = tokens_.load();
  if (!st.ok()) return st;
  by_hash_.clear();
  for (const auto& [id, t] : tokens_.items()) {
    by_hash_[t.hash] = id;
    if (id >= next_id_) next_id_ = id + 1;
  }
  std::string account;
  st = storage_.get(Cf::meta, kAccountKey, account);
  if (st.ok()) account_ = account;
  return st.is_not_found() ? Status() : st;
}

std::optional<ApiToken> TokenStore::create(std::optional<std::string> name, Role role, std::string& secret,
                                           std::int64_t now, std::string& err) {
  if (secret.empty()) secret = random_token();
  ApiToken t;
  t.name = std::move(name);
  t.hash = sha256_hex(secret);
  t.hint = secret.substr(0, 8);
  t.role = role;
  t.active = true;
  t.created = t.updated = now;
  std::lock_guard lock(mu_);
  if (by_hash_.count(t.hash)) {
    err = "a token with this value exists";
    return std::nullopt;
  }
  t.id = next_id_;
  if (!tokens_.put(t.id, t, err)) return std::nullopt;
  ++next_id_;
  by_hash_[t.hash] = t.id;
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return t;
}

bool TokenStore::update(const ApiToken& token, std::string& err) {
  std::lock_guard lock(mu_);
  const ApiToken* stored = tokens_.find(token.id);
  if (stored == nullptr) {
    err = "no such token";
    return false;
  }
  ApiToken t = *stored;
  t.name = token.name;
  t.active = token.active;
  t.role = token.role;
  t.updated = token.updated;
  if (!tokens_.put(t.id, std::move(t), err)) return false;
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

bool TokenStore::remove(std::uint64_t id, std::string& err) {
  std::lock_guard lock(mu_);
  const ApiToken* stored = tokens_.find(id);
  if (stored == nullptr) {
    err = "no such token";
    return false;
  }
  const std::string hash = stored->hash;
  if (!tokens_.erase(id, err)) return false;
  by_hash_.erase(hash);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

std::optional<ApiToken> TokenStore::get(std::uint64_t id) const {
  std::lock_guard lock(mu_);
  const ApiToken* t = tokens_.find(id);
  if (t == nullptr) return std::nullopt;
  return *t;
}

std::optional<ApiToken> TokenStore::find_by_secret(std::string_view secret) const {
  std::string h = sha256_hex(secret);
  std::lock_guard lock(mu_);
  auto it = by_hash_.find(h);
  if (it == by_hash_.end()) return std::nullopt;
  const ApiToken* t = tokens_.find(it->second);
  if (t == nullptr) return std::nullopt;
  return *t;
}

std::vector<ApiToken> TokenStore::list() const {
  std::lock_guard lock(mu_);
  std::vector<ApiToken> out;
  out.reserve(tokens_.size());
  for (const auto& [id, t] : tokens_.items()) out.push_back(t);
  return out;
}

std::size_t TokenStore::size() const {
  std::lock_guard lock(mu_);
  return tokens_.size();
}

std::string TokenStore::account() const {
  std::lock_guard lock(mu_);
  return account_;
}

bool TokenStore::set_account(const std::string& email, std::string& err) {
  std::lock_guard lock(mu_);
  if (email == account_) return true;
  Storage::Batch batch;
  batch.put(Cf::meta, kAccountKey, email);
  if (!storage_.write(batch, err)) return false;
  account_ = email;
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

}  // namespace vigil
