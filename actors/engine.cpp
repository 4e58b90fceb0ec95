#include "actors/engine.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <dlfcn.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <caf/all.hpp>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <pthread.h>
#include <thread>
#include <unordered_map>

#include "actors/alerting/evaluation.hpp"
#include "actors/alerting/hub.hpp"
#include "engine/encoding/keys.hpp"
#include "engine/encoding/series_key.hpp"
#include "engine/stats/prom_text.hpp"
#include "engine/model/short_text.hpp"
#include "engine/shard/shard_state.hpp"

namespace vigil::actors {

namespace {

// One shard's part of an accepted batch, as written to the ingest log under `seq`.
struct ShardWork {
  std::uint64_t seq = 0;
  std::vector<LogRecord> records;
};
using WorkPtr = std::shared_ptr<const ShardWork>;

// Counts down as shards report back from a sync request.
struct Latch {
  std::mutex mu;
  std::condition_variable cv;
  int remaining;
  bool ok = true;
  explicit Latch(int n) : remaining(n) {}
  void done(bool success) {
    std::lock_guard lock(mu);
    if (!success) ok = false;
    if (--remaining == 0) cv.notify_all();
  }
  bool wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return remaining == 0; });
    return ok;
  }
};
using LatchPtr = std::shared_ptr<Latch>;

// A query's request for the pending state of some series: each shard fills the entries of the
// ids it owns and its flush count, then counts the latch down.
struct PendingRequest {
  const std::vector<std::uint64_t>* ids;
  int res_index;
  std::int64_t from, to;
  Engine::PendingCopy* out;
  LatchPtr latch;
};
using PendingRequestPtr = std::shared_ptr<PendingRequest>;

}  // namespace
}  // namespace vigil::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::WorkPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::LatchPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::PendingRequestPtr)

namespace vigil::actors {

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;
using sync_atom = caf::atom_constant<caf::atom("sync")>;
using pending_atom = caf::atom_constant<caf::atom("pending")>;

// What shard actors share with the engine: counters and the backpressure gate.
struct Shared {
  Storage* storage = nullptr;
  std::chrono::milliseconds flush_interval{200};
  std::size_t flush_pending_samples = 1'500'000;
  std::size_t max_in_flight = 0;
  std::chrono::microseconds apply_delay{0};
  std::atomic<std::size_t> in_flight{0};
  std::mutex gate_mu;
  std::condition_variable gate_cv;
  std::atomic<std::uint64_t> applied_samples{0};
  std::atomic<std::uint64_t> flushes{0};
  std::atomic<std::uint64_t> flush_errors{0};
  std::unique_ptr<FlushGate> gate;
  // Per shard: it holds applied samples not flushed yet (set before the samples leave
  // `in_flight`, cleared after a flush): with no sample in flight and no shard dirty, a read
  // needs no copy of pending state.
  std::unique_ptr<std::atomic<bool>[]> dirty;
  // The apply listener (Engine::set_apply_listener): the flag is the only cost when none is set.
  std::atomic<bool> has_listener{false};
  std::mutex listener_mu;
  std::shared_ptr<ApplyListener> listener;

  void tell_listener(const WorkPtr& w) {
    if (!has_listener.load(std::memory_order_relaxed)) return;
    std::shared_ptr<ApplyListener> l;
    {
      std::lock_guard lock(listener_mu);
      l = listener;
    }
    if (l) l->applied(std::shared_ptr<const std::vector<LogRecord>>(w, &w->records));
  }

  // Takes room for `n` samples in the backlog if it is below the bound.
  bool try_reserve(std::size_t n) {
    std::size_t cur = in_flight.load(std::memory_order_relaxed);
    while (cur < max_in_flight)
      if (in_flight.compare_exchange_weak(cur, cur + n)) return true;
    return false;
  }

  void release(std::size_t n) {
    std::size_t before = in_flight.fetch_sub(n);
    if (before >= max_in_flight && before - n < max_in_flight) {
      std::lock_guard lock(gate_mu);
      gate_cv.notify_all();
    }
  }
};

struct ShardActorState {
  std::unique_ptr<ShardState> shard;
  Shared* shared = nullptr;
  bool tick_armed = false;
  static inline const char* name = "vigil.shard";

