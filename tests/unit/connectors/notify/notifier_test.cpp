#include <gtest/gtest.h>

#include "connectors/notify/notifier.hpp"

namespace vigil::connectors {
namespace {

TEST(Notifier, backoff_doubles_up_to_the_cap) {
  NotifierOptions o;
  o.backoff_initial_ms = 100;
  o.backoff_max_ms = 1000;
  EXPECT_EQ(Notifier::backoff_ms(o, 1), 100);
  EXPECT_EQ(Notifier::backoff_ms(o, 2), 200);
  EXPECT_EQ(Notifier::backoff_ms(o, 4), 800);
  EXPECT_EQ(Notifier::backoff_ms(o, 5), 1000);
  EXPECT_EQ(Notifier::backoff_ms(o, 50), 1000);
}

}  // namespace
}  // namespace vigil::connectors
