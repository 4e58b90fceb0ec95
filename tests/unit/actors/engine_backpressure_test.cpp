// Engine::ingest's backpressure: a batch is admitted only while the backlog (samples accepted and
// not yet applied) is below EngineOptions::max_in_flight. ingest() waits at most ingest_wait_ms
// and then fails with `busy`, storing nothing; ingest_learning() (Kafka) waits until admitted.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "actors/engine.hpp"
#include "engine/storage/store_reader.hpp"
#include "tests/support/rollup_count.hpp"

namespace vigil::actors {
namespace {

namespace fs = std::filesystem;

Measurement sample(const char* name, std::int64_t t, double v) {
  Measurement m;
  m.name = name;
  m.tags = {{"host", "a"}};
  m.time = t;
  m.agg = Agg::of_value(v, t);
  return m;
}

using vigil::test::rollup_count;

TEST(EngineBackpressure, a_write_beyond_the_bound_is_refused_after_the_wait_and_stores_nothing) {
  fs::path dir = fs::temp_directory_path() / ("vigil_backpressure_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  EngineOptions o;
  o.data_dir = dir.string();
  o.shards = 1;
  o.max_in_flight = 2;
  o.ingest_wait_ms = 50;
  o.apply_delay_us = 1'000'000;  // the shard sleeps 1 s before applying each batch
  std::string err;
  auto e = Engine::open(o, err);
  ASSERT_TRUE(e) << err;
  const std::int64_t t = 1'699'999'980;  // on a minute boundary: each sample in its own 60 s bucket

  auto first = e->ingest({sample("bp.a", t, 1), sample("bp.a", t + 60, 2)}, t);
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(e->queue_depth(), 2u);

  auto start = std::chrono::steady_clock::now();
  auto refused = e->ingest({sample("bp.b", t, 3)}, t);
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(refused.ok);
  EXPECT_TRUE(refused.busy);
  EXPECT_EQ(refused.accepted, 0u);
  EXPECT_NE(refused.error.find("engine.max_unapplied_samples"), std::string::npos) << refused.error;
  EXPECT_GE(waited, std::chrono::milliseconds(50));
  EXPECT_EQ(e->queue_depth(), 2u) << "the refused batch holds no room in the backlog";
  // Nothing of the refused batch exists: not its metric either.
  EXPECT_FALSE(e->catalog().get("bp.b").has_value());

  // The Kafka path waits for the shard instead, and is admitted once it caught up.
  std::vector<Measurement> learn = {sample("bp.c", t, 4)};
  auto waited_in = e->ingest_learning(learn, t);
  ASSERT_TRUE(waited_in.ok) << waited_in.error;
  EXPECT_EQ(waited_in.accepted, 1u);

  ASSERT_TRUE(e->sync());
  EXPECT_EQ(rollup_count(*e, "bp.a", t, t + 60), 2);
  EXPECT_EQ(rollup_count(*e, "bp.b", t, t + 60), 0);
  EXPECT_EQ(rollup_count(*e, "bp.c", t, t + 60), 1);
  EXPECT_NE(e->metrics_text().find("vigil_backpressure_refusals_total 1\n"), std::string::npos);
  e->shutdown();
  e.reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace vigil::actors