  bool flush() {
    if (!shard->dirty()) return true;
    std::string err;
    if (!shard->flush(err)) {
      shared->flush_errors.fetch_add(1);
      spdlog::error("shard {} flush failed: {}", shard->shard(), err);
      return false;
    }
    shared->dirty[shard->shard()].store(false);
    shared->flushes.fetch_add(1);
    return true;
  }
};

caf::behavior shard_actor(caf::stateful_actor<ShardActorState>* self, std::uint16_t index,
                          Shared* shared, ShardState* replayed) {
  // Detached: this runs on the shard's own thread; named for top -H and perf.
  pthread_setname_np(pthread_self(), ("vshard-" + std::to_string(index)).substr(0, 15).c_str());
  self->state.shared = shared;
  if (replayed) {
    // Replayed from the ingest log at start: flushed at the first tick.
    self->state.shard.reset(replayed);
    self->state.tick_armed = true;
    self->delayed_send(self, shared->flush_interval, tick_atom::value);
  } else {
    self->state.shard = std::make_unique<ShardState>(index, *shared->storage);
    // recover_log read every checkpoint moments ago; a failure now is reported, not hidden.
    if (!self->state.shard->status().ok())
      spdlog::error("shard {}: cannot read its checkpoint: {}", index, self->state.shard->status().to_string());
  }
  self->state.shard->set_gate(shared->gate.get());
  return {
      [=](const WorkPtr& w) {
        auto& st = self->state;
        if (shared->apply_delay.count() > 0) std::this_thread::sleep_for(shared->apply_delay);
        shared->dirty[index].store(true);
        st.shard->apply(w->seq, w->records);
        shared->applied_samples.fetch_add(w->records.size());
        shared->release(w->records.size());
        shared->tell_listener(w);
        if (st.shard->pending_samples() >= shared->flush_pending_samples) st.flush();
        if (!st.tick_armed) {
          st.tick_armed = true;
          self->delayed_send(self, shared->flush_interval, tick_atom::value);
        }
      },
      [=](tick_atom) {
        auto& st = self->state;
        st.tick_armed = false;
        if (!st.shard->dirty()) {
          // A quiet interval: the series entries a flush kept (with their buffers) are dropped.
          st.shard->trim();
          return;
        }
        // Flushed, or failed and kept: either way the next tick comes (a retry, or the trim).
        st.flush();
        st.tick_armed = true;
        self->delayed_send(self, shared->flush_interval, tick_atom::value);
      },
      [=](sync_atom, const LatchPtr& latch) { latch->done(self->state.flush()); },
      [=](pending_atom, const PendingRequestPtr& r) {
        const std::size_t n = shared->gate->shards();
        std::vector<std::size_t> mine;
        for (std::size_t i = 0; i < r->ids->size(); ++i)
          if ((*r->ids)[i] % n == index) mine.push_back(i);
        // The count before the copy: this actor is the only one that flushes this shard.
        r->out->generations[index] = shared->gate->generation(index);
        self->state.shard->copy_pending(*r->ids, mine, r->res_index, r->from, r->to, r->out->series);
        r->latch->done(true);
      },
  };
}

}  // namespace

struct Engine::Impl {
  std::unique_ptr<Storage> storage;
  std::unique_ptr<Catalog> catalog;
  std::unique_ptr<SeriesIndex> series;
  std::unique_ptr<AlertHub> alerts;
  std::unique_ptr<AlertEvaluators> evaluators;  // alert evaluation beside the shard actors
  Shared shared;
  std::unique_ptr<caf::actor_system_config> cfg;
  std::unique_ptr<caf::actor_system> system;
  std::vector<caf::actor> shards;
  std::vector<std::uint64_t> next_seq;  // per shard, guarded by log_mu
  std::mutex log_mu;
  std::int64_t fail_write_every = 0;  // fault injection (EngineOptions)
  std::uint64_t writes = 0;           // ingest writes attempted; guarded by log_mu
  std::atomic<bool> stopped{false};
  std::atomic<std::uint64_t> ingested{0};
  std::atomic<std::uint64_t> synced{0};  // `ingested` at the start of the latest successful sync
  std::atomic<std::uint64_t> log_batches{0};
  std::atomic<std::uint64_t> backpressure_waits{0};
  std::atomic<std::uint64_t> busy_refusals{0};  // batches refused after ingest_wait
  std::chrono::milliseconds ingest_wait{1000};
  std::atomic<std::uint64_t> idle_flushes{0};
  std::atomic<std::uint64_t> idle_compactions{0};
  std::array<std::atomic<std::uint64_t>, kSeriesLimitCount> series_refused{};  // measurements, by limit
  std::unique_ptr<QueryGovernor> queries;
  // Idle maintenance: flushes memtables once ingest has been quiet for idle_flush_ms.
  std::thread maintenance;
  std::mutex maint_mu;
  std::condition_variable maint_cv;

