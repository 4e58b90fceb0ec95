// Storage errors as values: the Status type, a missing key told apart from a storage error, and
// a real RocksDB store whose SST file has a corrupt data block: scans, cursors, point reads and
// batched reads report the corruption (never a shorter result that looks whole), /metrics counts
// it per op, and StoreReader keeps it for the query.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "engine/encoding/keys.hpp"
#include "engine/storage/series_index.hpp"
#include "engine/storage/status.hpp"
#include "engine/storage/free_space.hpp"
#include "engine/storage/storage.hpp"
#include "engine/storage/store_reader.hpp"

using namespace vigil;

namespace {

TEST(Status, ok_is_the_default_and_says_so) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_FALSE(s.is_not_found());
  EXPECT_FALSE(s.is_error());
  EXPECT_EQ(s.to_string(), "OK");
  EXPECT_TRUE(s.message().empty());
}

TEST(Status, each_kind_is_told_apart_and_named) {
  EXPECT_TRUE(Status::not_found().is_not_found());
  EXPECT_FALSE(Status::not_found().is_error());
  EXPECT_TRUE(Status::corruption("bad block").is_corruption());
  EXPECT_TRUE(Status::corruption("bad block").is_error());
  EXPECT_TRUE(Status::io_error("read failed").is_io_error());
  EXPECT_EQ(Status::other("Busy: ").kind(), Status::Kind::other);
  EXPECT_EQ(Status::not_found().to_string(), "not found");
  EXPECT_EQ(Status::corruption("bad block").to_string(), "corruption: bad block");
  EXPECT_EQ(Status::io_error("read failed").to_string(), "I/O error: read failed");
  EXPECT_EQ(Status::other("Busy: ").to_string(), "error: Busy: ");
}

TEST(Status, update_keeps_the_first_failure) {
  Status s;
  s.update(Status());
  EXPECT_TRUE(s.ok());
  s.update(Status::corruption("first"));
  s.update(Status::io_error("second"));
  EXPECT_EQ(s.to_string(), "corruption: first");
}

TEST(StorageFaults, specs_parse_and_malformed_ones_are_refused) {
  std::vector<StorageFault> f;
  std::string err;
  ASSERT_TRUE(parse_storage_faults("write:alertstate/:3,get:koff/:8", f, err)) << err;
  ASSERT_EQ(f.size(), 2u);
  EXPECT_TRUE(f[0].write);
  EXPECT_EQ(f[0].prefix, "alertstate/");
  EXPECT_EQ(f[0].count, 3);
  EXPECT_FALSE(f[1].write);
  EXPECT_EQ(f[1].prefix, "koff/");
  EXPECT_EQ(f[1].count, 8);
  ASSERT_TRUE(parse_storage_faults("", f, err));
  EXPECT_TRUE(f.empty());
  for (const char* bad : {"write", "write:x", "read:x:1", "get::1", "get:x:0", "get:x:-1", "get:x:abc"})
    EXPECT_FALSE(parse_storage_faults(bad, f, err)) << bad;
}

