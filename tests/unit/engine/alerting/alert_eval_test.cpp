#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "engine/alerting/alert_eval.hpp"
#include "engine/alerting/alert_model.hpp"

namespace vigil::alerting {
namespace {

Condition above(double th, std::int64_t duration = 0) {
  Condition c;
  c.type = CondType::above;
  c.metric_name = "cpu";
  c.has_threshold = true;
  c.threshold = th;
  c.duration = duration;
  return c;
}

std::optional<bool> feed(const Condition& c, Tracker& t, double v, std::int64_t time,
                         MetricType type = MetricType::gauge) {
  double out = 0;
  return observe(c, type, t, Agg::of_value(v, time), time, out);
}

// Found by fuzz/store_keys (UBSan): a stored stream state with a double where an integer was
// written (1.7e33 as triggered_at) was converted to int64, undefined behaviour; a member of the
// wrong type threw outside the decoder's catch. Such a state is malformed.
TEST(AlertStreamState, decode_refuses_members_of_another_type) {
  StreamState st;
  st.conds = {1, -1, 0};
  st.values = {2.5, 0, -1};
  st.firing = true;
  st.triggered_at = 1699920000000;
  StreamState back;
  ASSERT_TRUE(decode(encode(st), back));
  EXPECT_EQ(back.conds, st.conds);
  EXPECT_EQ(back.values, st.values);
  EXPECT_TRUE(back.firing);
  EXPECT_EQ(back.triggered_at, st.triggered_at);
  for (const char* bad : {R"({"triggered_at":1.69992e+33})", R"({"cleared_at":"x"})", R"({"firing":1})",
                          R"({"conds":[1e300]})", R"({"conds":[5]})", R"({"values":["a"]})", R"({"conds":{}})"}) {
    StreamState s;
    EXPECT_FALSE(decode(bad, s)) << bad;
  }
  StreamState empty;
  EXPECT_TRUE(decode("{}", empty));
}

TEST(AlertObserve, above_without_duration_fires_on_one_sample) {
  auto c = above(90);
  Tracker t;
  EXPECT_EQ(feed(c, t, 50, 100), false);
  EXPECT_EQ(feed(c, t, 90, 101), false);  // strictly above
  EXPECT_EQ(feed(c, t, 90.5, 102), true);
}

TEST(AlertObserve, below_is_strict) {
  Condition c = above(10);
  c.type = CondType::below;
  Tracker t;
  EXPECT_EQ(feed(c, t, 10, 1), false);
  EXPECT_EQ(feed(c, t, 9.99, 2), true);
}

TEST(AlertObserve, duration_needs_every_sample_beyond_over_the_whole_window) {
  auto c = above(90, 60);
  Tracker t;
  EXPECT_EQ(feed(c, t, 95, 1000), std::nullopt);  // window starts
  EXPECT_EQ(feed(c, t, 95, 1030), std::nullopt);
  EXPECT_EQ(feed(c, t, 95, 1059), std::nullopt);
  EXPECT_EQ(feed(c, t, 95, 1060), true);          // covers 60 s
  EXPECT_EQ(feed(c, t, 50, 1070), false);         // one sample back clears and resets
  EXPECT_EQ(feed(c, t, 95, 1080), std::nullopt);
  EXPECT_EQ(feed(c, t, 95, 1139), std::nullopt);
  EXPECT_EQ(feed(c, t, 95, 1140), true);
}

TEST(AlertObserve, summary_functions_on_aggregates) {
  Agg a;
  a.merge(Agg::of_value(10, 5));
  a.merge(Agg::of_value(130, 6));
  a.merge(Agg::of_value(40, 7));
  Tracker t;
  Condition c = above(0);
  auto value = [&](SummaryFn f, MetricType type = MetricType::gauge) {
    c.summary = f;
    return *sample_value(c, type, t, a, 7);
  };
  EXPECT_DOUBLE_EQ(value(SummaryFn::deflt), 60);  // gauge default: average
  EXPECT_DOUBLE_EQ(value(SummaryFn::average), 60);
  EXPECT_DOUBLE_EQ(value(SummaryFn::max), 130);
  EXPECT_DOUBLE_EQ(value(SummaryFn::min), 10);
  EXPECT_DOUBLE_EQ(value(SummaryFn::sum), 180);
  EXPECT_DOUBLE_EQ(value(SummaryFn::count), 3);
  EXPECT_DOUBLE_EQ(value(SummaryFn::absolute_value), 40);
  EXPECT_EQ(resolve(SummaryFn::deflt, MetricType::counter), SummaryFn::derivative);
}

TEST(AlertObserve, derivative_and_detect_reset) {
  Condition c = above(100);
  c.summary = SummaryFn::derivative;
  Tracker t;
  EXPECT_EQ(feed(c, t, 1000, 1), std::nullopt);  // no previous sample
  EXPECT_EQ(feed(c, t, 1050, 2), false);
  EXPECT_EQ(feed(c, t, 1200, 3), true);  // +150
  Condition r = c;
  r.threshold = -10;
  r.type = CondType::below;
  Tracker plain, reset;
  feed(r, plain, 1000, 1);
  EXPECT_EQ(feed(r, plain, 5, 2), true);  // -995 without detect_reset
  r.detect_reset = true;
  feed(r, reset, 1000, 1);
  double v = -1;
  EXPECT_EQ(observe(r, MetricType::counter, reset, Agg::of_value(5, 2), 2, v), false);
  EXPECT_EQ(v, 0);  // a reset counts as 0
}

Transition tr(std::uint64_t id, std::uint32_t cond, const std::string& stream, bool holds, double v = 1,
              std::uint64_t gen = 1) {
  Transition t;
  t.alert_id = id;
  t.generation = gen;
  t.cond = cond;
  t.stream = stream;
  t.holds = holds;
  t.value = v;
  return t;
}

TEST(AlertBookTest, fires_when_all_conditions_hold_per_stream_and_clears) {
  AlertBook book;
  book.define(1, {1, 2, 600, true});
  AlertBook::Dirty d;
  EXPECT_TRUE(book.apply({tr(1, 0, "host=a", true)}, 1000, d).empty());
  EXPECT_TRUE(book.apply({tr(1, 1, "host=b", true)}, 1000, d).empty());  // other stream
  auto ev = book.apply({tr(1, 1, "host=a", true, 7)}, 2000, d);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlertEvent::Kind::trigger);
  EXPECT_EQ(ev[0].stream, "host=a");
  EXPECT_TRUE(ev[0].notify);
  EXPECT_EQ(ev[0].values, (std::vector<double>{1, 7}));
  EXPECT_TRUE(book.apply({tr(1, 0, "host=a", true)}, 2500, d).empty());  // still firing
  ev = book.apply({tr(1, 0, "host=a", false)}, 3000, d);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlertEvent::Kind::clear);
  EXPECT_TRUE(ev[0].notify);
  EXPECT_EQ(ev[0].triggered_at_ms, 2000);
}

