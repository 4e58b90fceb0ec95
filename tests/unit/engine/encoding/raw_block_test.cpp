#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "engine/encoding/raw_block.hpp"
#include "test_values.hpp"

namespace vigil {

using namespace encoding_test;

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

}  // namespace vigil
