#include "engine/meta/catalog.hpp"

#include <nlohmann/json.hpp>

#include "engine/model/short_text.hpp"
#include "engine/storage/storage.hpp"

namespace vigil {

std::string metric_key(std::string_view name) {
  std::string k(name);
  for (auto& c : k)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return k;
}

namespace {

const std::string kPrefix = "metric/";

}  // namespace

Catalog::Catalog(Storage& storage) : metrics_(storage, kPrefix) {}

std::string Catalog::Codec::encode(const MetricInfo& m) {
  nlohmann::json j = {{"name", m.name},
                      {"type", static_cast<int>(m.type)},
                      {"description", m.description},
                      {"display_name", m.display_name},
                      {"attributes", m.attributes_json},
                      {"created", m.created},
                      {"updated", m.updated}};
  if (m.period) j["period"] = *m.period;
  if (m.source_lag) j["source_lag"] = *m.source_lag;
  if (!m.composite.empty()) j["composite"] = m.composite;
  return j.dump();
}

bool Catalog::Codec::decode(std::string_view s, MetricInfo& m) {
  auto j = nlohmann::json::parse(s, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  m.name = j.value("name", "");
  m.type = static_cast<MetricType>(j.value("type", 0));
  m.description = j.value("description", "");
  m.display_name = j.value("display_name", "");
  m.attributes_json = j.value("attributes", "{}");
  m.created = j.value("created", std::int64_t{0});
  m.updated = j.value("updated", std::int64_t{0});
  m.composite = j.value("composite", "");
  if (j.contains("period") && j["period"].is_number_integer()) m.period = j["period"].get<std::int64_t>();
  if (j.contains("source_lag") && j["source_lag"].is_number_integer())
    m.source_lag = j["source_lag"].get<std::int64_t>();
  return !m.name.empty();
}

Status Catalog::load() {
  std::lock_guard lock(mu_);
  Status st = metrics_.load();
  std::size_t n = 0;
  for (const auto& [k, m] : metrics_.items()) n += m.type == MetricType::composite;
  composites_.store(n);
  return st;
}

bool Catalog::ensure(const std::vector<Measurement>& ms, std::int64_t now, std::string& err) {
  std::lock_guard lock(mu_);
  std::map<std::string, MetricInfo> created;
  const std::string* prev = nullptr;
  for (const auto& m : ms) {
    const bool has_props = m.period || !m.attributes_json.empty();
    // A batch is mostly one metric: a name equal to the one before was handled already, unless
    // this measurement carries properties the metric created by the batch may still lack.
    if (prev != nullptr && !has_props && same_text(m.name, *prev)) continue;
    prev = &m.name;
    std::string key = metric_key(m.name);
    if (metrics_.contains(key)) continue;
    if (auto c = created.find(key); c != created.end()) {
      MetricInfo& info = c->second;
      if (!info.period && m.period) info.period = m.period;
      if (info.attributes_json == "{}" && !m.attributes_json.empty()) info.attributes_json = m.attributes_json;
      continue;
    }
    MetricInfo info;
    info.name = m.name;
    info.type = m.type;
    info.period = m.period;
    if (!m.attributes_json.empty()) info.attributes_json = m.attributes_json;
    info.created = info.updated = now;
    created.emplace(std::move(key), std::move(info));
  }
  if (created.empty()) return true;
  auto change = metrics_.change();
  for (auto& [k, v] : created) change.put(k, std::move(v));
  return change.commit(err);
}

bool Catalog::put(const MetricInfo& info, std::string& err) {
  std::lock_guard lock(mu_);
  std::string key = metric_key(info.name);
  const MetricInfo* old = metrics_.find(key);
  const bool was_composite = old != nullptr && old->type == MetricType::composite;
  if (!metrics_.put(key, info, err)) return false;
  if (was_composite) composites_.fetch_sub(1);
  if (info.type == MetricType::composite) composites_.fetch_add(1);
  return true;
}

std::optional<MetricInfo> Catalog::get(std::string_view name) const {
  std::lock_guard lock(mu_);
  const MetricInfo* m = metrics_.find(metric_key(name));
  if (m == nullptr) return std::nullopt;
  return *m;
}

std::string Catalog::storage_key(std::string_view name) { return kPrefix + metric_key(name); }

void Catalog::forget(std::string_view name) {
  std::lock_guard lock(mu_);
  const std::string key = metric_key(name);
  const MetricInfo* m = metrics_.find(key);
  if (m == nullptr) return;
  if (m->type == MetricType::composite) composites_.fetch_sub(1);
  metrics_.forget(key);
}

Catalog::BatchCheck Catalog::check_batch(const std::vector<Measurement>& ms) const {
  BatchCheck out;
  std::map<std::string, MetricType, std::less<>> seen;  // metric key -> its type
  std::lock_guard lock(mu_);
  const Measurement* prev = nullptr;
  for (std::size_t i = 0; i < ms.size(); ++i) {
    const Measurement& m = ms[i];
    // A batch is mostly one metric: the same name and type as the measurement before is settled.
    if (prev != nullptr && prev->type == m.type && same_text(m.name, prev->name)) continue;
    prev = &m;
    std::string key = metric_key(m.name);
    auto s = seen.find(key);
    if (s == seen.end()) {
      const MetricInfo* found = metrics_.find(key);
      MetricType t = m.type;
      if (found != nullptr) t = found->type;
      else out.fresh.push_back(key);
      s = seen.emplace(std::move(key), t).first;
    }
    if (s->second != MetricType::composite && s->second != m.type) {
      out.conflicts.emplace_back(i, s->second);
      prev = nullptr;  // report every conflicting measurement, not only the first of a run
    }
  }
  return out;
}

bool Catalog::is_composite(std::string_view name) const {
  if (composites_.load(std::memory_order_relaxed) == 0) return false;
  std::string key = metric_key(name);
  std::lock_guard lock(mu_);
  const MetricInfo* m = metrics_.find(key);
  return m != nullptr && m->type == MetricType::composite;
}

std::vector<MetricInfo> Catalog::list() const {
  std::lock_guard lock(mu_);
  std::vector<MetricInfo> out;
  out.reserve(metrics_.size());
  for (const auto& [k, v] : metrics_.items()) out.push_back(v);
  return out;
}

std::size_t Catalog::size() const {
  std::lock_guard lock(mu_);
  return metrics_.size();
}

}  // namespace vigil
