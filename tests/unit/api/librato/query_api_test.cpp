#include "api/librato/query_api.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "api/librato/metric_json.hpp"
#include "tests/support/fake_reader.hpp"

namespace vigil::api::librato {

namespace {

using nlohmann::json;

using test_support::FakeReader;

constexpr std::int64_t kNow = 10'000;

MetricInfo cpu_info() {
  MetricInfo m;
  m.name = "CPU";
  m.type = MetricType::gauge;
  m.period = 60;
  m.attributes_json = R"({"display_units_short":"%"})";
  return m;
}

// cpu: three series, two minutes of data each.
FakeReader cpu_reader() {
  FakeReader r;
  auto a = r.add_series("cpu", {{"host", "a"}, {"region", "us"}});
  auto b = r.add_series("cpu", {{"host", "b"}, {"region", "us"}});
  auto c = r.add_series("cpu", {{"host", "c"}, {"region", "eu"}});
  r.add(a, 9000, 1);
  r.add(a, 9030, 3);
  r.add(a, 9060, 5);
  r.add(b, 9010, 10);
  r.add(b, 9070, 20);
  r.add(c, 9020, 100);
  r.add(c, 9080, 300);
  return r;
}

json body_of(const Response& r) { return json::parse(r.body); }

json errors_of(const Response& r) {
  EXPECT_EQ(r.status, 400) << r.body;
  return json::parse(r.body).at("errors").at("params");
}

Response measurements(const Params& q, std::size_t max_points = 0) {
  auto info = cpu_info();
  auto r = cpu_reader();
  return get_measurements("CPU", q, &info, r, kNow, max_points);
}

}  // namespace

TEST(MeasurementsApi, unknown_metric_is_404) {
  FakeReader r;
  auto resp = get_measurements("nope", {{"resolution", "60"}}, nullptr, r, kNow, 0);
  EXPECT_EQ(resp.status, 404);
  EXPECT_TRUE(body_of(resp).at("errors").contains("request"));
}

TEST(MeasurementsApi, param_errors) {
  auto e = errors_of(measurements({{"duration", "3600"}}));
  EXPECT_EQ(e.at("resolution")[0], "is required");

  e = errors_of(measurements({{"duration", "3600"}, {"resolution", "604801"}}));
  EXPECT_TRUE(e.contains("resolution"));
  e = errors_of(measurements({{"duration", "3600"}, {"resolution", "0"}}));
  EXPECT_TRUE(e.contains("resolution"));
  e = errors_of(measurements({{"duration", "3600"}, {"resolution", "6o"}}));
  EXPECT_EQ(e.at("resolution")[0], "must be an integer");
  e = errors_of(measurements({{"duration", "3600"}, {"resolution", "60.5"}}));
  EXPECT_TRUE(e.contains("resolution"));

  e = errors_of(measurements({{"start_time", "1x"}, {"resolution", "60"}}));
  EXPECT_EQ(e.at("start_time")[0], "must be an integer");
  e = errors_of(measurements({{"start_time", "100"}, {"end_time", ""}, {"resolution", "60"}}));
  EXPECT_TRUE(e.contains("end_time"));
  e = errors_of(measurements({{"duration", "-5"}, {"resolution", "60"}}));
  EXPECT_TRUE(e.contains("duration"));

  e = errors_of(measurements(
      {{"start_time", "100"}, {"end_time", "200"}, {"duration", "50"}, {"resolution", "60"}}));
  EXPECT_TRUE(e.contains("duration"));
  EXPECT_EQ(e.size(), 1u);

  e = errors_of(measurements({{"resolution", "60"}}));  // no start_time nor duration
  EXPECT_TRUE(e.contains("start_time"));
  e = errors_of(measurements({{"start_time", "300"}, {"end_time", "200"}, {"resolution", "60"}}));
  EXPECT_TRUE(e.contains("start_time"));

  e = errors_of(measurements({{"duration", "60"}, {"resolution", "60"}, {"group_by", "region"}}));
  EXPECT_EQ(e.at("group_by_function")[0], "is required when group_by is set");
  e = errors_of(measurements({{"duration", "60"},
                              {"resolution", "60"},
                              {"group_by", "region"},
                              {"group_by_function", "median"}}));
  EXPECT_TRUE(e.contains("group_by_function"));
  e = errors_of(measurements({{"duration", "60"},
                              {"resolution", "60"},
                              {"group_by", "region"},
                              {"group_by_function", "sum"},
                              {"summary_function", "all"}}));
  EXPECT_EQ(e.at("summary_function")[0], "all cannot be combined with group_by");
  e = errors_of(
      measurements({{"duration", "60"}, {"resolution", "60"}, {"summary_function", "p99"}}));
  EXPECT_TRUE(e.contains("summary_function"));
  e = errors_of(measurements({{"duration", "60"}, {"resolution", "60"}, {"tags[]", "x"}}));
  EXPECT_TRUE(e.contains("tags[]"));

  // Several errors are reported together.
  e = errors_of(measurements({{"duration", "x"}, {"group_by", "region"}}));
  EXPECT_TRUE(e.contains("duration"));
  EXPECT_TRUE(e.contains("resolution"));
  EXPECT_TRUE(e.contains("group_by_function"));
}

TEST(MeasurementsApi, series_with_tags_and_floored_times) {
  auto resp = measurements({{"start_time", "9035"}, {"end_time", "9100"}, {"resolution", "60"}});
  ASSERT_EQ(resp.status, 200) << resp.body;
  auto b = body_of(resp);
  EXPECT_EQ(b.at("name"), "CPU");
  EXPECT_EQ(b.at("resolution"), 60);
  EXPECT_EQ(b.at("links"), json::array());
  auto s = b.at("series");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].at("tags"), json({{"host", "a"}, {"region", "us"}}));
  EXPECT_EQ(s[2].at("tags"), json({{"host", "c"}, {"region", "eu"}}));
  // 9035 floors to bucket 9000, which is whole (samples 9000, 9030 → mean 2), then 9060 (→ 5).
  EXPECT_EQ(s[0].at("measurements"),
            json::parse(R"([{"time":9000,"value":2.0},{"time":9060,"value":5.0}])"));
  EXPECT_EQ(s[1].at("measurements"),
            json::parse(R"([{"time":9000,"value":10.0},{"time":9060,"value":20.0}])"));
}

