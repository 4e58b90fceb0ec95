#include "engine/storage/series_index.hpp"

#include <xxhash.h>

#include <algorithm>
#include <mutex>

#include "engine/encoding/bytes.hpp"
#include "engine/encoding/series_key.hpp"
#include "engine/storage/storage.hpp"

namespace vigil {

// -- key table ----------------------------------------------------------------------------------

std::uint64_t KeyTable::hash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

void KeyTable::reserve(std::size_t n) {
  std::size_t cap = 16;
  while (cap < 2 * n) cap *= 2;
  if (cap > slots_.size()) rehash(cap);
}

void KeyTable::clear() {
  slots_.clear();
  mask_ = 0;
  size_ = 0;
}

bool KeyTable::find(std::string_view key, std::uint64_t h, std::uint64_t& id) const {
  if (slots_.empty()) return false;
  for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
    const Slot& s = slots_[i];
    if (s.key == nullptr) return false;
    if (s.hash == h && *s.key == key) {
      id = s.id;
      return true;
    }
  }
}

void KeyTable::insert(std::uint64_t h, std::uint64_t id, const std::string* key) {
  if (2 * (size_ + 1) > slots_.size()) rehash(slots_.empty() ? 16 : 2 * slots_.size());
  std::size_t i = h & mask_;
  while (slots_[i].key != nullptr) i = (i + 1) & mask_;
  slots_[i] = Slot{h, id, key};
  ++size_;
}

void KeyTable::rehash(std::size_t capacity) {
  std::vector<Slot> old;
  old.swap(slots_);
  slots_.assign(capacity, Slot{});
  mask_ = capacity - 1;
  size_ = 0;
  for (const Slot& s : old)
    if (s.key != nullptr) insert(s.hash, s.id, s.key);
}

// -- series index ---------------------------------------------------------------------------------

const std::string* SeriesIndex::add_key_locked(std::string_view key, std::uint64_t id) {
  auto [pos, fresh] = keys_.emplace(id, key);
  ids_.insert(KeyTable::hash(key), id, &pos->second);
  return &pos->second;
}

Status SeriesIndex::load() {
  std::unique_lock lock(mu_);
  if (std::uint64_t n = storage_.estimate_keys(Cf::series) / 2; n > 0) {
    ids_.reserve(n);
    keys_.reserve(n);
  }
  return storage_.scan_prefix(Cf::series, "i", [&](std::string_view k, std::string_view v) {
    if (k.size() != 9) return true;
    std::uint64_t id = enc::get_u64(k.data() + 1);
    std::string metric;
    Tags tags;
    if (!enc::parse_series_key(v, metric, tags)) return true;
    add_key_locked(std::string(v), id);
    by_metric_[metric].add(SeriesEntry{id, std::move(tags)});
    if (id >= next_id_) next_id_ = id + 1;
    return true;
  });
}

bool SeriesIndex::lookup_locked(std::string_view key, std::uint64_t& id) const {
  return ids_.find(key, KeyTable::hash(key), id);
}

bool SeriesIndex::resolve(const std::vector<std::string>& keys, std::vector<std::uint64_t>& ids,
                          std::string& err) {
  std::vector<std::string_view> views(keys.begin(), keys.end());
  return resolve(views, ids, err);
}

const char* to_string(SeriesLimit limit) { return limit == SeriesLimit::global ? "global" : "per_metric"; }

const char* setting_of(SeriesLimit limit) {
  return limit == SeriesLimit::global ? "limits.max_series" : "limits.max_series_per_metric";
}

