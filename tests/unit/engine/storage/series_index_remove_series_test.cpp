// SeriesIndex::remove_series over a real RocksDB store: one series goes, its metric's other
// series stay findable (by id, key and tag postings), the id is not reused, and the removal
// survives reopening.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "engine/encoding/series_key.hpp"
#include "engine/storage/series_index.hpp"
#include "engine/storage/storage.hpp"

using namespace vigil;

namespace {

std::vector<std::uint64_t> visit_ids(const SeriesIndex& index, const std::string& metric, const TagFilter& f) {
  std::vector<std::uint64_t> out;
  index.visit(metric, f, [&](const SeriesEntry& e) { out.push_back(e.id); });
  return out;
}

}  // namespace

TEST(SeriesIndex, remove_series_removes_one_series_and_keeps_the_others) {
  auto dir = std::filesystem::temp_directory_path() / ("vigil-remove-series-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::string err;
  auto storage = Storage::open(dir.string(), StorageOptions{}, err);
  ASSERT_TRUE(storage) << err;
  std::vector<std::string> keys = {enc::series_key("m", {{"host", "a"}}), enc::series_key("m", {{"host", "b"}}),
                                   enc::series_key("m", {{"host", "c"}}), enc::series_key("n", {{"host", "b"}})};
  std::vector<std::uint64_t> ids, again;
  {
    SeriesIndex index(*storage);
    ASSERT_TRUE(index.load().ok());
    ASSERT_TRUE(index.resolve(keys, ids, err)) << err;
    const auto gen = index.generation();
    Storage::Batch batch;
    bool removed = false;
    ASSERT_TRUE(index.remove_series(ids[1], batch, removed, err)) << err;
    EXPECT_TRUE(removed);
    EXPECT_GT(index.generation(), gen) << "a removal moves the generation";
    EXPECT_EQ(index.size(), 3u);
    EXPECT_EQ(index.key_of(ids[1]), "");
    auto left = index.series_of("m");
    ASSERT_EQ(left.size(), 2u);
    EXPECT_EQ(left[0].id, ids[0]);
    EXPECT_EQ(left[1].id, ids[2]);
    TagFilter b, c;
    b.add("host", "b");
    c.add("host", "c");
    EXPECT_TRUE(visit_ids(index, "m", b).empty()) << "the postings no longer hold the removed series";
    EXPECT_EQ(visit_ids(index, "m", c), std::vector<std::uint64_t>{ids[2]}) << "postings rebuilt for the others";
    EXPECT_EQ(visit_ids(index, "n", b), std::vector<std::uint64_t>{ids[3]}) << "another metric's series stays";
    Storage::Batch none;
    ASSERT_TRUE(index.remove_series(ids[1], none, removed, err)) << err;
    EXPECT_FALSE(removed) << "an unknown id removes nothing";
    ASSERT_TRUE(index.resolve(keys, again, err)) << err;
    EXPECT_EQ(again[0], ids[0]);
    EXPECT_EQ(again[2], ids[2]);
    EXPECT_GT(again[1], ids[3]) << "the key comes back under a new id";
    // The last series of a metric: the metric has no series left.
    Storage::Batch last;
    ASSERT_TRUE(index.remove_series(ids[3], last, removed, err)) << err;
    EXPECT_TRUE(removed);
    EXPECT_TRUE(index.series_of("n").empty());
  }
  SeriesIndex reopened(*storage);
  ASSERT_TRUE(reopened.load().ok());
  EXPECT_EQ(reopened.size(), 3u);
  EXPECT_EQ(reopened.key_of(ids[1]), "");
  EXPECT_EQ(reopened.key_of(again[1]), keys[1]);
  EXPECT_TRUE(reopened.series_of("n").empty());
  storage.reset();
  std::filesystem::remove_all(dir);
}
