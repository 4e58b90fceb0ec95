#include "api/librato/lang/tags_search.hpp"

#include <gtest/gtest.h>

namespace vigil {
namespace {

Tags tags(std::initializer_list<std::pair<const char*, const char*>> kv) {
  Tags t;
  for (const auto& [k, v] : kv) t.push_back({k, v});
  return t;
}

bool match(const char* expr, const Tags& t) {
  std::string err;
  auto s = parse_tags_search(expr, err);
  EXPECT_TRUE(s) << expr << ": " << err;
  return s && s->matches(t);
}

std::string error_of(const char* expr) {
  std::string err;
  auto s = parse_tags_search(expr, err);
  EXPECT_FALSE(s) << expr;
  return err;
}

TEST(TagSearch, and_or_not_parentheses_wildcards) {
  auto east_prod = tags({{"db", "db-prod-1"}, {"region", "us-east-1"}});
  auto west_prod = tags({{"db", "db-prod-2"}, {"region", "us-west"}});
  auto east_dev = tags({{"db", "db-dev"}, {"region", "us-east-2"}});
  auto no_region = tags({{"db", "db-prod-3"}});
  const char* q = "region=us-east* and db=*prod*";
  EXPECT_TRUE(match(q, east_prod));
  EXPECT_FALSE(match(q, west_prod));
  EXPECT_FALSE(match(q, east_dev));
  EXPECT_TRUE(match("region=us-west or db=db-dev", west_prod));
  EXPECT_TRUE(match("region=us-west or db=db-dev", east_dev));
  EXPECT_FALSE(match("region=us-west or db=db-dev", east_prod));
  // and binds tighter than or
  EXPECT_TRUE(match("db=db-dev or region=us-west and db=*prod*", east_dev));
  EXPECT_FALSE(match("(db=db-dev or region=us-west) and db=*prod*", east_dev));
  EXPECT_TRUE(match("(db=db-dev or region=us-west) and db=*prod*", west_prod));
  EXPECT_TRUE(match("not region=us-east*", west_prod));
  EXPECT_TRUE(match("not region=us-east*", no_region));  // plain negation
  EXPECT_FALSE(match("region!=us-east*", no_region));    // != requires the tag
  EXPECT_TRUE(match("region!=us-east*", west_prod));
  EXPECT_TRUE(match("NOT (region=us-west OR region=us-east-2) AND db", east_prod));
  EXPECT_TRUE(match("region", east_prod));
  EXPECT_FALSE(match("region", no_region));
  EXPECT_TRUE(match("region=US-EAST-?", east_prod));
  EXPECT_TRUE(match("db='db-prod-1'", east_prod));
  EXPECT_TRUE(match("DB = \"db-*\" and not not region", east_dev));
}

TEST(TagSearch, errors_give_the_position) {
  EXPECT_EQ(error_of(""), "the expression is empty at position 1");
  EXPECT_EQ(error_of("region=us-east and"), "expected a tag name at position 19");
  EXPECT_EQ(error_of("region="), "expected a tag value after 'region=' at position 8");
  EXPECT_EQ(error_of("(region=a"), "expected ')' at position 10");
  EXPECT_EQ(error_of("region=a b=c"), "unexpected 'b' at position 10");
  EXPECT_EQ(error_of("and=b"), "expected a tag name, got the keyword 'and' at position 1");
  EXPECT_EQ(error_of("a='x"), "unterminated quoted value at position 3");
  EXPECT_EQ(error_of("a=b)"), "unexpected ')' at position 4");
}

}  // namespace
}  // namespace vigil
