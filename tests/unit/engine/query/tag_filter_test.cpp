#include "engine/query/tag_filter.hpp"

#include <gtest/gtest.h>

namespace vigil {

TEST(WildcardMatch, star_matches_any_run_including_empty) {
  EXPECT_TRUE(glob_match("*", "", QuestionMark::literal));
  EXPECT_TRUE(glob_match("*", "anything", QuestionMark::literal));
  EXPECT_TRUE(glob_match("us-east*", "us-east", QuestionMark::literal));
  EXPECT_TRUE(glob_match("us-east*", "us-east-1a", QuestionMark::literal));
  EXPECT_TRUE(glob_match("*prod*", "db-prod-1", QuestionMark::literal));
  EXPECT_TRUE(glob_match("*prod*", "prod", QuestionMark::literal));
  EXPECT_TRUE(glob_match("a*b*c", "axxbyyc", QuestionMark::literal));
  EXPECT_TRUE(glob_match("a*b*c", "abc", QuestionMark::literal));
  EXPECT_TRUE(glob_match("a**c", "ac", QuestionMark::literal));
  EXPECT_FALSE(glob_match("a*b*c", "axxbyy", QuestionMark::literal));
  EXPECT_FALSE(glob_match("us-east*", "eu-west-1", QuestionMark::literal));
  EXPECT_FALSE(glob_match("*prod", "prod-1", QuestionMark::literal));
  EXPECT_FALSE(glob_match("", "x", QuestionMark::literal));
  EXPECT_TRUE(glob_match("", "", QuestionMark::literal));
}

TEST(WildcardMatch, exact_without_star_and_backtracks) {
  EXPECT_TRUE(glob_match("server1.acme.com", "server1.acme.com", QuestionMark::literal));
  EXPECT_FALSE(glob_match("server1", "server1.acme.com", QuestionMark::literal));
  EXPECT_TRUE(glob_match("*ab", "aaab", QuestionMark::literal));
  EXPECT_TRUE(glob_match("*a*ab", "aabaab", QuestionMark::literal));
  EXPECT_FALSE(glob_match("*a*ab", "aabaa", QuestionMark::literal));
}

TEST(WildcardMatch, is_case_insensitive) {
  EXPECT_TRUE(glob_match("US-East*", "us-east-1", QuestionMark::literal));
  EXPECT_TRUE(glob_match("SERVER*", "server7", QuestionMark::literal));
}

namespace {
Tags tags(std::initializer_list<Tag> l) { return Tags(l); }
using Patterns = std::vector<std::pair<std::string, std::string>>;
}  // namespace

TEST(TagFilter, empty_filter_matches_everything) {
  TagFilter f;
  EXPECT_TRUE(f.empty());
  EXPECT_TRUE(f.matches(tags({})));
  EXPECT_TRUE(f.matches(tags({{"host", "a"}})));
}

TEST(TagFilter, same_name_is_or_and_different_names_are_and) {
  TagFilter f(Patterns{{"region", "us-east*"}, {"region", "eu-west"}, {"db", "*prod*"}});
  EXPECT_TRUE(f.matches(tags({{"db", "db-prod-1"}, {"region", "us-east-1"}})));
  EXPECT_TRUE(f.matches(tags({{"db", "prod"}, {"region", "eu-west"}})));
  EXPECT_FALSE(f.matches(tags({{"db", "db-prod-1"}, {"region", "eu-central"}})));
  EXPECT_FALSE(f.matches(tags({{"db", "db-staging"}, {"region", "us-east-1"}})));
  EXPECT_FALSE(f.matches(tags({{"region", "us-east-1"}})));  // db missing
}

TEST(TagFilter, negation_excludes_and_requires_the_tag) {
  TagFilter f(Patterns{{"region", "!us-east*"}});
  EXPECT_TRUE(f.matches(tags({{"region", "eu-west"}})));
  EXPECT_FALSE(f.matches(tags({{"region", "us-east-1"}})));
  EXPECT_FALSE(f.matches(tags({{"host", "a"}})));  // no region tag at all
}

TEST(TagFilter, negation_combines_with_positive_patterns_of_the_same_tag) {
  TagFilter f(Patterns{{"region", "us-*"}, {"region", "!us-east-2"}});
  EXPECT_TRUE(f.matches(tags({{"region", "us-east-1"}})));
  EXPECT_TRUE(f.matches(tags({{"region", "us-west-1"}})));
  EXPECT_FALSE(f.matches(tags({{"region", "us-east-2"}})));
  EXPECT_FALSE(f.matches(tags({{"region", "eu-west-1"}})));
}

TEST(TagFilter, names_and_patterns_are_case_insensitive) {
  TagFilter f(Patterns{{"Region", "US-*"}});
  EXPECT_TRUE(f.matches(tags({{"region", "us-west-1"}})));
}

TEST(TagFilter, require_only_checks_presence) {
  TagFilter f;
  f.require("region");
  EXPECT_FALSE(f.empty());
  EXPECT_TRUE(f.matches(tags({{"region", "anything"}})));
  EXPECT_FALSE(f.matches(tags({{"host", "a"}})));
  f.add("region", "eu*");  // adding a pattern to a required tag narrows it
  EXPECT_FALSE(f.matches(tags({{"region", "us"}})));
  EXPECT_TRUE(f.matches(tags({{"region", "eu-1"}})));
}

TEST(SourceFilter, pattern_and_list) {
  SourceFilter none;
  EXPECT_TRUE(none.matches(tags({{"host", "x"}})));

  SourceFilter p;
  p.set_pattern("server*");
  EXPECT_TRUE(p.matches(tags({{"source", "server1.acme.com"}})));
  EXPECT_FALSE(p.matches(tags({{"source", "db1.acme.com"}})));
  EXPECT_FALSE(p.matches(tags({{"host", "server1"}})));

  SourceFilter l;
  l.add_source("server1.acme.com");
  l.add_source("Server2.acme.com");
  EXPECT_TRUE(l.matches(tags({{"source", "server1.acme.com"}})));
  EXPECT_TRUE(l.matches(tags({{"source", "server2.acme.com"}})));
  EXPECT_FALSE(l.matches(tags({{"source", "server3.acme.com"}})));
  EXPECT_FALSE(l.matches(tags({{"source", "server1.acme.com.x"}})));  // exact, not a pattern

  SourceFilter both;
  both.set_pattern("*1*");
  both.add_source("server1.acme.com");
  both.add_source("server2.acme.com");
  EXPECT_TRUE(both.matches(tags({{"source", "server1.acme.com"}})));
  EXPECT_FALSE(both.matches(tags({{"source", "server2.acme.com"}})));
}

}  // namespace vigil
