#include <gtest/gtest.h>

#include "actors/alerting/alert_keys.hpp"

namespace vigil::actors::alert_keys {
namespace {

TEST(AlertKeys, layouts_are_prefix_then_big_endian_ids) {
  EXPECT_EQ(alert(1), std::string("alert/\0\0\0\0\0\0\0\1", 14));
  EXPECT_EQ(service(2), std::string("service/\0\0\0\0\0\0\0\2", 16));
  EXPECT_EQ(outbox(3), std::string("outbox/\0\0\0\0\0\0\0\3", 15));
  EXPECT_EQ(state(4, "source=a"), std::string("alertstate/\0\0\0\0\0\0\0\4source=a", 27));
  EXPECT_EQ(history(5, 6), std::string("history/\0\0\0\0\0\0\0\5\0\0\0\0\0\0\0\6", 24));
  EXPECT_LT(state_prefix(7), state_prefix(8)) << "the prefix of id+1 bounds the keys of id";
  EXPECT_LT(history(7, ~0ull), history_prefix(8));
}

TEST(AlertKeys, parse_what_the_builders_make) {
  EXPECT_EQ(parse_alert(alert(258)), 258u);
  EXPECT_EQ(parse_outbox(outbox(1ull << 40)), 1ull << 40);
  EXPECT_EQ(parse_history_seq(history(9, 77)), 77u);
  std::string key = state(11, "host=x,source=y");
  auto st = parse_state(key);  // the stream points into `key`
  ASSERT_TRUE(st);
  EXPECT_EQ(st->alert_id, 11u);
  EXPECT_EQ(st->stream, "host=x,source=y");
}

TEST(AlertKeys, reject_short_or_foreign_keys) {
  EXPECT_FALSE(parse_alert("alert/"));
  EXPECT_FALSE(parse_alert(alert(1) + "x")) << "alert keys are exactly prefix + id";
  EXPECT_FALSE(parse_alert(service(1)));
  EXPECT_FALSE(parse_outbox("outbox/1234567"));
  EXPECT_FALSE(parse_history_seq(history_prefix(9)));
  EXPECT_FALSE(parse_state("alertstate/1234567"));
  EXPECT_TRUE(parse_state(state_prefix(3))) << "an empty stream is a stream";
}

}  // namespace
}  // namespace vigil::actors::alert_keys
