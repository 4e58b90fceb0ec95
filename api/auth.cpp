#include "api/auth.hpp"

#include <cctype>
#include <mutex>

namespace vigil::api {

namespace {

constexpr std::size_t kMaxCached = 10000;

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

// The scheme of `header` and its credential text (leading spaces skipped); 0 if none is known.
unsigned scheme_of(std::string_view header, std::string_view& rest) {
  static constexpr std::pair<std::string_view, unsigned> kSchemes[] = {
      {"basic ", kBasic}, {"token ", kToken}, {"bearer ", kBearer}};
  for (auto [name, s] : kSchemes) {
    if (header.size() < name.size() || !iequals(header.substr(0, name.size()), name)) continue;
    rest = header.substr(name.size());
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    return s;
  }
  return 0;
}

}  // namespace

std::optional<Grant> Authenticator::check(std::string_view header, unsigned schemes) {
  std::string_view rest;
  unsigned scheme = scheme_of(header, rest);
  if (!(scheme & schemes)) return std::nullopt;
  std::string_view secret = rest;
  std::string decoded;
  if (scheme == kBasic) {
    if (!base64_decode(rest, decoded)) return std::nullopt;
    auto colon = decoded.find(':');
    if (colon == std::string::npos) return std::nullopt;
    std::string_view user = std::string_view(decoded).substr(0, colon);
    secret = std::string_view(decoded).substr(colon + 1);
    if (!iequals(user, tokens_.account())) return std::nullopt;
  }
  if (secret.empty()) return std::nullopt;
  auto token = tokens_.find_by_secret(secret);
  if (!token || !token->active) return std::nullopt;
  return Grant{token->role, token->id};
}

std::optional<Grant> Authenticator::verify(std::string_view header, unsigned schemes) {
  if (header.empty()) return std::nullopt;
  std::uint64_t gen = tokens_.generation();
  std::string key(header);
  {
    std::shared_lock lock(mu_);
    if (generation_ == gen) {
      auto it = cache_.find(key);
      if (it != cache_.end()) {
        if (!(it->second.first & schemes)) return std::nullopt;
        return it->second.second;
      }
    }
  }
  auto grant = check(header, schemes);
  if (!grant) return std::nullopt;
  std::string_view rest;
  unsigned scheme = scheme_of(header, rest);
  std::unique_lock lock(mu_);
  if (tokens_.generation() != gen) return grant;  // changed meanwhile: do not cache
  if (generation_ != gen || cache_.size() >= kMaxCached) {
    cache_.clear();
    generation_ = gen;
  }
  cache_.emplace(std::move(key), std::make_pair(scheme, *grant));
  return grant;
}

}  // namespace vigil::api
