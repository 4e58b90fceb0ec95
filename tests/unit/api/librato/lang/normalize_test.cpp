#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "api/librato/lang/normalize.hpp"

namespace vigil {

TEST(LibratoNames, metric_name_accepts_the_librato_charset) {
  EXPECT_TRUE(valid_metric_name("AWS.EC2.DiskWriteBytes"));
  EXPECT_TRUE(valid_metric_name("a:b_c-d.e9"));
  EXPECT_TRUE(valid_metric_name("x"));
}

TEST(LibratoNames, metric_name_rejects_other_characters) {
  EXPECT_FALSE(valid_metric_name("cpu load"));
  EXPECT_FALSE(valid_metric_name("cpu/load"));
  EXPECT_FALSE(valid_metric_name("cpu*"));
  EXPECT_FALSE(valid_metric_name("caf\xc3\xa9"));
}

TEST(LibratoNames, metric_name_length_is_1_to_255) {
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_TRUE(valid_metric_name(std::string(255, 'a')));
  EXPECT_FALSE(valid_metric_name(std::string(256, 'a')));
}

TEST(LibratoNames, tag_name_is_lower_cased) {
  std::string out;
  EXPECT_EQ(normalize_tag_name("Region-1.Az:x_Y", out), "");
  EXPECT_EQ(out, "region-1.az:x_y");
}

TEST(LibratoNames, tag_name_rejects_characters_outside_the_regex) {
  std::string out;
  EXPECT_NE(normalize_tag_name("my tag", out), "");
  EXPECT_NE(normalize_tag_name("a/b", out), "");
  EXPECT_NE(normalize_tag_name("a=b", out), "");
  EXPECT_NE(normalize_tag_name("a\nb", out), "");
}

TEST(LibratoNames, tag_name_length_is_1_to_64) {
  std::string out;
  EXPECT_NE(normalize_tag_name("", out), "");
  EXPECT_EQ(normalize_tag_name(std::string(64, 'K'), out), "");
  EXPECT_EQ(out, std::string(64, 'k'));
  EXPECT_NE(normalize_tag_name(std::string(65, 'k'), out), "");
}

TEST(LibratoNames, tag_value_length_is_1_to_256) {
  std::string out;
  EXPECT_NE(normalize_tag_value("", out), "");
  EXPECT_EQ(normalize_tag_value(std::string(256, 'V'), out), "");
  EXPECT_EQ(out, std::string(256, 'v'));
  EXPECT_NE(normalize_tag_value(std::string(257, 'v'), out), "");
}

TEST(LibratoNames, tag_value_is_lower_cased_and_checked) {
  std::string out;
  EXPECT_EQ(normalize_tag_value("US-East-1", out), "");
  EXPECT_EQ(out, "us-east-1");
  EXPECT_NE(normalize_tag_value("us east", out), "");
  EXPECT_NE(normalize_tag_value("a,b", out), "");
}

TEST(LibratoNames, tag_value_can_be_normalised_in_place) {
  std::string s = "MiXeD";
  EXPECT_EQ(normalize_tag_value(s, s), "");
  EXPECT_EQ(s, "mixed");
}

TEST(LibratoNames, source_is_lower_cased) {
  std::string out;
  EXPECT_EQ(normalize_source("Prod-US-West.host:1_a", out), "");
  EXPECT_EQ(out, "prod-us-west.host:1_a");
}

TEST(LibratoNames, source_all_is_reserved_in_any_case) {
  std::string out;
  EXPECT_NE(normalize_source("all", out), "");
  EXPECT_NE(normalize_source("ALL", out), "");
  EXPECT_EQ(normalize_source("all2", out), "");
  EXPECT_EQ(out, "all2");
}

TEST(LibratoNames, source_length_and_charset) {
  std::string out;
  EXPECT_NE(normalize_source("", out), "");
  EXPECT_EQ(normalize_source(std::string(255, 's'), out), "");
  EXPECT_NE(normalize_source(std::string(256, 's'), out), "");
  EXPECT_NE(normalize_source("foo bar", out), "");
}

TEST(LibratoNames, at_most_ten_tags) {
  EXPECT_EQ(check_tag_count(0), "");
  EXPECT_EQ(check_tag_count(10), "");
  EXPECT_NE(check_tag_count(11), "");
}

}  // namespace vigil
