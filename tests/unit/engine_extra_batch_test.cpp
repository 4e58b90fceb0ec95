// Engine::ingest commits `extra` writes (e.g. consumed Kafka offsets) in the same batch as the
// samples, and still writes them when there are no samples (a batch of bad messages only).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "actors/engine.hpp"
#include "engine/store_reader.hpp"

namespace vigil::actors {
namespace {

namespace fs = std::filesystem;

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
    ASSERT_TRUE(e->storage().get(Cf::meta, "koff/g/t/0", v));
    EXPECT_EQ(v, "17");
    ASSERT_TRUE(e->storage().get(Cf::meta, "koff/g/t/1", v));
    EXPECT_EQ(v, "5");
    EXPECT_EQ(e->series().size(), 1u);
  }
  fs::remove_all(dir);
}

TEST(EngineSync, flushes_what_was_accepted_since_the_last_sync_and_skips_when_nothing_was) {
  fs::path dir = fs::temp_directory_path() / ("vigil_sync_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  EngineOptions o;
  o.data_dir = dir.string();
  o.shards = 2;
  o.flush_interval_ms = 600'000;  // no timed flushes: only sync() writes the shards' state
  o.idle_flush_ms = 0;
  std::string err;
  auto e = Engine::open(o, err);
  ASSERT_TRUE(e) << err;
  auto count_at = [&](std::int64_t t) {
    StoreReader r(e->storage(), e->series());
    double n = 0;
    for (const auto& ref : r.series_of("cpu"))
      r.read_rollup(ref.id, 60, t, t, [&](std::int64_t, const Agg& a) { n += a.count; });
    return n;
  };
  EXPECT_TRUE(e->sync()) << "nothing accepted yet";
  for (int round = 0; round < 3; ++round) {
    std::vector<Measurement> ms;
    for (int h = 0; h < 10; ++h) {
      Measurement m;
      m.name = "cpu";
      m.tags = {{"host", "h" + std::to_string(h)}};
      m.time = 1700000040 + round * 60;
      m.agg = Agg::of_value(1, m.time);
      ms.push_back(m);
    }
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

}  // namespace
}  // namespace vigil::actors
