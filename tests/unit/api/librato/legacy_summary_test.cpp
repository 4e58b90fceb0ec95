#include "api/librato/legacy_summary.hpp"

#include <gtest/gtest.h>

namespace vigil {
namespace {

LegacyRecord point(std::int64_t t, double v) { return LegacyRecord{t, 1, v, v, v, v, 0}; }

TEST(LegacySummary, time_sources_and_group_functions) {
  std::map<std::string, std::vector<LegacyRecord>> data = {{"a", {point(0, 1), point(60, 3)}},
                                                           {"b", {point(0, 5)}}};
  auto d = data;
  summarize_legacy(d, {});
  EXPECT_EQ(d.at("a").size(), 2u);  // nothing asked: unchanged
  d = data;
  summarize_legacy(d, {true, false, true, LegacyGroup::none, false});
  ASSERT_EQ(d.at("a").size(), 1u);
  EXPECT_EQ(d.at("a")[0].count, 2);
  EXPECT_EQ(d.at("a")[0].sum, 4);
  EXPECT_EQ(d.at("a")[0].value, 2);
  EXPECT_EQ(d.count("all"), 0u);
  d = data;
  summarize_legacy(d, {false, true, false, LegacyGroup::min, false});
  ASSERT_EQ(d.size(), 1u);
  const auto& all = d.at("all");
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].time, 0);
  EXPECT_EQ(all[0].value, 1);  // min of 1 and 5
  EXPECT_EQ(all[0].count, 2);  // total samples
  EXPECT_EQ(all[0].summarized, 2u);
  EXPECT_EQ(all[1].value, 3);
  EXPECT_EQ(all[1].summarized, 1u);
  d = data;
  summarize_legacy(d, {false, true, true, LegacyGroup::count, false});
  EXPECT_EQ(d.at("all")[0].value, 2);
  EXPECT_EQ(parse_legacy_group("average"), LegacyGroup::mean);
  EXPECT_EQ(parse_legacy_group("p99"), std::nullopt);
}

TEST(LegacySummary, counters_use_deltas_with_resets) {
  std::map<std::string, std::vector<LegacyRecord>> d = {{"a", {point(0, 5), point(60, 8), point(120, 2)}}};
  summarize_legacy(d, {true, false, true, LegacyGroup::none, true});
  ASSERT_EQ(d.at("a").size(), 1u);
  EXPECT_EQ(d.at("a")[0].time, 60);
  EXPECT_EQ(d.at("a")[0].sum, 5);  // 3 + 2 (reset: the new value)
  EXPECT_EQ(d.at("a")[0].min, 2);
  EXPECT_EQ(d.at("a")[0].max, 3);
}

}  // namespace
}  // namespace vigil
