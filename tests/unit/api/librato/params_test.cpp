#include "api/librato/params.hpp"

#include <gtest/gtest.h>

namespace vigil::api::librato {
namespace {

using nlohmann::json;

TEST(FormToJson, brackets_nest_and_indexes_become_arrays) {
  auto j = form_to_json({{"name", "cpu"},
                         {"attributes[color]", "red"},
                         {"attributes[display_min]", "0"},
                         {"names[]", "a"},
                         {"names[]", "b"},
                         {"streams[1][metric]", "mem"},
                         {"streams[0][metric]", "cpu"},
                         {"streams[0][tags][0][name]", "host"},
                         {"links[0][rel]", "github"}});
  EXPECT_EQ(j["name"], "cpu");
  EXPECT_EQ(j["attributes"], json({{"color", "red"}, {"display_min", "0"}}));
  EXPECT_EQ(j["names"], json({"a", "b"}));
  ASSERT_TRUE(j["streams"].is_array());
  EXPECT_EQ(j["streams"][0]["metric"], "cpu");
  EXPECT_EQ(j["streams"][1]["metric"], "mem");
  EXPECT_EQ(j["streams"][0]["tags"][0]["name"], "host");
  EXPECT_EQ(j["links"][0]["rel"], "github");
}

TEST(FormToJson, repeated_keys_collect_values) {
  auto j = form_to_json({{"names", "cpu"}, {"names", "servers"}, {"names", "reqs"}, {"one", "x"}});
  EXPECT_EQ(j["names"], json({"cpu", "servers", "reqs"}));
  EXPECT_EQ(j["one"], "x");
}

TEST(FormToJson, malformed_brackets_are_plain_keys) {
  auto j = form_to_json({{"a[b", "1"}, {"c]d", "2"}, {"[x]", "3"}});
  EXPECT_EQ(j["a[b"], "1");
  EXPECT_EQ(j["c]d"], "2");
  EXPECT_EQ(j["[x]"], "3");
}

TEST(Params, typed_reads_accept_json_and_form_text) {
  json j = {{"a", "true"}, {"b", false}, {"n", "42"}, {"m", 7}, {"x", "zz"}, {"l", "a,b"}, {"k", {"p", "q"}}};
  bool bad = false;
  EXPECT_EQ(get_bool(j, "a", bad), true);
  EXPECT_EQ(get_bool(j, "b", bad), false);
  EXPECT_EQ(get_int(j, "n", bad), 42);
  EXPECT_EQ(get_int(j, "m", bad), 7);
  EXPECT_EQ(get_string(j, "missing", bad), std::nullopt);
  EXPECT_FALSE(bad);
  EXPECT_EQ(get_int(j, "x", bad), std::nullopt);
  EXPECT_TRUE(bad);
  // Numbers an int64 cannot hold are refused, not cast (the cast of such a double is undefined).
  json big = json::parse(R"({"f":1e300,"g":-9.3e18,"h":18446744073709551615,"i":12.5,"j":-3.0,"k":9.2e18})");
  for (const char* k : {"f", "g", "h", "i"}) {
    bad = false;
    EXPECT_EQ(get_int(big, k, bad), std::nullopt) << k;
    EXPECT_TRUE(bad) << k;
  }
  bad = false;
  EXPECT_EQ(get_int(big, "j", bad), -3);
  EXPECT_EQ(get_int(big, "k", bad), 9200000000000000000LL);
  EXPECT_FALSE(bad);
  bad = false;
  EXPECT_EQ(get_bool(j, "x", bad), std::nullopt);
  EXPECT_TRUE(bad);
  bad = false;
  EXPECT_EQ(get_strings(j, "l", bad), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(get_strings(j, "k", bad), (std::vector<std::string>{"p", "q"}));
  EXPECT_FALSE(bad);
}

TEST(Wildcard, globs_case_insensitively) {
  EXPECT_TRUE(glob_match("*token*", "My Token one"));
  EXPECT_TRUE(glob_match("cpu*.90", "cpu.user.90"));
  EXPECT_FALSE(glob_match("cpu*.90", "cpu.user.95"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("*", ""));
  EXPECT_EQ(search_pattern("foo.bar"), "*foo.bar*");
  EXPECT_EQ(search_pattern("foo*"), "foo*");
}

TEST(Pagination, parses_and_slices) {
  Page page;
  Response err;
  ASSERT_TRUE(parse_page({{"offset", "1"}, {"length", "2"}, {"sort", "desc"}}, {"name"}, page, err));
  EXPECT_EQ(page.orderby, "name");
  std::vector<int> v{1, 2, 3, 4, 5};
  auto q = paginate(v, page, 9);
  EXPECT_EQ(v, (std::vector<int>{4, 3}));
  EXPECT_EQ(q, json({{"found", 5}, {"length", 2}, {"offset", 1}, {"total", 9}}));
  EXPECT_FALSE(parse_page({{"length", "101"}}, {"name"}, page, err));
  EXPECT_EQ(err.status, 400);
  EXPECT_NE(err.body.find("length"), std::string::npos);
  EXPECT_FALSE(parse_page({{"orderby", "id"}}, {"name"}, page, err));
  EXPECT_FALSE(parse_page({{"sort", "up"}}, {"name"}, page, err));
  EXPECT_FALSE(parse_page({{"offset", "-1"}}, {"name"}, page, err));
}

TEST(Dates, utc_text) { EXPECT_EQ(utc_text(1359744818), "2013-02-01 18:53:38 UTC"); }

}  // namespace
}  // namespace vigil::api::librato
