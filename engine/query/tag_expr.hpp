// A boolean expression over a series' tags, part of the query plan: all-of, any-of and negation
// of terms that test whether a tag is present, or whether its value matches a glob pattern
// (model/glob.hpp: `*` any run, `?` one character, ASCII case-insensitive). A dialect's query
// language builds it (Librato's `tags_search`: api/librato/lang/tags_search.hpp).
#pragma once

#include <string>
#include <vector>

#include "engine/model/model.hpp"

namespace vigil {

class TagExpr {
 public:
  struct Node {
    enum Kind { all_of, any_of, negate, equals, not_equals, has } kind;
    std::string name, pattern;
    std::vector<Node> children;
  };

  explicit TagExpr(Node root) : root_(std::move(root)) {}

  // equals: the series has tag `name` and its value matches `pattern`; not_equals: it has the
  // tag and the value does not match; has: it has the tag; negate: plain negation (also true for
  // series without the tags the child names).
  bool matches(const Tags& tags) const;

 private:
  Node root_;
};

}  // namespace vigil
