#include "engine/query/tag_expr.hpp"

#include "engine/model/glob.hpp"
#include "engine/query/tag_filter.hpp"

namespace vigil {

namespace {

bool eval(const TagExpr::Node& n, const Tags& tags) {
  switch (n.kind) {
    case TagExpr::Node::all_of:
      for (const auto& c : n.children)
        if (!eval(c, tags)) return false;
      return true;
    case TagExpr::Node::any_of:
      for (const auto& c : n.children)
        if (eval(c, tags)) return true;
      return false;
    case TagExpr::Node::negate: return !eval(n.children.front(), tags);
    case TagExpr::Node::has: return find_tag(tags, n.name) != nullptr;
    case TagExpr::Node::equals: {
      const std::string* v = find_tag(tags, n.name);
      return v && glob_match(n.pattern, *v);
    }
    case TagExpr::Node::not_equals: {
      const std::string* v = find_tag(tags, n.name);
      return v && !glob_match(n.pattern, *v);
    }
  }
  return false;
}

}  // namespace

bool TagExpr::matches(const Tags& tags) const { return eval(root_, tags); }

}  // namespace vigil
