// JSON documents of the dialects' resources (Librato's sources, annotation streams and events,
// spaces and charts; the metric definitions of UbiOps and Deeploy; ...), held in memory and persisted in the `meta` column family under `doc/<key>`. Keys are
// chosen by the callers ("space/<padded id>", "annevent/<stream>/<padded id>", ...), so related
// documents share a prefix and list in key order. Numeric ids come from persisted counters and
// are never reused.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/meta/persisted_map.hpp"
#include "engine/storage/status.hpp"

namespace vigil {

class Storage;

class DocStore {
 public:
  explicit DocStore(Storage& storage);

  Status load();

  std::optional<nlohmann::json> get(const std::string& key) const;
  // Documents whose key starts with `prefix`, in key order.
  std::vector<std::pair<std::string, nlohmann::json>> list(std::string_view prefix) const;
  bool put(const std::string& key, const nlohmann::json& doc, std::string& err);
  // Removes the document `key` and every document under `key + "/"`; false if there was none
  // (err empty) or the store failed (err set).
  bool remove(const std::string& key, std::string& err);

  // The next id of a kind ("space", "chart", "annotation"), 1, 2, ...; 0 on a store failure.
  std::uint64_t allocate_id(const std::string& kind, std::string& err);

  // An id as a fixed-width decimal, so that keys sort by id.
  static std::string pad(std::uint64_t id);

 private:
  struct DocCodec : TextKey {
    static std::string encode(const nlohmann::json& j) { return j.dump(); }
    static bool decode(std::string_view s, nlohmann::json& j);
  };
  struct CounterCodec : TextKey {
    static std::string encode(std::uint64_t n) { return std::to_string(n); }
    static bool decode(std::string_view s, std::uint64_t& n);
  };
  mutable std::mutex mu_;
  PersistedMap<std::string, nlohmann::json, DocCodec> docs_;
  PersistedMap<std::string, std::uint64_t, CounterCodec> counters_;
};

}  // namespace vigil
