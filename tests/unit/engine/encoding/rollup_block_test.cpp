#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/encoding/raw_block.hpp"
#include "engine/encoding/rollup_block.hpp"
#include "test_values.hpp"

namespace vigil {

using namespace encoding_test;

// Found by fuzz/rollup_block: the first index of a consecutive block is a varint, and a huge one
// wrapped `first + n` past the bound check, giving indices outside the chunk (not ascending).
TEST(Encoding, rollup_block_refuses_a_first_index_that_wraps) {
  const std::int64_t res = 60, chunk = 1699920000 - 1699920000 % (res * 1440);
  std::string block;
  enc::RollupBlockWriter w(block, chunk, res);
  for (std::int64_t k = 0; k < 3; ++k) w.add_bucket(chunk + k * res, Agg::of_value(1.5 * k, chunk + k * res));
  w.finish();
  ASSERT_EQ(block[0], 3);
  ASSERT_TRUE(block[1] & 2) << "consecutive indices";
  ASSERT_EQ(block[2], 0) << "first index 0";
  enc::RollupColumns c;
  ASSERT_TRUE(enc::decode_rollup_block(block, chunk, res, c));
  EXPECT_EQ(c.n, 3u);
  // First index 2^64 - 2: first + 3 wraps to 1.
  std::string tampered = block.substr(0, 2) + std::string("\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10) + block.substr(3);
  EXPECT_FALSE(enc::decode_rollup_block(tampered, chunk, res, c));
  // The last index that fits, and one past it.
  std::string last = block.substr(0, 2) + std::string("\x9d\x0b", 2) + block.substr(3);  // 1437: 1437..1439
  EXPECT_TRUE(enc::decode_rollup_block(last, chunk, res, c));
  EXPECT_EQ(c.index[2], 1439);
  std::string past = block.substr(0, 2) + std::string("\x9e\x0b", 2) + block.substr(3);  // 1438..1440
  EXPECT_FALSE(enc::decode_rollup_block(past, chunk, res, c));
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