  void maintain(std::chrono::milliseconds idle) {
    // Activity: samples applied and shard flushes. A shard flush late after the last sample (a
    // loaded machine) deletes log entries the maintenance may already have compacted: it counts
    // as activity, so the maintenance runs again after it.
    auto activity = [&] { return shared.applied_samples.load() + shared.flushes.load(); };
    std::uint64_t seen = activity();
    std::uint64_t flushed = seen;
    auto since = std::chrono::steady_clock::now();
    std::unique_lock lock(maint_mu);
    while (!stopped.load()) {
      maint_cv.wait_for(lock, std::chrono::milliseconds(200));
      if (stopped.load()) break;
      std::uint64_t now_active = activity();
      auto now = std::chrono::steady_clock::now();
      if (now_active != seen) {
        seen = now_active;
        since = now;
        continue;
      }
      // Quiet for `idle` (longer than a shard flush interval, so the shards have written their
      // pending state): fold what the memtables hold into SST files once.
      if (seen != flushed && now - since >= idle + shared.flush_interval) {
        lock.unlock();
        if (Status st = storage->flush(); !st.ok()) spdlog::warn("idle flush failed: {}", st.to_string());
        // Rollup and raw reads fold one merge operand per level-0 file holding the key, and each
        // operand keeps its own key and block heads on disk: once ingest is quiet, the level-0
        // files of the rollup and raw families are compacted into level 1 — when they hold at
        // least a quarter of level 1's bytes (after a burst, not after every trickle).
        for (int r = 0; r < kResolutionCount; ++r)
          if (storage->compact_level0(rollup_cf(r), 1, 4) > 0) idle_compactions.fetch_add(1);
        if (storage->compact_level0(Cf::raw, 1, 4) > 0) idle_compactions.fetch_add(1);
        // Ingest-log entries that reached a level-0 file before the flush that applied them
        // deleted them: compacted with their tombstones, both are gone (the log family holds only
        // what is not applied yet, so this is small whatever level 1 holds).
        if (storage->compact_level0(Cf::log, 1, 1'000'000) > 0) idle_compactions.fetch_add(1);
        // Give the heap that a burst of new series left behind (pending shard state, parse
        // buffers; freed but held by malloc's per-thread arenas) back to the system.
        release_free_memory();
        lock.lock();
        flushed = seen;
        idle_flushes.fetch_add(1);
      }
    }
  }
};

namespace {

// jemalloc's mallctl when it is the allocator (the release build links it), else null.
using MallctlFn = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
MallctlFn jemalloc_mallctl() {
  static const MallctlFn fn = reinterpret_cast<MallctlFn>(dlsym(RTLD_DEFAULT, "mallctl"));
  return fn;
}

}  // namespace

