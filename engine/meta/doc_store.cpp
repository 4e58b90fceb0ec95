#include "engine/meta/doc_store.hpp"

#include <charconv>
#include <cstdio>

#include "engine/storage/storage.hpp"

namespace vigil {

DocStore::DocStore(Storage& storage) : docs_(storage, "doc/"), counters_(storage, "docseq/") {}

bool DocStore::DocCodec::decode(std::string_view s, nlohmann::json& j) {
  j = nlohmann::json::parse(s, nullptr, false);
  return !j.is_discarded();
}

bool DocStore::CounterCodec::decode(std::string_view s, std::uint64_t& n) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  return ec == std::errc() && p == s.data() + s.size();
}

Status DocStore::load() {
  std::lock_guard lock(mu_);
  Status st = docs_.load();
  if (!st.ok()) return st;
  return counters_.load();
}

std::optional<nlohmann::json> DocStore::get(const std::string& key) const {
  std::lock_guard lock(mu_);
  const nlohmann::json* j = docs_.find(key);
  if (j == nullptr) return std::nullopt;
  return *j;
}

std::vector<std::pair<std::string, nlohmann::json>> DocStore::list(std::string_view prefix) const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, nlohmann::json>> out;
  const auto& docs = docs_.items();
  for (auto it = docs.lower_bound(prefix); it != docs.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    out.emplace_back(it->first, it->second);
  return out;
}

bool DocStore::put(const std::string& key, const nlohmann::json& doc, std::string& err) {
  std::lock_guard lock(mu_);
  return docs_.put(key, doc, err);
}

bool DocStore::remove(const std::string& key, std::string& err) {
  std::lock_guard lock(mu_);
  err.clear();
  auto change = docs_.change();
  if (docs_.contains(key)) change.erase(key);
  const std::string sub = key + "/";
  const auto& docs = docs_.items();
  for (auto it = docs.lower_bound(sub); it != docs.end() && it->first.compare(0, sub.size(), sub) == 0; ++it)
    change.erase(it->first);
  if (change.empty()) return false;
  return change.commit(err);
}

std::uint64_t DocStore::allocate_id(const std::string& kind, std::string& err) {
  std::lock_guard lock(mu_);
  const std::uint64_t* last = counters_.find(kind);
  const std::uint64_t id = (last ? *last : 0) + 1;
  return counters_.put(kind, id, err) ? id : 0;
}

std::string DocStore::pad(std::uint64_t id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(id));
  return buf;
}

}  // namespace vigil
