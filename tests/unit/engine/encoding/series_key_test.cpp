#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "engine/encoding/series_key.hpp"

namespace vigil {

using namespace std::string_literals;

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

namespace {

void expect_round_trip(std::string_view metric, const Tags& tags) {
  const std::string key = enc::series_key(metric, tags);
  std::string back_metric;
  Tags back;
  ASSERT_TRUE(enc::parse_series_key(key, back_metric, back)) << key;
  EXPECT_EQ(back_metric, metric);
  EXPECT_EQ(back, tags);
  std::string appended = "earlier key";
  enc::append_series_key(appended, metric, tags);
  EXPECT_EQ(appended, "earlier key" + key) << "append_series_key writes the same key";
  // The metric's prefix: the key starts with it, and it holds no raw NUL but its last byte.
  std::string prefix;
  enc::append_key_text(prefix, metric);
  EXPECT_EQ(prefix.find('\0'), std::string::npos);
  prefix.push_back('\0');
  EXPECT_EQ(key.compare(0, prefix.size(), prefix), 0);
  Tags tags_only;
  ASSERT_TRUE(enc::parse_tags_key(key.substr(prefix.size()), tags_only));
  EXPECT_EQ(tags_only, tags);
}

}  // namespace

TEST(Encoding, series_keys_of_plain_text_are_unchanged) {
  // Librato's character set: what every stored key holds; escapes must not change a byte of it.
  EXPECT_EQ(enc::series_key("app.requests:p99_ms-x", {{"env", "prod"}, {"host", "web-1.us-east:2_a"}}),
            "app.requests:p99_ms-x\0env=prod,host=web-1.us-east:2_a"s);
  EXPECT_EQ(enc::series_key("cpu", {}), "cpu\0"s);
  // Any other byte but the four is plain too (spaces, '#', upper case, multi-byte UTF-8).
  EXPECT_EQ(enc::series_key("ICE.NDEX.NLB", {{"Desk", "Zürich #2 ☃"}}),
            "ICE.NDEX.NLB\0Desk=Z\xC3\xBCrich #2 \xE2\x98\x83"s);
  std::string tags;
  enc::append_tags_key(tags, {{"host", "a"}, {"region", "x"}});
  EXPECT_EQ(tags, "host=a,region=x");
}

TEST(Encoding, series_keys_round_trip_names_and_values_with_every_special_byte) {
  const std::string specials[] = {"\\", std::string(1, '\0'), "=", ",", "a\\b", "a=b", "a,b", "a\0b"s,
                                  "\\0", "\\=", "=,\\", "x\\", "\\\\", ",,", "==", "trailing,", "=leading"};
  for (const std::string& s : specials) {
    SCOPED_TRACE(s);
    expect_round_trip("m", {{"name", s}});
    expect_round_trip("m", {{s, "value"}});
    expect_round_trip(s, {{"host", "a"}});
    expect_round_trip("m" + s, {{s, s}, {"z" + s, s + "z"}});
    expect_round_trip(s, {});
  }
  expect_round_trip("metric with spaces", {{"Desk Name", "Zürich #2"}, {"snow", "☃=☃,☃"}});
  expect_round_trip("ICE.NDEX.NLB", {{"A", "B"}, {"a", "b"}});
  expect_round_trip("名前", {{"キー", "値,値=値"}, {"emoji", "🙂\\🙃"}});
  // An escaped key stays short: one backslash per special byte.
  EXPECT_EQ(enc::series_key("m", {{"k", "a=b"}}), "m\0k=a\\=b"s);
  EXPECT_EQ(enc::series_key("m", {{"k", "a\0b"s}}), "m\0k=a\\0b"s);
  EXPECT_EQ(enc::series_key("a\\b", {}), "a\\\\b\0"s);
}

TEST(Encoding, different_tag_sets_never_give_the_same_series_key) {
  // Pairs that joined without escapes would read alike.
  const std::vector<std::pair<std::string, Tags>> series = {
      {"m", {{"a", "b,c=d"}}},
      {"m", {{"a", "b"}, {"c", "d"}}},
      {"m", {{"a=b", "c"}}},
      {"m", {{"a", "b=c"}}},
      {"m\0a"s, {{"b", "c"}}},
      {"m", {{"a", "b"}}},
      {"m", {{"a", "b\\"}}},
      {"m", {{"a", "b\\,c=d"}}},
      {"m", {{"a", "b\\"}, {"c", "d"}}},
      {"m", {{"a", ""}}},
      {"m", {}},
      {"m=", {}},
      {"m", {{"a", ","}}},
      {"m", {{"a", ""}, {"", ""}}},
      {"m", {{"a", "\\0"}}},
      {"m", {{"a", std::string(1, '\0')}}},
  };
  std::set<std::string> keys;
  for (const auto& [metric, tags] : series) keys.insert(enc::series_key(metric, tags));
  EXPECT_EQ(keys.size(), series.size());
  // Random texts over the special bytes and a few others: equal keys only for equal input.
  std::mt19937_64 rng(17);
  const char alphabet[] = {'\\', '\0', '=', ',', 'a', '0'};
  auto text = [&] {
    std::string s(1 + rng() % 4, 'a');
    for (auto& c : s) c = alphabet[rng() % sizeof alphabet];
    return s;
  };
  std::map<std::string, std::pair<std::string, Tags>> seen;
  for (int i = 0; i < 5000; ++i) {
    std::string metric = text();
    Tags tags;
    for (std::size_t t = rng() % 3; t > 0; --t) tags.emplace_back(text(), text());
    auto [it, fresh] = seen.emplace(enc::series_key(metric, tags), std::make_pair(metric, tags));
    if (!fresh) {
      EXPECT_EQ(it->second.first, metric);
      EXPECT_EQ(it->second.second, tags);
    }
  }
}

TEST(Encoding, series_keys_with_broken_escapes_are_malformed) {
  std::string metric;
  Tags tags;
  EXPECT_FALSE(enc::parse_series_key("m\0a=b\\"s, metric, tags)) << "a lone backslash at the end";
  EXPECT_FALSE(enc::parse_series_key("m\0a=b\\x"s, metric, tags)) << "an unknown escape";
  EXPECT_FALSE(enc::parse_series_key("m\\\0a=b"s, metric, tags)) << "a backslash before the NUL";
  EXPECT_FALSE(enc::parse_series_key("m\0a\\=b"s, metric, tags)) << "a pair without a raw '='";
}

}  // namespace vigil