bool SeriesIndex::resolve(const std::vector<std::string_view>& keys, std::vector<std::uint64_t>& ids,
                          std::string& err, std::vector<SeriesRefusal>* refused, bool partial) {
  ids.assign(keys.size(), 0);
  bool missing = false;
  {
    // Hashes first, then the look-ups, each slot prefetched a few keys ahead.
    thread_local std::vector<std::uint64_t> hashes;
    hashes.resize(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) hashes[i] = KeyTable::hash(keys[i]);
    constexpr std::size_t kAhead = 8;
    std::shared_lock lock(mu_);
    for (std::size_t i = 0; i < keys.size() && i < kAhead; ++i) ids_.prefetch(hashes[i]);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (i + kAhead < keys.size()) ids_.prefetch(hashes[i + kAhead]);
      if (!ids_.find(keys[i], hashes[i], ids[i])) missing = true;
    }
  }
  if (!missing) return true;

  // Creation is rare (once per series): one exclusive section writes all new entries in one
  // batch, so a series becomes visible only once its index entry is durable.
  std::unique_lock lock(mu_);
  Storage::Batch batch;
  std::vector<std::pair<std::string, std::uint64_t>> created;
  std::unordered_map<std::string_view, std::uint64_t> fresh;
  std::uint64_t next = next_id_;
  // The series count, in all and of each metric a new series joins, as the new ones are added.
  std::size_t total = keys_.size();
  std::unordered_map<std::string_view, std::size_t> per_metric;
  std::vector<SeriesRefusal> beyond;
  const bool limited = max_series_ > 0 || max_per_metric_ > 0;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (ids[i] != 0) continue;
    if (lookup_locked(keys[i], ids[i])) continue;
    auto f = fresh.find(keys[i]);
    if (f != fresh.end()) {
      ids[i] = f->second;
      continue;
    }
    if (limited) {
      // The metric's limit first (the more specific answer), then the global one.
      std::size_t* of_metric = nullptr;
      if (max_per_metric_ > 0) {
        const std::string_view metric = keys[i].substr(0, keys[i].find('\0'));
        auto [pm, first] = per_metric.try_emplace(metric, 0);
        if (first) {
          auto m = by_metric_.find(std::string(metric));
          pm->second = m == by_metric_.end() ? 0 : m->second.entries.size();
        }
        if (pm->second >= max_per_metric_) {
          beyond.push_back({i, SeriesLimit::per_metric});
          continue;
        }
        of_metric = &pm->second;
      }
      if (max_series_ > 0 && total >= max_series_) {
        beyond.push_back({i, SeriesLimit::global});
        continue;
      }
      if (of_metric) ++*of_metric;
      ++total;
    }
    std::uint64_t id = next++;
    fresh.emplace(keys[i], id);
    ids[i] = id;
    std::string k = "k";
    k.append(keys[i]);
    std::string idv;
    enc::put_u64(idv, id);
    batch.put(Cf::series, k, idv);
    std::string ik = "i";
    enc::put_u64(ik, id);
    batch.put(Cf::series, ik, keys[i]);
    created.emplace_back(std::string(keys[i]), id);
  }
  if (!beyond.empty()) {
    const SeriesRefusal r = beyond.front();
    if (refused != nullptr) *refused = std::move(beyond);
    if (!partial) {
      // The whole call is refused: nothing created.
      err = "new series beyond " + std::string(setting_of(r.limit)) + " (" +
            std::to_string(r.limit == SeriesLimit::global ? max_series_ : max_per_metric_) + ")";
      ids.clear();
      return false;
    }
  }
  if (created.empty()) return true;
  if (!storage_.write(batch, err)) {
    ids.clear();
    return false;
  }
  next_id_ = next;
  for (auto& [key, id] : created) {
    std::string metric;
    Tags tags;
    enc::parse_series_key(key, metric, tags);
    add_key_locked(key, id);
    by_metric_[metric].add(SeriesEntry{id, std::move(tags)});
  }
  return true;
}

namespace {
std::string posting_key(std::string_view name, std::string_view value) {
  std::string k;
  k.reserve(name.size() + 1 + value.size());
  enc::append_key_text(k, name);  // no raw NUL in the name: the first NUL ends it
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
    if (k != keys_.end()) batch.del(Cf::series, "k" + k->second);
    std::string ik = "i";
    enc::put_u64(ik, e.id);
    batch.del(Cf::series, ik);
    std::string begin, end;
    enc::put_u64(begin, e.id);
    enc::put_u64(end, e.id + 1);
    batch.delete_range(Cf::raw, begin, end);
    for (int r = 0; r < kResolutionCount; ++r) batch.delete_range(rollup_cf(r), begin, end);
  }
  // Ids learned before (Measurement::series_id) stop being trusted before the removal is visible.
  if (!entries.empty()) generation_.fetch_add(1, std::memory_order_acq_rel);
  if (!storage_.write(batch, err)) return false;
  for (const auto& e : entries) keys_.erase(e.id);
  // Deletion is rare: the key table is rebuilt from the keys left.
  if (!entries.empty()) {
    ids_.clear();
    ids_.reserve(keys_.size());
    for (const auto& [id, key] : keys_) ids_.insert(KeyTable::hash(key), id, &key);
  }
  if (it != by_metric_.end()) by_metric_.erase(it);
  removed = entries.size();
  return true;
}

bool SeriesIndex::remove_series(std::uint64_t id, Storage::Batch& batch, bool& removed, std::string& err) {
  std::unique_lock lock(mu_);
  removed = false;
  auto k = keys_.find(id);
  if (k == keys_.end()) return true;
  std::string metric;
  Tags tags;
  enc::parse_series_key(k->second, metric, tags);
  batch.del(Cf::series, "k" + k->second);
  std::string ik = "i";
  enc::put_u64(ik, id);
  batch.del(Cf::series, ik);
  std::string begin, end;
  enc::put_u64(begin, id);
  enc::put_u64(end, id + 1);
  batch.delete_range(Cf::raw, begin, end);
  for (int r = 0; r < kResolutionCount; ++r) batch.delete_range(rollup_cf(r), begin, end);
  // Ids learned before (Measurement::series_id) stop being trusted before the removal is visible.
  generation_.fetch_add(1, std::memory_order_acq_rel);
  if (!storage_.write(batch, err)) return false;
  keys_.erase(k);
  ids_.clear();
  ids_.reserve(keys_.size());
  for (const auto& [sid, key] : keys_) ids_.insert(KeyTable::hash(key), sid, &key);
  auto m = by_metric_.find(metric);
  if (m != by_metric_.end()) {
    MetricSeries rest;
    for (auto& e : m->second.entries)
      if (e.id != id) rest.add(std::move(e));
    if (rest.entries.empty()) by_metric_.erase(m);
    else m->second = std::move(rest);
  }
  removed = true;
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
  return it == keys_.end() ? std::string() : it->second;
}

std::size_t SeriesIndex::size() const {
  std::shared_lock lock(mu_);
  return keys_.size();
}

}  // namespace vigil
