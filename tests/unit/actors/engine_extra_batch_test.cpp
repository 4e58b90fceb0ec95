// Engine::ingest commits `extra` writes (e.g. consumed Kafka offsets) in the same batch as the
// samples, and still writes them when there are no samples (a batch of bad messages only).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "actors/engine.hpp"
#include "engine/storage/store_reader.hpp"
#include "tests/support/rollup_count.hpp"

namespace vigil::actors {
namespace {

namespace fs = std::filesystem;

// A data directory of this test process, emptied.
fs::path fresh_dir(const char* name) {
  fs::path dir = fs::temp_directory_path() / (std::string(name) + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

// A sample of value 1 for series `name` host=`host`.
Measurement sample(const char* name, const std::string& host, std::int64_t t) {
  Measurement m;
  m.name = name;
  m.tags = {{"host", host}};
  m.time = t;
  m.agg = Agg::of_value(1, t);
  return m;
}

using vigil::test::rollup_count;

TEST(EngineExtraBatch, offsets_are_written_with_and_without_samples) {
  fs::path dir = fs::temp_directory_path() / ("vigil_extra_batch_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  {
    EngineOptions o;
    o.data_dir = dir.string();
    o.shards = 2;
    std::string err;
    auto e = Engine::open(o, err);
    ASSERT_TRUE(e) << err;
    EXPECT_EQ(e->queue_depth(), 0u);

    Measurement m;
    m.name = "cpu";
    m.tags = {{"host", "a"}};
    m.time = 1700000000;
    m.agg = Agg::of_value(2.5, m.time);
    Storage::Batch extra;
    extra.put(Cf::meta, "koff/g/t/0", "17");
    auto r = e->ingest({m}, m.time, &extra);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.accepted, 1u);

    Storage::Batch only;
    only.put(Cf::meta, "koff/g/t/1", "5");
    r = e->ingest({}, m.time, &only);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.accepted, 0u);
    ASSERT_TRUE(e->sync());
    EXPECT_EQ(e->queue_depth(), 0u);
    e->shutdown();
  }
  {
    EngineOptions o;
    o.data_dir = dir.string();
    o.shards = 2;
    std::string err;
    auto e = Engine::open(o, err);
    ASSERT_TRUE(e) << err;
    std::string v;
    ASSERT_TRUE(e->storage().get(Cf::meta, "koff/g/t/0", v).ok());
    EXPECT_EQ(v, "17");
    ASSERT_TRUE(e->storage().get(Cf::meta, "koff/g/t/1", v).ok());
    EXPECT_EQ(v, "5");
    EXPECT_EQ(e->series().size(), 1u);
  }
  fs::remove_all(dir);
}

TEST(EngineSync, flushes_what_was_accepted_since_the_last_sync_and_skips_when_nothing_was) {
  fs::path dir = fresh_dir("vigil_sync");
  EngineOptions o;
  o.data_dir = dir.string();
  o.shards = 2;
  o.flush_interval_ms = 600'000;  // no timed flushes: only sync() writes the shards' state
  o.idle_flush_ms = 0;
  std::string err;
  auto e = Engine::open(o, err);
  ASSERT_TRUE(e) << err;
  auto count_at = [&](std::int64_t t) { return rollup_count(*e, "cpu", t, t); };
  EXPECT_TRUE(e->sync()) << "nothing accepted yet";
  for (int round = 0; round < 3; ++round) {
    std::vector<Measurement> ms;
    for (int h = 0; h < 10; ++h) ms.push_back(sample("cpu", "h" + std::to_string(h), 1700000040 + round * 60));
    ASSERT_TRUE(e->ingest(ms, ms[0].time).ok);
    ASSERT_TRUE(e->sync());
    EXPECT_EQ(count_at(1700000040 / 60 * 60 + round * 60), 10) << "round " << round;
    ASSERT_TRUE(e->sync()) << "a second sync with nothing new";
    EXPECT_EQ(count_at(1700000040 / 60 * 60 + round * 60), 10);
  }
  e->shutdown();
  e.reset();
  fs::remove_all(dir);
}


// A /metrics value by its full name (labels included); -1 when absent.
double metric(Engine& e, const std::string& name) {
  const std::string text = e.metrics_text();
  const std::string key = "\n" + name + " ";
  auto at = text.find(key);
  if (at == std::string::npos) return -1;
  return std::strtod(text.c_str() + at + key.size(), nullptr);
}

TEST(EngineIdle, maintenance_compacts_away_log_entries_that_reached_level0_and_keeps_the_samples) {
  fs::path dir = fs::temp_directory_path() / ("vigil_idle_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  EngineOptions o;
  o.data_dir = dir.string();
  o.shards = 2;
  o.flush_interval_ms = 300;
  o.idle_flush_ms = 100;
  std::string err;
  auto e = Engine::open(o, err);
  ASSERT_TRUE(e) << err;
  std::vector<Measurement> ms;
  for (int h = 0; h < 500; ++h) {
    Measurement m;
    m.name = "cpu";
    m.tags = {{"host", "h" + std::to_string(h)}};
    m.time = 1700000040;
    m.agg = Agg::of_value(h, m.time);
    ms.push_back(m);
  }
  ASSERT_TRUE(e->ingest(ms, ms[0].time).ok);
  // The memtables go to level 0 before the shards' timed flush deletes the log entries.
  ASSERT_TRUE(e->storage().flush().ok());
  const std::string log_bytes = "vigil_rocksdb_sst_bytes{cf=\"log\"}";
  EXPECT_GT(metric(*e, log_bytes), 0) << "the log entries are in a level-0 file";
  // After the shard flush and the quiet period: compacted away with their tombstones.
  bool done = false;
  for (int i = 0; i < 100 && !done; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    done = metric(*e, "vigil_idle_compactions_total") >= 1 && metric(*e, log_bytes) == 0;
  }
  EXPECT_TRUE(done) << "log family SST bytes " << metric(*e, log_bytes) << ", idle compactions "
                    << metric(*e, "vigil_idle_compactions_total");
  {
    StoreReader r(e->storage(), e->series());  // closed (its cursors with it) before the engine
    double n = 0, sum = 0;
    for (const auto& ref : r.series_of("cpu"))
      r.read_raw(ref.id, 1700000000, 1700000100, [&](std::int64_t, const Agg& a) {
        n += a.count;
        sum += a.sum;
      });
    EXPECT_EQ(n, 500);
    EXPECT_EQ(sum, 499 * 500 / 2);
  }
  e->shutdown();
  e.reset();
  fs::remove_all(dir);
}

// ingest_learning gives every measurement its series id; a measurement that names its series by
// that id (and has no tags) lands in the same series; once the series index has removed series,
// an id learned before fails the batch as stale, and nothing of it is stored.
TEST(EngineLearning, learned_series_ids_are_used_until_series_are_removed) {
  fs::path dir = fresh_dir("vigil_learning");
  EngineOptions o;
  o.data_dir = dir.string();
  o.shards = 2;
  std::string err;
  auto e = Engine::open(o, err);
  ASSERT_TRUE(e) << err;
  auto count = [&](std::string_view metric) { return rollup_count(*e, metric, 1699999800, 1700001000); };
  std::vector<Measurement> ms = {sample("cpu", "a", 1700000000), sample("cpu", "b", 1700000000),
                                 sample("mem", "a", 1700000000)};
  ASSERT_TRUE(e->ingest_learning(ms, 1700000000).ok);
  const std::uint64_t gen = e->series_generation();
  for (const auto& m : ms) {
    EXPECT_NE(m.series_id, 0u);
    EXPECT_EQ(m.series_generation, gen);
  }
  EXPECT_NE(ms[0].series_id, ms[1].series_id);

  // By id, without tags, mixed with a measurement found by its tags.
  Measurement known = sample("cpu", "a", 1700000060);
  known.tags.clear();
  known.series_id = ms[0].series_id;
  known.series_generation = gen;
  std::vector<Measurement> next = {known, sample("cpu", "c", 1700000060)};
  auto r = e->ingest_learning(next, 1700000060);
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(next[0].series_id, ms[0].series_id);
  EXPECT_NE(next[1].series_id, 0u);
  ASSERT_TRUE(e->sync());
  EXPECT_EQ(e->series().size(), 4u) << "no series was made of the measurement without tags";
  EXPECT_EQ(count("cpu"), 4);

  // Removing mem's series moves the generation: cpu's learned id is refused as stale.
  Storage::Batch batch;
  std::size_t removed = 0;
  ASSERT_TRUE(e->series().remove_metric("mem", batch, removed, err)) << err;
  EXPECT_EQ(removed, 1u);
  EXPECT_GT(e->series_generation(), gen);
  known.time = 1700000120;
  std::vector<Measurement> stale = {sample("cpu", "b", 1700000120), known};
  r = e->ingest_learning(stale, 1700000120);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(r.stale_series);
  ASSERT_TRUE(e->sync());
  EXPECT_EQ(count("cpu"), 4) << "nothing of the stale batch was stored";
  e->shutdown();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vigil::actors
