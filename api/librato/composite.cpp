#include "api/librato/composite.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>

namespace vigil::composite {

namespace {

class Parser {
 public:
  explicit Parser(const std::string& t) : t_(t) {}

  bool run(Node& out, std::string& err) {
    skip();
    if (!value(out, err)) return false;
    skip();
    if (i_ != t_.size()) return fail("unexpected '" + std::string(1, t_[i_]) + "'", err);
    if (out.kind != Node::call) return fail_at(1, "the expression must be a function call", err);
    return true;
  }

 private:
  bool fail(const std::string& what, std::string& err) { return fail_at(i_ + 1, what, err); }
  bool fail_at(std::size_t pos, const std::string& what, std::string& err) {
    if (err.empty()) err = what + " at position " + std::to_string(pos);
    return false;
  }
  void skip() {
    while (i_ < t_.size() && std::isspace(static_cast<unsigned char>(t_[i_]))) ++i_;
  }
  bool ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

  bool value(Node& out, std::string& err) {
    if (++depth_ > 200) return fail("the expression is nested too deeply", err);
    bool ok = value_inner(out, err);
    --depth_;
    return ok;
  }

  bool value_inner(Node& out, std::string& err) {
    skip();
    out = Node{};
    out.pos = i_ + 1;
    if (i_ >= t_.size()) return fail("unexpected end of the expression", err);
    char c = t_[i_];
    if (c == '"' || c == '\'') {
      auto close = t_.find(c, i_ + 1);
      if (close == std::string::npos) return fail("unterminated string", err);
      out.kind = Node::string;
      out.text = t_.substr(i_ + 1, close - i_ - 1);
      i_ = close + 1;
      return true;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.') {
      std::size_t used = 0;
      try {
        out.value = std::stod(t_.substr(i_), &used);
      } catch (const std::exception&) {
        return fail("invalid number", err);
      }
      out.kind = Node::number;
      i_ += used;
      return true;
    }
    if (c == '[') {
      out.kind = Node::list;
      ++i_;
      return items(out.args, ']', err);
    }
    if (c == '{') {
      out.kind = Node::map;
      ++i_;
      skip();
      if (i_ < t_.size() && t_[i_] == '}') {
        ++i_;
        return true;
      }
      for (;;) {
        skip();
        std::string key;
        if (i_ < t_.size() && (t_[i_] == '"' || t_[i_] == '\'')) {
          Node k;
          if (!value(k, err)) return false;
          key = k.text;
        } else {
          std::size_t s = i_;
          while (i_ < t_.size() && ident_char(t_[i_])) ++i_;
          if (s == i_) return fail("expected an option name", err);
          key = t_.substr(s, i_ - s);
        }
        skip();
        if (i_ >= t_.size() || t_[i_] != ':') return fail("expected ':'", err);
        ++i_;
        Node v;
        if (!value(v, err)) return false;
        out.entries.emplace_back(key, std::move(v));
        skip();
        if (i_ < t_.size() && t_[i_] == ',') {
          ++i_;
          continue;
        }
        if (i_ < t_.size() && t_[i_] == '}') {
          ++i_;
          return true;
        }
        return fail("expected ',' or '}'", err);
      }
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t s = i_;
      while (i_ < t_.size() && ident_char(t_[i_])) ++i_;
      out.kind = Node::call;
      out.text = t_.substr(s, i_ - s);
      skip();
      if ((out.text == "true" || out.text == "false") && (i_ >= t_.size() || t_[i_] != '(')) return true;
      if (i_ >= t_.size() || t_[i_] != '(') return fail("expected '(' after " + out.text, err);
      ++i_;
      return items(out.args, ')', err);
    }
    return fail("unexpected '" + std::string(1, c) + "'", err);
  }

  bool items(std::vector<Node>& out, char close, std::string& err) {
    skip();
    if (i_ < t_.size() && t_[i_] == close) {
      ++i_;
      return true;
    }
    for (;;) {
      out.emplace_back();
      if (!value(out.back(), err)) return false;
      skip();
      if (i_ < t_.size() && t_[i_] == ',') {
        ++i_;
        continue;
      }
      if (i_ < t_.size() && t_[i_] == close) {
        ++i_;
        return true;
      }
      return fail(std::string("expected ',' or '") + close + "'", err);
    }
  }