TEST(AlertBookTest, rearm_suppresses_repeated_triggers) {
  AlertBook book;
  book.define(1, {1, 1, 600, true});
  AlertBook::Dirty d;
  EXPECT_TRUE(book.apply({tr(1, 0, "s", true)}, 0 + 1, d)[0].notify);
  EXPECT_TRUE(book.apply({tr(1, 0, "s", false)}, 1000, d)[0].notify);
  auto ev = book.apply({tr(1, 0, "s", true)}, 60'000, d);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_FALSE(ev[0].notify);  // within 600 s of the last trigger notification
  ev = book.apply({tr(1, 0, "s", false)}, 61'000, d);
  EXPECT_FALSE(ev[0].notify);  // its trigger was not notified, so no resolve
  ev = book.apply({tr(1, 0, "s", true)}, 601'001, d);
  EXPECT_TRUE(ev[0].notify);
}

TEST(AlertBookTest, a_stream_still_firing_is_notified_again_after_rearm) {
  AlertBook book;
  book.define(1, {1, 1, 600, true});
  AlertBook::Dirty d;
  EXPECT_TRUE(book.apply({tr(1, 0, "s", true)}, 1000, d)[0].notify);
  EXPECT_TRUE(book.apply({tr(1, 0, "s", true)}, 300'000, d).empty());  // within rearm
  auto ev = book.apply({tr(1, 0, "s", true)}, 601'000, d);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlertEvent::Kind::trigger);
  EXPECT_TRUE(ev[0].notify);
  EXPECT_EQ(ev[0].triggered_at_ms, 1000);  // the same episode
  EXPECT_TRUE(book.apply({tr(1, 0, "s", true)}, 700'000, d).empty());
  book.define(2, {1, 1, 0, true});  // rearm 0: never re-notified while firing
  book.apply({tr(2, 0, "s", true)}, 1, d);
  EXPECT_TRUE(book.apply({tr(2, 0, "s", true)}, 10'000'000, d).empty());
}

TEST(AlertBookTest, inactive_and_stale_generations_are_ignored) {
  AlertBook book;
  book.define(1, {1, 1, 0, false});
  AlertBook::Dirty d;
  EXPECT_TRUE(book.apply({tr(1, 0, "s", true)}, 1, d).empty());
  book.define(2, {5, 1, 0, true});
  EXPECT_TRUE(book.apply({tr(2, 0, "s", true, 1, 4)}, 1, d).empty());
  EXPECT_EQ(book.apply({tr(2, 0, "s", true, 1, 5)}, 1, d).size(), 1u);
}

TEST(AlertBookTest, manual_clear_and_restore_keep_the_firing_state) {
  AlertBook book;
  book.define(1, {1, 1, 0, true});
  AlertBook::Dirty d;
  book.apply({tr(1, 0, "s", true)}, 10, d);
  StreamState saved;
  ASSERT_TRUE(decode(encode(*book.stream(1, "s")), saved));
  EXPECT_TRUE(saved.firing);
  EXPECT_TRUE(saved.notified);

  AlertBook after;  // a restart: state restored, trackers report again
  after.restore(1, "s", saved);
  after.define(1, {1, 1, 0, true});
  EXPECT_TRUE(after.apply({tr(1, 0, "s", true)}, 20, d).empty());  // no second trigger
  auto ev = after.apply({tr(1, 0, "s", false)}, 30, d);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(ev[0].notify);  // the resolve goes out

  after.apply({tr(1, 0, "s", true)}, 40, d);
  ev = after.clear(1, 50, "cleared by hand", d);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlertEvent::Kind::clear);
  EXPECT_FALSE(after.stream(1, "s")->firing);
}

TEST(AlertBookTest, idle_streams_are_those_whose_release_changes_nothing) {
  AlertBook book;
  book.define(1, {1, 2, 600, true});  // two conditions, rearm 600 s
  AlertBook::Dirty d;
  book.apply({tr(1, 0, "quiet", false)}, 1000, d);           // no condition holds
  book.apply({tr(1, 0, "half", true)}, 1000, d);             // one holds: releasing it would lose that
  book.apply({tr(1, 0, "fired", true), tr(1, 1, "fired", true)}, 1000, d);
  book.apply({tr(1, 0, "fired", false), tr(1, 1, "fired", false)}, 2000, d);  // cleared; notified at 1000
  book.apply({tr(1, 0, "fresh", false)}, 50'000, d);         // quiet, but recent
  auto names = [](const std::vector<std::pair<std::uint64_t, std::string>>& v) {
    std::set<std::string> out;
    for (const auto& [id, s] : v) out.insert(s);
    return out;
  };
  EXPECT_EQ(names(book.idle(60'000, 30'000)), (std::set<std::string>{"quiet"}));  // "fired": within rearm
  EXPECT_EQ(names(book.idle(700'000, 30'000)), (std::set<std::string>{"quiet", "fired", "fresh"}));
  EXPECT_EQ(book.stream_count(), 4u);
  book.erase(1, "quiet");
  EXPECT_EQ(book.stream(1, "quiet"), nullptr);
  EXPECT_EQ(book.stream_count(), 3u);
  // A released stream is a new one: it fires when every condition holds again.
  book.apply({tr(1, 0, "quiet", true)}, 800'000, d);
  auto ev = book.apply({tr(1, 1, "quiet", true)}, 800'000, d);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].kind, AlertEvent::Kind::trigger);
  EXPECT_TRUE(ev[0].notify);
}

TEST(AlertBookTest, a_firing_stream_is_never_idle) {
  AlertBook book;
  book.define(1, {1, 1, 0, true});
  AlertBook::Dirty d;
  book.apply({tr(1, 0, "s", true)}, 1, d);
  EXPECT_TRUE(book.idle(1'000'000'000, 1).empty());
}

}  // namespace
}  // namespace vigil::alerting
