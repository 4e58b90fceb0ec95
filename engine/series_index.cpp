#include "engine/series_index.hpp"

#include <algorithm>
#include <mutex>

#include "engine/encoding.hpp"
#include "engine/storage.hpp"

namespace vigil {

void SeriesIndex::load() {
  std::unique_lock lock(mu_);
  if (std::uint64_t n = storage_.estimate_keys(Cf::series) / 2; n > 0) {
    ids_.reserve(n);
    keys_.reserve(n);
  }
  storage_.scan_prefix(Cf::series, "i", [&](std::string_view k, std::string_view v) {
    if (k.size() != 9) return true;
    std::uint64_t id = enc::get_u64(k.data() + 1);
    std::string metric;
    Tags tags;
    if (!enc::parse_series_key(v, metric, tags)) return true;
    auto [pos, fresh] = ids_.emplace(std::string(v), id);
    keys_.emplace(id, &pos->first);
    by_metric_[metric].add(SeriesEntry{id, std::move(tags)});
    if (id >= next_id_) next_id_ = id + 1;
    return true;
  });
}

bool SeriesIndex::lookup_locked(const std::string& key, std::uint64_t& id) const {
  auto it = ids_.find(key);
  if (it == ids_.end()) return false;
  id = it->second;
  return true;
}

bool SeriesIndex::resolve(const std::vector<std::string>& keys, std::vector<std::uint64_t>& ids,
                          std::string& err) {
  ids.assign(keys.size(), 0);
  bool missing = false;
  {
    std::shared_lock lock(mu_);
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (!lookup_locked(keys[i], ids[i])) missing = true;
  }
  if (!missing) return true;

  // Creation is rare (once per series): one exclusive section writes all new entries in one
  // batch, so a series becomes visible only once its index entry is durable.
  std::unique_lock lock(mu_);
  Storage::Batch batch;
  std::vector<std::pair<std::string, std::uint64_t>> created;
  std::unordered_map<std::string, std::uint64_t> fresh;
  std::uint64_t next = next_id_;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (ids[i] != 0) continue;
    if (lookup_locked(keys[i], ids[i])) continue;
    auto f = fresh.find(keys[i]);
    if (f != fresh.end()) {
      ids[i] = f->second;
      continue;
    }
    std::uint64_t id = next++;
    fresh.emplace(keys[i], id);
    ids[i] = id;
    std::string k = "k" + keys[i];
    std::string idv;
    enc::put_u64(idv, id);
    batch.put(Cf::series, k, idv);
    std::string ik = "i";
    enc::put_u64(ik, id);
    batch.put(Cf::series, ik, keys[i]);
    created.emplace_back(keys[i], id);
  }
  if (!storage_.write(batch, err)) {
    ids.clear();
    return false;
  }
  next_id_ = next;
  for (auto& [key, id] : created) {
    std::string metric;
    Tags tags;
    enc::parse_series_key(key, metric, tags);
    auto [pos, fresh] = ids_.emplace(key, id);
    keys_.emplace(id, &pos->first);
    by_metric_[metric].add(SeriesEntry{id, std::move(tags)});
  }
  return true;
}

namespace {
std::string posting_key(std::string_view name, std::string_view value) {
  std::string k;
  k.reserve(name.size() + 1 + value.size());
  k.append(name);
  k.push_back('\0');
  for (char c : value) k.push_back((c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c);
  return k;
}
}  // namespace

void SeriesIndex::MetricSeries::add(SeriesEntry e) {
  auto pos = static_cast<std::uint32_t>(entries.size());
  for (const auto& [name, value] : e.tags) postings[posting_key(name, value)].push_back(pos);
  entries.push_back(std::move(e));
}

std::vector<SeriesEntry> SeriesIndex::series_of(std::string_view metric_key) const {
  std::shared_lock lock(mu_);
  auto it = by_metric_.find(std::string(metric_key));
  if (it == by_metric_.end()) return {};
  return it->second.entries;
}

void SeriesIndex::visit(std::string_view metric_key, const TagFilter& filter,
                        const std::function<void(const SeriesEntry&)>& fn) const {
  std::shared_lock lock(mu_);
  auto it = by_metric_.find(std::string(metric_key));
  if (it == by_metric_.end()) return;
  const MetricSeries& ms = it->second;
  // The shortest posting list of the filter's exact clauses bounds the candidates.
  const std::vector<std::uint32_t>* best = nullptr;
  for (const auto& [name, value] : filter.exact_clauses()) {
    auto p = ms.postings.find(posting_key(name, value));
    if (p == ms.postings.end()) return;  // no series carries this tag value
    if (best == nullptr || p->second.size() < best->size()) best = &p->second;
  }
  if (best != nullptr) {
    for (std::uint32_t pos : *best)
      if (filter.matches(ms.entries[pos].tags)) fn(ms.entries[pos]);
    return;
  }
  for (const auto& e : ms.entries)
    if (filter.empty() || filter.matches(e.tags)) fn(e);
}

bool SeriesIndex::remove_metric(std::string_view metric_key, Storage::Batch& batch, std::size_t& removed,
                                std::string& err) {
  std::unique_lock lock(mu_);
  removed = 0;
  auto it = by_metric_.find(std::string(metric_key));
  std::vector<SeriesEntry> entries;
  if (it != by_metric_.end()) entries = it->second.entries;
  for (const auto& e : entries) {
    auto k = keys_.find(e.id);
    if (k != keys_.end()) batch.del(Cf::series, "k" + *k->second);
    std::string ik = "i";
    enc::put_u64(ik, e.id);
    batch.del(Cf::series, ik);
    std::string begin, end;
    enc::put_u64(begin, e.id);
    enc::put_u64(end, e.id + 1);
    batch.delete_range(Cf::raw, begin, end);
    for (int r = 0; r < kResolutionCount; ++r) batch.delete_range(rollup_cf(r), begin, end);
  }
  if (!storage_.write(batch, err)) return false;
  for (const auto& e : entries) {
    auto k = keys_.find(e.id);
    if (k != keys_.end()) {
      auto pos = ids_.find(*k->second);
      keys_.erase(k);
      if (pos != ids_.end()) ids_.erase(pos);
    }
  }
  if (it != by_metric_.end()) by_metric_.erase(it);
  removed = entries.size();
  return true;
}

std::vector<std::string> SeriesIndex::tag_values(std::string_view tag) const {
  std::shared_lock lock(mu_);
  std::vector<std::string> out;
  for (const auto& [metric, ms] : by_metric_)
    for (const auto& e : ms.entries)
      if (const std::string* v = find_tag(e.tags, tag)) out.push_back(*v);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string SeriesIndex::key_of(std::uint64_t id) const {
  std::shared_lock lock(mu_);
  auto it = keys_.find(id);
  return it == keys_.end() ? std::string() : *it->second;
}

std::size_t SeriesIndex::size() const {
  std::shared_lock lock(mu_);
  return ids_.size();
}

}  // namespace vigil