void release_free_memory() {
  if (MallctlFn mallctl = jemalloc_mallctl()) {
    // "arena.<MALLCTL_ARENAS_ALL>.purge": every arena's unused dirty pages go back to the system.
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
    return;
  }
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

const char* allocator_name() { return jemalloc_mallctl() ? "jemalloc" : "libc malloc"; }

namespace {

// jemalloc's statistics (refreshed by writing "epoch"): bytes the program holds, bytes in
// active pages, and bytes of physically resident pages (allocator metadata and dirty pages
// included). False without jemalloc.
struct HeapStats {
  std::size_t allocated = 0, active = 0, resident = 0, retained = 0;
};
bool heap_stats(HeapStats& h) {
  MallctlFn mallctl = jemalloc_mallctl();
  if (!mallctl) return false;
  std::uint64_t epoch = 1;
  std::size_t len = sizeof(epoch);
  mallctl("epoch", &epoch, &len, &epoch, len);
  auto read = [&](const char* name, std::size_t& v) {
    std::size_t n = sizeof(v);
    return mallctl(name, &v, &n, nullptr, 0) == 0;
  };
  return read("stats.allocated", h.allocated) && read("stats.active", h.active) &&
         read("stats.resident", h.resident) && read("stats.retained", h.retained);
}

}  // namespace

Engine::Engine() : impl_(std::make_unique<Impl>()) {}

Engine::~Engine() { shutdown(); }

std::unique_ptr<Engine> Engine::open(const EngineOptions& opts, std::string& err) {
  std::unique_ptr<Engine> e(new Engine());
  auto& I = *e->impl_;
  auto t_open = std::chrono::steady_clock::now();
  I.storage = Storage::open(opts.data_dir, opts.storage, err);
  if (!I.storage) return nullptr;
  spdlog::info("storage opened in {} ms",
               std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t_open).count());

  // The series index loads while the ingest log is replayed: replay works on series ids alone.
  I.series = std::make_unique<SeriesIndex>(*I.storage);
  I.series->set_limits(opts.max_series, opts.max_series_per_metric);
  I.queries = std::make_unique<QueryGovernor>(opts.query_limits);
  auto t_index = std::chrono::steady_clock::now();
  Status index_status;
  std::thread index_loader([&I, t_index, &index_status] {
    index_status = I.series->load();
    spdlog::info("series index loaded in {} ms: {} series", std::chrono::duration_cast<std::chrono::milliseconds>(
                                                               std::chrono::steady_clock::now() - t_index).count(),
                 I.series->size());
  });
  int n = opts.shards > 0 ? opts.shards : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (n > 1024) n = 1024;
  std::unordered_map<std::uint16_t, std::uint64_t> last_seq;
  std::map<std::uint16_t, std::unique_ptr<ShardState>> replayed;  // handed to the shard actors
  auto t_recover = std::chrono::steady_clock::now();
  bool recovered = recover_log(*I.storage, last_seq, err, static_cast<std::size_t>(n), &replayed);
  if (recovered)
    spdlog::info("ingest log replayed in {} ms",
                 std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t_recover).count());
  index_loader.join();
  if (!recovered) return nullptr;
  if (!index_status.ok()) {
    err = "cannot load the series index: " + index_status.to_string();
    return nullptr;
  }

  I.catalog = std::make_unique<Catalog>(*I.storage);
  if (Status st = I.catalog->load(); !st.ok()) {
    err = "cannot load the metric catalog: " + st.to_string();
    return nullptr;
  }
  I.alerts = std::make_unique<AlertHub>(*I.storage, *I.series, *I.catalog);
  if (!I.alerts->load(err)) return nullptr;

  I.shared.storage = I.storage.get();
  I.shared.flush_interval = std::chrono::milliseconds(std::max(1, opts.flush_interval_ms));
  I.shared.flush_pending_samples = std::max<std::size_t>(1, opts.flush_pending_samples);
  I.shared.max_in_flight = std::max<std::size_t>(opts.max_in_flight, 1);
  I.ingest_wait = std::chrono::milliseconds(std::max(0, opts.ingest_wait_ms));
  I.shared.apply_delay = std::chrono::microseconds(std::max<std::int64_t>(0, opts.apply_delay_us));
  I.fail_write_every = opts.fail_write_every;
  I.shared.gate = std::make_unique<FlushGate>(static_cast<std::size_t>(n));
  I.shared.dirty = std::make_unique<std::atomic<bool>[]>(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) I.shared.dirty[i].store(false);

  I.cfg = std::make_unique<caf::actor_system_config>();
  I.cfg->set("scheduler.max-threads", static_cast<size_t>(std::max(1u, std::thread::hardware_concurrency())));
  I.cfg->set("logger.console", caf::atom("none"));
  I.system = std::make_unique<caf::actor_system>(*I.cfg);
  I.next_seq.assign(static_cast<std::size_t>(n), 0);
  for (int i = 0; i < n; ++i) {
    auto idx = static_cast<std::uint16_t>(i);
    auto it = last_seq.find(idx);
    I.next_seq[static_cast<std::size_t>(i)] = it == last_seq.end() ? 0 : it->second;
    // The state replayed from the ingest log, if any: the shard's pending state from the start.
    ShardState* state = nullptr;
    if (auto r = replayed.find(idx); r != replayed.end()) {
      state = r->second.release();
      I.shared.dirty[i].store(true);
    }
    // Detached: a shard blocks on RocksDB writes when it flushes, on its own thread.
    I.shards.push_back(I.system->spawn<caf::detached>(shard_actor, idx, &I.shared, state));
  }
  I.evaluators = std::make_unique<AlertEvaluators>(*I.system, *I.alerts, n);
  if (opts.idle_flush_ms > 0) {
    auto idle = std::chrono::milliseconds(opts.idle_flush_ms);
    I.maintenance = std::thread([impl = e->impl_.get(), idle] { impl->maintain(idle); });
  }
  spdlog::info("engine open: data_dir={} shards={} series={} metrics={} allocator={}", opts.data_dir, n,
               I.series->size(), I.catalog->size(), allocator_name());
  return e;
}

