// StoreReader's batched rollup reads (ordered scan over a dense id range, batched point reads for
// scattered ids, per-series scans for long ranges) against its one-series read, and grouped
// queries through it on two threads, on a real RocksDB store in a temp dir.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "engine/encoding/keys.hpp"
#include "engine/encoding/raw_block.hpp"
#include "engine/encoding/series_key.hpp"
#include "engine/query/query.hpp"
#include "engine/storage/series_index.hpp"
#include "engine/shard/shard_state.hpp"
#include "engine/storage/storage.hpp"
#include "engine/storage/store_reader.hpp"

using namespace vigil;

namespace {

class StoreReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil-reader-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::string err;
    storage_ = Storage::open(dir_.string(), StorageOptions{}, err);
    ASSERT_TRUE(storage_) << err;
    index_ = std::make_unique<SeriesIndex>(*storage_);
    ASSERT_TRUE(index_->load().ok());
  }
  void TearDown() override {
    index_.reset();
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Creates series of `metric` with tags host=h<i>, region=r<i % regions>; returns their ids.
  std::vector<std::uint64_t> create(const std::string& metric, int n, int regions) {
    std::vector<std::string> keys;
    for (int i = 0; i < n; ++i)
      keys.push_back(enc::series_key(metric, {{"host", "h" + std::to_string(i)}, {"region", "r" + std::to_string(i % regions)}}));
    std::vector<std::uint64_t> ids;
    std::string err;
    EXPECT_TRUE(index_->resolve(keys, ids, err)) << err;
    return ids;
  }
  void apply_and_flush(const std::vector<LogRecord>& recs) {
    ShardState st(0, *storage_);
    st.apply(st.applied_seq() + 1, recs);
    std::string err;
    ASSERT_TRUE(st.flush(err)) << err;
  }
  using Seen = std::map<std::uint64_t, std::vector<std::pair<std::int64_t, double>>>;
  // read_rollups, checking that each series' buckets come together and ascending.
  Seen batched(StoreReader& r, const std::vector<std::uint64_t>& ids, std::int64_t res, std::int64_t from,
               std::int64_t to) {
    Seen seen;
    std::size_t cur = ids.size();
    r.read_rollups(ids, res, from, to, [&](std::size_t i, std::int64_t t, const Agg& a) {
      EXPECT_LT(i, ids.size());
      auto& v = seen[ids[i]];
      if (i != cur) {
        EXPECT_TRUE(v.empty()) << "series " << ids[i] << " came back twice";
        cur = i;
      }
      if (!v.empty()) {
        EXPECT_LT(v.back().first, t);
      }
      v.emplace_back(t, a.sum);
    });
    return seen;
  }
  // read_rollup_runs flattened: each series' runs together, ascending and inside the range.
  Seen runs(StoreReader& r, const std::vector<std::uint64_t>& ids, std::int64_t res, std::int64_t from, std::int64_t to) {
    Seen seen;
    std::size_t cur = ids.size();
    r.read_rollup_runs(ids, res, from, to, [&](std::size_t i, const RollupRun& run) {
      EXPECT_LT(i, ids.size());
      EXPECT_GT(run.n, 0u);
      auto& v = seen[ids[i]];
      if (i != cur) {
        EXPECT_TRUE(v.empty()) << "series " << ids[i] << " came back twice";
        cur = i;
      }
      for (std::size_t k = 0; k < run.n; ++k) {
        if (!v.empty()) {
          EXPECT_LT(v.back().first, run.time(k));
        }
        EXPECT_GE(run.time(k), from);
        EXPECT_LE(run.time(k), to);
        EXPECT_NE(run.min[k], 0.0) << "asked for";
        v.emplace_back(run.time(k), run.sum[k]);
      }
    }, kMinField);
    return seen;
  }
  Seen one_by_one(StoreReader& r, const std::vector<std::uint64_t>& ids, std::int64_t res, std::int64_t from,
                  std::int64_t to) {
    Seen seen;
    for (auto id : ids)
      r.read_rollup(id, res, from, to, [&](std::int64_t t, const Agg& a) { seen[id].emplace_back(t, a.sum); });
    return seen;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<SeriesIndex> index_;
};

}  // namespace

