// The query layer's view of the store: series of a metric from the index, buckets and raw
// samples from their column families. One reader serves one query on one thread: it keeps a
// cursor per column family and reuses it for every series it reads. A storage error a read meets
// (a cursor's or a batched point read's status) is kept in status() (SeriesReader).
#pragma once

#include <memory>
#include <optional>

#include "engine/query/query.hpp"
#include "engine/storage/storage.hpp"

namespace vigil {

class SeriesIndex;

class StoreReader : public SeriesReader {
 public:
  StoreReader(Storage& storage, SeriesIndex& index) : storage_(storage), index_(index) {}

  std::vector<SeriesRef> series_of(std::string_view metric_key) override;
  std::vector<SeriesRef> series_matching(std::string_view metric_key, const TagFilter& filter) override;
  void read_rollup(std::uint64_t id, std::int64_t res, std::int64_t from, std::int64_t to,
                   const std::function<void(std::int64_t, const Agg&)>& fn) override;
  void read_rollups(const std::vector<std::uint64_t>& ids, std::int64_t res, std::int64_t from, std::int64_t to,
                    const std::function<void(std::size_t, std::int64_t, const Agg&)>& fn,
                    unsigned fields = kAllFields) override;
  void read_rollup_runs(const std::vector<std::uint64_t>& ids, std::int64_t res, std::int64_t from, std::int64_t to,
                        const std::function<void(std::size_t, const RollupRun&)>& fn,
                        unsigned fields = kAllFields) override;
  void read_raw(std::uint64_t id, std::int64_t from, std::int64_t to,
                const std::function<void(std::int64_t, const Agg&)>& fn) override;
  std::unique_ptr<SeriesReader> clone() override {
    return std::make_unique<StoreReader>(storage_, index_);
  }

 private:
  Storage::Cursor& cursor(Cf cf);
  template <class OnBlock>
  bool for_each_block(const std::vector<std::uint64_t>& ids, std::int64_t res, std::int64_t from, std::int64_t to,
                      OnBlock&& on_block);

  Storage& storage_;
  SeriesIndex& index_;
  std::optional<Storage::Cursor> cursors_[kCfCount];
};

}  // namespace vigil