TEST(MeasurementsApi, duration_counts_back_from_now_and_tags_filter) {
  auto resp = measurements(
      {{"duration", "1060"}, {"resolution", "120"}, {"tags[host]", "a*"}, {"tags[host]", "c"}});
  ASSERT_EQ(resp.status, 200) << resp.body;
  auto s = body_of(resp).at("series");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].at("tags").at("host"), "a");
  EXPECT_EQ(s[1].at("tags").at("host"), "c");
  // start = 10000 - 1060 = 8940; bucket 9000 (of 120 s) holds every sample of host a: mean 3.
  EXPECT_EQ(s[0].at("measurements"), json::parse(R"([{"time":9000,"value":3.0}])"));
  EXPECT_EQ(s[1].at("measurements"), json::parse(R"([{"time":9000,"value":200.0}])"));

  resp = measurements({{"duration", "1060"}, {"resolution", "120"}, {"tags[region]", "!us"}});
  s = body_of(resp).at("series");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].at("tags").at("host"), "c");
}

TEST(MeasurementsApi, group_by_region_and_star) {
  auto resp = measurements({{"start_time", "9000"},
                            {"end_time", "9119"},
                            {"resolution", "60"},
                            {"group_by", "Region"},
                            {"group_by_function", "sum"},
                            {"summary_function", "max"}});
  ASSERT_EQ(resp.status, 200) << resp.body;
  auto s = body_of(resp).at("series");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].at("tags"), json({{"region", "eu"}}));
  EXPECT_EQ(s[1].at("tags"), json({{"region", "us"}}));
  EXPECT_EQ(s[1].at("measurements"),
            json::parse(R"([{"time":9000,"value":13.0},{"time":9060,"value":25.0}])"));
  EXPECT_EQ(s[0].at("measurements"),
            json::parse(R"([{"time":9000,"value":100.0},{"time":9060,"value":300.0}])"));

  resp = measurements({{"start_time", "9000"},
                       {"end_time", "9119"},
                       {"resolution", "60"},
                       {"group_by", "*"},
                       {"group_by_function", "mean"}});
  s = body_of(resp).at("series");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].at("tags"), json::object());
  // Bucket 9000: means 2, 10, 100 → 37.333...; bucket 9060: 5, 20, 300 → 108.333...
  ASSERT_EQ(s[0].at("measurements").size(), 2u);
  EXPECT_DOUBLE_EQ(s[0]["measurements"][0]["value"].get<double>(), 112.0 / 3);
  EXPECT_DOUBLE_EQ(s[0]["measurements"][1]["value"].get<double>(), 325.0 / 3);
}