  const std::string& t_;
  std::size_t i_ = 0;
  int depth_ = 0;
};

[[noreturn]] void error(const Node& n, const std::string& what) {
  throw std::invalid_argument(what + " at position " + std::to_string(n.pos));
}

const Node* option(const Node* opts, const std::string& key) {
  if (!opts) return nullptr;
  for (const auto& [k, v] : opts->entries)
    if (k == key) return &v;
  return nullptr;
}

double number_option(const Node* opts, const std::string& key, double dflt) {
  const Node* v = option(opts, key);
  if (!v) return dflt;
  if (v->kind == Node::number) return v->value;
  if (v->kind == Node::string) {
    try {
      return std::stod(v->text);
    } catch (const std::exception&) {
    }
  }
  error(*v, "option " + key + " must be a number");
}

std::string string_option(const Node* opts, const std::string& key, const std::string& dflt) {
  const Node* v = option(opts, key);
  if (!v) return dflt;
  if (v->kind != Node::string) error(*v, "option " + key + " must be a string");
  return v->text;
}

bool bool_option(const Node* opts, const std::string& key) {
  const Node* v = option(opts, key);
  if (!v) return false;
  if (v->kind == Node::call && (v->text == "true" || v->text == "false")) return v->text == "true";
  if (v->kind == Node::string) return v->text == "true";
  if (v->kind == Node::number) return v->value != 0;
  error(*v, "option " + key + " must be true or false");
}

class Evaluator {
 public:
  Evaluator(const Fetch& fetch, const Interval& iv, const Sources& sources)
      : fetch_(fetch), iv_(iv), sources_(sources) {}

  Set eval(const Node& n) {
    // map() evaluates its expression once per matching source, so nested maps multiply: the
    // number of steps is bounded, not only the nesting.
    if (++steps_ > kMaxEvaluationSteps)
      error(n, "the expression takes more than " + std::to_string(kMaxEvaluationSteps) + " evaluation steps");
    if (n.kind == Node::list) {
      Set out;
      for (const auto& a : n.args) {
        Set s = eval(a);
        out.insert(out.end(), s.begin(), s.end());
      }
      return out;
    }
    if (n.kind != Node::call) error(n, "expected a series set");
    const std::string& f = n.text;
    if (f == "s" || f == "series") return fetch_series(n);
    if (f == "map") return map(n);
    if (n.args.empty()) error(n, f + "() needs a series set");
    const Node* opts = n.args.size() > 1 && n.args.back().kind == Node::map ? &n.args.back() : nullptr;
    if (f == "sum" || f == "mean" || f == "min" || f == "max") return {aggregate(one_set(n), f)};
    if (f == "divide") return divide(n);
    if (f == "multiply") return multiply(n);
    Set set = one_set(n);
    if (f == "scale") {
      if (!option(opts, "factor")) error(n, "scale() needs {factor: number}");
      double k = number_option(opts, "factor", 1);
      for (auto& s : set)
        for (auto& p : s.points) p.second *= k;
      return set;
    }
    if (f == "abs") {
      for (auto& s : set)
        for (auto& p : s.points) p.second = std::fabs(p.second);
      return set;
    }
    if (f == "derive" || f == "rate") {
      bool reset = bool_option(opts, "detect_reset");
      for (auto& s : set) {
        std::vector<std::pair<std::int64_t, double>> out;
        for (std::size_t i = 1; i < s.points.size(); ++i) {
          double d = s.points[i].second - s.points[i - 1].second;
          if (reset && d < 0) d = s.points[i].second;
          if (f == "rate") d /= static_cast<double>(s.points[i].first - s.points[i - 1].first);
          out.emplace_back(s.points[i].first, d);
        }
        s.points = std::move(out);
      }
      return set;
    }
    if (f == "integrate") {
      for (auto& s : set) {
        double total = 0;
        for (std::size_t i = 0; i < s.points.size(); ++i) {
          std::int64_t dt = i == 0 ? iv_.resolution : s.points[i].first - s.points[i - 1].first;
          total += s.points[i].second * static_cast<double>(dt);
          s.points[i].second = total;
        }
      }
      return set;
    }
    if (f == "moving_average") {
      double w = number_option(opts, "window", 5);
      if (!(w >= 1)) error(n, "moving_average() needs a window of at least 1 point");
      w = std::min(w, 1e9);  // beyond any series; and within the range of the cast below
      auto window = static_cast<std::size_t>(w);
      for (auto& s : set) {
        std::vector<std::pair<std::int64_t, double>> out;
        double sum = 0;
        for (std::size_t i = 0; i < s.points.size(); ++i) {
          sum += s.points[i].second;
          if (i >= window) sum -= s.points[i - window].second;
          out.emplace_back(s.points[i].first, sum / static_cast<double>(std::min(i + 1, window)));
        }
        s.points = std::move(out);
      }
      return set;
    }
    if (f == "zero_fill") {
      std::int64_t r = iv_.resolution;
      for (auto& s : set) {
        std::map<std::int64_t, double> have(s.points.begin(), s.points.end());
        std::vector<std::pair<std::int64_t, double>> out;
        for (std::int64_t t = iv_.start - ((iv_.start % r) + r) % r; t <= iv_.end; t += r) {
          auto it = have.find(t);
          out.emplace_back(t, it == have.end() ? 0.0 : it->second);
        }
        s.points = std::move(out);
      }
      return set;
    }
    if (f == "window") {
      double size = number_option(opts, "size", 0);
      if (!(size >= 1)) error(n, "window() needs {size: seconds}");
      size = std::min(size, 1e15);  // beyond any time range; and within the range of the cast below
      std::string fn = string_option(opts, "function", "mean");
      if (fn == "average") fn = "mean";
      if (fn != "mean" && fn != "sum" && fn != "min" && fn != "max") error(n, "function must be mean, sum, min or max");
      auto w = static_cast<std::int64_t>(size);
      for (auto& s : set) {
        Set one;
        for (const auto& [t, v] : s.points) {
          std::int64_t b = t - ((t % w) + w) % w;
          if (one.empty() || one.back().points.front().first != b) one.push_back(Series{s.metric, s.source, {{b, v}}});
          else one.back().points.push_back({b, v});
        }
        std::vector<std::pair<std::int64_t, double>> out;
        for (const auto& g : one) out.push_back(reduce(g.points, fn));
        s.points = std::move(out);
      }
      return set;
    }
    if (f == "top" || f == "bottom") {
      std::string fn = string_option(opts, "function", "mean");
      if (fn != "mean" && fn != "sum" && fn != "min" && fn != "max") error(n, "function must be mean, sum, min or max");
      double limit = number_option(opts, "limit", 5);
      if (!(limit >= 1)) error(n, "limit must be at least 1");
      limit = std::min(limit, 1e9);
      std::vector<std::pair<double, std::size_t>> rank;
      for (std::size_t i = 0; i < set.size(); ++i) {
        double acc = 0;
        if (!set[i].points.empty()) {
          acc = fn == "min" ? INFINITY : fn == "max" ? -INFINITY : 0;
          for (const auto& p : set[i].points) {
            if (fn == "min") acc = std::min(acc, p.second);
            else if (fn == "max") acc = std::max(acc, p.second);
            else acc += p.second;
          }
          if (fn == "mean") acc /= static_cast<double>(set[i].points.size());
        }
        rank.emplace_back(acc, i);
      }
      std::stable_sort(rank.begin(), rank.end(), [&](const auto& a, const auto& b) {
        return f == "top" ? a.first > b.first : a.first < b.first;
      });
      Set out;
      for (std::size_t i = 0; i < rank.size() && i < static_cast<std::size_t>(limit); ++i) out.push_back(set[rank[i].second]);
      return out;
    }
    error(n, "unknown function " + f + "()");
  }

