// Bounds on growth in the series index over a real RocksDB store: the global and per-metric
// limits refuse new series only (known ones resolve), whole calls create nothing, partial ones
// create what fits, and the counts come from the index, so the limits hold after a reopen.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "engine/encoding/series_key.hpp"
#include "engine/storage/series_index.hpp"
#include "engine/storage/storage.hpp"

using namespace vigil;

namespace {

std::vector<std::string> keys_of(const std::string& metric, int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back(enc::series_key(metric, {{"host", "h" + std::to_string(i)}}));
  return out;
}

std::vector<std::string_view> views(const std::vector<std::string>& keys) {
  return std::vector<std::string_view>(keys.begin(), keys.end());
}

}  // namespace

TEST(SeriesIndexLimits, refuse_new_series_beyond_the_limits_and_hold_across_a_reopen) {
  auto dir = std::filesystem::temp_directory_path() / ("vigil-index-limits-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::string err;
  auto storage = Storage::open(dir.string(), StorageOptions{}, err);
  ASSERT_TRUE(storage) << err;
  auto a = keys_of("a", 0, 3), b = keys_of("b", 0, 2);
  std::vector<std::uint64_t> ids, again;
  {
    SeriesIndex index(*storage);
    ASSERT_TRUE(index.load().ok());
    index.set_limits(5, 3);
    ASSERT_TRUE(index.resolve(a, ids, err)) << err;  // a: 3 series, at its limit
    auto a4 = keys_of("a", 3, 4);
    std::vector<SeriesRefusal> refused;
    EXPECT_FALSE(index.resolve(views(a4), again, err, &refused));
    EXPECT_NE(err.find("limits.max_series_per_metric (3)"), std::string::npos) << err;
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(refused[0].index, 0u);
    EXPECT_EQ(refused[0].limit, SeriesLimit::per_metric);
    EXPECT_EQ(index.size(), 3u);
    // A call mixing known series, a series that fits and one beyond the limit: refused whole.
    std::vector<std::string> mixed = {a[0], b[0], a4[0], a[2]};
    refused.clear();
    EXPECT_FALSE(index.resolve(views(mixed), again, err, &refused));
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(refused[0].index, 2u);
    EXPECT_EQ(index.size(), 3u) << "a refused call creates nothing, not even the series that fit";
    // Known series always resolve.
    ASSERT_TRUE(index.resolve(a, again, err)) << err;
    EXPECT_EQ(again, ids);
    // Partial: what fits is created (b's two series: 5 in all), the rest listed with id 0.
    auto more = keys_of("c", 0, 2);
    std::vector<std::string> batch = {b[0], a4[0], b[1], more[0], b[0]};
    refused.clear();
    ASSERT_TRUE(index.resolve(views(batch), again, err, &refused, true)) << err;
    ASSERT_EQ(refused.size(), 2u);
    EXPECT_EQ(refused[0].index, 1u);
    EXPECT_EQ(refused[0].limit, SeriesLimit::per_metric);
    EXPECT_EQ(refused[1].index, 3u);
    EXPECT_EQ(refused[1].limit, SeriesLimit::global);
    EXPECT_NE(again[0], 0u);
    EXPECT_EQ(again[1], 0u);
    EXPECT_NE(again[2], 0u);
    EXPECT_EQ(again[3], 0u);
    EXPECT_EQ(again[4], again[0]) << "a key twice in one call is one series";
    EXPECT_EQ(index.size(), 5u);
  }
  // After a reopen the counts are the index's: still full.
  SeriesIndex reopened(*storage);
  ASSERT_TRUE(reopened.load().ok());
  reopened.set_limits(5, 3);
  auto c = keys_of("c", 0, 1);
  std::vector<SeriesRefusal> refused;
  EXPECT_FALSE(reopened.resolve(views(c), again, err, &refused));
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].limit, SeriesLimit::global);
  EXPECT_NE(err.find("limits.max_series (5)"), std::string::npos) << err;
  ASSERT_TRUE(reopened.resolve(a, again, err)) << err;
  EXPECT_EQ(again, ids);
  // Raised limits let new series in again.
  reopened.set_limits(0, 0);
  ASSERT_TRUE(reopened.resolve(c, again, err)) << err;
  EXPECT_EQ(reopened.size(), 6u);
  storage.reset();
  std::filesystem::remove_all(dir);
}
