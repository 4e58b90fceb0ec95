// The UbiOps dialect's pure parts: ISO 8601 dates, labels onto tags and back, label filters,
// project and metric names, and what each role may do.
#include <gtest/gtest.h>

#include "api/ubiops/codec.hpp"
#include "api/ubiops/dialect.hpp"
#include "api/librato/lang/normalize.hpp"  // encoded labels stay valid Librato tags too
#include "engine/model/limits.hpp"
#include "engine/model/text.hpp"

using namespace vigil;
using namespace vigil::api::ubiops;

TEST(UbiOpsCodec, parses_iso_dates_with_and_without_offsets) {
  // 2023-09-15T20:12:33Z = 1694808753
  EXPECT_EQ(parse_date("2023-09-15T20:12:33Z"), 1694808753LL * 1000000);
  EXPECT_EQ(parse_date("2023-09-15T20:12:33.210+00:00"), 1694808753LL * 1000000 + 210000);
  EXPECT_EQ(parse_date("2023-09-15T22:12:33+02:00"), 1694808753LL * 1000000);
  EXPECT_EQ(parse_date("2023-09-15T19:42:33-0030"), 1694808753LL * 1000000);
  EXPECT_EQ(parse_date("2023-09-15T20:12:33"), 1694808753LL * 1000000) << "no offset: UTC";
  EXPECT_EQ(parse_date("2023-09-15 20:12:33.123456789Z"), 1694808753LL * 1000000 + 123456);
  EXPECT_EQ(parse_date("2023-09-15T20:12Z"), 1694808720LL * 1000000);
  EXPECT_EQ(parse_date("2023-09-15"), 1694736000LL * 1000000);
  EXPECT_EQ(parse_date("2024-02-29T00:00:00Z"), 1709164800LL * 1000000) << "leap day";
  EXPECT_EQ(parse_date("1970-01-01T00:00:00Z"), 0);
  for (const char* bad : {"", "yesterday", "2023-13-01", "2023-02-29", "2023-09-15T25:00:00Z", "2023-09-15T20:12:33Q",
                          "2023-09-15T20:12:33+2", "2023-09-15T20:12:33.Z", "1969-12-31T23:59:59Z", "1694808753",
                          "2023-09-15T20:12:33Zjunk", "2023/09/15"})
    EXPECT_FALSE(parse_date(bad).has_value()) << bad;
}

TEST(UbiOpsCodec, formats_dates) {
  EXPECT_EQ(format_seconds(1694808753), "2023-09-15T20:12:33Z");
  EXPECT_EQ(format_seconds(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_seconds(1709164800), "2024-02-29T00:00:00Z");
  EXPECT_EQ(format_micros(1694808753LL * 1000000 + 876451), "2023-09-15T20:12:33.876451Z");
  EXPECT_EQ(format_micros(5), "1970-01-01T00:00:00.000005Z");
  for (std::int64_t t : {0LL, 951782400LL, 1694808753LL, 4102444799LL})
    EXPECT_EQ(parse_date(format_seconds(t)), t * 1000000) << t;
}

TEST(UbiOpsCodec, labels_encode_into_the_tag_charset_and_back) {
  for (std::string s : {"deployment_version_id", "056efa9e-67eb-45e3-a49a-0742b3f08aee", "Prod/EU", "a:b", "x y",
                        "ünï", ":41", "*", "!x", "ubiops:labels"}) {
    std::string enc = encode_label(s);
    for (char c : enc) EXPECT_TRUE(is_tag_char(c) && !(c >= 'A' && c <= 'Z')) << s << " -> " << enc;
    EXPECT_EQ(decode_label(enc), s) << enc;
  }
  EXPECT_EQ(encode_label("Prod/EU"), ":50rod:2f:45:55");
  EXPECT_EQ(encode_label("plain-value_1.0"), "plain-value_1.0") << "common values stay readable";
  EXPECT_FALSE(decode_label(":zz").has_value());
  EXPECT_FALSE(decode_label(":6").has_value());
  EXPECT_FALSE(decode_label(":61").has_value()) << "'a' is never escaped";
  EXPECT_FALSE(decode_label("A").has_value());
  EXPECT_FALSE(decode_label(std::string(kNoLabelsTag)).has_value()) << "the placeholder is no encoded label";
}

TEST(UbiOpsCodec, label_sets_become_sorted_valid_tags) {
  Tags tags;
  EXPECT_EQ(labels_to_tags({{"zone", "EU"}, {"deployment", "d1"}}, tags), "");
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[0], (Tag{"deployment", "d1"}));
  EXPECT_EQ(tags[1], (Tag{"zone", ":45:55"}));
  for (const auto& [k, v] : tags) {
    std::string out;
    EXPECT_EQ(normalize_tag_name(k, out), "");
    EXPECT_EQ(normalize_tag_value(v, out), "");
  }
  std::vector<std::pair<std::string, std::string>> back;
  ASSERT_TRUE(tags_to_labels(tags, back));
  EXPECT_EQ(back, (std::vector<std::pair<std::string, std::string>>{{"deployment", "d1"}, {"zone", "EU"}}));

  EXPECT_EQ(labels_to_tags({}, tags), "");
  EXPECT_EQ(tags, (Tags{{std::string(kNoLabelsTag), std::string(kNoLabelsValue)}})) << "never empty";
  ASSERT_TRUE(tags_to_labels(tags, back));
  EXPECT_TRUE(back.empty());

  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 11; ++i) many.emplace_back("k" + std::to_string(i), "v");
  EXPECT_NE(labels_to_tags(many, tags), "");
  EXPECT_NE(labels_to_tags({{"k", ""}}, tags), "");
  EXPECT_NE(labels_to_tags({{"", "v"}}, tags), "");
  EXPECT_NE(labels_to_tags({{std::string(30, '/'), "v"}}, tags), "") << "too long once encoded";
}