IngestResult Engine::ingest(const std::vector<Measurement>& ms, std::int64_t now,
                            Storage::Batch* extra, bool partial) {
  return ingest_batch(ms, now, extra, nullptr, partial, true);
}

IngestResult Engine::ingest_learning(std::vector<Measurement>& ms, std::int64_t now, Storage::Batch* extra,
                                     bool partial) {
  return ingest_batch(ms, now, extra, &ms, partial, false);
}

std::uint64_t Engine::series_generation() const { return impl_->series->generation(); }

std::string Engine::refusal_text(const Measurement& m, const SeriesRefusal& r) const {
  const SeriesIndex& index = *impl_->series;
  std::string out = "'" + m.name + "'";
  char sep = ' ';
  for (const auto& [k, v] : m.tags) {
    out += sep;
    out += k + "=" + v;
    sep = ',';
  }
  const std::size_t limit = r.limit == SeriesLimit::global ? index.max_series() : index.max_series_per_metric();
  out += ": a new series beyond ";
  out += setting_of(r.limit);
  out += " (" + std::to_string(limit) + (r.limit == SeriesLimit::global ? " series in all" : " series of one metric") +
         "); existing series accept samples";
  return out;
}

IngestResult Engine::ingest_batch(const std::vector<Measurement>& ms, std::int64_t now, Storage::Batch* extra,
                                  std::vector<Measurement>* learn, bool partial, bool bounded_wait) {
  IngestResult res = ingest_once(ms, now, extra, learn, partial, bounded_wait);
  // Out of space anywhere on the way (catalog, series index, ingest log): the caller says so.
  if (!res.ok && !res.stale_series && impl_->storage->out_of_space()) res.no_space = true;
  return res;
}

