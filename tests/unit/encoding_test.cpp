#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>
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
  EXPECT_LT(enc::raw_block_key(1, 0), enc::raw_block_key(1, 86400));
  EXPECT_LT(enc::raw_block_key(1, -86400), enc::raw_block_key(1, 0));
  EXPECT_LT(enc::raw_block_key(1, 86400), enc::raw_block_key(2, -86400));
  EXPECT_EQ(enc::raw_block_key(1, 0).size(), enc::kRawKeySize);
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

namespace {

std::uint64_t bits(double d) {
  std::uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}

bool same(const Agg& a, const Agg& b) {
  return bits(a.count) == bits(b.count) && bits(a.sum) == bits(b.sum) && bits(a.min) == bits(b.min) &&
         bits(a.max) == bits(b.max) && bits(a.last) == bits(b.last) && a.last_time == b.last_time &&
         bits(a.sumsq) == bits(b.sumsq);
}

double enc_test_pow10(int k) {
  double p = 1;
  while (k-- > 0) p *= 10;
  return p;
}

std::vector<double> awkward_doubles() {
  std::vector<double> v = {0.0, -0.0, 1.0, -1.0, 0.1, 0.1 + 0.2, 88.331, -88.331, 1e-300, 5e-324, 1e300,
                           -1e300, 1.0 / 3, 123456789.123, 9007199254740991.0, 9007199254740993.0,
                           std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest(),
                           std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN(), 1e-9, 0.000000001234, 4503599627370496.5};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::uint64_t b = rng();
    double d;
    std::memcpy(&d, &b, 8);
    v.push_back(d);                                              // any bit pattern
    v.push_back(static_cast<double>(rng() % 100000) / 1000.0);   // a W1-style value
    double s = 0;
    for (int k = 0; k < 6; ++k) s += static_cast<double>(rng() % 100000) / 1000.0;
    v.push_back(s);  // a sum of decimals, often a unit or two off its decimal
    v.push_back(s * s);
    v.push_back(-static_cast<double>(rng() % 1000000000) / 1e6);
  }
  return v;
}

}  // namespace

TEST(Encoding, doubles_round_trip_bit_for_bit_and_decimals_are_short) {
  for (double d : awkward_doubles()) {
    std::string s;
    enc::put_double(s, d);
    // A hint of the places only saves work: the fewest places are still found.
    for (int hint = 0; hint < 10; ++hint) {
      std::string h;
      enc::put_double(h, d, hint);
      ASSERT_EQ(h, s) << d << " hint " << hint;
    }
    const char* p = s.data();
    double back = 0;
    ASSERT_TRUE(enc::get_double(p, s.data() + s.size(), back)) << d;
    EXPECT_EQ(p, s.data() + s.size());
    ASSERT_EQ(bits(back), bits(d)) << d;
  }
  std::string s;
  enc::put_double(s, 88.331);
  EXPECT_EQ(s.size(), 4u) << "tag + 3 varint bytes";
  s.clear();
  enc::put_double(s, 0.1 + 0.2);
  EXPECT_EQ(s.size(), 2u) << "0.3 moved by one unit in the last place";
  s.clear();
  enc::put_double(s, -0.0);
  EXPECT_EQ(s.size(), 9u) << "-0.0 keeps its sign in the raw form";
}

namespace {

// Encodes `v` as a double column and decodes it back; every double must come back bit for bit.
void expect_column_round_trip(const std::vector<double>& v, const char* what) {
  std::string s;
  enc::put_double_column(s, v.data(), v.size());
  std::vector<double> back(v.size(), 42.0);
  const char* p = s.data();
  ASSERT_TRUE(enc::get_double_column(p, s.data() + s.size(), v.size(), back.data())) << what;
  EXPECT_EQ(p, s.data() + s.size()) << what;
  for (std::size_t i = 0; i < v.size(); ++i) ASSERT_EQ(bits(back[i]), bits(v[i])) << what << " at " << i << ": " << v[i];
  // Truncations are refused; never a read past the end (ASan).
  for (std::size_t cut = 0; cut < s.size(); cut += 1 + s.size() / 64) {
    std::string part = s.substr(0, cut);
    const char* q = part.data();
    EXPECT_FALSE(enc::get_double_column(q, part.data() + part.size(), v.size(), back.data())) << what << " cut " << cut;
  }
}

}  // namespace

