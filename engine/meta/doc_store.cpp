#include "engine/meta/doc_store.hpp"

#include <cstdio>

#include "engine/storage/storage.hpp"

namespace vigil {

namespace {
const std::string kDoc = "doc/";
const std::string kSeq = "docseq/";
}  // namespace

Status DocStore::load() {
  std::lock_guard lock(mu_);
  Status st = storage_.scan_prefix(Cf::meta, kDoc, [&](std::string_view k, std::string_view v) {
    auto j = nlohmann::json::parse(v, nullptr, false);
    if (!j.is_discarded()) docs_[std::string(k.substr(kDoc.size()))] = std::move(j);
    return true;
  });
  if (!st.ok()) return st;
  return storage_.scan_prefix(Cf::meta, kSeq, [&](std::string_view k, std::string_view v) {
    try {
      counters_[std::string(k.substr(kSeq.size()))] = std::stoull(std::string(v));
    } catch (const std::exception&) {
    }
    return true;
  });
}

std::optional<nlohmann::json> DocStore::get(const std::string& key) const {
  std::lock_guard lock(mu_);
  auto it = docs_.find(key);
  if (it == docs_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, nlohmann::json>> DocStore::list(std::string_view prefix) const {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, nlohmann::json>> out;
  for (auto it = docs_.lower_bound(prefix); it != docs_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    out.emplace_back(it->first, it->second);
  return out;
}

bool DocStore::put(const std::string& key, const nlohmann::json& doc, std::string& err) {
  std::lock_guard lock(mu_);
  Storage::Batch batch;
  batch.put(Cf::meta, kDoc + key, doc.dump());
  if (!storage_.write(batch, err)) return false;
  docs_[key] = doc;
  return true;
}

bool DocStore::remove(const std::string& key, std::string& err) {
  std::lock_guard lock(mu_);
  err.clear();
  std::vector<std::string> keys;
  if (docs_.count(key)) keys.push_back(key);
  std::string sub = key + "/";
  for (auto it = docs_.lower_bound(sub); it != docs_.end() && it->first.compare(0, sub.size(), sub) == 0; ++it)
    keys.push_back(it->first);
  if (keys.empty()) return false;
  Storage::Batch batch;
  for (const auto& k : keys) batch.del(Cf::meta, kDoc + k);
  if (!storage_.write(batch, err)) return false;
  for (const auto& k : keys) docs_.erase(k);
  return true;
}

std::uint64_t DocStore::allocate_id(const std::string& kind, std::string& err) {
  std::lock_guard lock(mu_);
  std::uint64_t id = counters_[kind] + 1;
  Storage::Batch batch;
  batch.put(Cf::meta, kSeq + kind, std::to_string(id));
  if (!storage_.write(batch, err)) return 0;
  counters_[kind] = id;
  return id;
}

std::string DocStore::pad(std::uint64_t id) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(id));
  return buf;
}

}  // namespace vigil
