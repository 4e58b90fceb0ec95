#include "actors/pending_reader.hpp"

#include <limits>

#include "engine/storage/store_reader.hpp"

namespace vigil::actors {

namespace {

constexpr int kAttempts = 4;

int resolution_index(std::int64_t res) {
  for (int i = 0; i < kResolutionCount; ++i)
    if (kResolutions[i] == res) return i;
  return -1;
}

bool any_pending(const Engine::PendingCopy& copy) {
  for (const auto& s : copy.series)
    if (!s.empty()) return true;
  return false;
}

using Entries = std::vector<std::pair<std::int64_t, Agg>>;

// One stored entry (t, a) of a series, merged into the stream with the series' pending entries
// `p` from position k: the pending ones before it go first; for rollups a pending bucket at the
// same time is folded into the stored one (as a flush would fold it), for raw samples the stored
// one goes first (it arrived earlier).
template <class Emit>
void merge_one(const Entries& p, std::size_t& k, std::int64_t t, const Agg& a, bool raw, Emit&& emit) {
  while (k < p.size() && p[k].first < t) {
    emit(p[k].first, p[k].second);
    ++k;
  }
  if (!raw && k < p.size() && p[k].first == t) {
    Agg m = a;
    m.merge(p[k].second);
    ++k;
    emit(t, m);
  } else {
    emit(t, a);
  }
}

// Storage buckets of `ids` merged with the pending ones (a bucket in both: storage's merged with
// the pending part, in the order a flush would fold them).
// `pending[i]`: the pending entries of ids[i].
void merged_rollups(StoreReader& store, const std::vector<std::uint64_t>& ids, std::int64_t res, std::int64_t from,
                    std::int64_t to, const std::vector<const Entries*>& pending,
                    const std::function<void(std::size_t, std::int64_t, const Agg&)>& fn, unsigned fields) {
  constexpr std::size_t kNone = std::numeric_limits<std::size_t>::max();
  std::vector<bool> seen(ids.size(), false);
  std::size_t cur = kNone, k = 0;
  auto rest = [&](std::size_t i, std::size_t from_k) {
    const Entries& p = *pending[i];
    for (std::size_t j = from_k; j < p.size(); ++j) fn(i, p[j].first, p[j].second);
  };
  store.read_rollups(ids, res, from, to, [&](std::size_t i, std::int64_t t, const Agg& a) {
    if (i != cur) {
      if (cur != kNone) rest(cur, k);
      cur = i;
      k = 0;
      seen[i] = true;
    }
    merge_one(*pending[i], k, t, a, false, [&](std::int64_t bt, const Agg& b) { fn(i, bt, b); });
  }, fields);
  if (cur != kNone) rest(cur, k);
  for (std::size_t i = 0; i < ids.size(); ++i)
    if (!seen[i]) rest(i, 0);
}

}  // namespace

StoreReader PendingReader::synced_store() {
  // Flushes kept coming between the copy and the read (or the engine is stopping): flush, then
  // read storage alone.
  engine_.sync();
  return StoreReader(engine_.storage(), engine_.series());
}

std::vector<SeriesRef> PendingReader::series_of(std::string_view metric_key) {
  StoreReader store(engine_.storage(), engine_.series());
  auto refs = store.series_of(metric_key);
  known_.clear();
  for (const auto& r : refs) known_.push_back(r.id);
  prefetch_.valid = false;
  return refs;
}

std::vector<SeriesRef> PendingReader::series_matching(std::string_view metric_key, const TagFilter& filter) {
  StoreReader store(engine_.storage(), engine_.series());
  auto refs = store.series_matching(metric_key, filter);
  known_.clear();
  for (const auto& r : refs) known_.push_back(r.id);
  prefetch_.valid = false;
  return refs;
}

void PendingReader::read_rollups(const std::vector<std::uint64_t>& ids, std::int64_t res, std::int64_t from,
                                 std::int64_t to, const std::function<void(std::size_t, std::int64_t, const Agg&)>& fn,
                                 unsigned fields) {
  const int ri = resolution_index(res);
  check_deadline();
  for (int attempt = 0; ri >= 0 && attempt < kAttempts; ++attempt) {
    Engine::PendingCopy copy;
    if (!engine_.copy_pending(ids, ri, from, to, copy)) break;
    check_deadline();
    const bool any = any_pending(copy);
    if (engine_.read_with(copy, [&] {
          StoreReader store(engine_.storage(), engine_.series());
          if (any) {
            std::vector<const Entries*> pending;
            for (const auto& e : copy.series) pending.push_back(&e);
            merged_rollups(store, ids, res, from, to, pending, fn, fields);
          } else {
            store.read_rollups(ids, res, from, to, fn, fields);
          }
          report(store.status());
        }))
      return;
  }
  StoreReader store = synced_store();
  store.read_rollups(ids, res, from, to, fn, fields);
  report(store.status());
}

void PendingReader::read_rollup_runs(const std::vector<std::uint64_t>& ids, std::int64_t res, std::int64_t from,
                                     std::int64_t to, const std::function<void(std::size_t, const RollupRun&)>& fn,
                                     unsigned fields) {
  const int ri = resolution_index(res);
  check_deadline();
  for (int attempt = 0; ri >= 0 && attempt < kAttempts; ++attempt) {
    Engine::PendingCopy copy;
    if (!engine_.copy_pending(ids, ri, from, to, copy)) break;
    check_deadline();
    if (engine_.read_with(copy, [&] {
          StoreReader store(engine_.storage(), engine_.series());
          if (!any_pending(copy)) {
            store.read_rollup_runs(ids, res, from, to, fn, fields);
            report(store.status());
            return;
          }
          // Series without pending buckets as stored runs; the others bucket by bucket, merged.
          std::vector<std::uint64_t> plain, mixed;
          std::vector<std::size_t> plain_at, mixed_at;
          std::vector<const Entries*> mixed_pending;
          for (std::size_t i = 0; i < ids.size(); ++i) {
            if (copy.series[i].empty()) {
              plain.push_back(ids[i]);
              plain_at.push_back(i);
            } else {
              mixed.push_back(ids[i]);
              mixed_at.push_back(i);
              mixed_pending.push_back(&copy.series[i]);
            }
          }
          if (!plain.empty())
            store.read_rollup_runs(plain, res, from, to,
                                   [&](std::size_t j, const RollupRun& run) { fn(plain_at[j], run); }, fields);
          merged_rollups(store, mixed, res, from, to, mixed_pending, [&](std::size_t j, std::int64_t t, const Agg& a) {
            const std::uint16_t zero = 0;
            RollupRun run{1, t, res, &zero, &a.count, &a.sum, &a.min, &a.max, &a.last, &a.sumsq, &a.last_time};
            fn(mixed_at[j], run);
          }, fields);
          report(store.status());
        }))
      return;
  }
  StoreReader store = synced_store();
  store.read_rollup_runs(ids, res, from, to, fn, fields);
  report(store.status());
}

void PendingReader::read_rollup(std::uint64_t id, std::int64_t res, std::int64_t from, std::int64_t to,
                                const std::function<void(std::int64_t, const Agg&)>& fn) {
  const int ri = resolution_index(res);
  if (ri < 0) {
    StoreReader store = synced_store();
    store.read_rollup(id, res, from, to, fn);
    report(store.status());
    return;
  }
  read_one(id, ri, from, to, fn);
}

void PendingReader::read_raw(std::uint64_t id, std::int64_t from, std::int64_t to,
                             const std::function<void(std::int64_t, const Agg&)>& fn) {
  read_one(id, -1, from, to, fn);
}

void PendingReader::read_one(std::uint64_t id, int res_index, std::int64_t from, std::int64_t to,
                             const std::function<void(std::int64_t, const Agg&)>& fn) {
  auto& pf = prefetch_;
  check_deadline();
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (!pf.valid || pf.res_index != res_index || pf.from != from || pf.to != to || !pf.pos.count(id)) {
      // Copy the pending state of every series the query listed (it reads them one by one), or
      // of this one if it was not listed.
      pf.ids = known_;
      pf.pos.clear();
      for (std::size_t i = 0; i < pf.ids.size(); ++i) pf.pos.emplace(pf.ids[i], i);
      if (!pf.pos.count(id)) {
        pf.pos.emplace(id, pf.ids.size());
        pf.ids.push_back(id);
      }
      pf.res_index = res_index;
      pf.from = from;
      pf.to = to;
      pf.valid = engine_.copy_pending(pf.ids, res_index, from, to, pf.copy);
      if (!pf.valid) break;
      check_deadline();
    }
    const Entries& p = pf.copy.series[pf.pos.at(id)];
    const bool done = engine_.read_with(pf.copy, [&] {
      StoreReader store(engine_.storage(), engine_.series());
      std::size_t k = 0;
      auto stored = [&](std::int64_t t, const Agg& a) { merge_one(p, k, t, a, res_index < 0, fn); };
      if (res_index < 0)
        store.read_raw(id, from, to, stored);
      else
        store.read_rollup(id, kResolutions[res_index], from, to, stored);
      for (; k < p.size(); ++k) fn(p[k].first, p[k].second);
      report(store.status());
    });
    if (done) return;
    pf.valid = false;  // a flush came between: copy again
  }
  StoreReader store = synced_store();
  if (res_index < 0)
    store.read_raw(id, from, to, fn);
  else
    store.read_rollup(id, kResolutions[res_index], from, to, fn);
  report(store.status());
}

std::unique_ptr<SeriesReader> PendingReader::clone() {
  auto r = std::make_unique<PendingReader>(engine_, budget_);
  r->known_ = known_;
  return r;
}

}  // namespace vigil::actors
