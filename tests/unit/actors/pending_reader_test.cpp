// PendingReader: queries see the shards' unflushed samples merged with storage, each sample once,
// without making the shards flush, also while flushes happen beside them.
#include "actors/pending_reader.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>

#include "engine/meta/catalog.hpp"
#include "engine/storage/store_reader.hpp"

namespace vigil::actors {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kT0 = 1700000040;  // a minute boundary

Measurement sample(const std::string& host, std::int64_t t, double v) {
  Measurement m;
  m.name = "cpu";
  m.tags = {{"host", host}};
  m.time = t;
  m.agg = Agg::of_value(v, t);
  return m;
}

struct TempEngine {
  fs::path dir;
  std::unique_ptr<Engine> e;
  explicit TempEngine(const std::string& name, int flush_interval_ms) {
    dir = fs::temp_directory_path() / ("vigil_pending_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    EngineOptions o;
    o.data_dir = dir.string();
    o.shards = 2;
    o.flush_interval_ms = flush_interval_ms;
    o.idle_flush_ms = 0;
    std::string err;
    e = Engine::open(o, err);
    EXPECT_TRUE(e) << err;
  }
  ~TempEngine() {
    e.reset();
    fs::remove_all(dir);
  }
};

// host -> bucket -> (count, sum), through read_rollups.
std::map<std::string, std::map<std::int64_t, std::pair<double, double>>> rollups(SeriesReader& r, std::int64_t res) {
  auto refs = r.series_of(metric_key("cpu"));
  std::vector<std::uint64_t> ids;
  for (const auto& s : refs) ids.push_back(s.id);
  std::map<std::string, std::map<std::int64_t, std::pair<double, double>>> out;
  r.read_rollups(ids, res, 0, kT0 + 86400, [&](std::size_t i, std::int64_t t, const Agg& a) {
    auto& cell = out[refs[i].tags.at(0).second][t];
    cell.first += a.count;
    cell.second += a.sum;
  });
  return out;
}

// The number of samples of all series of the metric, through the stored-runs path.
double run_count(SeriesReader& r, std::int64_t res) {
  auto refs = r.series_of(metric_key("cpu"));
  std::vector<std::uint64_t> ids;
  for (const auto& s : refs) ids.push_back(s.id);
  double n = 0;
  r.read_rollup_runs(ids, res, 0, kT0 + 86400, [&](std::size_t, const RollupRun& run) {
    for (std::size_t i = 0; i < run.n; ++i) n += run.count[i];
  });
  return n;
}

TEST(PendingReader, sees_unflushed_samples_and_merges_them_with_stored_ones_once) {
  TempEngine t("merge", 600'000);  // no timed flushes: only sync() writes
  auto& e = *t.e;
  ASSERT_TRUE(e.ingest({sample("a", kT0, 1), sample("a", kT0 + 10, 2), sample("a", kT0 + 70, 4), sample("b", kT0, 8)},
                       kT0).ok);

  StoreReader store(e.storage(), e.series());
  EXPECT_TRUE(rollups(store, 60).empty()) << "nothing may have been flushed yet";
  PendingReader pr(e);
  auto before = rollups(pr, 60);
  EXPECT_EQ(before["a"][kT0], std::make_pair(2.0, 3.0));
  EXPECT_EQ(before["a"][kT0 + 60], std::make_pair(1.0, 4.0));
  EXPECT_EQ(before["b"][kT0], std::make_pair(1.0, 8.0));
  EXPECT_EQ(before.size(), 2u);

  // Flushed, then more samples: in the same buckets, a new one, and a late one for a closed bucket.
  ASSERT_TRUE(e.sync());
  ASSERT_TRUE(e.ingest({sample("a", kT0 + 20, 16), sample("a", kT0 + 200, 32), sample("a", kT0 + 5, 64)}, kT0).ok);
  PendingReader pr2(e);
  auto mixed = rollups(pr2, 60);
  EXPECT_EQ(mixed["a"][kT0], std::make_pair(4.0, 83.0));
  EXPECT_EQ(mixed["a"][kT0 + 60], std::make_pair(1.0, 4.0));
  EXPECT_EQ(mixed["a"][kT0 + 180], std::make_pair(1.0, 32.0));
  EXPECT_EQ(mixed["b"][kT0], std::make_pair(1.0, 8.0));
  for (std::int64_t res : {900, 3600, 86400}) {
    auto coarse = rollups(pr2, res);
    double n = 0, sum = 0;
    for (const auto& [t, cell] : coarse["a"]) n += cell.first, sum += cell.second;
    EXPECT_EQ(n, 6.0) << res;
    EXPECT_EQ(sum, 119.0) << res;
  }

  // Runs (the grouped path) and raw samples: the same figures; raw in time order, stored first.
  EXPECT_EQ(run_count(pr2, 60), 7.0);
  auto refs = pr2.series_of(metric_key("cpu"));
  const std::uint64_t a = refs[0].tags.at(0).second == "a" ? refs[0].id : refs[1].id;
  std::vector<std::pair<std::int64_t, double>> raw;
  pr2.read_raw(a, 0, kT0 + 86400, [&](std::int64_t ts, const Agg& x) { raw.emplace_back(ts, x.sum); });
  EXPECT_EQ(raw, (std::vector<std::pair<std::int64_t, double>>{
                     {kT0, 1}, {kT0 + 5, 64}, {kT0 + 10, 2}, {kT0 + 20, 16}, {kT0 + 70, 4}, {kT0 + 200, 32}}));
  double one = 0;
  pr2.read_rollup(a, 60, kT0, kT0, [&](std::int64_t, const Agg& x) { one += x.count; });
  EXPECT_EQ(one, 4.0);

  // After a flush, storage alone gives what the pending reader gave.
  ASSERT_TRUE(e.sync());
  StoreReader after(e.storage(), e.series());
  EXPECT_EQ(rollups(after, 60), mixed);
}

// Flushes every few milliseconds beside the queries: a query counts every sample accepted before
// it started and none twice (never more than was submitted when it ended: a batch being ingested
// may already be applied by a shard before its ingest call returns).
TEST(PendingReader, counts_each_sample_once_while_shards_flush) {
  TempEngine t("race", 2);
  auto& e = *t.e;
  std::atomic<double> accepted{0};
  std::atomic<double> submitted{0};
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    std::int64_t ts = kT0;
    for (int b = 0; b < 400 && !stop.load(); ++b) {
      std::vector<Measurement> batch;
      for (int h = 0; h < 50; ++h) batch.push_back(sample("h" + std::to_string(h), ts, 1));
      ++ts;
      submitted.store(submitted.load() + static_cast<double>(batch.size()));
      auto r = e.ingest(batch, kT0);
      ASSERT_TRUE(r.ok) << r.error;
      accepted.store(accepted.load() + static_cast<double>(r.accepted));
    }
  });
  int queries = 0;
  while (accepted.load() < 20'000 && queries < 100'000) {
    const double lo = accepted.load();
    PendingReader pr(e);
    const double n = run_count(pr, 86400);
    const double hi = submitted.load();
    ASSERT_GE(n, lo) << "query " << queries;
    ASSERT_LE(n, hi) << "query " << queries;
    ++queries;
  }
  stop.store(true);
  writer.join();
  EXPECT_GT(queries, 10);
  PendingReader pr(e);
  auto all = rollups(pr, 3600);
  double n = 0;
  for (const auto& [host, buckets] : all)
    for (const auto& [b, cell] : buckets) n += cell.first;
  EXPECT_EQ(n, accepted.load());
}

}  // namespace
}  // namespace vigil::actors
