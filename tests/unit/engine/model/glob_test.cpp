#include "engine/model/glob.hpp"

#include <gtest/gtest.h>

namespace vigil {
namespace {

TEST(Glob, star_matches_any_run_and_question_mark_one_character) {
  EXPECT_TRUE(glob_match("a*c", "abbbc"));
  EXPECT_TRUE(glob_match("a*c", "ac"));
  EXPECT_TRUE(glob_match("a?c", "abc"));
  EXPECT_FALSE(glob_match("a?c", "ac"));
  EXPECT_TRUE(glob_match("CPU.*", "cpu.user"));
}

TEST(Glob, a_literal_question_mark_matches_only_itself) {
  EXPECT_FALSE(glob_match("a?c", "abc", QuestionMark::literal));
  EXPECT_TRUE(glob_match("a?c", "a?c", QuestionMark::literal));
  EXPECT_TRUE(glob_match("a*", "a?c", QuestionMark::literal));
}

}  // namespace
}  // namespace vigil
