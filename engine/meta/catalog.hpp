// Metric metadata (type, period, display name, description, attributes, composite definition),
// independent of its series: what a dialect's metric routes show (Librato: GET /v1/metrics).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/model/model.hpp"
#include "engine/meta/persisted_map.hpp"
#include "engine/storage/status.hpp"

namespace vigil {

struct MetricInfo {
  std::string name;  // as first created; look-ups use the lower-cased key
  MetricType type = MetricType::gauge;
  std::string description;   // empty = null
  std::string display_name;  // empty = null
  std::optional<std::int64_t> period;
  std::optional<std::int64_t> source_lag;  // seconds a composite looks back when alerting
  std::string attributes_json = "{}";  // a JSON object
  std::string composite;               // the definition of a composite metric (type composite)
  std::int64_t created = 0;
  std::int64_t updated = 0;
};

// The lower-cased metric name: metric names are case-insensitive.
std::string metric_key(std::string_view name);

}  // namespace vigil

#include <atomic>
#include <map>
#include <mutex>
#include <vector>

namespace vigil {

class Storage;

// The metrics known to the engine, in memory and in the `meta` column family.
class Catalog {
 public:
  explicit Catalog(Storage& storage);

  // Loads the stored metrics; not OK when they could not be read.
  Status load();
  // Creates the metric of each measurement that does not exist yet, with the measurement's type
  // and the period and attributes of the first of its measurements that carry them; existing
  // metrics are left as they are (Librato: properties in a POST apply only on create). Durable
  // before it returns true.
  bool ensure(const std::vector<Measurement>& ms, std::int64_t now, std::string& err);
  // Creates or replaces a metric.
  bool put(const MetricInfo& info, std::string& err);
  std::optional<MetricInfo> get(std::string_view name) const;
  // What a batch of measurements would do to the catalog, checked before it is stored.
  struct BatchCheck {
    // The measurements whose type is not their metric's: the stored metric's type, or for a new
    // metric the type of its first measurement in the batch. Each entry: the index in the batch
    // and the type the metric has. Composite metrics are not reported (their policy refuses them).
    std::vector<std::pair<std::size_t, MetricType>> conflicts;
    // The metric keys the batch would create.
    std::vector<std::string> fresh;
  };
  BatchCheck check_batch(const std::vector<Measurement>& ms) const;
  // True if `name` (any case) is a composite metric. Without composite metrics this is one
  // atomic load: ingest asks it for every measurement.
  bool is_composite(std::string_view name) const;
  // The storage key of a metric's metadata (meta column family), for deletes in a larger batch.
  static std::string storage_key(std::string_view name);
  // Drops a metric from memory once its storage key is deleted.
  void forget(std::string_view name);
  // All metrics ordered by key.
  std::vector<MetricInfo> list() const;
  std::size_t size() const;

 private:
  struct Codec : TextKey {
    static std::string encode(const MetricInfo& m);
    static bool decode(std::string_view s, MetricInfo& m);
  };

  mutable std::mutex mu_;
  PersistedMap<std::string, MetricInfo, Codec> metrics_;  // by metric key
  std::atomic<std::size_t> composites_{0};                 // composite metrics in metrics_
};

}  // namespace vigil