TEST(UbiOpsCodec, label_filters) {
  std::vector<std::pair<std::string, std::string>> f;
  EXPECT_EQ(parse_label_filter("a:1, b:x:y", f), "");
  EXPECT_EQ(f, (std::vector<std::pair<std::string, std::string>>{{"a", "1"}, {"b", "x:y"}}));
  EXPECT_EQ(parse_label_filter("", f), "");
  EXPECT_TRUE(f.empty());
  for (const char* bad : {"a", "a:", ":1", "a:1,", "a:1,,b:2", "a:1,a:2"}) EXPECT_NE(parse_label_filter(bad, f), "") << bad;
}

TEST(UbiOpsCodec, names) {
  EXPECT_TRUE(valid_project_name("my-project-1"));
  EXPECT_FALSE(valid_project_name(""));
  EXPECT_FALSE(valid_project_name("My"));
  EXPECT_FALSE(valid_project_name("a.b"));
  EXPECT_FALSE(valid_project_name("-a"));
  EXPECT_FALSE(valid_project_name(std::string(65, 'a')));
  EXPECT_EQ(check_metric_name("custom.metric-1"), "");
  EXPECT_NE(check_metric_name("deployments.requests"), "");
  EXPECT_NE(check_metric_name("custom."), "");
  EXPECT_NE(check_metric_name("custom.a b"), "");
  EXPECT_NE(check_metric_name("custom." + std::string(58, 'a')), "");
  EXPECT_EQ(check_metric_name("custom." + std::string(57, 'a')), "");
}

TEST(UbiOpsRoles, viewer_reads_recorder_writes_data_admin_everything) {
  const std::string p = "/v2.1/projects/p/";
  EXPECT_EQ(need_of("GET", p + "metrics"), Need::read);
  EXPECT_EQ(need_of("GET", p + "time-series/data"), Need::read);
  EXPECT_EQ(need_of("POST", p + "time-series/data"), Need::record);
  EXPECT_EQ(need_of("POST", p + "time-series/aggregate"), Need::record);
  EXPECT_EQ(need_of("POST", p + "metrics"), Need::admin);
  EXPECT_EQ(need_of("PATCH", p + "metrics/custom.x"), Need::admin);
  EXPECT_EQ(need_of("DELETE", p + "time-series/7"), Need::admin);
  EXPECT_TRUE(role_allows(Role::viewer, Need::read));
  EXPECT_FALSE(role_allows(Role::viewer, Need::record));
  EXPECT_FALSE(role_allows(Role::viewer, Need::admin));
  EXPECT_FALSE(role_allows(Role::recorder, Need::read));
  EXPECT_TRUE(role_allows(Role::recorder, Need::record));
  EXPECT_FALSE(role_allows(Role::recorder, Need::admin));
  for (Need n : {Need::read, Need::record, Need::admin}) EXPECT_TRUE(role_allows(Role::admin, n));
}