TEST(MeasurementsApi, summary_function_defaults_to_the_metric_attribute) {
  auto info = cpu_info();
  info.attributes_json = R"({"summarize_function":"sum"})";
  auto r = cpu_reader();
  auto resp =
      get_measurements("cpu", {{"start_time", "9000"}, {"end_time", "9059"}, {"resolution", "60"}},
                       &info, r, kNow, 0);
  auto s = body_of(resp).at("series");
  EXPECT_EQ(s[0].at("measurements"), json::parse(R"([{"time":9000,"value":4.0}])"));

  info.attributes_json = R"({"summarize_function":"average"})";
  resp =
      get_measurements("cpu", {{"start_time", "9000"}, {"end_time", "9059"}, {"resolution", "60"}},
                       &info, r, kNow, 0);
  s = body_of(resp).at("series");
  EXPECT_EQ(s[0].at("measurements"), json::parse(R"([{"time":9000,"value":2.0}])"));
}

TEST(MeasurementsApi, summary_function_all_carries_every_statistic) {
  auto resp = measurements({{"start_time", "9000"},
                            {"end_time", "9059"},
                            {"resolution", "60"},
                            {"summary_function", "all"},
                            {"tags[host]", "a"}});
  ASSERT_EQ(resp.status, 200) << resp.body;
  auto m = body_of(resp).at("series")[0].at("measurements");
  EXPECT_EQ(m, json::parse(R"([{"time":9000,"count":2,"sum":4.0,"min":1.0,"max":3.0,
                                 "mean":2.0,"last":3.0,"stddev":1.0}])"));
}

TEST(MeasurementsApi, derivative_for_a_counter_metric) {
  MetricInfo info;
  info.name = "reqs";
  info.type = MetricType::counter;
  FakeReader r;
  auto id = r.add_series("reqs", {{"source", "web"}});
  r.add(id, 0, 100);
  r.add(id, 60, 150);
  r.add(id, 120, 20);  // reset
  auto resp = get_measurements("reqs",
                               {{"start_time", "0"},
                                {"end_time", "179"},
                                {"resolution", "60"},
                                {"summary_function", "derivative"}},
                               &info, r, kNow, 0);
  EXPECT_EQ(body_of(resp).at("series")[0].at("measurements"),
            json::parse(R"([{"time":60,"value":50.0},{"time":120,"value":20.0}])"));
}

TEST(MeasurementsApi, truncation_gives_a_next_link_with_the_same_params) {
  auto resp = measurements({{"resolution", "60"}, {"tags[region]", "us"}, {"duration", "1060"}}, 3);
  ASSERT_EQ(resp.status, 200) << resp.body;
  auto b = body_of(resp);
  auto s = b.at("series");
  ASSERT_EQ(s.size(), 2u);  // bucket 9000 kept (2 points), bucket 9060 would make 4
  EXPECT_EQ(s[0].at("measurements").size(), 1u);
  EXPECT_EQ(s[1].at("measurements").size(), 1u);
  ASSERT_EQ(b.at("links").size(), 1u);
  EXPECT_EQ(b["links"][0].at("rel"), "next");
  EXPECT_EQ(
      b["links"][0].at("href"),
      "/v1/measurements/CPU?resolution=60&tags%5Bregion%5D=us&start_time=9060&end_time=10000");

  // Following the link returns the rest and no further link.
  resp = measurements(
      {{"resolution", "60"}, {"tags[region]", "us"}, {"start_time", "9060"}, {"end_time", "10000"}},
      3);
  b = body_of(resp);
  EXPECT_EQ(b.at("links"), json::array());
  EXPECT_EQ(b.at("series")[0].at("measurements"), json::parse(R"([{"time":9060,"value":5.0}])"));

  // An explicit start_time is replaced in place.
  resp = measurements({{"start_time", "9000"}, {"resolution", "60"}, {"end_time", "9999"}}, 3);
  EXPECT_EQ(body_of(resp)["links"][0].at("href"),
            "/v1/measurements/CPU?start_time=9060&resolution=60&end_time=9999");
}

