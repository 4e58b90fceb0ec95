// The query layer's view of the store: series of a metric from the index, buckets and raw
// samples from their column families.
#pragma once

#include "engine/query.hpp"

namespace vigil {

class Storage;
class SeriesIndex;

class StoreReader : public SeriesReader {
 public:
  StoreReader(Storage& storage, SeriesIndex& index) : storage_(storage), index_(index) {}

  std::vector<SeriesRef> series_of(std::string_view metric_key) override;
  void read_rollup(std::uint64_t id, std::int64_t res, std::int64_t from, std::int64_t to,
                   const std::function<void(std::int64_t, const Agg&)>& fn) override;
  void read_raw(std::uint64_t id, std::int64_t from, std::int64_t to,
                const std::function<void(std::int64_t, const Agg&)>& fn) override;

 private:
  Storage& storage_;
  SeriesIndex& index_;
};

}  // namespace vigil
