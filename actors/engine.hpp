// The running engine: storage, catalog and series index, plus the CAF actor system hosting the
// shard actors that own series state. Every ingest path (HTTP, Kafka) enters through ingest().
//
// Actor topology: S shard actors (S = engine.shards, default: CPU cores). Series id % S picks the
// shard; a shard actor is the only code that touches its series' state. A batch of measurements
// becomes at most one message per shard (a time-major batch of 1,000 samples costs S messages,
// not 1,000), which keeps the per-sample cost of the actor layer far below a microsecond.
// CAF stays out of this header.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/meta/catalog.hpp"
#include "engine/model/model.hpp"
#include "engine/query/budget.hpp"
#include "engine/storage/series_index.hpp"
#include "engine/storage/storage.hpp"

namespace vigil {
struct LogRecord;
}

namespace vigil::actors {

class AlertHub;

// Told of every batch a shard applied, on that shard's thread, right after the apply: the
// records (series id, time, value) of one ingest-log entry, shared, not copied. It must return
// at once and never block, or ingest stalls behind it.
class ApplyListener {
 public:
  virtual ~ApplyListener() = default;
  virtual void applied(std::shared_ptr<const std::vector<LogRecord>> records) = 0;
};

struct EngineOptions {
  std::string data_dir = "./data";
  int shards = 0;  // 0: one per CPU core
  int flush_interval_ms = 2000;
  // A shard also flushes as soon as it holds this many samples not yet written (bounds its
  // memory between ticks: about 16 bytes a sample, plus its series' open buckets).
  std::size_t flush_pending_samples = 1'500'000;
  StorageOptions storage;
  // Backpressure: ingest waits while more samples than this are accepted but not yet applied
  // (engine.max_unapplied_samples). A batch is admitted while the backlog is below the bound (so
  // the backlog exceeds it by one batch at most), never past it.
  std::size_t max_in_flight = 2'000'000;
  // How long ingest() waits for the backlog to fall below the bound before it refuses the batch
  // with IngestResult::busy, storing nothing (engine.ingest_wait_ms). ingest_learning() (Kafka)
  // waits until the batch is admitted or the engine stops.
  int ingest_wait_ms = 1000;
  // After this long without new samples, memtables are written to SST files: the merge operands
  // of recent rollup writes are folded once there instead of on every query. 0 disables.
  int idle_flush_ms = 2000;
  // Query cost bounds (engine/query/budget.hpp), for every dialect's reads.
  QueryLimits query_limits;
  // Bounds on growth: series in all, series of one metric (0: unlimited); see ingest().
  std::size_t max_series = 0;
  std::size_t max_series_per_metric = 0;
  // Fault injection for tests: each shard sleeps this long before applying a batch.
  std::int64_t apply_delay_us = 0;
  // Fault injection for tests: every Nth ingest write fails as a RocksDB write error would (0: never).
  std::int64_t fail_write_every = 0;
};

// Gives the heap's free pages back to the system (jemalloc's purge when it is the allocator,
// glibc's malloc_trim otherwise).
void release_free_memory();
// The allocator this process runs on: "jemalloc" or "libc malloc".
const char* allocator_name();

struct IngestResult {
  bool ok = true;
  std::string error;  // storage failure: nothing of the batch was accepted
  // The failure was the disk running out of space (Storage::out_of_space): answered 507, and
  // the same request succeeds once space returns (the store resumes by itself).
  bool no_space = false;
  std::size_t accepted = 0;
  // Nothing was accepted because measurements named series by ids learned before series were
  // removed (ingest_learning): parse them again and retry.
  bool stale_series = false;
  // Measurements whose new series a limit refused (EngineOptions::max_series,
  // max_series_per_metric): `index` is the measurement's in the batch. Without `partial`, the
  // whole batch was refused (ok false, nothing stored); with it, every other measurement was.
  std::vector<SeriesRefusal> refused_series;
  // Nothing was stored: the shards are too far behind (EngineOptions::max_in_flight) and did not
  // catch up within ingest_wait_ms. Retry later (HTTP: 503 with Retry-After).
  bool busy = false;
};

class Engine {
 public:
  static std::unique_ptr<Engine> open(const EngineOptions& opts, std::string& err);
  ~Engine();

