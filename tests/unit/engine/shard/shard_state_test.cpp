// Shard state against a real RocksDB in a temp dir: log replay applies every accepted entry
// exactly once, whatever point the process stopped at.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <unordered_map>

#include "engine/encoding/bytes.hpp"
#include "engine/encoding/keys.hpp"
#include "engine/encoding/raw_block.hpp"
#include "engine/encoding/rollup_block.hpp"
#include "engine/shard/shard_state.hpp"
#include "engine/storage/series_index.hpp"
#include "engine/storage/storage.hpp"
#include "engine/storage/store_reader.hpp"

namespace vigil {

namespace {

class ShardStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil-shard-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    reopen();
  }
  void TearDown() override {
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }
  void reopen() {
    storage_.reset();
    std::string err;
    storage_ = Storage::open(dir_.string(), StorageOptions{}, err);
    ASSERT_TRUE(storage_) << err;
  }
  // What Engine::ingest does: one log entry per shard batch.
  void log(std::uint16_t shard, std::uint64_t seq, const std::vector<LogRecord>& recs) {
    std::string v;
    encode_log_entry(recs, v);
    Storage::Batch b;
    b.put(Cf::log, enc::log_key(shard, seq), v);
    std::string err;
    ASSERT_TRUE(storage_->write(b, err)) << err;
  }
  Agg rollup(std::uint64_t sid, int res_index, std::int64_t bucket) {
    std::string v;
    Agg a;
    const std::int64_t res = kResolutions[res_index];
    const std::int64_t chunk = enc::rollup_chunk(bucket, res);
    if (storage_->get(rollup_cf(res_index), enc::rollup_key(sid, chunk), v).ok())
      enc::for_each_rollup_entry(v, chunk, res, [&](std::uint16_t i, const Agg& e) {
        if (chunk + static_cast<std::int64_t>(i) * res == bucket) a = e;
      });
    return a;
  }
  // Raw samples of a series, decoded from its blocks.
  std::size_t raw_count(std::uint64_t sid) {
    std::size_t n = 0;
    std::string p;
    enc::put_u64(p, sid);
    EXPECT_TRUE(storage_->scan_prefix(Cf::raw, p, [&](std::string_view k, std::string_view v) {
      std::vector<std::pair<std::int64_t, Agg>> records;
      EXPECT_TRUE(enc::get_raw_records(v, enc::get_time(k.data() + 8), records));
      n += records.size();
      return true;
    }).ok());
    return n;
  }
  std::size_t log_entries() {
    std::size_t n = 0;
    EXPECT_TRUE(storage_->scan(Cf::log, "", "", [&](std::string_view, std::string_view) {
      ++n;
      return true;
    }).ok());
    return n;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Storage> storage_;
};

std::vector<LogRecord> records(std::uint64_t sid, std::int64_t t0, int n, double v) {
  std::vector<LogRecord> out;
  for (int i = 0; i < n; ++i) out.push_back({sid, t0 + i * 10, Agg::of_value(v + i, t0 + i * 10)});
  return out;
}

}  // namespace

TEST(LogEntry, encodes_values_and_summaries) {
  Agg summary;
  summary.count = 3;
  summary.sum = 12;
  summary.min = 1;
  summary.max = 7;
  summary.last = 4;
  summary.last_time = 50;
  summary.sumsq = 66;
  std::vector<LogRecord> in = {{7, 50, Agg::of_value(1.5, 50)}, {9, -60, summary}};
  std::string s;
  encode_log_entry(in, s);
  std::vector<LogRecord> out;
  ASSERT_TRUE(decode_log_entry(s, out));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].sid, 7u);
  EXPECT_EQ(out[0].agg.sum, 1.5);
  EXPECT_EQ(out[1].time, -60);
  EXPECT_EQ(out[1].agg.max, 7);
  EXPECT_EQ(out[1].agg.sumsq, 66);
  EXPECT_FALSE(decode_log_entry(s.substr(0, s.size() - 3), out)) << "truncated entry is rejected";
  // Records relative to the one before: extreme ids and times, going back and forth.
  std::vector<LogRecord> wide = {{~0ull, INT64_MAX, Agg::of_value(1, INT64_MAX)},
                                 {0, INT64_MIN, Agg::of_value(-2, INT64_MIN)},
                                 {1ull << 63, 0, Agg::of_value(3, 0)},
                                 {5, 1700000000, Agg::of_value(88.331, 1700000000)},
                                 {6, 1700000000, Agg::of_value(12.5, 1700000000)}};
  encode_log_entry(wide, s);
  EXPECT_LT(s.size(), 5u * 25) << "neighbouring records take a few bytes besides their value";
  ASSERT_TRUE(decode_log_entry(s, out));
  ASSERT_EQ(out.size(), wide.size());
  for (std::size_t i = 0; i < wide.size(); ++i) {
    EXPECT_EQ(out[i].sid, wide[i].sid) << i;
    EXPECT_EQ(out[i].time, wide[i].time) << i;
    EXPECT_EQ(out[i].agg.sum, wide[i].agg.sum) << i;
  }
  EXPECT_FALSE(decode_log_entry(std::string("\x02\x00\x07", 3), out)) << "unknown record kind";
}

