#include "api/librato/composite.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace vigil::composite {
namespace {

using Points = std::vector<std::pair<std::int64_t, double>>;

// cpu: web-1 = 1, 2, 4 at 0, 60, 120; web-2 = 3, 1, 5; mem (one series): 2, 0, 4 at 0, 60, 120.
Set fetch(const std::string& metric, const std::string& source, const std::string& fn) {
  Set all = {{"cpu", "web-1", {{0, 1}, {60, 2}, {120, 4}}},
             {"cpu", "web-2", {{0, 3}, {60, 1}, {120, 5}}},
             {"mem", "web-1", {{0, 2}, {60, 0}, {120, 4}}},
             {"ctr", "web-1", {{0, 10}, {60, 15}, {120, 3}, {180, 9}}},
             {"gap", "web-1", {{60, 7}}}};
  Set out;
  for (auto& s : all)
    if ((metric == s.metric || metric == "*") && (source == "*" || source == s.source)) out.push_back(s);
  if (fn == "count")
    for (auto& s : out)
      for (auto& p : s.points) p.second = 1;
  return out;
}

Set run(const std::string& expr) {
  std::string err;
  auto n = parse(expr, err);
  EXPECT_TRUE(n) << expr << ": " << err;
  if (!n) return {};
  return evaluate(*n, fetch, Interval{0, 180, 60});
}

Points pts(const std::string& expr, std::size_t i = 0) {
  auto set = run(expr);
  return i < set.size() ? set[i].points : Points{};
}

TEST(Composite, series_and_aggregations) {
  EXPECT_EQ(run("s(\"cpu\", \"*\")").size(), 2u);
  EXPECT_EQ(run("series('cpu', 'web-2')")[0].source, "web-2");
  EXPECT_EQ(pts("sum(s(\"cpu\", \"*\"))"), (Points{{0, 4}, {60, 3}, {120, 9}}));
  EXPECT_EQ(pts("mean(s(\"cpu\", \"*\"))"), (Points{{0, 2}, {60, 1.5}, {120, 4.5}}));
  EXPECT_EQ(pts("min(s(\"cpu\", \"*\"))"), (Points{{0, 1}, {60, 1}, {120, 4}}));
  EXPECT_EQ(pts("max(s(\"cpu\", \"*\"))"), (Points{{0, 3}, {60, 2}, {120, 5}}));
  EXPECT_EQ(run("sum(s(\"cpu\", \"*\"))")[0].source, "all");
  EXPECT_EQ(pts("sum(s(\"cpu\", \"*\", {function: \"count\", period: 60}))"), (Points{{0, 2}, {60, 2}, {120, 2}}));
  EXPECT_EQ(run("sum([s(\"cpu\", \"web-1\"), s(\"mem\", \"*\")])")[0].metric, "composite");
}

TEST(Composite, arithmetic) {
  EXPECT_EQ(pts("divide([sum(s(\"cpu\",\"*\")), s(\"mem\",\"*\")])"), (Points{{0, 2}, {120, 2.25}}));  // /0 skipped
  EXPECT_EQ(pts("divide([s(\"cpu\",\"*\"), s(\"mem\",\"*\")])", 1), (Points{{0, 1.5}, {120, 1.25}}));
  EXPECT_EQ(pts("multiply([s(\"cpu\",\"web-1\"), s(\"mem\",\"*\"), s(\"cpu\",\"web-2\")])"),
            (Points{{0, 6}, {60, 0}, {120, 80}}));
  EXPECT_EQ(pts("scale(s(\"cpu\",\"web-1\"), {factor: 2.5})"), (Points{{0, 2.5}, {60, 5}, {120, 10}}));
  EXPECT_EQ(pts("scale(s(\"cpu\",\"web-1\"), {factor: \"-1\"})"), (Points{{0, -1}, {60, -2}, {120, -4}}));
  EXPECT_EQ(pts("abs(scale(s(\"cpu\",\"web-1\"), {factor: -1}))"), (Points{{0, 1}, {60, 2}, {120, 4}}));
}

TEST(Composite, time_functions) {
  EXPECT_EQ(pts("derive(s(\"ctr\",\"*\"))"), (Points{{60, 5}, {120, -12}, {180, 6}}));
  EXPECT_EQ(pts("derive(s(\"ctr\",\"*\"), {detect_reset: true})"), (Points{{60, 5}, {120, 3}, {180, 6}}));
  EXPECT_EQ(pts("rate(s(\"ctr\",\"*\"))"), (Points{{60, 5.0 / 60}, {120, -12.0 / 60}, {180, 6.0 / 60}}));
  EXPECT_EQ(pts("integrate(s(\"cpu\",\"web-1\"))"), (Points{{0, 60}, {60, 180}, {120, 420}}));
  EXPECT_EQ(pts("moving_average(s(\"ctr\",\"*\"), {window: 2})"), (Points{{0, 10}, {60, 12.5}, {120, 9}, {180, 6}}));
  EXPECT_EQ(pts("zero_fill(s(\"gap\",\"*\"))"), (Points{{0, 0}, {60, 7}, {120, 0}, {180, 0}}));
}

TEST(Composite, top_and_bottom) {
  auto top = run("top(s(\"cpu\",\"*\"), {function: \"max\", limit: 1})");
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0].source, "web-2");
  auto bottom = run("bottom(s(\"cpu\",\"*\"), {function: \"sum\", limit: 1})");
  ASSERT_EQ(bottom.size(), 1u);
  EXPECT_EQ(bottom[0].source, "web-1");  // 7 < 9
  EXPECT_EQ(run("top(s(\"*\",\"*\"))").size(), 5u);
}

