#include "engine/model/glob.hpp"

#include "engine/model/text.hpp"

namespace vigil {

bool glob_match(std::string_view pattern, std::string_view text, QuestionMark q) {
  const bool any_one = q == QuestionMark::wildcard;
  std::size_t p = 0, t = 0, star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && ((any_one && pattern[p] == '?') || ascii_lower(pattern[p]) == ascii_lower(text[t]))) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

}  // namespace vigil
