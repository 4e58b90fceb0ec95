// The Librato composite metric language: a parser with positioned errors and an evaluator over
// series sets. Expressions are function calls over series sets, strings, numbers, lists `[...]`
// and option maps `{key: value}`:
//
//   s(metric, source_or_tags, {period, function})   series of a metric (wildcards allowed)
//   series(...)                                     the same as s(...)
//   sum, mean, min, max (set)                       one series: the function per timestamp
//   divide([a, b]), multiply([a, b, ...])           point-wise, on timestamps present in all
//   scale(set, {factor: f}), abs(set)
//   derive(set, {detect_reset: true})               differences of consecutive points
//   rate(set)                                       differences per second
//   integrate(set)                                  running sum of value x seconds since the previous point
//   moving_average(set, {window: n})                mean of the last n points
//   zero_fill(set)                                  missing buckets of the interval become 0
//   top(set, {function, limit}), bottom(...)        series ranked by mean (sum, min, max)
//   window(set, {size, function})                   points grouped into windows of `size` seconds
//   map({source: pattern}, expr)                    expr once per matching source, "&" in its
//                                                   strings replaced by the source name
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vigil::composite {

struct Node {
  struct Entry;
  enum Kind { call, string, number, list, map } kind = call;
  std::size_t pos = 0;  // 1-based character position in the expression
  std::string text;     // function name or string value
  double value = 0;
  std::vector<Node> args;                       // call arguments, list items
  std::vector<Entry> entries;                   // map entries
};

// A map entry, key and value. Not a std::pair: clang cannot instantiate std::pair<std::string,
// Node> while Node is incomplete (libstdc++'s conditionally explicit pair constructors).
struct Node::Entry {
  std::string first;
  Node second;
  Entry(std::string key, Node value) : first(std::move(key)), second(std::move(value)) {}
};

// Parses an expression; nullopt with `err` = "<what> at position N" on failure.
std::optional<Node> parse(const std::string& text, std::string& err);

struct Series {
  std::string metric;
  std::string source;
  std::vector<std::pair<std::int64_t, double>> points;  // ascending times
};
using Set = std::vector<Series>;

// Reads the series of s(metric, source, options): `function` is the summary (mean, sum, min, max,
// count), `source` a wildcard pattern of the `source` tag (or "*").
using Fetch = std::function<Set(const std::string& metric, const std::string& source, const std::string& function)>;

struct Interval {
  std::int64_t start = 0, end = 0, resolution = 60;
};

// The source names matching a wildcard pattern (for map()).
using Sources = std::function<std::vector<std::string>(const std::string& pattern)>;

// The most sub-expressions one evaluation evaluates (map() evaluates its expression once per
// matching source, so nested maps multiply); beyond, the expression is refused.
inline constexpr std::size_t kMaxEvaluationSteps = 20000;

// Evaluates; throws std::invalid_argument("<what> at position N") for semantic errors (unknown
// function, wrong arguments, more than kMaxEvaluationSteps steps).
Set evaluate(const Node& expr, const Fetch& fetch, const Interval& interval, const Sources& sources = {});

// The `query` block of a response: the metric and source of the first s() call, if any.
std::pair<std::string, std::string> first_query(const Node& expr);

}  // namespace vigil::composite