TEST_F(StoreReaderTest, batched_rollup_reads_match_one_series_reads_on_every_path) {
  auto ids = create("m", 300, 4);
  auto other = create("other", 50, 1);  // ids after m's: interleave nothing, but exist in the CF
  std::vector<LogRecord> recs;
  // Series with an odd index get samples in two days (two chunks at 60 s); every fifth series none.
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i % 5 == 0) continue;
    for (int k = 0; k < 6; ++k) recs.push_back({ids[i], 86400 + k * 40, Agg::of_value(double(i) + k, 86400 + k * 40)});
    if (i % 2 == 1) recs.push_back({ids[i], 2 * 86400 + 70, Agg::of_value(1000 + double(i), 2 * 86400 + 70)});
  }
  for (auto id : other) recs.push_back({id, 86400, Agg::of_value(-1, 86400)});
  apply_and_flush(recs);
  StoreReader r(*storage_, *index_);

  // Dense ids (every other series of m, reversed): the ordered scan, seeking over the gaps.
  std::vector<std::uint64_t> dense;
  for (std::size_t i = ids.size(); i-- > 0;)
    if (i % 2 == 0 || i % 3 == 0) dense.push_back(ids[i]);
  for (auto [from, to] : {std::pair<std::int64_t, std::int64_t>{86400, 2 * 86400 + 3599}, {86400 + 60, 86400 + 179},
                          {2 * 86400, 3 * 86400}, {0, 86399}}) {
    auto want = one_by_one(r, dense, 60, from, to);
    EXPECT_EQ(batched(r, dense, 60, from, to), want) << from << ".." << to;
    EXPECT_EQ(runs(r, dense, 60, from, to), want) << from << ".." << to;
  }
  auto full = batched(r, dense, 60, 0, 3 * 86400);
  EXPECT_EQ(full.count(ids[0]), 0u) << "a series without samples is not called back";
  ASSERT_EQ(full.count(ids[3]), 1u);
  EXPECT_EQ(full[ids[3]].size(), 5u) << "four 60 s buckets on day 1, one on day 2";

  // Scattered ids (a few of each metric, far apart relative to their count): batched point reads.
  std::vector<std::uint64_t> scattered = {ids[299], ids[1], other[49], ids[150], other[0]};
  for (int k = 0; k < 70; ++k) scattered.push_back(1'000'000 + 977 * static_cast<std::uint64_t>(k));  // no such series
  EXPECT_EQ(batched(r, scattered, 60, 0, 3 * 86400), one_by_one(r, scattered, 60, 0, 3 * 86400));
  EXPECT_EQ(runs(r, scattered, 60, 0, 3 * 86400), one_by_one(r, scattered, 60, 0, 3 * 86400));
  EXPECT_EQ(batched(r, scattered, 60, 0, 3 * 86400).at(other[49]).front().second, -1);

  // A range of many chunks: per-series scans.
  EXPECT_EQ(batched(r, dense, 60, -30 * 86400, 30 * 86400), one_by_one(r, dense, 60, -30 * 86400, 30 * 86400));
  EXPECT_EQ(runs(r, dense, 60, -30 * 86400, 30 * 86400), one_by_one(r, dense, 60, -30 * 86400, 30 * 86400));
  // Coarser stored resolutions.
  EXPECT_EQ(batched(r, dense, 3600, 0, 3 * 86400), one_by_one(r, dense, 3600, 0, 3 * 86400));
  EXPECT_EQ(runs(r, dense, 3600, 0, 3 * 86400), one_by_one(r, dense, 3600, 0, 3 * 86400));
}

TEST_F(StoreReaderTest, grouped_query_on_two_threads_sums_every_series_once) {
  // Enough series for the query to read two halves on two threads and fold their groups.
  const int n = 1200, regions = 7;
  auto ids = create("g", n, regions);
  std::vector<LogRecord> recs;
  std::map<std::pair<int, std::int64_t>, double> want;  // (region, bucket) -> sum of per-series means
  std::map<int, double> want_max;                       // region -> max of the 60 s means at 3600
  for (int i = 0; i < n; ++i) {
    if (i % 11 == 0) continue;  // no data
    for (int k = 0; k < 4; ++k) {
      std::int64_t t = 3600 + k * 30;  // two samples per 60 s bucket
      double v = (i % 13) + k;         // small integers: every sum is exact
      recs.push_back({ids[static_cast<std::size_t>(i)], t, Agg::of_value(v, t)});
    }
    want[{i % regions, 3600}] += ((i % 13) + (i % 13) + 1) / 2.0;
    want[{i % regions, 3660}] += ((i % 13) + 2 + (i % 13) + 3) / 2.0;
    double m = (i % 13) + 0.5;
    if (!want_max.count(i % regions) || want_max[i % regions] < m) want_max[i % regions] = m;
  }
  apply_and_flush(recs);
  StoreReader r(*storage_, *index_);
  for (std::int64_t res : {std::int64_t{60}, std::int64_t{300}}) {
    MeasurementQuery q;
    q.metric_key = "g";
    q.start = 3600;
    q.end = 3600 + 299;
    q.resolution = res;
    q.group_by = {"region"};
    q.group_function = GroupFunction::sum;
    auto result = run_query(r, q);
    ASSERT_EQ(result.series.size(), static_cast<std::size_t>(regions)) << res;
    for (const auto& s : result.series) {
      ASSERT_EQ(s.tags.size(), 1u);
      int region = std::stoi(s.tags[0].second.substr(1));
      if (res == 60) {
        ASSERT_EQ(s.points.size(), 2u);
        EXPECT_EQ(s.points[0].time, 3600);
        EXPECT_DOUBLE_EQ(s.points[0].value, (want[{region, 3600}])) << region;
        EXPECT_EQ(s.points[1].time, 3660);
        EXPECT_DOUBLE_EQ(s.points[1].value, (want[{region, 3660}])) << region;
      } else {
        // 300 s from the 60 s rollup: one bucket holding each series' four samples.
        ASSERT_EQ(s.points.size(), 1u);
        EXPECT_EQ(s.points[0].time, 3600);
        EXPECT_DOUBLE_EQ(s.points[0].value, (want[{region, 3600}] + want[{region, 3660}]) / 2) << region;
      }
    }
  }
  MeasurementQuery q;
  q.metric_key = "g";
  q.start = 3600;
  q.end = 3659;
  q.resolution = 60;
  q.group_by = {"region"};
  q.group_function = GroupFunction::max;
  auto mx = run_query(r, q);
  ASSERT_EQ(mx.series.size(), static_cast<std::size_t>(regions));
  for (const auto& s : mx.series) {
    ASSERT_EQ(s.points.size(), 1u);
    EXPECT_DOUBLE_EQ(s.points[0].value, want_max[std::stoi(s.tags[0].second.substr(1))]);
  }
}