TEST(Composite, window_and_map) {
  EXPECT_EQ(pts("window(s(\"ctr\",\"*\"), {size: 120, function: \"sum\"})"), (Points{{0, 25}, {120, 12}}));
  EXPECT_EQ(pts("window(s(\"ctr\",\"*\"), {size: 120})"), (Points{{0, 12.5}, {120, 6}}));
  EXPECT_EQ(pts("window(s(\"ctr\",\"*\"), {size: 120, function: \"max\"})"), (Points{{0, 15}, {120, 9}}));
  std::string err;
  auto n = parse("map({source: \"web*\"}, divide([s(\"cpu\", \"&\"), s(\"mem\", \"web-1\")]))", err);
  ASSERT_TRUE(n) << err;
  Sources sources = [](const std::string&) { return std::vector<std::string>{"web-1", "web-2"}; };
  auto set = evaluate(*n, fetch, Interval{0, 180, 60}, sources);
  ASSERT_EQ(set.size(), 2u);
  EXPECT_EQ(set[0].source, "web-1");
  EXPECT_EQ(set[0].points, (Points{{0, 0.5}, {120, 1}}));
  EXPECT_EQ(set[1].source, "web-2");
  EXPECT_EQ(set[1].points, (Points{{0, 1.5}, {120, 1.25}}));
}

TEST(Composite, nested_maps_are_bounded_in_steps) {
  // Each map() evaluates its expression once per source: 30 nested maps over 2 sources would take
  // 2^30 evaluations (over a store's thousands of sources, 3 would do). Refused after
  // kMaxEvaluationSteps steps instead.
  std::string expr = "s(\"cpu\", \"&\")";
  for (int i = 0; i < 30; ++i) expr = "map({source: \"*\"}, " + expr + ")";
  std::string err;
  auto n = parse(expr, err);
  ASSERT_TRUE(n) << err;
  std::size_t listed = 0;
  Sources sources = [&](const std::string&) {
    ++listed;
    return std::vector<std::string>{"web-1", "web-2"};
  };
  try {
    evaluate(*n, fetch, Interval{0, 180, 60}, sources);
    ADD_FAILURE() << "30 nested maps evaluated";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("more than " + std::to_string(kMaxEvaluationSteps) + " evaluation steps"), std::string::npos) << e.what();
  }
  EXPECT_LE(listed, kMaxEvaluationSteps);
  // Within the bound: 10 nested maps are 2^10 series.
  expr = "s(\"cpu\", \"&\")";
  for (int i = 0; i < 10; ++i) expr = "map({source: \"*\"}, " + expr + ")";
  n = parse(expr, err);
  ASSERT_TRUE(n) << err;
  EXPECT_EQ(evaluate(*n, fetch, Interval{0, 180, 60}, sources).size(), 1024u);
}

