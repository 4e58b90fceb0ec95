#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "engine/encoding/bytes.hpp"

namespace vigil {

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

}  // namespace vigil
