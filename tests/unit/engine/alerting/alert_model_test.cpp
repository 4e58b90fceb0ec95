#include <gtest/gtest.h>

#include <functional>

#include "engine/alerting/alert_model.hpp"

namespace vigil::alerting {
namespace {

Condition base_condition() {
  Condition c;
  c.type = CondType::above;
  c.metric_name = "cpu";
  c.source = "web-*";
  c.tags = {{"region", {"us-east"}, false}};
  c.has_threshold = true;
  c.threshold = 90;
  c.summary = SummaryFn::max;
  c.duration = 300;
  c.detect_reset = false;
  c.id = 4;
  return c;
}

TEST(AlertModel, conditions_differing_in_one_field_compare_unequal) {
  const std::vector<std::pair<const char*, std::function<void(Condition&)>>> changes = {
      {"type", [](Condition& c) { c.type = CondType::below; }},
      {"metric_name", [](Condition& c) { c.metric_name = "mem"; }},
      {"source", [](Condition& c) { c.source = "db-*"; }},
      {"tags.name", [](Condition& c) { c.tags[0].name = "zone"; }},
      {"tags.values", [](Condition& c) { c.tags[0].values.push_back("us-west"); }},
      {"tags.grouped", [](Condition& c) { c.tags[0].grouped = true; }},
      {"tags (count)", [](Condition& c) { c.tags.clear(); }},
      {"has_threshold", [](Condition& c) { c.has_threshold = false; }},
      {"threshold", [](Condition& c) { c.threshold = 91; }},
      {"summary", [](Condition& c) { c.summary = SummaryFn::average; }},
      {"duration", [](Condition& c) { c.duration = 600; }},
      {"detect_reset", [](Condition& c) { c.detect_reset = true; }},
      {"id", [](Condition& c) { c.id = 5; }},
  };
  EXPECT_EQ(base_condition(), base_condition());
  for (const auto& [field, change] : changes) {
    Condition c = base_condition();
    change(c);
    EXPECT_NE(c, base_condition()) << field;
    EXPECT_FALSE(c == base_condition()) << field;
  }
}

TEST(AlertModel, alerts_compare_by_every_field) {
  Alert a;
  a.id = 1;
  a.name = "cpu.high";
  a.conditions = {base_condition()};
  a.services = {3};
  Alert b = a;
  EXPECT_EQ(a, b);
  b.conditions[0].threshold = 95;
  EXPECT_NE(a, b) << "a change inside a condition";
  b = a;
  b.active = false;
  EXPECT_NE(a, b);
  b = a;
  b.services.push_back(4);
  EXPECT_NE(a, b);
  b = a;
  b.attributes_json = R"({"runbook_url":"http://x"})";
  EXPECT_NE(a, b);
  b = a;
  b.rearm_seconds = 0;
  EXPECT_NE(a, b);
}

TEST(AlertModel, the_stored_form_round_trips_to_an_equal_alert) {
  Alert a;
  a.id = 9;
  a.name = "cpu.high";
  a.description = "hot";
  a.conditions = {base_condition()};
  a.services = {3, 5};
  a.attributes_json = R"({"runbook_url":"http://x"})";
  a.created_at = 100;
  a.updated_at = 200;
  Alert back;
  ASSERT_TRUE(from_json(to_json(a), back));
  EXPECT_EQ(back, a);
}

}  // namespace
}  // namespace vigil::alerting