 private:
  Set one_set(const Node& n) { return eval(n.args.front()); }

  // One window's points (same bucket time) reduced by fn.
  static std::pair<std::int64_t, double> reduce(const std::vector<std::pair<std::int64_t, double>>& pts, const std::string& fn) {
    double v = pts.front().second;
    if (fn == "sum" || fn == "mean") {
      v = 0;
      for (const auto& p : pts) v += p.second;
      if (fn == "mean") v /= static_cast<double>(pts.size());
    } else {
      for (const auto& p : pts) v = fn == "min" ? std::min(v, p.second) : std::max(v, p.second);
    }
    return {pts.front().first, v};
  }

  static void substitute(Node& n, const std::string& source) {
    if (n.kind == Node::string) {
      std::string out;
      for (char c : n.text) out += c == '&' ? source : std::string(1, c);
      n.text = out;
    }
    for (auto& a : n.args) substitute(a, source);
    for (auto& [k, v] : n.entries) substitute(v, source);
  }

  Set map(const Node& n) {
    if (n.args.size() != 2 || n.args[0].kind != Node::map) error(n, "map() takes ({source: pattern}, expression)");
    std::string pattern = string_option(&n.args[0], "source", "");
    if (pattern.empty()) error(n.args[0], "map() needs {source: pattern}");
    if (!sources_) error(n, "map() is not available here");
    Set out;
    for (const auto& src : sources_(pattern)) {
      Node body = n.args[1];
      substitute(body, src);
      Set s = eval(body);
      for (auto& one : s) one.source = src;
      out.insert(out.end(), s.begin(), s.end());
    }
    return out;
  }