TEST(Encoding, double_columns_round_trip_every_mix_bit_for_bit) {
  const std::vector<double> awkward = awkward_doubles();
  std::mt19937_64 rng(5);
  for (std::size_t len : {1, 2, 3, 7, 64, 200, 1440}) {
    for (std::size_t start = 0; start + len <= awkward.size(); start += len * 37 + 1)
      expect_column_round_trip(std::vector<double>(awkward.begin() + static_cast<std::ptrdiff_t>(start),
                                                   awkward.begin() + static_cast<std::ptrdiff_t>(start + len)),
                               "awkward");
    std::vector<double> w1, counter, mixed_k, constant(len, 88.331), sums;
    double c = 1e6;
    for (std::size_t i = 0; i < len; ++i) {
      w1.push_back(static_cast<double>(rng() % 100000) / 1000.0);
      c += static_cast<double>(rng() % 50);
      counter.push_back(c);
      mixed_k.push_back(static_cast<double>(rng() % 100000) / enc_test_pow10(static_cast<int>(rng() % 10)));
      double s = 0;
      for (int k = 0; k < 6; ++k) s += static_cast<double>(rng() % 100000) / 1000.0;
      sums.push_back(s);
    }
    expect_column_round_trip(w1, "w1");
    expect_column_round_trip(counter, "counter");
    expect_column_round_trip(mixed_k, "mixed decimals");
    expect_column_round_trip(constant, "constant");
    expect_column_round_trip(sums, "sums");
    if (len >= 64) {
      std::string s;
      enc::put_double_column(s, w1.data(), w1.size());
      EXPECT_LE(s.size(), len * 17 / 8 + 16) << "3-decimal values below 100 take 17 bits";
      s.clear();
      enc::put_double_column(s, constant.data(), constant.size());
      EXPECT_LE(s.size(), 16u) << "a constant column takes no bits per value";
      s.clear();
      enc::put_double_column(s, counter.data(), counter.size());
      EXPECT_LE(s.size(), len * 6 / 8 + 16) << "a counter is stored as its increments";
      // One NaN among decimals is an exception, not a reason to store the column raw.
      w1[len / 2] = std::numeric_limits<double>::quiet_NaN();
      s.clear();
      enc::put_double_column(s, w1.data(), w1.size());
      EXPECT_LE(s.size(), len * 17 / 8 + 32);
      expect_column_round_trip(w1, "w1 with a NaN");
    }
  }
}

TEST(Encoding, small_rollup_blocks_are_written_entry_by_entry_and_read_like_columns) {
  const std::int64_t chunk = 1699920000, res = 900;
  for (std::size_t n = 1; n <= 4; ++n) {
    std::vector<std::pair<std::uint16_t, Agg>> in;
    for (std::size_t k = 0; k < n; ++k) {
      const auto i = static_cast<std::uint16_t>(3 + 7 * k);
      Agg a;
      for (int j = 0; j < 5; ++j) a.merge(Agg::of_value(static_cast<double>(j * 1234 + static_cast<int>(k)) / 1000.0, chunk + i * res + j));
      in.emplace_back(i, a);
    }
    in.emplace_back(1439, Agg::of_value(7.5, chunk + 1439 * res));
    std::string block;
    enc::RollupBlockWriter w(block, chunk, res);
    for (const auto& [i, a] : in) w.add(i, a);
    w.finish();
    std::vector<std::pair<std::uint16_t, Agg>> out;
    ASSERT_TRUE(enc::for_each_rollup_entry(block, chunk, res, [&](std::uint16_t i, const Agg& a) { out.emplace_back(i, a); }));
    ASSERT_EQ(out.size(), in.size());
    for (std::size_t k = 0; k < in.size(); ++k) {
      EXPECT_EQ(out[k].first, in[k].first);
      EXPECT_TRUE(same(out[k].second, in[k].second)) << n << " " << k;
    }
    // Only the fields asked for: the others are left at zero.
    out.clear();
    ASSERT_TRUE(enc::for_each_rollup_entry(block, chunk, res, [&](std::uint16_t i, const Agg& a) { out.emplace_back(i, a); }, 0));
    ASSERT_EQ(out.size(), in.size());
    EXPECT_EQ(bits(out[0].second.sum), bits(in[0].second.sum));
    EXPECT_EQ(out[0].second.max, 0.0);
    for (std::size_t cut = 0; cut < block.size(); ++cut)
      EXPECT_FALSE(enc::for_each_rollup_entry(block.substr(0, cut), chunk, res, [](std::uint16_t, const Agg&) {})) << cut;
  }
}

TEST(Encoding, integer_columns_round_trip_every_width) {
  std::mt19937_64 rng(3);
  for (int b = 0; b <= 64; ++b) {
    for (std::size_t n : {1, 2, 7, 8, 9, 33, 100}) {
      std::vector<std::int64_t> v(n);
      for (auto& x : v) x = static_cast<std::int64_t>(b == 64 ? rng() : b == 0 ? 0 : rng() >> (64 - b)) - 12345;
      std::string s;
      enc::put_int_column(s, v.data(), n);
      std::vector<std::int64_t> back(n, 99);
      const char* p = s.data();
      ASSERT_TRUE(enc::get_int_column(p, s.data() + s.size(), n, back.data())) << b << " " << n;
      EXPECT_EQ(p, s.data() + s.size());
      ASSERT_EQ(back, v) << b << " " << n;
    }
  }
}