IngestResult Engine::ingest_once(const std::vector<Measurement>& ms, std::int64_t now, Storage::Batch* extra,
                                 std::vector<Measurement>* learn, bool partial, bool bounded_wait) {
  auto& I = *impl_;
  IngestResult res;
  if (I.stopped.load()) {
    res.ok = false;
    res.error = "the engine is shutting down";
    return res;
  }
  if (ms.empty() && extra == nullptr) return res;
  // Backpressure, before anything is written (catalog and series index included): the batch
  // reserves its place in the backlog while the backlog is below the bound, or waits for the
  // shards to catch up. A refused batch stores nothing.
  bool reserved = I.shared.try_reserve(ms.size());
  if (!reserved) {
    I.backpressure_waits.fetch_add(1);
    std::unique_lock lock(I.shared.gate_mu);
    auto admitted = [&] { return (reserved = I.shared.try_reserve(ms.size())) || I.stopped.load(); };
    if (bounded_wait) I.shared.gate_cv.wait_for(lock, I.ingest_wait, admitted);
    else I.shared.gate_cv.wait(lock, admitted);
    if (!reserved) {
      res.ok = false;
      if (I.stopped.load()) {
        res.error = "the engine is shutting down";
      } else {
        res.busy = true;
        I.busy_refusals.fetch_add(1);
        res.error = "the shards are behind (over " + std::to_string(I.shared.max_in_flight) +
                    " samples accepted and not yet applied, engine.max_unapplied_samples); nothing was stored, "
                    "retry later";
      }
      return res;
    }
  }
  // Released on every failure below; on success the shards release it as they apply.
  struct Hold {
    Shared* shared;
    std::size_t n;
    ~Hold() {
      if (shared) shared->release(n);
    }
  } hold{&I.shared, ms.size()};
  // The series keys of the measurements whose series is not known yet (no series_id), in one
  // buffer; a batch is mostly one metric, so its key is computed once per run of equal names.
  const std::uint64_t generation = I.series->generation();
  thread_local std::string key_buf;
  thread_local std::vector<std::size_t> key_end;
  thread_local std::vector<std::string_view> keys;
  thread_local std::vector<std::size_t> key_of;  // the measurement of each key
  key_buf.clear();
  key_end.clear();
  keys.clear();
  key_of.clear();
  std::vector<std::uint64_t> ids(ms.size(), 0);
  std::string mkey;
  const std::string* prev_name = nullptr;
  for (std::size_t i = 0; i < ms.size(); ++i) {
    const Measurement& m = ms[i];
    if (m.series_id != 0) {
      if (m.series_generation != generation) {
        // Series were removed since the id was learned: the producer parses the measurement again.
        res.ok = false;
        res.stale_series = true;
        res.error = "series were removed since the batch was parsed";
        return res;
      }
      ids[i] = m.series_id;
      continue;
    }
    if (prev_name == nullptr || !same_text(m.name, *prev_name)) mkey = metric_key(m.name);
    prev_name = &m.name;
    enc::append_series_key(key_buf, mkey, m.tags);
    key_end.push_back(key_buf.size());
    key_of.push_back(i);
  }
  for (std::size_t i = 0, begin = 0; i < key_end.size(); begin = key_end[i++])
    keys.emplace_back(key_buf.data() + begin, key_end[i] - begin);
  // Series first (a limit may refuse new ones), then the catalog: a refused batch creates no metric.
  if (!keys.empty()) {
    thread_local std::vector<std::uint64_t> found;
    found.clear();
    std::vector<SeriesRefusal> refused;
    const bool resolved = I.series->resolve(keys, found, res.error, &refused, partial);
    for (auto& r : refused) {
      r.index = key_of[r.index];  // the measurement's
      I.series_refused[static_cast<std::size_t>(r.limit)].fetch_add(1, std::memory_order_relaxed);
    }
    res.refused_series = std::move(refused);
    if (!resolved) {
      res.ok = false;
      return res;
    }
    for (std::size_t k = 0; k < found.size(); ++k) ids[key_of[k]] = found[k];
  }
  const std::size_t accepted = ms.size() - res.refused_series.size();
  if (res.refused_series.empty()) {
    if (!I.catalog->ensure(ms, now, res.error)) {
      res.ok = false;
      return res;
    }
  } else {
    // The metrics of the measurements stored only.
    std::vector<Measurement> kept;
    kept.reserve(accepted);
    for (std::size_t i = 0; i < ms.size(); ++i)
      if (ids[i] != 0) kept.push_back(ms[i]);
    if (!I.catalog->ensure(kept, now, res.error)) {
      res.ok = false;
      return res;
    }
  }
  if (accepted == 0 && extra == nullptr) return res;  // every measurement refused (partial)
  const std::size_t n = I.shards.size();
  std::vector<std::shared_ptr<ShardWork>> work(n);
  std::vector<std::size_t> per_shard(n, 0);
  for (std::uint64_t id : ids)
    if (id != 0) ++per_shard[id % n];
  for (std::size_t s = 0; s < n; ++s)
    if (per_shard[s] != 0) {
      work[s] = std::make_shared<ShardWork>();
      work[s]->records.reserve(per_shard[s]);
    }
  for (std::size_t i = 0; i < ms.size(); ++i)
    if (ids[i] != 0) work[ids[i] % n]->records.push_back(LogRecord{ids[i], ms[i].time, ms[i].agg});
  std::vector<std::string> entries(n);
  for (std::size_t s = 0; s < n; ++s)
    if (work[s]) encode_log_entry(work[s]->records, entries[s]);

  // Sequence numbers, the log write and the hand-off happen under one lock so that each shard
  // receives its entries in sequence order (its checkpoint is the highest applied sequence).
  std::lock_guard lock(I.log_mu);
  Storage::Batch batch = extra ? std::move(*extra) : Storage::Batch();
  std::vector<std::uint64_t> seqs(n, 0);
  for (std::size_t s = 0; s < n; ++s) {
    if (!work[s]) continue;
    seqs[s] = I.next_seq[s] + 1;
    batch.put(Cf::log, enc::log_key(static_cast<std::uint16_t>(s), seqs[s]), entries[s]);
  }
  if (I.fail_write_every > 0 && ++I.writes % static_cast<std::uint64_t>(I.fail_write_every) == 0) {
    res.ok = false;
    res.error = "injected write failure (engine.fail_write_every)";
    return res;
  }
  if (!I.storage->write(batch, res.error)) {
    res.ok = false;
    return res;
  }
  hold.shared = nullptr;  // the samples are in flight: the shards release them
  if (accepted < ms.size()) I.shared.release(ms.size() - accepted);  // the refused ones never are
  for (std::size_t s = 0; s < n; ++s) {
    if (!work[s]) continue;
    I.next_seq[s] = seqs[s];
    work[s]->seq = seqs[s];
    I.evaluators->post(s, std::shared_ptr<const std::vector<LogRecord>>(work[s], &work[s]->records));
    caf::anon_send(I.shards[s], WorkPtr(std::move(work[s])));
  }
  I.ingested.fetch_add(accepted);
  I.log_batches.fetch_add(1);
  if (learn != nullptr)
    for (std::size_t i = 0; i < ms.size(); ++i) {
      (*learn)[i].series_id = ids[i];
      (*learn)[i].series_generation = generation;
    }
  res.accepted = accepted;
  return res;
}

