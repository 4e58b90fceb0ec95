// The series index: canonical series key <-> stable numeric id, held in memory and persisted in
// the `series` column family. A series id, once given, never changes and is never reused.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/model.hpp"
#include "engine/storage.hpp"
#include "engine/tag_filter.hpp"

namespace vigil {

struct SeriesEntry {
  std::uint64_t id;
  Tags tags;
};

class SeriesIndex {
 public:
  explicit SeriesIndex(Storage& storage) : storage_(storage) {}

  // Loads every series from storage; call once before use.
  void load();

  // Ids of the given canonical keys (engine/encoding.hpp series_key), parallel to `keys`. Missing
  // series are created, and their index entries are durable before this returns true.
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
  // The distinct values of a tag across all series (e.g. the legacy sources), sorted.
  std::vector<std::string> tag_values(std::string_view tag) const;
  // The canonical key of a series id, or empty.
  std::string key_of(std::uint64_t id) const;
  std::size_t size() const;

 private:
  bool lookup_locked(const std::string& key, std::uint64_t& id) const;

  Storage& storage_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, std::uint64_t> ids_;
  // The series of one metric, and for each tag name + '\0' + value the positions (in
  // `entries`, ascending) of the series carrying it.
  struct MetricSeries {
    std::vector<SeriesEntry> entries;
    std::unordered_map<std::string, std::vector<std::uint32_t>> postings;
    void add(SeriesEntry e);
  };
  std::unordered_map<std::string, MetricSeries> by_metric_;
  std::unordered_map<std::uint64_t, const std::string*> keys_;  // id -> its key in ids_ (nodes are stable)
  std::uint64_t next_id_ = 1;
};

}  // namespace vigil