TEST(StorageFaults, injected_failures_hit_matching_operations_only_and_are_counted) {
  auto dir = std::filesystem::temp_directory_path() / ("vigil-faults-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  StorageOptions o;
  o.fault_injection = "write:alertstate/:2,get:koff/:1";
  std::string err;
  auto st = Storage::open(dir.string(), o, err);
  ASSERT_TRUE(st) << err;
  auto put = [&](std::string_view k) {
    Storage::Batch b;
    b.put(Cf::meta, "other", "x");
    b.put(Cf::meta, k, "v");
    bool no_space = true;
    bool ok = st->write(b, err, &no_space);
    EXPECT_FALSE(no_space);  // an injected I/O error is not a full disk
    return ok;
  };
  EXPECT_TRUE(put("koff/g/t/0"));
  EXPECT_FALSE(put("alertstate/1"));  // any key of the batch matches
  EXPECT_NE(err.find("injected"), std::string::npos);
  EXPECT_FALSE(put("alertstate/2"));
  EXPECT_TRUE(put("alertstate/3"));  // two failures, then writes go through
  std::string v;
  EXPECT_TRUE(st->get(Cf::meta, "koff/g/t/0", v).is_io_error());
  EXPECT_TRUE(st->get(Cf::meta, "koff/g/t/0", v).ok());
  EXPECT_EQ(v, "v");
  EXPECT_TRUE(st->get(Cf::meta, "alertstate/3", v).ok());
  EXPECT_FALSE(st->out_of_space());
  std::string text = st->stats_text();
  EXPECT_NE(text.find("vigil_storage_errors_total{op=\"write\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_storage_errors_total{op=\"get\"} 1"), std::string::npos);
  EXPECT_NE(text.find("vigil_storage_out_of_space 0"), std::string::npos);
  st.reset();
  o.fault_injection = "delete:x:1";
  EXPECT_FALSE(Storage::open(dir.string(), o, err));
  EXPECT_NE(err.find("write or get"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(StorageFaults, writes_are_refused_as_out_of_space_below_the_free_space_guard) {
  auto dir = std::filesystem::temp_directory_path() / ("vigil-guard-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::string err;
  auto st = Storage::open(dir.string(), StorageOptions{}, err);
  ASSERT_TRUE(st) << err;
  set_min_free_space(std::uint64_t{1} << 62);  // more than any disk has
  std::this_thread::sleep_for(std::chrono::milliseconds(150));  // the free space is read every 100 ms
  Storage::Batch b;
  b.put(Cf::meta, "k", "v");
  bool no_space = false;
  EXPECT_FALSE(st->write(b, err, &no_space));
  EXPECT_TRUE(no_space);
  EXPECT_TRUE(st->out_of_space());
  EXPECT_NE(err.find("storage.min_free_mb"), std::string::npos) << err;
  Storage::Batch flush;  // a batch without the log (a shard flush) reaches memtables only
  flush.put(Cf::meta, "f", "v");
  flush.skip_wal();
  EXPECT_TRUE(st->write(flush, err));
  set_min_free_space(0);
  Storage::Batch again;
  again.put(Cf::meta, "k", "v");
  EXPECT_TRUE(st->write(again, err, &no_space)) << err;
  EXPECT_FALSE(no_space);
  EXPECT_FALSE(st->out_of_space());
  std::string v;
  EXPECT_TRUE(st->get(Cf::meta, "k", v).ok());
  EXPECT_NE(st->stats_text().find("vigil_storage_min_free_refusals_total 1"), std::string::npos);
  st.reset();
  std::filesystem::remove_all(dir);
}

class CorruptStoreTest : public ::testing::Test {
 protected:
  static constexpr std::uint64_t kSeries = 2000;
  static constexpr std::int64_t kDay = 1699920000;

  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("vigil-status-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    open();
  }
  void TearDown() override {
    storage_.reset();
    std::filesystem::remove_all(dir_);
  }
  void open() {
    std::string err;
    storage_ = Storage::open(dir_.string(), StorageOptions{}, err);
    ASSERT_TRUE(storage_) << err;
  }
  static std::string key(std::uint64_t id) { return enc::raw_block_key(id, kDay); }

  // Writes kSeries raw keys with values that do not compress, flushes them to an SST file of
  // many data blocks, reopens the store, and flips bytes inside the file's first data block (a
  // block-based table writes its data blocks first, from offset 0).
  void write_flush_and_corrupt() {
    std::mt19937_64 rng(7);
    Storage::Batch b;
    for (std::uint64_t id = 1; id <= kSeries; ++id) {
      std::string v(200, '\0');
      for (auto& c : v) c = static_cast<char>(rng());
      b.put(Cf::raw, key(id), v);
    }
    std::string err;
    ASSERT_TRUE(storage_->write(b, err)) << err;
    ASSERT_TRUE(storage_->flush().ok());
    storage_.reset();
    // The raw column family is the only one with this much data: its file is the largest.
    std::filesystem::path sst;
    std::uintmax_t largest = 0;
    for (const auto& e : std::filesystem::directory_iterator(dir_))
      if (e.path().extension() == ".sst" && e.file_size() > largest) {
        largest = e.file_size();
        sst = e.path();
      }
    ASSERT_GT(largest, 100000u) << "the raw data is in an SST file of many blocks";
    std::fstream f(sst, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(32);
    char bytes[32];
    f.read(bytes, sizeof bytes);
    for (auto& c : bytes) c = static_cast<char>(~c);
    f.seekp(32);
    f.write(bytes, sizeof bytes);
    f.close();
    open();
  }
  std::string errors_line(const std::string& op) {
    const std::string text = storage_->stats_text();
    const std::string head = "vigil_storage_errors_total{op=\"" + op + "\"} ";
    auto pos = text.find(head);
    if (pos == std::string::npos) return "absent";
    return text.substr(pos + head.size(), text.find('\n', pos) - pos - head.size());
  }

  std::filesystem::path dir_;
  std::unique_ptr<Storage> storage_;
};

TEST_F(CorruptStoreTest, a_missing_key_is_not_found_and_not_an_error) {
  std::string v;
  Status st = storage_->get(Cf::raw, key(1), v);
  EXPECT_TRUE(st.is_not_found()) << st.to_string();
  EXPECT_EQ(errors_line("get"), "0");
  std::string k;
  EXPECT_TRUE(storage_->last_key(Cf::raw, key(1), k).is_not_found());
}

TEST_F(CorruptStoreTest, every_op_is_counted_from_zero) {
  for (const char* op : {"get", "scan", "multi_get", "write"}) EXPECT_EQ(errors_line(op), "0") << op;
}

TEST_F(CorruptStoreTest, a_scan_that_meets_a_corrupt_block_reports_it) {
  write_flush_and_corrupt();
  std::size_t seen = 0;
  Status st = storage_->scan(Cf::raw, "", "", [&](std::string_view, std::string_view) {
    ++seen;
    return true;
  });
  EXPECT_TRUE(st.is_corruption()) << st.to_string();
  EXPECT_LT(seen, kSeries) << "the scan stopped at the error";
  EXPECT_EQ(errors_line("scan"), "1");
  // Keys past the corrupt block still read.
  std::string v;
  EXPECT_TRUE(storage_->get(Cf::raw, key(kSeries), v).ok());
  EXPECT_EQ(v.size(), 200u);
}

TEST_F(CorruptStoreTest, a_cursor_reports_the_corruption_until_the_next_seek) {
  write_flush_and_corrupt();
  auto c = storage_->cursor(Cf::raw);
  c.seek(key(1));
  EXPECT_FALSE(c.valid());
  EXPECT_TRUE(c.status().is_corruption()) << c.status().to_string();
  EXPECT_TRUE(c.status().is_corruption());
  EXPECT_EQ(errors_line("scan"), "1") << "counted once per seek";
  c.seek(key(kSeries));
  ASSERT_TRUE(c.valid());
  EXPECT_TRUE(c.status().ok());
}

TEST_F(CorruptStoreTest, point_and_batched_reads_of_the_corrupt_block_report_it) {
  write_flush_and_corrupt();
  std::string v;
  Status st = storage_->get(Cf::raw, key(1), v);
  EXPECT_TRUE(st.is_corruption()) << st.to_string();
  EXPECT_EQ(errors_line("get"), "1");
  const std::string k1 = key(1), kn = key(kSeries);
  std::vector<std::size_t> got;
  st = storage_->multi_get(Cf::raw, {k1, kn}, [&](std::size_t i, std::string_view) { got.push_back(i); });
  EXPECT_TRUE(st.is_corruption()) << st.to_string();
  EXPECT_EQ(got, std::vector<std::size_t>{1}) << "the readable key is still handed over";
  EXPECT_EQ(errors_line("multi_get"), "1");
}

TEST_F(CorruptStoreTest, a_store_reader_keeps_the_error_for_the_query) {
  write_flush_and_corrupt();
  SeriesIndex index(*storage_);
  ASSERT_TRUE(index.load().ok());
  StoreReader reader(*storage_, index);
  reader.read_raw(1, kDay, kDay + 3600, [](std::int64_t, const Agg&) {});
  EXPECT_TRUE(reader.status().is_corruption()) << reader.status().to_string();
  StoreReader other(*storage_, index);
  other.read_raw(kSeries, kDay, kDay + 3600, [](std::int64_t, const Agg&) {});
  EXPECT_TRUE(other.status().ok()) << other.status().to_string();
}

}  // namespace