bool Engine::sync() {
  auto& I = *impl_;
  if (I.stopped.load()) return false;
  // `ingested` grows after a batch is handed to its shards, so a sync that starts after it flushes
  // that batch. With nothing accepted since the start of the last successful sync there is nothing
  // to flush: queries on a quiet engine skip the round trip to every shard.
  const std::uint64_t accepted = I.ingested.load();
  if (I.synced.load() == accepted) return true;
  auto latch = std::make_shared<Latch>(static_cast<int>(I.shards.size()));
  for (auto& s : I.shards) caf::anon_send(s, sync_atom::value, latch);
  if (!latch->wait()) return false;
  std::uint64_t prev = I.synced.load();
  while (prev < accepted && !I.synced.compare_exchange_weak(prev, accepted)) {
  }
  return true;
}

bool Engine::copy_pending(const std::vector<std::uint64_t>& ids, int res_index, std::int64_t from,
                          std::int64_t to, PendingCopy& out) {
  auto& I = *impl_;
  if (I.stopped.load()) return false;
  const std::size_t n = I.shards.size();
  out.series.assign(ids.size(), {});
  out.generations.assign(n, 0);
  // Nothing in flight and no shard holding unflushed samples: storage has everything accepted.
  bool clean = I.shared.in_flight.load() == 0;
  for (std::size_t s = 0; clean && s < n; ++s) clean = !I.shared.dirty[s].load();
  if (clean) {
    for (std::size_t s = 0; s < n; ++s) out.generations[s] = I.shared.gate->generation(s);
    // A flush after the check writes only samples accepted after it; they may be seen or not.
    return true;
  }
  auto latch = std::make_shared<Latch>(static_cast<int>(n));
  auto req = std::make_shared<PendingRequest>(PendingRequest{&ids, res_index, from, to, &out, latch});
  for (auto& s : I.shards) caf::anon_send(s, pending_atom::value, req);
  return latch->wait();
}

bool Engine::read_with(const PendingCopy& copy, const std::function<void()>& read) {
  auto& gate = *impl_->shared.gate;
  gate.lock_shared();
  bool same = copy.generations.size() == gate.shards();
  for (std::size_t s = 0; same && s < gate.shards(); ++s) same = gate.generation(s) == copy.generations[s];
  if (same) {
    try {
      read();
    } catch (...) {
      gate.unlock_shared();
      throw;
    }
  }
  gate.unlock_shared();
  return same;
}

void Engine::shutdown() {
  auto& I = *impl_;
  if (!I.system || I.stopped.exchange(true)) return;
  {
    std::lock_guard lock(I.shared.gate_mu);
    I.shared.gate_cv.notify_all();
  }
  {
    // Flush everything accepted, then stop the shards.
    std::lock_guard lock(I.log_mu);
    auto latch = std::make_shared<Latch>(static_cast<int>(I.shards.size()));
    for (auto& s : I.shards) caf::anon_send(s, sync_atom::value, latch);
    latch->wait();
    for (auto& s : I.shards) caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  }
  I.shards.clear();
  I.evaluators.reset();
  I.system.reset();
  {
    std::lock_guard lock(I.maint_mu);
    I.maint_cv.notify_all();
  }
  if (I.maintenance.joinable()) I.maintenance.join();
  if (Status st = I.storage->flush(); !st.ok()) spdlog::error("flush at shutdown failed: {} (the ingest log replays it)", st.to_string());
  else spdlog::info("engine stopped: state flushed");
}