TEST_F(ShardStateTest, flush_writes_raw_samples_and_every_rollup_resolution) {
  ShardState st(0, *storage_);
  st.apply(1, records(5, 1000 * 60, 12, 1.0));  // 12 samples, 10 s apart: two 60 s buckets
  std::string err;
  ASSERT_TRUE(st.flush(err)) << err;
  EXPECT_EQ(raw_count(5), 12u);
  Agg a = rollup(5, 0, 60000);
  EXPECT_EQ(a.count, 6);
  EXPECT_EQ(a.sum, 1 + 2 + 3 + 4 + 5 + 6);
  Agg day = rollup(5, kResolutionCount - 1, floor_to(60000, 86400));
  EXPECT_EQ(day.count, 12);
  EXPECT_EQ(day.max, 12);
  EXPECT_EQ(st.checkpoint(), 1u);
  EXPECT_EQ(log_entries(), 0u) << "applied log entries are deleted with the flush";
}

TEST_F(ShardStateTest, replay_after_crash_applies_unflushed_entries_once) {
  log(0, 1, records(5, 60000, 6, 1.0));
  log(0, 2, records(5, 60060, 6, 100.0));
  {
    ShardState st(0, *storage_);
    st.apply(1, records(5, 60000, 6, 1.0));
    std::string err;
    ASSERT_TRUE(st.flush(err));  // entry 1 is flushed; entry 2 was accepted but never applied
  }
  log(0, 3, records(5, 60120, 6, 1000.0));
  reopen();  // "crash": nothing but the store survives
  std::unordered_map<std::uint16_t, std::uint64_t> last;
  std::string err;
  ASSERT_TRUE(recover_log(*storage_, last, err)) << err;
  EXPECT_EQ(last[0], 3u);
  EXPECT_EQ(rollup(5, kResolutionCount - 1, floor_to(60000, 86400)).count, 18);
  EXPECT_EQ(raw_count(5), 18u);
  // Recovering again (a crash right after recovery) changes nothing.
  reopen();
  ASSERT_TRUE(recover_log(*storage_, last, err)) << err;
  Agg day = rollup(5, kResolutionCount - 1, floor_to(60000, 86400));
  EXPECT_EQ(day.count, 18);
  EXPECT_EQ(day.sum, (1 + 2 + 3 + 4 + 5 + 6) + (100 + 101 + 102 + 103 + 104 + 105) +
                         (1000 + 1001 + 1002 + 1003 + 1004 + 1005));
  EXPECT_EQ(log_entries(), 0u);
  std::uint64_t checkpoint = 0;
  ASSERT_TRUE(ShardState::load_checkpoint(*storage_, 0, checkpoint).ok());
  EXPECT_EQ(checkpoint, 3u);
}

TEST_F(ShardStateTest, out_of_order_samples_update_the_buckets_they_belong_to) {
  ShardState st(1, *storage_);
  st.apply(1, {{3, 600, Agg::of_value(5, 600)}});
  std::string err;
  ASSERT_TRUE(st.flush(err));
  st.apply(2, {{3, 30, Agg::of_value(-2, 30)}, {3, 610, Agg::of_value(1, 610)}});
  ASSERT_TRUE(st.flush(err));
  Agg late = rollup(3, 0, 0);
  EXPECT_EQ(late.count, 1);
  EXPECT_EQ(late.min, -2);
  Agg b600 = rollup(3, 0, 600);
  EXPECT_EQ(b600.count, 2);
  EXPECT_EQ(b600.last, 1) << "last follows time, not arrival";
  Agg b900 = rollup(3, 1, 0);
  EXPECT_EQ(b900.count, 3);
  Agg hour = rollup(3, 2, 0);
  EXPECT_EQ(hour.count, 3);
  EXPECT_EQ(hour.sum, 4);
  EXPECT_EQ(hour.last, 1);
}

