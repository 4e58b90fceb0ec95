#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "engine/encoding/keys.hpp"

namespace vigil {

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

}  // namespace vigil