  Set fetch_series(const Node& n) {
    if (n.args.size() < 2 || n.args.size() > 3 || n.args[0].kind != Node::string || n.args[1].kind != Node::string ||
        (n.args.size() == 3 && n.args[2].kind != Node::map))
      error(n, n.text + "() takes (metric, source, {options})");
    const Node* opts = n.args.size() == 3 ? &n.args[2] : nullptr;
    std::string fn = string_option(opts, "function", "mean");
    if (fn == "average") fn = "mean";
    if (fn != "mean" && fn != "sum" && fn != "min" && fn != "max" && fn != "count")
      error(n, "function must be mean, sum, min, max or count");
    if (option(opts, "period")) number_option(opts, "period", 0);  // validated; the resolution applies
    return fetch_(n.args[0].text, n.args[1].text, fn);
  }

  static Series aggregate(const Set& set, const std::string& f) {
    std::map<std::int64_t, std::vector<double>> at;
    for (const auto& s : set)
      for (const auto& p : s.points) at[p.first].push_back(p.second);
    Series out;
    out.metric = set.empty() ? "" : set.front().metric;
    for (const auto& s : set)
      if (s.metric != out.metric) out.metric = "composite";
    out.source = "all";
    for (const auto& [t, xs] : at) {
      double v = xs.front();
      if (f == "sum" || f == "mean") {
        v = 0;
        for (double x : xs) v += x;
        if (f == "mean") v /= static_cast<double>(xs.size());
      } else {
        for (double x : xs) v = f == "min" ? std::min(v, x) : std::max(v, x);
      }
      out.points.emplace_back(t, v);
    }
    return out;
  }

  // [a, b]: each a series divided by b (b a single series, or as many series as a, pairwise).
  Set divide(const Node& n) {
    if (n.args.size() != 1 || n.args[0].kind != Node::list || n.args[0].args.size() != 2)
      error(n, "divide() takes a list of two series sets: divide([a, b])");
    Set a = eval(n.args[0].args[0]), b = eval(n.args[0].args[1]);
    if (b.size() != 1 && b.size() != a.size()) error(n.args[0].args[1], "the divisor must be one series or as many as the dividend");
    for (std::size_t i = 0; i < a.size(); ++i) {
      const Series& d = b.size() == 1 ? b[0] : b[i];
      std::map<std::int64_t, double> den(d.points.begin(), d.points.end());
      std::vector<std::pair<std::int64_t, double>> out;
      for (const auto& p : a[i].points) {
        auto it = den.find(p.first);
        if (it != den.end() && it->second != 0) out.emplace_back(p.first, p.second / it->second);
      }
      a[i].points = std::move(out);
    }
    return a;
  }

  // [a, b, ...]: the first set's series times every other (single) series.
  Set multiply(const Node& n) {
    if (n.args.size() != 1 || n.args[0].kind != Node::list || n.args[0].args.size() < 2)
      error(n, "multiply() takes a list of series sets: multiply([a, b, ...])");
    Set a = eval(n.args[0].args[0]);
    for (std::size_t k = 1; k < n.args[0].args.size(); ++k) {
      Set b = eval(n.args[0].args[k]);
      if (b.size() != 1) error(n.args[0].args[k], "each factor after the first must be one series");
      std::map<std::int64_t, double> f(b[0].points.begin(), b[0].points.end());
      for (auto& s : a) {
        std::vector<std::pair<std::int64_t, double>> out;
        for (const auto& p : s.points) {
          auto it = f.find(p.first);
          if (it != f.end()) out.emplace_back(p.first, p.second * it->second);
        }
        s.points = std::move(out);
      }
    }
    return a;
  }

  const Fetch& fetch_;
  Interval iv_;
  const Sources& sources_;
  std::size_t steps_ = 0;  // eval() calls so far
};

void find_first(const Node& n, std::pair<std::string, std::string>& out, bool& found) {
  if (found) return;
  if (n.kind == Node::call && (n.text == "s" || n.text == "series") && n.args.size() >= 2 &&
      n.args[0].kind == Node::string && n.args[1].kind == Node::string) {
    out = {n.args[0].text, n.args[1].text};
    found = true;
    return;
  }
  for (const auto& a : n.args) find_first(a, out, found);
}

}  // namespace

std::optional<Node> parse(const std::string& text, std::string& err) {
  err.clear();
  Node n;
  Parser p(text);
  if (!p.run(n, err)) return std::nullopt;
  return n;
}

Set evaluate(const Node& expr, const Fetch& fetch, const Interval& interval, const Sources& sources) {
  Evaluator e(fetch, interval, sources);
  return e.eval(expr);
}

std::pair<std::string, std::string> first_query(const Node& expr) {
  std::pair<std::string, std::string> out;
  bool found = false;
  find_first(expr, out, found);
  return out;
}

}  // namespace vigil::composite
