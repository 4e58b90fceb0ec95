#include <gtest/gtest.h>

#include <string>

#include "engine/encoding/series_key.hpp"

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

}  // namespace vigil