// -- legacy
// ----------------------------------------------------------------------------------------

namespace {

MetricInfo temp_info() {
  MetricInfo m;
  m.name = "cpu_temp";
  m.description = "Current CPU temperature";
  m.attributes_json = R"({"display_min":0,"display_max":null})";
  return m;
}

FakeReader temp_reader() {
  FakeReader r;
  auto s1 = r.add_series("cpu_temp", {{"source", "server1.acme.com"}});
  auto s2 = r.add_series("cpu_temp", {{"source", "server2.acme.com"}});
  auto h = r.add_series("cpu_temp", {{"host", "a"}, {"region", "b"}});
  for (int i = 0; i < 5; ++i) {
    r.add(s1, 1000 + i * 60, 80 + i);
    r.add(s2, 1000 + i * 60, 90 + i);
    r.add(h, 1000 + i * 60, 1);
  }
  r.add(s1, 1030, 85);
  return r;
}

Response legacy(const Params& q, std::size_t max_points = 0) {
  auto info = temp_info();
  auto r = temp_reader();
  return get_metric("cpu_temp", q, info, r, 2000, max_points);
}

}  // namespace

TEST(MetricJson, nulls_for_unset_fields_and_parsed_attributes) {
  auto j = metric_json(temp_info());
  EXPECT_EQ(j, json::parse(R"({"name":"cpu_temp","display_name":null,
      "description":"Current CPU temperature","period":null,"source_lag":null,"type":"gauge",
      "attributes":{"display_min":0,"display_max":null}})"));
  MetricInfo c;
  c.name = "x";
  c.type = MetricType::counter;
  c.period = 300;
  c.display_name = "X";
  c.attributes_json = "not json";
  j = metric_json(c);
  EXPECT_EQ(j.at("period"), 300);
  EXPECT_EQ(j.at("type"), "counter");
  EXPECT_EQ(j.at("display_name"), "X");
  EXPECT_EQ(j.at("attributes"), json::object());
}

TEST(LegacyMetricApi, metadata_only_without_time_params) {
  auto resp = legacy({{"source", "server*"}});
  ASSERT_EQ(resp.status, 200);
  auto b = body_of(resp);
  EXPECT_EQ(b, metric_json(temp_info()));
  EXPECT_FALSE(b.contains("measurements"));
}

TEST(LegacyMetricApi, raw_points_keyed_by_source) {
  auto resp = legacy({{"start_time", "1100"}, {"end_time", "1200"}});
  ASSERT_EQ(resp.status, 200) << resp.body;
  auto b = body_of(resp);
  EXPECT_EQ(b.at("name"), "cpu_temp");
  EXPECT_EQ(b.at("resolution"), 1);
  auto m = b.at("measurements");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m.at("server1.acme.com"), json::parse(R"([
      {"measure_time":1120,"value":82.0,"count":1,"min":82.0,"max":82.0,"sum":82.0},
      {"measure_time":1180,"value":83.0,"count":1,"min":83.0,"max":83.0,"sum":83.0}])"));
  EXPECT_EQ(m.at("server2.acme.com").size(), 2u);
  EXPECT_EQ(m.at("server2.acme.com")[1].at("value"), 93.0);
  EXPECT_EQ(m.at("host=a,region=b").size(), 2u);
  EXPECT_FALSE(b.contains("query"));
}

TEST(LegacyMetricApi, count_takes_the_last_points_before_end) {
  auto resp = legacy({{"count", "2"}, {"source", "server1*"}});  // end = now = 2000
  ASSERT_EQ(resp.status, 200) << resp.body;
  auto m = body_of(resp).at("measurements");
  ASSERT_EQ(m.size(), 1u);
  auto s = m.at("server1.acme.com");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].at("measure_time"), 1180);
  EXPECT_EQ(s[1].at("measure_time"), 1240);
  EXPECT_EQ(s[1].at("value"), 84.0);

  resp = legacy({{"count", "2"}, {"start_time", "1000"}, {"sources[]", "server1.acme.com"}});
  s = body_of(resp).at("measurements").at("server1.acme.com");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].at("measure_time"), 1000);
  EXPECT_EQ(s[1].at("measure_time"), 1030);
  EXPECT_EQ(s[1].at("value"), 85.0);
}

