#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/encoding/columns.hpp"
#include "test_values.hpp"

namespace vigil {

using namespace encoding_test;

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

// Found by fuzz/columns (UBSan): a raw double column of no values was copied with memcpy into a
// null output (the data() of an empty vector).
TEST(Encoding, an_empty_raw_double_column_reads_into_no_storage) {
  const std::string column("\x01\x00", 2);  // byte length 1, head kColumnRaw, no values
  const char* p = column.data();
  EXPECT_TRUE(enc::get_double_column(p, column.data() + column.size(), 0, nullptr));
  EXPECT_EQ(p, column.data() + column.size());
  p = column.data();
  double one;
  EXPECT_FALSE(enc::get_double_column(p, column.data() + column.size(), 1, &one)) << "one value expected, none there";
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

}  // namespace vigil
