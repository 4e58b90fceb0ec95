#include "api/librato/lang/tags_search.hpp"

#include <cctype>

#include "engine/model/text.hpp"

namespace vigil {

namespace {

bool name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ':' || c == '_';
}
bool value_char(char c) { return name_char(c) || c == '*' || c == '?'; }

class Parser {
 public:
  explicit Parser(std::string_view t) : t_(t) {}

  bool run(TagExpr::Node& root, std::string& err) {
    skip();
    if (pos_ == t_.size()) return fail("the expression is empty", err);
    if (!expr(root, err)) return false;
    skip();
    if (pos_ != t_.size()) return fail("unexpected '" + std::string(1, t_[pos_]) + "'", err);
    return true;
  }

 private:
  bool fail(const std::string& what, std::string& err) {
    if (err.empty()) err = what + " at position " + std::to_string(pos_ + 1);
    return false;
  }
  void skip() {
    while (pos_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[pos_]))) ++pos_;
  }
  // The keyword `kw` (case-insensitive) followed by a non-name character.
  bool keyword(std::string_view kw) {
    skip();
    if (t_.size() - pos_ < kw.size() || ascii_lower(t_.substr(pos_, kw.size())) != kw) return false;
    std::size_t after = pos_ + kw.size();
    if (after < t_.size() && value_char(t_[after])) return false;
    pos_ = after;
    return true;
  }

  bool expr(TagExpr::Node& out, std::string& err) {
    TagExpr::Node first;
    if (!and_expr(first, err)) return false;
    if (!keyword("or")) {
      out = std::move(first);
      return true;
    }
    out = TagExpr::Node{TagExpr::Node::any_of, {}, {}, {}};
    out.children.push_back(std::move(first));
    do {
      TagExpr::Node next;
      if (!and_expr(next, err)) return false;
      out.children.push_back(std::move(next));
    } while (keyword("or"));
    return true;
  }

  bool and_expr(TagExpr::Node& out, std::string& err) {
    TagExpr::Node first;
    if (!unary(first, err)) return false;
    if (!keyword("and")) {
      out = std::move(first);
      return true;
    }
    out = TagExpr::Node{TagExpr::Node::all_of, {}, {}, {}};
    out.children.push_back(std::move(first));
    do {
      TagExpr::Node next;
      if (!unary(next, err)) return false;
      out.children.push_back(std::move(next));
    } while (keyword("and"));
    return true;
  }

  bool unary(TagExpr::Node& out, std::string& err) {
    if (++depth_ > 100) return fail("the expression is nested too deeply", err);
    bool ok = unary_inner(out, err);
    --depth_;
    return ok;
  }

  bool unary_inner(TagExpr::Node& out, std::string& err) {
    if (keyword("not")) {
      out = TagExpr::Node{TagExpr::Node::negate, {}, {}, {}};
      out.children.emplace_back();
      return unary(out.children.back(), err);
    }
    skip();
    if (pos_ < t_.size() && t_[pos_] == '(') {
      ++pos_;
      if (!expr(out, err)) return false;
      skip();
      if (pos_ >= t_.size() || t_[pos_] != ')') return fail("expected ')'", err);
      ++pos_;
      return true;
    }
    return term(out, err);
  }

  bool term(TagExpr::Node& out, std::string& err) {
    skip();
    std::size_t start = pos_;
    while (pos_ < t_.size() && name_char(t_[pos_])) ++pos_;
    if (pos_ == start) return fail("expected a tag name", err);
    std::string name = ascii_lower(t_.substr(start, pos_ - start));
    if (name == "and" || name == "or" || name == "not") {
      pos_ = start;
      return fail("expected a tag name, got the keyword '" + name + "'", err);
    }
    skip();
    TagExpr::Node::Kind kind = TagExpr::Node::has;
    if (pos_ < t_.size() && t_[pos_] == '=') {
      kind = TagExpr::Node::equals;
      ++pos_;
    } else if (pos_ + 1 < t_.size() && t_[pos_] == '!' && t_[pos_ + 1] == '=') {
      kind = TagExpr::Node::not_equals;
      pos_ += 2;
    }
    out = TagExpr::Node{kind, name, {}, {}};
    if (kind == TagExpr::Node::has) return true;
    skip();
    if (pos_ < t_.size() && (t_[pos_] == '"' || t_[pos_] == '\'')) {
      char q = t_[pos_];
      auto close = t_.find(q, pos_ + 1);
      if (close == std::string_view::npos) return fail("unterminated quoted value", err);
      out.pattern = std::string(t_.substr(pos_ + 1, close - pos_ - 1));
      pos_ = close + 1;
      return true;
    }
    start = pos_;
    while (pos_ < t_.size() && value_char(t_[pos_])) ++pos_;
    if (pos_ == start) return fail("expected a tag value after '" + name + (kind == TagExpr::Node::equals ? "='" : "!='"), err);
    out.pattern = std::string(t_.substr(start, pos_ - start));
    return true;
  }

  std::string_view t_;
  std::size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

std::optional<TagExpr> parse_tags_search(std::string_view text, std::string& err) {
  TagExpr::Node root;
  err.clear();
  Parser p(text);
  if (!p.run(root, err)) return std::nullopt;
  return TagExpr(std::move(root));
}

}  // namespace vigil
