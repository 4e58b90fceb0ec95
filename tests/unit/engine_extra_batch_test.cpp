// Engine::ingest commits `extra` writes (e.g. consumed Kafka offsets) in the same batch as the
// samples, and still writes them when there are no samples (a batch of bad messages only).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "actors/engine.hpp"

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

}  // namespace
}  // namespace vigil::actors
