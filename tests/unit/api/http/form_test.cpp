#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "api/http/form.hpp"

namespace vigil {

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(UrlDecode, decodes_percent_escapes_in_either_case) {
  EXPECT_EQ(url_decode("tags%5Bregion%5D=us-%2a"), "tags[region]=us-*");
  EXPECT_EQ(url_decode("%e2%82%AC"), "\xe2\x82\xac");
}

TEST(UrlDecode, plus_is_space_by_default) {
  EXPECT_EQ(url_decode("a+b%20c"), "a b c");
  EXPECT_EQ(url_decode("a+b%20c", false), "a+b c");
}

TEST(UrlDecode, invalid_escapes_are_kept_literally) {
  EXPECT_EQ(url_decode("100%"), "100%");
  EXPECT_EQ(url_decode("%4"), "%4");
  EXPECT_EQ(url_decode("%zz%41"), "%zzA");
  EXPECT_EQ(url_decode("%%41"), "%A");
  EXPECT_EQ(url_decode("a%4g"), "a%4g");
}

TEST(UrlDecode, decodes_nul_and_encoded_plus) {
  EXPECT_EQ(url_decode("a%00b"), std::string("a\0b", 3));
  EXPECT_EQ(url_decode("1%2B1"), "1+1");
  EXPECT_EQ(url_decode(""), "");
}

TEST(ParseUrlencoded, keeps_order_and_duplicates) {
  EXPECT_EQ(parse_urlencoded("b=2&a=1&b=3"), (Pairs{{"b", "2"}, {"a", "1"}, {"b", "3"}}));
}

TEST(ParseUrlencoded, decodes_keys_and_values) {
  EXPECT_EQ(parse_urlencoded("gauges%5B0%5D%5Bname%5D=cpu+temp&x=a%3Db"),
            (Pairs{{"gauges[0][name]", "cpu temp"}, {"x", "a=b"}}));
}

TEST(ParseUrlencoded, skips_empty_segments_and_allows_missing_values) {
  EXPECT_EQ(parse_urlencoded("&&a&b=&=c&"), (Pairs{{"a", ""}, {"b", ""}, {"", "c"}}));
  EXPECT_TRUE(parse_urlencoded("").empty());
}

TEST(ParseUrlencoded, only_the_first_equals_splits) {
  EXPECT_EQ(parse_urlencoded("q=a=b=c"), (Pairs{{"q", "a=b=c"}}));
}

TEST(ShownName, short_names_are_whole_and_long_ones_cut_at_64_bytes) {
  EXPECT_EQ(shown_name("gauges[0][name]"), "gauges[0][name]");
  const std::string n64(64, 'k');
  EXPECT_EQ(shown_name(n64), n64);
  EXPECT_EQ(shown_name(n64 + "x"), n64 + "...");
}

TEST(ShownName, invalid_bytes_and_a_character_cut_in_two_become_replacement_characters) {
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(shown_name("a\xB5" "b"), "a" + replacement + "b");
  EXPECT_EQ(shown_name("\xC2\xB5"), "\xC2\xB5");
  // The 64th and 65th bytes are one character (U+00B5): the cut leaves its first byte alone.
  std::string name(63, 'k');
  name.append("\xC2\xB5").append("tail");
  std::string shown(63, 'k');
  shown.append(replacement).append("...");
  EXPECT_EQ(shown_name(name), shown);
}

}  // namespace vigil