TEST_F(ShardStateTest, raw_reads_merge_blocks_of_several_flushes_in_time_order) {
  ShardState st(0, *storage_);
  std::string err;
  st.apply(1, {{8, 200, Agg::of_value(2, 200)}, {8, 86400 + 5, Agg::of_value(9, 86400 + 5)}});
  ASSERT_TRUE(st.flush(err));
  st.apply(2, {{8, 100, Agg::of_value(1, 100)}, {8, 300, Agg::of_value(3, 300)}});
  ASSERT_TRUE(st.flush(err));
  SeriesIndex index(*storage_);
  StoreReader reader(*storage_, index);
  std::vector<std::pair<std::int64_t, double>> got;
  reader.read_raw(8, 100, 300, [&](std::int64_t t, const Agg& a) { got.emplace_back(t, a.sum); });
  EXPECT_EQ(got, (std::vector<std::pair<std::int64_t, double>>{{100, 1}, {200, 2}, {300, 3}}));
  got.clear();
  reader.read_raw(8, 150, 86400 + 5, [&](std::int64_t t, const Agg& a) { got.emplace_back(t, a.sum); });
  EXPECT_EQ(got, (std::vector<std::pair<std::int64_t, double>>{{200, 2}, {300, 3}, {86405, 9}}));
}

TEST_F(ShardStateTest, rollup_blocks_fold_operands_of_several_flushes_and_chunks) {
  std::string err;
  // Two flushes touch overlapping 60 s buckets of one chunk, plus a bucket in the next chunk
  // (chunks of 60 s rollups are one UTC day); the reader sees one folded bucket list.
  {
    ShardState st(0, *storage_);
    st.apply(1, {{5, 0, Agg::of_value(1, 0)}, {5, 61, Agg::of_value(2, 61)}, {5, 86400 + 1, Agg::of_value(7, 86401)}});
    ASSERT_TRUE(st.flush(err)) << err;
    st.apply(2, {{5, 30, Agg::of_value(3, 30)}, {5, 125, Agg::of_value(4, 125)}});
    ASSERT_TRUE(st.flush(err)) << err;
  }
  auto check = [&](const char* when) {
    SeriesIndex index(*storage_);
    StoreReader reader(*storage_, index);
    std::vector<std::tuple<std::int64_t, double, double>> got;
    reader.read_rollup(5, 60, 0, 86400 + 60, [&](std::int64_t t, const Agg& a) { got.emplace_back(t, a.count, a.sum); });
    EXPECT_EQ(got, (std::vector<std::tuple<std::int64_t, double, double>>{{0, 2, 4}, {60, 1, 2}, {120, 1, 4}, {86400, 1, 7}}))
        << when;
    got.clear();
    reader.read_rollup(5, 60, 60, 120, [&](std::int64_t t, const Agg& a) { got.emplace_back(t, a.count, a.sum); });
    EXPECT_EQ(got, (std::vector<std::tuple<std::int64_t, double, double>>{{60, 1, 2}, {120, 1, 4}})) << when;
    EXPECT_EQ(rollup(5, 3, 0).count, 4) << when;  // the daily bucket holds the first day's four samples
    EXPECT_EQ(rollup(5, 3, 0).last, 4) << when;
  };
  check("from memtables");
  reopen();  // flushed to SST files and read back through the merge operator
  check("after reopen");
}

}  // namespace vigil

TEST(StorageFormat, a_store_with_the_seven_rollup_column_families_of_format_2_is_refused) {
  auto dir = std::filesystem::temp_directory_path() / ("vigil-format2-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, dir.string(), &db).ok());
    rocksdb::ColumnFamilyHandle* h = nullptr;
    ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "rollup_300", &h).ok());
    ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    delete db;
  }
  std::string err;
  auto s = vigil::Storage::open(dir.string(), vigil::StorageOptions{}, err);
  EXPECT_FALSE(s);
  EXPECT_NE(err.find("older storage format"), std::string::npos) << err;
  EXPECT_NE(err.find("rollup_300"), std::string::npos) << err;
  std::filesystem::remove_all(dir);
}