TEST(LegacyMetricApi, resolution_buckets_with_statistics) {
  auto resp = legacy({{"count", "4"},
                      {"resolution", "60"},
                      {"sources[]", "server1.acme.com"},
                      {"sources[]", "server2.acme.com"}});
  ASSERT_EQ(resp.status, 200) << resp.body;
  auto b = body_of(resp);
  EXPECT_EQ(b.at("resolution"), 60);
  auto m = b.at("measurements");
  ASSERT_EQ(m.size(), 2u);
  auto s1 = m.at("server1.acme.com");
  ASSERT_EQ(s1.size(), 4u);  // the last 4 of 5 buckets: 1020, 1080, 1140, 1200
  EXPECT_EQ(s1[0], json::parse(R"({"measure_time":1020,"value":83.0,"count":2,
                                   "min":81.0,"max":85.0,"sum":166.0})"));
  EXPECT_EQ(s1[3].at("measure_time"), 1200);
  EXPECT_EQ(m.at("server2.acme.com")[3].at("value"), 94.0);

  // 960 holds server1's 1000 sample only.
  resp = legacy({{"start_time", "960"},
                 {"end_time", "1019"},
                 {"resolution", "60"},
                 {"source", "server1.acme.com"}});
  EXPECT_EQ(
      body_of(resp).at("measurements").at("server1.acme.com"),
      json::parse(
          R"([{"measure_time":960,"value":80.0,"count":1,"min":80.0,"max":80.0,"sum":80.0}])"));
}

TEST(LegacyMetricApi, truncation_gives_next_time) {
  auto resp = legacy({{"start_time", "1000"}, {"source", "server*"}}, 5);
  ASSERT_EQ(resp.status, 200) << resp.body;
  auto b = body_of(resp);
  // Times 1000 (2 points), 1030 (1), 1060 (2): 5 points; 1120 would exceed.
  EXPECT_EQ(b.at("query"), json({{"next_time", 1120}}));
  EXPECT_EQ(b.at("measurements").at("server1.acme.com").size(), 3u);
  EXPECT_EQ(b.at("measurements").at("server2.acme.com").size(), 2u);
}

TEST(LegacyMetricApi, param_errors) {
  auto e = errors_of(legacy({{"resolution", "60"}}));  // no start_time, count or duration
  EXPECT_TRUE(e.contains("start_time"));
  e = errors_of(legacy({{"count", "many"}}));
  EXPECT_EQ(e.at("count")[0], "must be an integer");
  e = errors_of(legacy({{"count", "0"}}));
  EXPECT_TRUE(e.contains("count"));
  e = errors_of(legacy({{"start_time", "1000"}, {"resolution", "700000"}}));
  EXPECT_TRUE(e.contains("resolution"));
  e = errors_of(legacy({{"start_time", "1"}, {"end_time", "2"}, {"duration", "1"}}));
  EXPECT_TRUE(e.contains("duration"));
}

}  // namespace vigil::api::librato

namespace vigil::api::librato {

// The body is written without a json tree; it must be what dumping the parsed body gives (same
// keys in the same order, same spelling of every value).
TEST(MeasurementsApi, body_is_the_canonical_json_dump) {
  const Params queries[] = {
      {{"resolution", "60"}, {"duration", "1060"}},
      {{"resolution", "60"}, {"tags[region]", "us"}, {"duration", "1060"}},
      {{"resolution", "60"}, {"duration", "1060"}, {"summary_function", "all"}},
      {{"resolution", "60"}, {"duration", "1060"}, {"group_by", "region"}, {"group_by_function", "sum"}},
  };
  for (const auto& q : queries)
    for (std::size_t max_points : {std::size_t{0}, std::size_t{3}}) {
      auto resp = measurements(q, max_points);
      ASSERT_EQ(resp.status, 200) << resp.body;
      auto b = json::parse(resp.body);
      EXPECT_FALSE(b.at("series").empty());
      EXPECT_EQ(resp.body, b.dump());
    }
}

}  // namespace vigil::api::librato
