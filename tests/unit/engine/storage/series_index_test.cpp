// The series index's key table, and the index over a real RocksDB store: ids are stable across
// look-ups, reopen and the removal of another metric.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <list>

#include "engine/encoding/series_key.hpp"
#include "engine/storage/series_index.hpp"
#include "engine/storage/storage.hpp"

using namespace vigil;

TEST(KeyTable, finds_every_key_through_growth_and_colliding_hashes) {
  KeyTable t;
  std::list<std::string> keys;  // stable strings, as the index keeps them
  for (int i = 0; i < 5000; ++i) {
    keys.push_back("m|host=h" + std::to_string(i));
    // Every fourth key shares its hash with the one before: probing must compare keys.
    std::uint64_t h = (i % 4 == 3) ? KeyTable::hash(*std::prev(std::prev(keys.end()))) : KeyTable::hash(keys.back());
    t.insert(h, static_cast<std::uint64_t>(i) + 1, &keys.back());
  }
  EXPECT_EQ(t.size(), 5000u);
  int i = 0;
  for (const auto& k : keys) {
    std::uint64_t h = (i % 4 == 3) ? KeyTable::hash(*std::prev(std::find(keys.begin(), keys.end(), k))) : KeyTable::hash(k);
    std::uint64_t id = 0;
    ASSERT_TRUE(t.find(k, h, id)) << k;
    EXPECT_EQ(id, static_cast<std::uint64_t>(i) + 1);
    ++i;
  }
  std::uint64_t id = 0;
  EXPECT_FALSE(t.find("m|host=none", KeyTable::hash("m|host=none"), id));
  KeyTable empty;
  EXPECT_FALSE(empty.find("x", KeyTable::hash("x"), id));
  t.clear();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_FALSE(t.find(keys.front(), KeyTable::hash(keys.front()), id));
}

TEST(SeriesIndex, ids_survive_reopen_and_the_removal_of_another_metric) {
  auto dir = std::filesystem::temp_directory_path() / ("vigil-index-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::string err;
  auto storage = Storage::open(dir.string(), StorageOptions{}, err);
  ASSERT_TRUE(storage) << err;
  std::vector<std::string> a, b;
  for (int i = 0; i < 300; ++i) {
    a.push_back(enc::series_key("a", {{"host", "h" + std::to_string(i)}}));
    b.push_back(enc::series_key("b", {{"host", "h" + std::to_string(i)}}));
  }
  std::vector<std::uint64_t> ida, idb, again;
  {
    SeriesIndex index(*storage);
    ASSERT_TRUE(index.load().ok());
    ASSERT_TRUE(index.resolve(a, ida, err)) << err;
    ASSERT_TRUE(index.resolve(b, idb, err)) << err;
    EXPECT_EQ(index.size(), 600u);
    ASSERT_TRUE(index.resolve(a, again, err));
    EXPECT_EQ(again, ida) << "known keys keep their ids";
    Storage::Batch batch;
    std::size_t removed = 0;
    ASSERT_TRUE(index.remove_metric("b", batch, removed, err)) << err;
    EXPECT_EQ(removed, 300u);
    EXPECT_EQ(index.size(), 300u);
    ASSERT_TRUE(index.resolve(a, again, err));
    EXPECT_EQ(again, ida) << "the table rebuilt after a removal still finds the other metric";
    EXPECT_EQ(index.key_of(ida[7]), a[7]);
    ASSERT_TRUE(index.resolve(b, again, err));
    for (std::size_t i = 0; i < again.size(); ++i) EXPECT_GT(again[i], idb.back()) << "removed ids are not reused";
  }
  SeriesIndex reopened(*storage);
  ASSERT_TRUE(reopened.load().ok());
  ASSERT_TRUE(reopened.resolve(a, again, err));
  EXPECT_EQ(again, ida);
  EXPECT_EQ(reopened.size(), 600u);
  storage.reset();
  std::filesystem::remove_all(dir);
}
