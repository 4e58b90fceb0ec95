// The query routes' reader: storage merged with what the shards hold and have not flushed yet, so
// a query sees every sample accepted before it without making the shards flush first (a flush
// writes five keys per series: on a metric under ingest, that was most of a query's time).
//
// Each read copies the pending state of the series it reads from their shards, then reads
// storage inside the engine's flush gate (Engine::read_with): if a flush wrote in between, the
// copy is taken again, so a sample is never counted twice or missed. Reads of one series at a
// time (raw samples, legacy queries) copy the pending state of every series the query listed at
// once, and reuse it until a flush comes.
#pragma once

#include <memory>
#include <unordered_map>
#include <vector>

#include "actors/engine.hpp"
#include "engine/query/query.hpp"
#include "engine/storage/store_reader.hpp"

namespace vigil::actors {

class PendingReader : public SeriesReader {
 public:
  // `budget` (may be null): the request's, whose deadline every read checks before it starts
  // (and again after the shards handed over their pending state).
  explicit PendingReader(Engine& engine, const QueryBudget* budget = nullptr) : engine_(engine), budget_(budget) {}

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
  std::unique_ptr<SeriesReader> clone() override;

 private:
  // Storage alone, after the shards flushed (when copies keep being overtaken by flushes).
  StoreReader synced_store();
  // One series read (rollups at kResolutions[res_index], or raw for -1) through the prefetched copy.
  void read_one(std::uint64_t id, int res_index, std::int64_t from, std::int64_t to,
                const std::function<void(std::int64_t, const Agg&)>& fn);

  void check_deadline() const {
    if (budget_) budget_->check_deadline();
  }

  Engine& engine_;
  const QueryBudget* budget_;
  std::vector<std::uint64_t> known_;  // the series the query listed
  struct Prefetch {
    bool valid = false;
    int res_index = 0;
    std::int64_t from = 0, to = 0;
    std::vector<std::uint64_t> ids;
    std::unordered_map<std::uint64_t, std::size_t> pos;
    Engine::PendingCopy copy;
  } prefetch_;
};

}  // namespace vigil::actors