TEST_F(StoreReaderTest, level0_compaction_keeps_every_rollup_and_raw_sample) {
  auto ids = create("c", 3, 1);
  // Three flushes, each to its own level-0 file: each key holds a merge operand per file.
  for (int f = 0; f < 3; ++f) {
    std::vector<LogRecord> recs;
    for (auto id : ids) recs.push_back({id, 600 + f * 10, Agg::of_value(f + 1.0, 600 + f * 10)});
    apply_and_flush(recs);
    ASSERT_TRUE(storage_->flush().ok());
  }
  StoreReader r(*storage_, *index_);
  auto before = one_by_one(r, ids, 60, 0, 3600);
  ASSERT_EQ(before.size(), 3u);
  EXPECT_EQ(before[ids[0]], (std::vector<std::pair<std::int64_t, double>>{{600, 6.0}}));
  EXPECT_EQ(storage_->compact_level0(rollup_cf(0), 4, 4), 0u) << "fewer level-0 files than asked for";
  EXPECT_EQ(storage_->compact_level0(rollup_cf(0), 1, 4), 3u) << "level 1 is empty";
  EXPECT_EQ(storage_->compact_level0(rollup_cf(0), 1, 4), 0u) << "nothing left in level 0";
  StoreReader after(*storage_, *index_);
  EXPECT_EQ(one_by_one(after, ids, 60, 0, 3600), before);
  // Later writes still merge into the compacted values; a level 0 small against level 1 is left
  // alone unless asked for.
  apply_and_flush({{ids[0], 630, Agg::of_value(4, 630)}});
  ASSERT_TRUE(storage_->flush().ok());
  EXPECT_EQ(storage_->compact_level0(rollup_cf(0), 1, 0), 0u) << "level 0 smaller than level 1 / 0";
  StoreReader pending(*storage_, *index_);
  EXPECT_EQ(one_by_one(pending, {ids[0]}, 60, 0, 3600)[ids[0]],
            (std::vector<std::pair<std::int64_t, double>>{{600, 10.0}}));
  EXPECT_EQ(storage_->compact_level0(rollup_cf(0), 1, 1'000'000), 1u);
  StoreReader later(*storage_, *index_);
  EXPECT_EQ(one_by_one(later, {ids[0]}, 60, 0, 3600)[ids[0]],
            (std::vector<std::pair<std::int64_t, double>>{{600, 10.0}}));
}