// Found by fuzz/composite (UBSan, clang's float-cast-overflow): window sizes, moving-average
// windows and top/bottom limits beyond the integer range were converted to integers (undefined
// behaviour); "nan" passed the checks. Huge values now mean "everything", NaN is refused.
TEST(Composite, huge_window_sizes_and_limits_mean_everything) {
  EXPECT_EQ(pts("window(s(\"ctr\",\"*\"), {size: 6.4e71, function: \"sum\"})"), (Points{{0, 37}}));
  EXPECT_EQ(pts("moving_average(s(\"cpu\",\"web-1\"), {window: 1e300})").size(), 3u);
  EXPECT_EQ(run("top(s(\"cpu\",\"*\"), {limit: 1e300})").size(), 2u);
}

std::string parse_error(const std::string& expr) {
  std::string err;
  EXPECT_FALSE(parse(expr, err)) << expr;
  return err;
}

std::string eval_error(const std::string& expr) {
  std::string err;
  auto n = parse(expr, err);
  EXPECT_TRUE(n) << err;
  try {
    evaluate(*n, fetch, Interval{0, 180, 60});
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "no error";
}

TEST(Composite, parse_errors_give_the_position) {
  EXPECT_EQ(parse_error("sum(s(\"cpu\", \"*\")"), "expected ',' or ')' at position 18");
  EXPECT_EQ(parse_error("sum(s(\"cpu, \"*\"))"), "expected ',' or ')' at position 14");
  EXPECT_EQ(parse_error("sum s(\"cpu\")"), "expected '(' after sum at position 5");
  EXPECT_EQ(parse_error("\"cpu\""), "the expression must be a function call at position 1");
  EXPECT_EQ(parse_error("scale(s(\"a\",\"*\"), {factor 2})"), "expected ':' at position 27");
  EXPECT_EQ(parse_error("sum(s(\"a\",\"*\")) x"), "unexpected 'x' at position 17");
  EXPECT_EQ(parse_error(""), "unexpected end of the expression at position 1");
  EXPECT_EQ(parse_error("s(\"a\", \"*)"), "unterminated string at position 8");
  EXPECT_EQ(parse_error("sum(#)"), "unexpected '#' at position 5");
}

TEST(Composite, evaluation_errors_give_the_position) {
  EXPECT_EQ(eval_error("median(s(\"cpu\",\"*\"))"), "unknown function median() at position 1");
  EXPECT_EQ(eval_error("sum(s(\"cpu\"))"), "s() takes (metric, source, {options}) at position 5");
  EXPECT_EQ(eval_error("divide(s(\"cpu\",\"*\"))"), "divide() takes a list of two series sets: divide([a, b]) at position 1");
  EXPECT_EQ(eval_error("scale(s(\"cpu\",\"*\"))"), "scale() needs {factor: number} at position 1");
  EXPECT_EQ(eval_error("scale(s(\"cpu\",\"*\"), {factor: \"x\"})"), "option factor must be a number at position 30");
  EXPECT_EQ(eval_error("divide([s(\"cpu\",\"*\"), s(\"cpu\",\"*\"), s(\"mem\",\"*\")])"),
            "divide() takes a list of two series sets: divide([a, b]) at position 1");
  EXPECT_EQ(eval_error("s(\"cpu\", \"*\", {function: \"p99\"})"), "function must be mean, sum, min, max or count at position 1");
  EXPECT_EQ(eval_error("window(s(\"cpu\",\"*\"))"), "window() needs {size: seconds} at position 1");
  EXPECT_EQ(eval_error("window(s(\"cpu\",\"*\"), {size: \"nan\"})"), "window() needs {size: seconds} at position 1");
  EXPECT_EQ(eval_error("map(s(\"cpu\",\"*\"), sum(s(\"cpu\",\"&\")))"), "map() takes ({source: pattern}, expression) at position 1");
}

}  // namespace
}  // namespace vigil::composite