  // Makes `ms` durable (ingest log), then hands the samples to their shard actors. When this
  // returns ok, the batch survives a crash and will be applied exactly once. When the shards are
  // behind, waits at most ingest_wait_ms for them, then fails with `busy` (nothing stored). `extra` writes
  // (e.g. consumed offsets) are committed in the same atomic batch.
  // A measurement of a new series beyond a series limit refuses the whole batch (nothing is
  // stored, IngestResult::refused_series lists them), or with `partial` only itself.
  IngestResult ingest(const std::vector<Measurement>& ms, std::int64_t now,
                      Storage::Batch* extra = nullptr, bool partial = false);
  // ingest(), which also accepts measurements that name their series (Measurement::series_id, at
  // the index's current generation; an older one fails the batch with stale_series), and sets
  // every measurement's series_id and series_generation once the batch is accepted.
  // A refused measurement (`partial`) keeps series_id 0.
  IngestResult ingest_learning(std::vector<Measurement>& ms, std::int64_t now, Storage::Batch* extra = nullptr,
                               bool partial = false);
  // Why measurement `m` was refused (IngestResult::refused_series): the metric, the tags, the
  // limit's setting and its value, e.g. "'cpu' host=h9: a new series beyond
  // limits.max_series_per_metric (3)".
  std::string refusal_text(const Measurement& m, const SeriesRefusal& r) const;
  // The series index's generation (SeriesIndex::generation).
  std::uint64_t series_generation() const;

  // Waits until every shard has applied and flushed everything accepted before the call, so
  // that reads from storage see it.
  bool sync();

  // What the shards hold and have not flushed yet, for reads that do not wait for a flush (see
  // PendingReader): per requested series, rollup buckets at kResolutions[res_index] (merged per
  // bucket, ascending) or raw samples (res_index -1, in time order), within [from, to].
  struct PendingCopy {
    std::vector<std::vector<std::pair<std::int64_t, Agg>>> series;  // per requested id
    std::vector<std::uint64_t> generations;  // each shard's flush count at the copy
  };
  // Copies the pending state of `ids`; everything accepted before the call is applied first.
  // False if the engine is stopped.
  bool copy_pending(const std::vector<std::uint64_t>& ids, int res_index, std::int64_t from, std::int64_t to,
                    PendingCopy& out);
  // Runs `read` (storage reads) while no shard flush writes, provided none wrote since `copy`
  // was taken: then each sample is in storage or in the copy, never in both. False (and `read`
  // not run) if a flush came between; the caller copies again.
  bool read_with(const PendingCopy& copy, const std::function<void()>& read);

  // Flushes every shard and stops the actors (idempotent; the destructor calls it).
  void shutdown();

  Storage& storage();
  Catalog& catalog();
  SeriesIndex& series();
  AlertHub& alerts();  // alert definitions, state and the notification outbox
  // The query limits and the running count: every query request takes its budget here
  // (queries().begin()), whatever its dialect.
  QueryGovernor& queries();
  int shard_count() const;

  // Samples accepted (durable) but not yet applied by the shards: the backlog that consumers
  // watch to pause and resume their input.
  std::size_t queue_depth() const;

  // Installs (or, with nullptr, removes) the one apply listener. Without one, an apply costs a
  // single relaxed atomic load more.
  void set_apply_listener(std::shared_ptr<ApplyListener> listener);

  // Prometheus text lines for the engine's own figures.
  std::string metrics_text();

 private:
  Engine();
  IngestResult ingest_batch(const std::vector<Measurement>& ms, std::int64_t now, Storage::Batch* extra,
                            std::vector<Measurement>* learn, bool partial, bool bounded_wait);
  IngestResult ingest_once(const std::vector<Measurement>& ms, std::int64_t now, Storage::Batch* extra,
                           std::vector<Measurement>* learn, bool partial, bool bounded_wait);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::actors