TEST_F(StoreReaderTest, one_flush_spanning_many_buckets_with_late_samples_writes_each_bucket_once) {
  auto ids = create("s", 1, 1);
  const auto id = ids[0];
  std::vector<LogRecord> recs;
  for (int k = 0; k < 60; ++k) recs.push_back({id, k * 10, Agg::of_value(1, k * 10)});  // ten 60 s buckets
  recs.push_back({id, 485, Agg::of_value(100, 485)});  // late, into a recently closed bucket
  recs.push_back({id, 5, Agg::of_value(1000, 5)});     // late, into a bucket long closed
  recs.push_back({id, 7, Agg::of_value(1000, 7)});
  apply_and_flush(recs);
  StoreReader r(*storage_, *index_);
  std::vector<std::pair<std::int64_t, Agg>> got;
  r.read_rollup(id, 60, 0, 3599, [&](std::int64_t t, const Agg& a) { got.emplace_back(t, a); });
  ASSERT_EQ(got.size(), 10u) << "one entry per bucket";
  EXPECT_EQ(got[0].first, 0);
  EXPECT_EQ(got[0].second.count, 8);
  EXPECT_EQ(got[0].second.sum, 2006);
  EXPECT_EQ(got[0].second.last, 1) << "last follows time (t=50)";
  EXPECT_EQ(got[8].first, 480);
  EXPECT_EQ(got[8].second.count, 7);
  EXPECT_EQ(got[8].second.max, 100);
  EXPECT_EQ(got[9].second.count, 6);
  std::vector<std::pair<std::int64_t, Agg>> quarter;
  r.read_rollup(id, 900, 0, 899, [&](std::int64_t t, const Agg& a) { quarter.emplace_back(t, a); });
  ASSERT_EQ(quarter.size(), 1u);
  EXPECT_EQ(quarter[0].second.count, 63);
  EXPECT_EQ(quarter[0].second.sum, 60 + 100 + 2000);
  // A grouped mean over this one series counts each bucket once.
  MeasurementQuery q;
  q.metric_key = "s";
  q.start = 0;
  q.end = 599;
  q.resolution = 60;
  q.group_all = true;
  q.group_function = GroupFunction::mean;
  auto res = run_query(r, q);
  ASSERT_EQ(res.series.size(), 1u);
  ASSERT_EQ(res.series[0].points.size(), 10u);
  EXPECT_DOUBLE_EQ(res.series[0].points[0].value, 2006.0 / 8);
}

TEST_F(StoreReaderTest, raw_operands_of_a_day_merge_into_full_blocks_keeping_time_and_arrival_order) {
  const auto id = create("raw", 1, 1)[0];
  const std::int64_t day = 3 * 86400;
  std::vector<std::pair<std::int64_t, double>> want;  // every sample, in arrival order
  double v = 0;
  auto write = [&](const std::vector<std::int64_t>& times, bool to_level0) {
    std::vector<LogRecord> recs;
    for (auto t : times) {
      v += 1;
      recs.push_back({id, t, Agg::of_value(v, t)});
      want.emplace_back(t, v);
    }
    apply_and_flush(recs);
    if (to_level0) {
      EXPECT_TRUE(storage_->flush().ok());
    }
  };
  // Nine flushes of 1,000 regular samples, each in a level-0 file of its own, then one flush of
  // 5,000 (more than a block holds), then late samples at times already written, in memory only.
  for (int f = 0; f < 9; ++f) {
    std::vector<std::int64_t> times;
    for (int j = 0; j < 1000; ++j) times.push_back(day + (f * 1000 + j) * 5);
    write(times, true);
  }
  std::vector<std::int64_t> times;
  for (int j = 0; j < 5000; ++j) times.push_back(day + (9000 + j) * 5);
  write(times, true);
  write({day, day + 5, day + 44995, day + 7}, false);
  std::stable_sort(want.begin(), want.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  auto read = [&] {
    StoreReader r(*storage_, *index_);
    std::vector<std::pair<std::int64_t, double>> got;
    r.read_raw(id, day, day + 86399, [&](std::int64_t t, const Agg& a) { got.emplace_back(t, a.sum); });
    return got;
  };
  ASSERT_EQ(read(), want) << "operands merged at read time";
  // RocksDB's own compactions may be moving some of the ten files already: compact until level 0
  // is empty.
  auto compact_level0 = [&] {
    for (int i = 0; i < 500 && storage_->level0_files(Cf::raw) > 0; ++i)
      if (storage_->compact_level0(Cf::raw, 1, 1'000'000) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return storage_->level0_files(Cf::raw);
  };
  EXPECT_EQ(compact_level0(), 0u);
  ASSERT_TRUE(storage_->flush().ok());
  EXPECT_EQ(storage_->level0_files(Cf::raw), 1u) << "the late samples";
  EXPECT_EQ(compact_level0(), 0u);
  ASSERT_EQ(read(), want) << "after compaction";
  // The day is now one value: full blocks, then one holding the rest.
  std::string value;
  ASSERT_TRUE(storage_->get(Cf::raw, enc::raw_block_key(id, day), value).ok());
  std::vector<std::size_t> sizes;
  const char* p = value.data();
  while (p < value.data() + value.size()) {
    std::size_t n = 0;
    ASSERT_TRUE(enc::skip_raw_block(p, value.data() + value.size(), n));
    sizes.push_back(n);
  }
  std::size_t total = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    total += sizes[i];
    if (i + 1 < sizes.size()) {
      EXPECT_EQ(sizes[i], enc::kRawBlockRecords) << i;
    }
  }
  EXPECT_EQ(total, want.size());
  EXPECT_LT(value.size(), want.size() * 3) << "regular times and short decimals";
}
