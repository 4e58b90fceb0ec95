#include "api/deeploy/metric_doc.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace vigil::api::deeploy {
namespace {

using nlohmann::json;

TEST(DeeployMetricDoc, a_record_reads_back_as_written) {
  MetricDoc m;
  m.id = new_uuid();
  m.workspace = "WS-1";
  m.deployment = "dep.2";
  m.seq = 7;
  m.name = "Daily Token Usage";
  m.graph = GraphType::bar;
  m.aggregation = AggregationMethod::max;
  m.title_x = "Date";
  m.title_y = "Total tokens";
  m.unit_x = "day";
  m.created_ms = 1000;
  m.updated_ms = 2000;
  m.labels = {{json("2026-03-06"), 0}, {json(7), 3}, {json(2.5), 4}};
  m.next_label = 5;
  m.first_time = 10;
  m.last_time = 20;
  auto back = metric_from_json(json::parse(to_json(m).dump()));
  ASSERT_TRUE(back);
  EXPECT_EQ(to_json(*back), to_json(m));
  EXPECT_EQ(back->labels[1].value, json(7));
  EXPECT_TRUE(back->labels[1].value.is_number_integer());
  EXPECT_FALSE(back->unit_y);
  EXPECT_FALSE(metric_from_json(json{{"kind", "other"}}));
  EXPECT_FALSE(metric_from_json(json::array()));
}

TEST(DeeployMetricDoc, api_json_is_the_custom_metric_model) {
  MetricDoc m;
  m.id = "abc";
  m.deployment = "dep";
  m.name = "Token Usage";
  m.graph = GraphType::timeseries;
  m.aggregation = AggregationMethod::sum;
  m.title_y = "Total tokens";
  m.created_ms = 1705314600123;
  m.updated_ms = 1705314600123;
  json j = api_json(m);
  EXPECT_EQ(j["id"], "abc");
  EXPECT_EQ(j["deploymentId"], "dep");
  EXPECT_EQ(j["graphType"], "timeseries");
  EXPECT_EQ(j["aggregationMethod"], "sum");
  EXPECT_TRUE(j["titleXAxis"].is_null());
  EXPECT_TRUE(j["unitXAxis"].is_null());
  EXPECT_EQ(j["titleYAxis"], "Total tokens");
  EXPECT_EQ(j["createdAt"], "2024-01-15T10:30:00.123Z");
}

TEST(DeeployMetricDoc, series_tags_are_sorted_lower_case_and_valid) {
  MetricDoc m;
  m.id = "0f";
  m.workspace = "Team_A";
  m.deployment = "Prod.Model-1";
  EXPECT_EQ(series_tags(m, std::nullopt),
            (Tags{{"deployment", "prod.model-1"}, {"workspace", "team_a"}}));
  EXPECT_EQ(series_tags(m, 12),
            (Tags{{"deployment", "prod.model-1"}, {"workspace", "team_a"}, {"x", "12"}}));
  EXPECT_EQ(vigil_metric(m), "deeploy.0f");
}

TEST(DeeployMetricDoc, label_identity_distinguishes_strings_from_numbers) {
  EXPECT_EQ(label_key(json(1)), label_key(json(1.0)));
  EXPECT_NE(label_key(json(1)), label_key(json("1")));
  EXPECT_NE(label_key(json("a")), label_key(json("A")));
  EXPECT_NE(label_key(json(0.1)), label_key(json(0.2)));
}

TEST(DeeployMetricDoc, namespace_ids_and_uuids) {
  EXPECT_TRUE(valid_namespace_id("3fa85f64-5717-4562-b3fc-2c963f66afa6"));
  EXPECT_TRUE(valid_namespace_id("Team_A.prod"));
  EXPECT_TRUE(valid_namespace_id(std::string(128, 'a')));
  EXPECT_FALSE(valid_namespace_id(std::string(129, 'a')));
  EXPECT_FALSE(valid_namespace_id(""));
  EXPECT_FALSE(valid_namespace_id("a b"));
  EXPECT_FALSE(valid_namespace_id("a:b"));
  EXPECT_FALSE(valid_namespace_id("ü"));
  std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::string a = new_uuid(), b = new_uuid();
  EXPECT_TRUE(std::regex_match(a, uuid)) << a;
  EXPECT_NE(a, b);
  EXPECT_TRUE(parse_graph_type("bar") == GraphType::bar);
  EXPECT_FALSE(parse_graph_type("pie"));
  EXPECT_FALSE(parse_aggregation("mean"));
  EXPECT_TRUE(parse_aggregation("min") == AggregationMethod::min);
}

}  // namespace
}  // namespace vigil::api::deeploy