TEST(Encoding, patched_columns_keep_regular_times_at_no_bits_per_value) {
  std::vector<std::uint64_t> v(1000, 0);
  v[10] = 20;            // a gap
  v[11] = 39;            // and back
  v[500] = ~0ull;        // an extreme value
  std::string s;
  enc::put_patched_column(s, v.data(), v.size());
  EXPECT_LE(s.size(), 24u);
  std::vector<std::uint64_t> back(v.size(), 7);
  const char* p = s.data();
  ASSERT_TRUE(enc::get_patched_column(p, s.data() + s.size(), v.size(), back.data()));
  EXPECT_EQ(back, v);
  for (std::size_t cut = 0; cut < s.size(); ++cut) {
    std::string part = s.substr(0, cut);
    const char* q = part.data();
    EXPECT_FALSE(enc::get_patched_column(q, part.data() + part.size(), v.size(), back.data())) << cut;
  }
}

TEST(Encoding, raw_blocks_hold_values_and_summaries_in_order) {
  std::string block;
  enc::RawBlockWriter w(block, 1699920000);
  Agg summary = Agg::of_value(2, 90);
  summary.merge(Agg::of_value(4, 95));
  std::vector<std::pair<std::int64_t, Agg>> in = {{100, Agg::of_value(1.5, 100)}, {95, summary},
                                                  {-5, Agg::of_value(-1, -5)}};
  for (std::int64_t t = 1700000000; t < 1700000000 + 2000; t += 10) in.emplace_back(t, Agg::of_value(double(t % 977) / 100, t));
  in.emplace_back(1700003000, Agg::of_value(std::numeric_limits<double>::quiet_NaN(), 1700003000));
  for (const auto& [t, a] : in) w.add(t, a);
  w.finish();
  EXPECT_LT(block.size(), 4 * in.size()) << "regular spacing and short decimals";
  std::vector<std::pair<std::int64_t, Agg>> out;
  ASSERT_TRUE(enc::get_raw_records(block, 1699920000, out));
  ASSERT_EQ(out.size(), in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].first, in[i].first) << i;
    EXPECT_TRUE(same(out[i].second, in[i].second)) << i;
  }
  // Every truncation is rejected and appends nothing, never reads past the end (ASan).
  for (std::size_t cut = 0; cut < block.size(); ++cut) {
    std::string part = block.substr(0, cut);
    out.assign(1, {7, Agg::of_value(7, 7)});
    EXPECT_FALSE(enc::get_raw_records(part, 1699920000, out)) << cut;
    EXPECT_EQ(out.size(), 1u) << cut;
  }
}

TEST(Encoding, rollup_blocks_round_trip_aggregates_and_reject_garbage) {
  std::mt19937_64 rng(11);
  const std::int64_t chunk = 1699920000, res = 60;
  std::vector<std::pair<std::uint16_t, Agg>> in;
  for (std::uint16_t i = 0; i < enc::kRollupChunkBuckets; i += static_cast<std::uint16_t>(1 + rng() % 40)) {
    std::int64_t start = chunk + i * res;
    Agg a;
    int n = 1 + static_cast<int>(rng() % 7);
    for (int k = 0; k < n; ++k) a.merge(Agg::of_value(static_cast<double>(rng() % 100000) / 1000.0, start + k * 10));
    if (i % 5 == 0) a.count = 2.5;             // a fractional count (summary fields)
    if (i % 7 == 0) a.last_time = start - 999;  // last time outside its bucket
    in.emplace_back(i, a);
  }
  in.emplace_back(1439, Agg::of_value(-0.0, chunk + 1439 * res));  // the last index, a negative zero
  std::string block;
  enc::RollupBlockWriter w(block, chunk, res);
  for (const auto& [i, a] : in) w.add(i, a);
  w.finish();
  EXPECT_LT(block.size(), 30 * in.size());
  std::vector<std::pair<std::uint16_t, Agg>> out;
  ASSERT_TRUE(enc::for_each_rollup_entry(block, chunk, res, [&](std::uint16_t i, const Agg& a) { out.emplace_back(i, a); }));
  ASSERT_EQ(out.size(), in.size());
  for (std::size_t k = 0; k < in.size(); ++k) {
    EXPECT_EQ(out[k].first, in[k].first);
    EXPECT_TRUE(same(out[k].second, in[k].second)) << k;
  }
  for (std::size_t cut = 0; cut < block.size(); ++cut) {
    std::size_t n = 0;
    bool ok = enc::for_each_rollup_entry(block.substr(0, cut), chunk, res, [&](std::uint16_t, const Agg&) { ++n; });
    EXPECT_TRUE(!ok || n < in.size()) << cut;
  }
  // Random bytes: rejected or decoded, never past the end, never an index beyond the chunk.
  for (int r = 0; r < 500; ++r) {
    std::string junk(rng() % 64, '\0');
    for (auto& c : junk) c = static_cast<char>(rng());
    enc::for_each_rollup_entry(junk, chunk, res, [&](std::uint16_t i, const Agg&) { EXPECT_LT(i, enc::kRollupChunkBuckets); });
    std::vector<std::pair<std::int64_t, Agg>> records;
    if (!enc::get_raw_records(junk, 0, records)) {
      EXPECT_TRUE(records.empty());
    }
  }
}

}  // namespace vigil
