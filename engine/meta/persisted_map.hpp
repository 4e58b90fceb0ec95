// A map held in memory and persisted in the `meta` column family under one key prefix: the shape
// of every small table of the engine (metric definitions, API tokens, documents, id counters,
// jobs). Reads are served from memory; a change is written to the store first and applied to the
// map only once the write succeeded, so memory never holds what the store lost.
//
//   key in the store = prefix + Codec::key_text(key)
//
// The Codec is a type with four static functions:
//   std::string key_text(const K&);                 bool key_from(std::string_view, K&);
//   std::string encode(const V&);                   bool decode(std::string_view, V&);
// An entry whose key or value does not decode at load() is skipped and counted (skipped()).
//
// Not synchronised: the owner's mutex covers the map together with whatever indexes the owner
// keeps beside it (a token's hash, a count of composites).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "engine/storage/status.hpp"
#include "engine/storage/storage.hpp"

namespace vigil {

template <class K, class V, class Codec>
class PersistedMap {
 public:
  using Map = std::map<K, V, std::less<>>;

  PersistedMap(Storage& storage, std::string prefix) : storage_(storage), prefix_(std::move(prefix)) {}

  // Reads every stored entry (replacing what the map held); the storage error if the scan failed.
  Status load() {
    map_.clear();
    skipped_ = 0;
    return storage_.scan_prefix(Cf::meta, prefix_, [&](std::string_view k, std::string_view v) {
      K key;
      V value;
      if (Codec::key_from(k.substr(prefix_.size()), key) && Codec::decode(v, value))
        map_.insert_or_assign(std::move(key), std::move(value));
      else
        ++skipped_;
      return true;
    });
  }

  template <class Q>
  const V* find(const Q& key) const {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }
  template <class Q>
  bool contains(const Q& key) const {
    return map_.find(key) != map_.end();
  }
  const Map& items() const { return map_; }
  // An entry to change in memory only (progress a job reports as it runs): the stored form
  // follows at the next put() of the key.
  template <class Q>
  V* edit_in_memory(const Q& key) {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }
  std::size_t size() const { return map_.size(); }
  bool empty() const { return map_.empty(); }
  // Entries load() could not decode.
  std::size_t skipped() const { return skipped_; }

  // The key an entry is stored under.
  std::string storage_key(const K& key) const { return prefix_ + Codec::key_text(key); }

  // Several changes written in one batch, applied to the map when commit() succeeds. A later
  // change of the same key wins, as it would in the store.
  class Change {
   public:
    void put(const K& key, V value) {
      batch_.put(Cf::meta, map_.storage_key(key), Codec::encode(value));
      ops_.emplace_back(key, std::move(value), false);
    }
    void erase(const K& key) {
      batch_.del(Cf::meta, map_.storage_key(key));
      ops_.emplace_back(key, V{}, true);
    }
    // Other writes of the owner that must land in the same batch.
    Storage::Batch& batch() { return batch_; }
    bool empty() const { return ops_.empty() && batch_.empty(); }
    // Writes the batch, then applies the changes; false with `err` (and the map unchanged) when
    // the write failed.
    bool commit(std::string& err) {
      if (empty()) return true;
      if (!map_.storage_.write(batch_, err)) return false;
      for (auto& [key, value, erased] : ops_) {
        if (erased) map_.map_.erase(key);
        else map_.map_.insert_or_assign(key, std::move(value));
      }
      ops_.clear();
      return true;
    }

   private:
    friend class PersistedMap;
    explicit Change(PersistedMap& map) : map_(map) {}
    PersistedMap& map_;
    Storage::Batch batch_;
    std::vector<std::tuple<K, V, bool>> ops_;
  };
  Change change() { return Change(*this); }

  // One entry written, then held; false with `err` (and nothing changed) on a store failure.
  bool put(const K& key, V value, std::string& err) {
    Change c = change();
    c.put(key, std::move(value));
    return c.commit(err);
  }
  // One entry removed from the store, then from the map.
  bool erase(const K& key, std::string& err) {
    Change c = change();
    c.erase(key);
    return c.commit(err);
  }
  // Forgets an entry in memory only (its stored form was removed by other means).
  template <class Q>
  void forget(const Q& key) {
    if (auto it = map_.find(key); it != map_.end()) map_.erase(it);
  }

 private:
  Storage& storage_;
  std::string prefix_;
  Map map_;
  std::size_t skipped_ = 0;
};

// Codecs for the common key types.
struct TextKey {
  static std::string key_text(const std::string& k) { return k; }
  static bool key_from(std::string_view s, std::string& k) {
    k.assign(s);
    return true;
  }
};

// Ids as 8 big-endian bytes, so that keys sort by id.
struct BigEndianId {
  static std::string key_text(std::uint64_t id) {
    std::string k(8, '\0');
    for (int i = 0; i < 8; ++i) k[static_cast<std::size_t>(i)] = static_cast<char>((id >> ((7 - i) * 8)) & 0xff);
    return k;
  }
  static bool key_from(std::string_view s, std::uint64_t& id) {
    if (s.size() != 8) return false;
    id = 0;
    for (char c : s) id = (id << 8) | static_cast<unsigned char>(c);
    return true;
  }
};

}  // namespace vigil
