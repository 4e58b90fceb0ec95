// The series index: canonical series key <-> stable numeric id, held in memory and persisted in
// the `series` column family. A series id, once given, never changes and is never reused.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/model/model.hpp"
#include "engine/storage/storage.hpp"
#include "engine/query/tag_filter.hpp"

namespace vigil {

struct SeriesEntry {
  std::uint64_t id;
  Tags tags;
};

// Series key -> id as an open-addressing hash table: one array of (hash, id, key) slots, linear
// probing, at most half full. A look-up touches one slot (usually) and the key it verifies,
// instead of a bucket, a node and a heap string; look-ups of a batch prefetch their slots.
// Keys are not owned: they point to stable strings (SeriesIndex::keys_).
class KeyTable {
 public:
  static std::uint64_t hash(std::string_view key);
  void reserve(std::size_t n);
  void clear();
  std::size_t size() const { return size_; }
  // Starts loading the slot of hash `h` into the cache.
  void prefetch(std::uint64_t h) const {
    if (!slots_.empty()) __builtin_prefetch(&slots_[h & mask_]);
  }
  bool find(std::string_view key, std::uint64_t h, std::uint64_t& id) const;
  // `key` must not be in the table yet.
  void insert(std::uint64_t h, std::uint64_t id, const std::string* key);

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint64_t id = 0;
    const std::string* key = nullptr;  // null: empty
  };
  void rehash(std::size_t capacity);
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

// A new series refused by a limit on the number of series (SeriesIndex::set_limits).
enum class SeriesLimit : std::uint8_t { global, per_metric };
inline constexpr std::size_t kSeriesLimitCount = 2;
// "global", "per_metric" (the label of vigil_series_refused_total).
const char* to_string(SeriesLimit limit);
// "limits.max_series", "limits.max_series_per_metric".
const char* setting_of(SeriesLimit limit);

struct SeriesRefusal {
  std::size_t index;  // of the key in resolve()'s `keys`
  SeriesLimit limit;
};

class SeriesIndex {
 public:
  explicit SeriesIndex(Storage& storage) : storage_(storage) {}

  // Bounds on growth: at most `max_series` series in all, at most `max_per_metric` series of one
  // metric (0: unlimited). Counted from the index itself, so they hold across restarts; series
  // that exist keep accepting samples.
  void set_limits(std::size_t max_series, std::size_t max_per_metric) {
    max_series_ = max_series;
    max_per_metric_ = max_per_metric;
  }
  std::size_t max_series() const { return max_series_; }
  std::size_t max_series_per_metric() const { return max_per_metric_; }

  // Loads every series from storage; call once before use. Not OK when they could not be read.
  Status load();

  // Ids of the given canonical keys (engine/encoding/series_key.hpp), parallel to `keys`. Missing
  // series are created, and their index entries are durable before this returns true.
  //
  // A missing series beyond a limit (set_limits) is refused, and listed in `refused` when given
  // (in key order, each with the limit it met; new series are counted in key order). Then, unless
  // `partial`, the whole call fails: false, nothing created, `err` naming the limit (and `ids`
  // cleared). With `partial`, the new series that fit are created and a refused key's id is 0.
  bool resolve(const std::vector<std::string_view>& keys, std::vector<std::uint64_t>& ids,
               std::string& err, std::vector<SeriesRefusal>* refused = nullptr, bool partial = false);
  bool resolve(const std::vector<std::string>& keys, std::vector<std::uint64_t>& ids,
               std::string& err);

  // Every series of a metric (lower-cased metric key), ordered by id.
  std::vector<SeriesEntry> series_of(std::string_view metric_key) const;
  // Calls fn, under the index's read lock, for each series of a metric that `filter` matches,
  // in id order. Exact tag clauses of the filter select candidates through the tag postings, so
  // a query for one series does not visit the metric's other series. fn must not call back into
  // the index.
  void visit(std::string_view metric_key, const TagFilter& filter,
             const std::function<void(const SeriesEntry&)>& fn) const;
  // Removes every series of a metric (lower-cased metric key): their index entries, raw samples
  // and rollups are deleted together with the writes already in `batch` (e.g. the metric's
  // metadata) in one atomic write. `removed` = the number of series. The ids are not reused.
  bool remove_metric(std::string_view metric_key, Storage::Batch& batch, std::size_t& removed,
                     std::string& err);
  // Removes one series by id: its index entry, raw samples and rollups, with the writes already in
  // `batch`, in one atomic write. `removed` is false (and nothing is written) when no series has
  // this id. The id is not reused.
  bool remove_series(std::uint64_t id, Storage::Batch& batch, bool& removed, std::string& err);
  // The distinct values of a tag across all series (e.g. the legacy sources), sorted.
  std::vector<std::string> tag_values(std::string_view tag) const;
  // The canonical key of a series id, or empty.
  std::string key_of(std::uint64_t id) const;
  std::size_t size() const;
  // Grows whenever series are removed: a series id learned at one generation still names the
  // same live series while the generation is unchanged.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

 private:
  bool lookup_locked(std::string_view key, std::uint64_t& id) const;
  const std::string* add_key_locked(std::string_view key, std::uint64_t id);

  Storage& storage_;
  mutable std::shared_mutex mu_;
  KeyTable ids_;
  // The series of one metric, and for each tag name + '\0' + value the positions (in
  // `entries`, ascending) of the series carrying it.
  struct MetricSeries {
    std::vector<SeriesEntry> entries;
    std::unordered_map<std::string, std::vector<std::uint32_t>> postings;
    void add(SeriesEntry e);
  };
  std::unordered_map<std::string, MetricSeries> by_metric_;
  std::unordered_map<std::uint64_t, std::string> keys_;  // id -> key (nodes are stable: ids_ points into them)
  std::uint64_t next_id_ = 1;
  std::size_t max_series_ = 0, max_per_metric_ = 0;
  std::atomic<std::uint64_t> generation_{1};
};

}  // namespace vigil