Storage& Engine::storage() { return *impl_->storage; }
Catalog& Engine::catalog() { return *impl_->catalog; }
SeriesIndex& Engine::series() { return *impl_->series; }
AlertHub& Engine::alerts() { return *impl_->alerts; }
QueryGovernor& Engine::queries() { return *impl_->queries; }
int Engine::shard_count() const { return static_cast<int>(impl_->shards.size()); }

void Engine::set_apply_listener(std::shared_ptr<ApplyListener> listener) {
  Shared& sh = impl_->shared;
  std::lock_guard lock(sh.listener_mu);
  sh.has_listener.store(listener != nullptr, std::memory_order_relaxed);
  sh.listener = std::move(listener);
}
std::size_t Engine::queue_depth() const { return impl_->shared.in_flight.load(); }

std::string Engine::metrics_text() {
  auto& I = *impl_;
  std::string out;
  auto line = [&](const char* name, const char* type, const char* help, std::uint64_t v) {
    prom::metric(out, name, type, help, v);
  };
  line("vigil_ingested_samples_total", "counter", "Samples accepted (durable in the ingest log).",
       I.ingested.load());
  line("vigil_applied_samples_total", "counter", "Samples applied by shard actors.",
       I.shared.applied_samples.load());
  line("vigil_ingest_log_batches_total", "counter", "Accepted batches written to the ingest log.",
       I.log_batches.load());
  line("vigil_shard_queue_samples", "gauge", "Samples accepted but not yet applied by shards.",
       I.shared.in_flight.load());
  line("vigil_backpressure_waits_total", "counter", "Ingest calls that waited for shards to catch up.",
       I.backpressure_waits.load());
  line("vigil_backpressure_refusals_total", "counter",
       "Ingest calls refused (nothing stored) because the shards did not catch up within engine.ingest_wait_ms.",
       I.busy_refusals.load());
  line("vigil_shard_flushes_total", "counter", "Shard flushes to storage.", I.shared.flushes.load());
  line("vigil_shard_flush_errors_total", "counter", "Failed shard flushes (retried).",
       I.shared.flush_errors.load());
  line("vigil_idle_memtable_flushes_total", "counter", "Memtable flushes after ingest went quiet.",
       I.idle_flushes.load());
  line("vigil_idle_compactions_total", "counter",
       "Column families (rollups, raw samples, ingest log) whose level-0 files were compacted after ingest went quiet.",
       I.idle_compactions.load());
  line("vigil_series", "gauge", "Known series.", I.series->size());
  line("vigil_metrics", "gauge", "Known metrics.", I.catalog->size());
  line("vigil_shards", "gauge", "Shard actors.", I.shards.size());
  prom::head(out, "vigil_series_refused_total", "counter",
             "Measurements refused because their new series was beyond limits.max_series (global) or "
             "limits.max_series_per_metric (per_metric).");
  for (std::size_t i = 0; i < kSeriesLimitCount; ++i)
    prom::sample(out, "vigil_series_refused_total", "limit", to_string(static_cast<SeriesLimit>(i)),
                 I.series_refused[i].load(std::memory_order_relaxed));
  if (HeapStats h; heap_stats(h)) {
    line("vigil_heap_allocated_bytes", "gauge", "Bytes of the heap in use (jemalloc's stats.allocated).",
         h.allocated);
    line("vigil_heap_active_bytes", "gauge", "Bytes in the heap's active pages (stats.active).", h.active);
    line("vigil_heap_resident_bytes", "gauge",
         "Bytes of the heap physically resident, free pages not yet returned included (stats.resident).",
         h.resident);
    line("vigil_heap_retained_bytes", "gauge",
         "Bytes of virtual memory the heap keeps without physical pages (stats.retained).", h.retained);
  }
  I.queries->metrics_text(out);
  out += I.storage->stats_text();
  return out;
}

}  // namespace vigil::actors
