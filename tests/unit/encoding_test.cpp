#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "engine/encoding.hpp"

namespace vigil {

TEST(Encoding, series_key_round_trips) {
  Tags tags = {{"host", "web-1"}, {"region", "us-east.1"}, {"z", "a:b_c"}};
  std::string key = enc::series_key("cpu.load", tags);
  EXPECT_EQ(key, std::string("cpu.load\0host=web-1,region=us-east.1,z=a:b_c", 44));
  std::string metric;
  Tags back;
  ASSERT_TRUE(enc::parse_series_key(key, metric, back));
  EXPECT_EQ(metric, "cpu.load");
  EXPECT_EQ(back, tags);
}

TEST(Encoding, series_key_rejects_malformed_keys) {
  std::string metric;
  Tags tags;
  EXPECT_FALSE(enc::parse_series_key("no-separator", metric, tags));
  EXPECT_FALSE(enc::parse_series_key(std::string("m\0novalue", 9), metric, tags));
  EXPECT_FALSE(enc::parse_series_key(std::string("\0a=b", 4), metric, tags));
}

TEST(Encoding, series_keys_of_a_metric_share_its_prefix_and_differ_from_longer_metric_names) {
  std::string a = enc::series_key("cpu", {{"host", "a"}});
  std::string b = enc::series_key("cpu.idle", {{"host", "a"}});
  std::string prefix("cpu\0", 4);
  EXPECT_EQ(a.compare(0, 4, prefix), 0);
  EXPECT_NE(b.compare(0, 4, prefix), 0);
}

TEST(Encoding, time_encoding_sorts_bytewise_like_numbers) {
  std::mt19937_64 rng(3);
  std::vector<std::int64_t> times = {INT64_MIN, -86400, -1, 0, 1, 59, 60, 1700000000, INT64_MAX};
  for (int i = 0; i < 200; ++i) times.push_back(static_cast<std::int64_t>(rng()));
  std::vector<std::pair<std::string, std::int64_t>> enc_times;
  for (auto t : times) {
    std::string s;
    enc::put_time(s, t);
    ASSERT_EQ(s.size(), 8u);
    EXPECT_EQ(enc::get_time(s.data()), t);
    enc_times.emplace_back(s, t);
  }
  std::sort(enc_times.begin(), enc_times.end());
  for (std::size_t i = 1; i < enc_times.size(); ++i)
    EXPECT_LE(enc_times[i - 1].second, enc_times[i].second);
}

TEST(Encoding, rollup_and_raw_keys_order_by_series_then_time) {
  std::vector<std::tuple<std::uint64_t, std::int64_t, std::string>> keys;
  for (std::uint64_t sid : {1ull, 2ull, 256ull, 1ull << 40})
    for (std::int64_t t : {-120ll, 0ll, 60ll, 1700000000ll}) keys.emplace_back(sid, t, enc::rollup_key(sid, t));
  auto sorted = keys;
  std::sort(sorted.begin(), sorted.end(), [](auto& a, auto& b) { return std::get<2>(a) < std::get<2>(b); });
  EXPECT_EQ(sorted, keys);  // generated in (sid, time) order already
  EXPECT_LT(enc::raw_block_key(1, 0, 5, 99), enc::raw_block_key(1, 86400, 0, 0));
  EXPECT_LT(enc::raw_block_key(1, 0, 0, 1), enc::raw_block_key(1, 0, 0, 2));
  EXPECT_LT(enc::raw_block_key(1, 86400, 9, 9), enc::raw_block_key(2, -86400, 0, 0));
  EXPECT_EQ(enc::raw_block_key(1, 0, 0, 1).size(), enc::kRawKeySize);
  EXPECT_LT(enc::log_key(0, 255), enc::log_key(0, 256));
  EXPECT_LT(enc::log_key(0, UINT64_MAX), enc::log_key(1, 0));
}

TEST(Encoding, aggregates_and_samples_round_trip) {
  Agg a = Agg::of_value(2.5, 100);
  a.merge(Agg::of_value(-7, 90));
  std::string s;
  enc::put_agg(s, a);
  ASSERT_EQ(s.size(), enc::kAggSize);
  Agg b;
  ASSERT_TRUE(enc::get_agg(s, b));
  EXPECT_EQ(b.count, 2);
  EXPECT_EQ(b.sum, -4.5);
  EXPECT_EQ(b.min, -7);
  EXPECT_EQ(b.max, 2.5);
  EXPECT_EQ(b.last, 2.5);
  EXPECT_EQ(b.last_time, 100);
  EXPECT_EQ(b.sumsq, 2.5 * 2.5 + 49);

  std::string v;
  enc::put_sample_value(v, Agg::of_value(3.25, 10), 10);
  EXPECT_EQ(v.size(), 8u) << "a single value is stored in 8 bytes";
  Agg c;
  ASSERT_TRUE(enc::get_sample_value(v, 10, c));
  EXPECT_EQ(c.sum, 3.25);
  EXPECT_EQ(c.count, 1);
  v.clear();
  enc::put_sample_value(v, a, 100);
  EXPECT_EQ(v.size(), enc::kAggSize) << "a summary keeps every field";
  EXPECT_FALSE(enc::get_agg("short", c));
}

TEST(Encoding, raw_blocks_hold_values_and_summaries_in_order) {
  std::string block;
  enc::put_raw_record(block, 100, Agg::of_value(1.5, 100));
  Agg summary = Agg::of_value(2, 90);
  summary.merge(Agg::of_value(4, 95));
  enc::put_raw_record(block, 95, summary);
  enc::put_raw_record(block, -5, Agg::of_value(-1, -5));
  EXPECT_EQ(block.size(), 17u + 9u + enc::kAggSize + 17u);
  const char* p = block.data();
  const char* e = p + block.size();
  std::int64_t t;
  Agg a;
  ASSERT_TRUE(enc::get_raw_record(p, e, t, a));
  EXPECT_EQ(t, 100);
  EXPECT_EQ(a.sum, 1.5);
  ASSERT_TRUE(enc::get_raw_record(p, e, t, a));
  EXPECT_EQ(t, 95);
  EXPECT_EQ(a.count, 2);
  EXPECT_EQ(a.max, 4);
  ASSERT_TRUE(enc::get_raw_record(p, e, t, a));
  EXPECT_EQ(t, -5);
  EXPECT_EQ(a.sum, -1);
  EXPECT_EQ(p, e);
  const char* q = block.data();
  EXPECT_FALSE(enc::get_raw_record(q, q + 12, t, a)) << "a truncated block is rejected";
}

}  // namespace vigil
