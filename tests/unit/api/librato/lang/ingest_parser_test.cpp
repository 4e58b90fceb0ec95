#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <string>

#include "api/librato/lang/ingest_parser.hpp"

namespace vigil {

namespace {

constexpr std::int64_t kNow = 1700000000;

Tags tags(std::initializer_list<Tag> t) { return Tags(t); }

// The param names of the errors, in order.
std::vector<std::string> params(const ParseOutcome& o) {
  std::vector<std::string> p;
  for (const auto& e : o.errors) p.push_back(e.param);
  return p;
}

using Params = std::vector<std::string>;

}  // namespace

// -- POST /v1/measurements ----------------------------------------------------------------------

TEST(IngestParser, parses_measurements_with_top_level_tags) {
  auto o = parse_measurements_json(
      R"({"tags":{"region":"us-west","name":"web-prod-3"},
          "measurements":[{"name":"cpu","value":4.5},{"name":"memory","value":10.5}]})",
      kNow);
  ASSERT_EQ(o.request_error, "");
  ASSERT_TRUE(o.errors.empty());
  ASSERT_EQ(o.measurements.size(), 2u);
  const Measurement& a = o.measurements[0];
  EXPECT_EQ(a.name, "cpu");
  EXPECT_EQ(a.tags, tags({{"name", "web-prod-3"}, {"region", "us-west"}}));
  EXPECT_EQ(a.time, kNow);
  EXPECT_EQ(a.type, MetricType::gauge);
  EXPECT_EQ(a.agg.count, 1);
  EXPECT_EQ(a.agg.sum, 4.5);
  EXPECT_EQ(a.agg.min, 4.5);
  EXPECT_EQ(a.agg.max, 4.5);
  EXPECT_EQ(a.agg.last, 4.5);
  EXPECT_EQ(a.agg.last_time, kNow);
  EXPECT_EQ(a.agg.sumsq, 4.5 * 4.5);
  EXPECT_FALSE(a.period.has_value());
  EXPECT_EQ(a.attributes_json, "");
  EXPECT_EQ(o.measurements[1].name, "memory");
  EXPECT_EQ(o.measurements[1].agg.sum, 10.5);
}

// A tag name or value equal to the one the previous measurement had at that place skips being
// normalized again; one that failed the checks there must still fail.
TEST(IngestParser, a_repeated_invalid_tag_text_is_rejected_every_time) {
  auto o = parse_measurements_json(
      R"({"measurements":[
          {"name":"cpu","value":1,"tags":{"bad name":"a"}},
          {"name":"cpu","value":2,"tags":{"bad name":"a"}},
          {"name":"cpu","value":3,"tags":{"host":"x y"}},
          {"name":"cpu","value":4,"tags":{"host":"x y"}},
          {"name":"cpu","value":5,"tags":{"Host":"A"}},
          {"name":"cpu","value":6,"tags":{"host":"a"}}]})",
      kNow);
  ASSERT_EQ(o.request_error, "");
  EXPECT_EQ(params(o), (Params{"measurements[0].tags.bad name", "measurements[1].tags.bad name",
                               "measurements[2].tags.host", "measurements[3].tags.host"}));
  ASSERT_EQ(o.measurements.size(), 2u);
  EXPECT_EQ(o.measurements[0].tags, tags({{"host", "a"}}));
  EXPECT_EQ(o.measurements[1].tags, tags({{"host", "a"}}));
}

// Recycled tag vectors come back empty: a later body's measurements hold only their own tags.
TEST(IngestParser, recycled_tag_vectors_hold_only_the_new_tags) {
  auto first = parse_measurements_json(
      R"({"measurements":[{"name":"cpu","value":1,"tags":{"a":"1","b":"2","c":"3"}},
                          {"name":"cpu","value":2,"tags":{"d":"4"}}]})",
      kNow);
  ASSERT_EQ(first.measurements.size(), 2u);
  recycle(first);
  auto second = parse_measurements_json(
      R"({"tags":{"z":"9"},"measurements":[{"name":"cpu","value":1,"tags":{"e":"5"}},
                                          {"name":"cpu","value":2},
                                          {"name":"cpu","value":3,"tags":{"z":null}}]})",
      kNow);
  ASSERT_EQ(second.measurements.size(), 3u);
  EXPECT_EQ(second.measurements[0].tags, tags({{"e", "5"}, {"z", "9"}}));
  EXPECT_EQ(second.measurements[1].tags, tags({{"z", "9"}}));
  EXPECT_EQ(second.measurements[2].tags, tags({{"source", "unassigned"}}));
}

// Found by fuzz/single_measurement (UBSan): a message without tags was looked up in the memory of
// series with memcmp on the null data of its empty tags text. It is recognized like any other.
TEST(IngestParser, message_stream_knows_a_series_without_tags) {
  const std::string body = R"({"name":"untagged.fuzz","value":1})";
  ParseOutcome out;
  parse_measurement_message(body, kNow, nullptr, 1, out);
  ASSERT_EQ(out.measurements.size(), 1u);
  out.measurements[0].series_id = 7;
  out.measurements[0].series_generation = 1;
  learn_series(out.measurements);
  out.measurements.clear();
  parse_measurement_message(body, kNow, nullptr, 1, out);
  ASSERT_EQ(out.measurements.size(), 1u);
  EXPECT_EQ(out.measurements[0].series_id, 7u) << "the learned series, found by its (empty) tags text";
  EXPECT_EQ(out.measurements[0].name, "untagged.fuzz");
  EXPECT_EQ(out.measurements[0].agg.sum, 1);
}

// A stream of one-measurement messages: a body whose name and tags are written as in an earlier
// one, whose series was learned since, yields that series id and no tags; its time and value are
// still read and checked; another generation, other text or a refused name parse in full again.
TEST(IngestParser, message_stream_names_known_series_by_their_learned_id) {
  struct Refuse final : NamePolicy {
    bool on = false;
    const char* refuses(std::string_view) const override { return on ? "is refused" : nullptr; }
  } policy;
  auto body = [](int time, const char* value, const char* tags_text) {
    return std::string(R"({"name":"Stream.CPU","time":)") + std::to_string(time) + R"(,"value":)" + value +
           R"(,"tags":)" + tags_text + "}";
  };
  const char* text = R"({"Host":"a","region":"r1"})";
  ParseOutcome out;
  parse_measurement_message(body(kNow, "1.5", text), kNow, &policy, 1, out);
  ASSERT_EQ(out.measurements.size(), 1u);
  const ParseOutcome dom = parse_measurements_json(body(kNow, "1.5", text), kNow);
  ASSERT_EQ(dom.measurements.size(), 1u);
  EXPECT_EQ(out.measurements[0].name, dom.measurements[0].name);
  EXPECT_EQ(out.measurements[0].tags, dom.measurements[0].tags);
  EXPECT_EQ(out.measurements[0].series_id, 0u) << "not learned yet";
  EXPECT_NE(out.measurements[0].source_hash, 0u);

  // Not learned yet: parsed in full again.
  parse_measurement_message(body(kNow + 1, "2", text), kNow, &policy, 1, out);
  ASSERT_EQ(out.measurements.size(), 2u);
  EXPECT_EQ(out.measurements[1].series_id, 0u);
  EXPECT_EQ(out.measurements[1].tags, dom.measurements[0].tags);

  out.measurements[0].series_id = 42;  // as Engine::ingest_learning sets them
  out.measurements[0].series_generation = 1;
  learn_series(out.measurements);
  out.measurements.clear();

  parse_measurement_message(body(kNow + 2, "3.25", text), kNow, &policy, 1, out);
  ASSERT_EQ(out.measurements.size(), 1u);
  const Measurement& m = out.measurements[0];
  EXPECT_EQ(m.series_id, 42u);
  EXPECT_EQ(m.series_generation, 1u);
  EXPECT_TRUE(m.tags.empty());
  EXPECT_EQ(m.source_hash, 0u);
  EXPECT_EQ(m.name, "Stream.CPU");
  EXPECT_EQ(m.time, kNow + 2);
  EXPECT_EQ(m.agg.sum, 3.25);
  EXPECT_EQ(m.agg.count, 1);

  // The time and value of a known series are checked as always.
  out.measurements.clear();
  parse_measurement_message(body(-5, "1", text), kNow, &policy, 1, out);
  EXPECT_TRUE(out.measurements.empty());
  EXPECT_EQ(params(out), Params{"time"});
  parse_measurement_message(body(kNow, "1e400", text), kNow, &policy, 1, out);
  EXPECT_TRUE(out.measurements.empty());
  EXPECT_FALSE(out.errors.empty() && out.request_error.empty()) << "an out-of-range value is reported";

  // A name refused since: reported.
  policy.on = true;
  parse_measurement_message(body(kNow, "1", text), kNow, &policy, 1, out);
  EXPECT_TRUE(out.measurements.empty());
  EXPECT_EQ(params(out), Params{"name"});
  policy.on = false;

  // Another generation: parsed in full, and learned anew.
  parse_measurement_message(body(kNow, "1", text), kNow, &policy, 2, out);
  ASSERT_EQ(out.measurements.size(), 1u);
  EXPECT_EQ(out.measurements[0].series_id, 0u);
  EXPECT_EQ(out.measurements[0].tags, dom.measurements[0].tags);

  // The same tags written otherwise are another text: parsed in full.
  out.measurements.clear();
  parse_measurement_message(body(kNow, "1", R"({"Host":"a", "region":"r1"})"), kNow, &policy, 1, out);
  ASSERT_EQ(out.measurements.size(), 1u);
  EXPECT_EQ(out.measurements[0].series_id, 0u);
  EXPECT_EQ(out.measurements[0].tags, dom.measurements[0].tags);

  // Other bodies go through the full parser.
  out.measurements.clear();
  parse_measurement_message(R"({"measurements":[{"name":"Stream.CPU","value":1,"tags":{"host":"a"}},
                                                {"name":"x","value":2,"tags":{"host":"b"}}]})",
                            kNow, &policy, 1, out);
  ASSERT_EQ(out.measurements.size(), 2u);
  EXPECT_EQ(out.measurements[0].series_id, 0u);
  EXPECT_EQ(out.measurements[1].tags, tags({{"host", "b"}}));
}

TEST(IngestParser, sample_times_outside_the_window_are_refused_in_every_format) {
  // The last second of 9999 is in; the next one, and the int64 extremes, are out.
  auto v1 = parse_measurements_json(
      R"({"measurements":[{"name":"a","value":1,"time":253402300799},{"name":"a","value":1,"time":253402300800},)"
      R"({"name":"a","value":1,"time":9223372036854775807},{"name":"a","value":1,"time":-9223372036854775808},)"
      R"({"name":"a","value":1,"time":1e300},{"name":"a","value":1,"time":253402300799.5}]})",
      kNow);
  ASSERT_EQ(v1.measurements.size(), 2u);
  EXPECT_EQ(v1.measurements[0].time, kSampleTimeMax);
  EXPECT_EQ(v1.measurements[1].time, kSampleTimeMax);
  EXPECT_EQ(params(v1), (Params{"measurements[1].time", "measurements[2].time", "measurements[3].time",
                                "measurements[4].time"}));
  EXPECT_NE(v1.errors[0].message.find("9999-12-31"), std::string::npos);
  // The single-measurement fast path agrees.
  auto single = parse_measurements_json(R"({"name":"a","value":1,"time":253402300800})", kNow);
  EXPECT_TRUE(single.measurements.empty());
  EXPECT_EQ(params(single), Params{"time"});
  auto legacy = parse_legacy_json(R"({"gauges":[{"name":"a","value":1,"measure_time":253402300800},)"
                                  R"({"name":"a","value":1,"measure_time":"999999999999"}]})",
                                  kNow);
  EXPECT_TRUE(legacy.measurements.empty());
  EXPECT_EQ(params(legacy), (Params{"gauges[0].measure_time", "gauges[1].measure_time"}));
}

TEST(IngestParser, metric_name_keeps_its_case) {
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"AWS.EC2.DiskWriteBytes","value":65}]})", kNow);
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].name, "AWS.EC2.DiskWriteBytes");
  EXPECT_EQ(o.measurements[0].agg.sum, 65);
}

TEST(IngestParser, no_tags_defaults_to_source_unassigned) {
  auto o = parse_measurements_json(R"({"measurements":[{"name":"cpu","value":1}]})", kNow);
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].tags, tags({{"source", "unassigned"}}));
}

TEST(IngestParser, nulling_every_tag_falls_back_to_source_unassigned) {
  auto o = parse_measurements_json(
      R"({"tags":{"host":"a"},"measurements":[{"name":"cpu","value":1,"tags":{"host":null}}]})",
      kNow);
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].tags, tags({{"source", "unassigned"}}));
}

TEST(IngestParser, per_measurement_null_unsets_top_level_tag) {
  auto o = parse_measurements_json(
      R"({"tags":{"region":"us-west","name":"web-prod-3"},
          "measurements":[{"name":"cpu","value":4.5,"tags":{"name":null}},
                          {"name":"memory","sum":34.5,"count":5,"tags":{"az":"g","db":"db-prod-1"}}]})",
      kNow);
  ASSERT_TRUE(o.errors.empty());
  ASSERT_EQ(o.measurements.size(), 2u);
  EXPECT_EQ(o.measurements[0].tags, tags({{"region", "us-west"}}));
  EXPECT_EQ(o.measurements[1].tags, tags({{"az", "g"},
                                          {"db", "db-prod-1"},
                                          {"name", "web-prod-3"},
                                          {"region", "us-west"}}));
}

TEST(IngestParser, per_measurement_tag_overrides_top_level_value) {
  auto o = parse_measurements_json(
      R"({"tags":{"region":"us-west","host":"a"},
          "measurements":[{"name":"cpu","value":1,"tags":{"region":"EU-Central"}},
                          {"name":"cpu","value":2}]})",
      kNow);
  ASSERT_EQ(o.measurements.size(), 2u);
  EXPECT_EQ(o.measurements[0].tags, tags({{"host", "a"}, {"region", "eu-central"}}));
  EXPECT_EQ(o.measurements[1].tags, tags({{"host", "a"}, {"region", "us-west"}}));
}

TEST(IngestParser, tags_are_lower_cased_and_sorted) {
  auto o = parse_measurements_json(
      R"({"tags":{"Zone":"B"},"measurements":[{"name":"cpu","value":1,"tags":{"Host":"Web-1","AZ":"X"}}]})",
      kNow);
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].tags, tags({{"az", "x"}, {"host", "web-1"}, {"zone", "b"}}));
}

TEST(IngestParser, mixed_case_duplicate_tag_names_collapse_to_the_last) {
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"cpu","value":1,"tags":{"Host":"a","host":"b"}}]})", kNow);
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].tags, tags({{"host", "b"}}));
}

TEST(IngestParser, numeric_tag_values_become_text) {
  auto o = parse_measurements_json(
      R"({"tags":{"instance":3},"measurements":[{"name":"cpu","value":1,"tags":{"shard":-7,"ratio":2.5}}]})",
      kNow);
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].tags,
            tags({{"instance", "3"}, {"ratio", "2.5"}, {"shard", "-7"}}));
}

TEST(IngestParser, invalid_tag_name_rejects_the_measurement_naming_the_tag) {
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"cpu","value":1,"tags":{"bad tag":"x"}},{"name":"ok","value":2}]})",
      kNow);
  EXPECT_EQ(params(o), (Params{"measurements[0].tags.bad tag"}));
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].name, "ok");
}

TEST(IngestParser, invalid_tag_value_and_types_are_rejected) {
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"a","value":1,"tags":{"host":"a b"}},
                          {"name":"b","value":1,"tags":{"host":true}},
                          {"name":"c","value":1,"tags":{"host":{"x":1}}},
                          {"name":"d","value":1,"tags":["host"]},
                          {"name":"e","value":1,"tags":{"host":""}}]})",
      kNow);
  EXPECT_EQ(params(o), (Params{"measurements[0].tags.host", "measurements[1].tags.host",
                               "measurements[2].tags.host", "measurements[3].tags",
                               "measurements[4].tags.host"}));
  EXPECT_TRUE(o.measurements.empty());
  EXPECT_EQ(o.request_error, "");
}

TEST(IngestParser, invalid_top_level_tag_rejects_every_measurement) {
  auto o = parse_measurements_json(
      R"({"tags":{"Region":"us west"},"measurements":[{"name":"cpu","value":1}]})", kNow);
  EXPECT_EQ(params(o), (Params{"tags.Region"}));
  EXPECT_TRUE(o.measurements.empty());
  EXPECT_EQ(o.request_error, "");
}

TEST(IngestParser, more_than_ten_tags_after_merging_is_an_error) {
  auto o = parse_measurements_json(
      R"({"tags":{"a":"1","b":"1","c":"1","d":"1","e":"1","f":"1"},
          "measurements":[{"name":"ten","value":1,"tags":{"g":"1","h":"1","i":"1","j":"1"}},
                          {"name":"eleven","value":1,"tags":{"g":"1","h":"1","i":"1","j":"1","k":"1"}},
                          {"name":"ten-again","value":1,"tags":{"a":null,"g":"1","h":"1","i":"1","j":"1","k":"1"}}]})",
      kNow);
  EXPECT_EQ(params(o), (Params{"measurements[1].tags"}));
  ASSERT_EQ(o.measurements.size(), 2u);
  EXPECT_EQ(o.measurements[0].name, "ten");
  EXPECT_EQ(o.measurements[0].tags.size(), 10u);
  EXPECT_EQ(o.measurements[1].name, "ten-again");
  EXPECT_EQ(o.measurements[1].tags.size(), 10u);
  EXPECT_EQ(o.measurements[1].tags.front(), (Tag{"b", "1"}));
}

TEST(IngestParser, more_than_ten_top_level_tags_is_an_error) {
  auto o = parse_measurements_json(
      R"({"tags":{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1},
          "measurements":[{"name":"cpu","value":1}]})",
      kNow);
  EXPECT_EQ(params(o), (Params{"tags"}));
  EXPECT_TRUE(o.measurements.empty());
}

TEST(IngestParser, metric_name_restrictions) {
  std::string long_name(256, 'n');
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"cpu load","value":1},{"value":1},{"name":7,"value":1},
                          {"name":"","value":1},{"name":")" +
          long_name + R"(","value":1},{"name":")" + std::string(255, 'n') + R"(","value":1}]})",
      kNow);
  EXPECT_EQ(params(o), (Params{"measurements[0].name", "measurements[1].name",
                               "measurements[2].name", "measurements[3].name",
                               "measurements[4].name"}));
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].name, std::string(255, 'n'));
}

TEST(IngestParser, value_above_1e126_is_rejected_as_too_large) {
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"big","value":1e200},{"name":"ok","value":1e126}]})", kNow);
  EXPECT_TRUE(o.too_large_float);
  EXPECT_EQ(params(o), (Params{"measurements[0].value"}));
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].agg.sum, 1e126);
}

TEST(IngestParser, too_large_summary_field_sets_the_flag) {
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"big","count":2,"sum":4,"max":-1e130}]})", kNow);
  EXPECT_TRUE(o.too_large_float);
  EXPECT_EQ(params(o), (Params{"measurements[0].max"}));
  EXPECT_TRUE(o.measurements.empty());
}

TEST(IngestParser, tiny_value_is_truncated_to_zero) {
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"tiny","value":1e-140},{"name":"small","value":-2e-129}]})", kNow);
  EXPECT_FALSE(o.too_large_float);
  ASSERT_EQ(o.measurements.size(), 2u);
  EXPECT_EQ(o.measurements[0].agg.sum, 0.0);
  EXPECT_EQ(o.measurements[0].agg.last, 0.0);
  EXPECT_EQ(o.measurements[1].agg.sum, -2e-129);
}

TEST(IngestParser, non_numeric_value_is_rejected) {
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"a","value":"1"},{"name":"b","value":null},{"name":"c"}]})",
      kNow);
  EXPECT_EQ(params(o),
            (Params{"measurements[0].value", "measurements[1].value", "measurements[2].value"}));
  EXPECT_FALSE(o.too_large_float);
  EXPECT_TRUE(o.measurements.empty());
}

TEST(IngestParser, time_defaults_to_top_level_then_now) {
  auto o = parse_measurements_json(
      R"({"time":1421530000,"measurements":[{"name":"a","value":1},{"name":"b","value":1,"time":1421530163}]})",
      kNow);
  ASSERT_EQ(o.measurements.size(), 2u);
  EXPECT_EQ(o.measurements[0].time, 1421530000);
  EXPECT_EQ(o.measurements[0].agg.last_time, 1421530000);
  EXPECT_EQ(o.measurements[1].time, 1421530163);
  auto n = parse_measurements_json(R"({"measurements":[{"name":"a","value":1}]})", 12345);
  ASSERT_EQ(n.measurements.size(), 1u);
  EXPECT_EQ(n.measurements[0].time, 12345);
}

TEST(IngestParser, float_time_is_floored) {
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"a","value":1,"time":1421530163.9}]})", kNow);
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].time, 1421530163);
}

TEST(IngestParser, negative_or_non_numeric_time_is_an_error) {
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"a","value":1,"time":-5},{"name":"b","value":1,"time":"now"},
                          {"name":"c","value":1,"time":1e300},{"name":"d","value":1,"time":0}]})",
      kNow);
  EXPECT_EQ(params(o),
            (Params{"measurements[0].time", "measurements[1].time", "measurements[2].time"}));
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].time, 0);
}

TEST(IngestParser, invalid_top_level_time_rejects_everything) {
  auto o = parse_measurements_json(R"({"time":"x","measurements":[{"name":"a","value":1}]})", kNow);
  EXPECT_EQ(params(o), (Params{"time"}));
  EXPECT_TRUE(o.measurements.empty());
}

TEST(IngestParser, period_per_measurement_or_top_level) {
  auto o = parse_measurements_json(
      R"({"period":60,"measurements":[{"name":"a","value":1},{"name":"b","value":1,"period":300},
                                      {"name":"c","value":1,"period":0},{"name":"d","value":1,"period":1.5}]})",
      kNow);
  EXPECT_EQ(params(o), (Params{"measurements[2].period", "measurements[3].period"}));
  ASSERT_EQ(o.measurements.size(), 2u);
  EXPECT_EQ(o.measurements[0].period, 60);
  EXPECT_EQ(o.measurements[1].period, 300);
}

TEST(IngestParser, attributes_object_is_kept_as_compact_json) {
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"a","value":1,"attributes":{ "aggregate" : false, "display_units_long":"Bytes" }},
                          {"name":"b","value":1,"attributes":[1]}]})",
      kNow);
  EXPECT_EQ(params(o), (Params{"measurements[1].attributes"}));
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].attributes_json,
            R"({"aggregate":false,"display_units_long":"Bytes"})");
}

TEST(IngestParser, summary_fields_with_stddev) {
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"cpu","time":1421530163,"period":60,"sum":35.0,"count":3,
                           "min":4.5,"max":6.7,"last":2.5,"stddev":1.34}]})",
      kNow);
  ASSERT_TRUE(o.errors.empty());
  ASSERT_EQ(o.measurements.size(), 1u);
  const Agg& a = o.measurements[0].agg;
  EXPECT_EQ(a.count, 3);
  EXPECT_EQ(a.sum, 35.0);
  EXPECT_EQ(a.min, 4.5);
  EXPECT_EQ(a.max, 6.7);
  EXPECT_EQ(a.last, 2.5);
  EXPECT_EQ(a.last_time, 1421530163);
  double mean = 35.0 / 3;
  EXPECT_DOUBLE_EQ(a.sumsq, 3 * (1.34 * 1.34 + mean * mean));
  EXPECT_NEAR(a.stddev(), 1.34, 1e-9);
  EXPECT_EQ(o.measurements[0].period, 60);
}

TEST(IngestParser, summary_fields_with_stddev_m2) {
  // Samples 2, 4, 9: mean 5, M2 = 9 + 1 + 16 = 26, sum of squares 101.
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"lat","count":3,"sum":15,"min":2,"max":9,"stddev_m2":26}]})",
      kNow);
  ASSERT_EQ(o.measurements.size(), 1u);
  const Agg& a = o.measurements[0].agg;
  EXPECT_DOUBLE_EQ(a.sumsq, 101);
  EXPECT_DOUBLE_EQ(a.stddev(), std::sqrt(26.0 / 3));
  EXPECT_EQ(a.last, 5);  // no `last`: the mean
}

TEST(IngestParser, summary_defaults_min_max_last_to_the_mean) {
  auto o = parse_measurements_json(R"({"measurements":[{"name":"m","sum":34.5,"count":5}]})", kNow);
  ASSERT_EQ(o.measurements.size(), 1u);
  const Agg& a = o.measurements[0].agg;
  EXPECT_EQ(a.count, 5);
  EXPECT_DOUBLE_EQ(a.min, 6.9);
  EXPECT_DOUBLE_EQ(a.max, 6.9);
  EXPECT_DOUBLE_EQ(a.last, 6.9);
  EXPECT_DOUBLE_EQ(a.sumsq, 5 * 6.9 * 6.9);
  EXPECT_EQ(a.last_time, kNow);
  EXPECT_DOUBLE_EQ(a.stddev(), 0);
}

TEST(IngestParser, stddev_and_stddev_m2_together_is_an_error) {
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"m","count":2,"sum":4,"stddev":1,"stddev_m2":2}]})", kNow);
  EXPECT_EQ(params(o), (Params{"measurements[0].stddev_m2"}));
  EXPECT_TRUE(o.measurements.empty());
}

TEST(IngestParser, summary_field_errors) {
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"a","value":1,"count":1,"sum":1},
                          {"name":"b","count":0,"sum":1},
                          {"name":"c","count":2},
                          {"name":"d","count":2,"sum":4,"stddev":-1},
                          {"name":"e","count":2,"sum":4,"min":3,"max":1},
                          {"name":"f","count":"2","sum":4}]})",
      kNow);
  EXPECT_EQ(params(o), (Params{"measurements[0].count", "measurements[1].count",
                               "measurements[2].sum", "measurements[3].stddev",
                               "measurements[4].min", "measurements[5].count"}));
  EXPECT_TRUE(o.measurements.empty());
}

TEST(IngestParser, partial_batch_keeps_valid_measurements_in_order) {
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"a","value":1},{"name":"bad name","value":2},
                          {"name":"c","value":3},"junk",{"name":"e","value":1e999999}]})",
      kNow);
  // 1e999999 is not a representable JSON number for simdjson: the body is rejected as a whole.
  EXPECT_NE(o.request_error, "");
  EXPECT_TRUE(o.measurements.empty());
  EXPECT_TRUE(o.errors.empty());

  o = parse_measurements_json(
      R"({"measurements":[{"name":"a","value":1},{"name":"bad name","value":2},
                          {"name":"c","value":3},"junk",{"name":"e","value":5}]})",
      kNow);
  EXPECT_EQ(o.request_error, "");
  EXPECT_EQ(params(o), (Params{"measurements[1].name", "measurements[3]"}));
  ASSERT_EQ(o.measurements.size(), 3u);
  EXPECT_EQ(o.measurements[0].name, "a");
  EXPECT_EQ(o.measurements[1].name, "c");
  EXPECT_EQ(o.measurements[1].agg.sum, 3);
  EXPECT_EQ(o.measurements[2].name, "e");
}

TEST(IngestParser, single_measurement_object_is_accepted) {
  auto o = parse_measurements_json(
      R"({"name":"kafka.lag","value":12,"time":1700000100,"tags":{"Topic":"Orders"}})", kNow);
  ASSERT_EQ(o.request_error, "");
  ASSERT_EQ(o.measurements.size(), 1u);
  const Measurement& m = o.measurements[0];
  EXPECT_EQ(m.name, "kafka.lag");
  EXPECT_EQ(m.time, 1700000100);
  EXPECT_EQ(m.agg.sum, 12);
  EXPECT_EQ(m.tags, tags({{"topic", "orders"}}));
}

TEST(IngestParser, single_measurement_object_errors_name_the_field) {
  auto o = parse_measurements_json(R"({"name":"kafka.lag","value":1e300})", kNow);
  EXPECT_EQ(params(o), (Params{"value"}));
  EXPECT_TRUE(o.too_large_float);
  EXPECT_TRUE(o.measurements.empty());
}

TEST(IngestParser, unusable_bodies_are_request_errors) {
  for (const char* body : {"", "not json", "[1,2]", "42", R"({"measurements":[]})",
                           R"({"measurements":{}})", R"({"tags":{"a":"b"}})",
                           R"({"measurements":[{"name":"a","value":1}])"}) {
    auto o = parse_measurements_json(body, kNow);
    EXPECT_NE(o.request_error, "") << body;
    EXPECT_TRUE(o.measurements.empty()) << body;
  }
}

TEST(IngestParser, parser_is_reusable_across_bodies_of_different_sizes) {
  std::string big = R"({"measurements":[)";
  for (int i = 0; i < 500; ++i) {
    if (i) big += ',';
    big += R"({"name":"m)" + std::to_string(i) + R"(","value":)" + std::to_string(i) + "}";
  }
  big += "]}";
  auto a = parse_measurements_json(big, kNow);
  ASSERT_EQ(a.measurements.size(), 500u);
  EXPECT_EQ(a.measurements[499].name, "m499");
  EXPECT_EQ(a.measurements[499].agg.sum, 499);
  auto b = parse_measurements_json(R"({"measurements":[{"name":"x","value":2}]})", kNow);
  ASSERT_EQ(b.measurements.size(), 1u);
  EXPECT_EQ(b.measurements[0].name, "x");
}

TEST(IngestParser, large_body_uses_its_own_buffers) {
  std::string big = R"({"tags":{"region":"r3"},"measurements":[)";
  int n = 0;
  while (big.size() < (1u << 20) + 1000) {
    if (n) big += ',';
    big += R"({"name":"bench.cpu","value":)" + std::to_string(n) + R"(,"tags":{"host":"h1"}})";
    ++n;
  }
  big += "]}";
  auto o = parse_measurements_json(big, kNow);
  ASSERT_EQ(o.measurements.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(o.measurements.back().agg.sum, n - 1);
  EXPECT_EQ(o.measurements.back().tags, tags({{"host", "h1"}, {"region", "r3"}}));
}

// -- POST /v1/metrics, JSON ---------------------------------------------------------------------

TEST(LegacyJson, array_format_with_globals_and_counters) {
  auto o = parse_legacy_json(
      R"({"measure_time":1234567950,"source":"Prod-US-West",
          "counters":[{"name":"conn_servers","value":5},{"name":"write_fails","value":3}],
          "gauges":[{"name":"cpu_temp","value":88.4,"source":"prod-us-east","measure_time":1234567949}]})",
      kNow);
  ASSERT_EQ(o.request_error, "");
  ASSERT_TRUE(o.errors.empty());
  ASSERT_EQ(o.measurements.size(), 3u);
  const Measurement& g = o.measurements[0];
  EXPECT_EQ(g.name, "cpu_temp");
  EXPECT_EQ(g.type, MetricType::gauge);
  EXPECT_EQ(g.time, 1234567949);
  EXPECT_EQ(g.tags, tags({{"source", "prod-us-east"}}));
  EXPECT_EQ(g.agg.sum, 88.4);
  const Measurement& c = o.measurements[1];
  EXPECT_EQ(c.name, "conn_servers");
  EXPECT_EQ(c.type, MetricType::counter);
  EXPECT_EQ(c.time, 1234567950);
  EXPECT_EQ(c.tags, tags({{"source", "prod-us-west"}}));
  EXPECT_EQ(c.agg.sum, 5);
  EXPECT_EQ(c.agg.count, 1);
  EXPECT_EQ(o.measurements[2].name, "write_fails");
  EXPECT_EQ(o.measurements[2].type, MetricType::counter);
}

TEST(LegacyJson, hashed_by_name) {
  auto o = parse_legacy_json(R"({"gauges":{"login-delay":{"value":3.5,"source":"foo.bar.com"}}})",
                             kNow);
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].name, "login-delay");
  EXPECT_EQ(o.measurements[0].agg.sum, 3.5);
  EXPECT_EQ(o.measurements[0].tags, tags({{"source", "foo.bar.com"}}));
  EXPECT_EQ(o.measurements[0].time, kNow);
}

TEST(LegacyJson, name_inside_overrides_the_hash_key) {
  auto o = parse_legacy_json(
      R"({"gauges":{"0":{"name":"login-delay","value":3.5,"source":"foo1.bar.com"},
                    "1":{"name":"login-delay","value":2.6,"source":"foo2.bar.com"}}})",
      kNow);
  ASSERT_EQ(o.measurements.size(), 2u);
  EXPECT_EQ(o.measurements[0].name, "login-delay");
  EXPECT_EQ(o.measurements[0].tags, tags({{"source", "foo1.bar.com"}}));
  EXPECT_EQ(o.measurements[1].name, "login-delay");
  EXPECT_EQ(o.measurements[1].agg.sum, 2.6);
  EXPECT_EQ(o.measurements[1].tags, tags({{"source", "foo2.bar.com"}}));
}

TEST(LegacyJson, no_source_gives_source_unassigned) {
  auto o = parse_legacy_json(R"({"gauges":[{"name":"g","value":1}]})", kNow);
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].tags, tags({{"source", "unassigned"}}));
}

TEST(LegacyJson, gauge_summary_fields) {
  auto o = parse_legacy_json(
      R"({"gauges":[{"name":"g","count":4,"sum":10,"min":1,"max":4,"sum_squares":30,"period":60,
                     "attributes":{"units":"ms"},"display_name":"G","description":"d"}]})",
      kNow);
  ASSERT_TRUE(o.errors.empty());
  ASSERT_EQ(o.measurements.size(), 1u);
  const Measurement& m = o.measurements[0];
  EXPECT_EQ(m.agg.count, 4);
  EXPECT_EQ(m.agg.sum, 10);
  EXPECT_EQ(m.agg.min, 1);
  EXPECT_EQ(m.agg.max, 4);
  EXPECT_EQ(m.agg.sumsq, 30);
  EXPECT_EQ(m.agg.last, 2.5);
  EXPECT_EQ(m.period, 60);
  EXPECT_EQ(m.attributes_json, R"({"units":"ms"})");
}

TEST(LegacyJson, counters_accept_only_value) {
  auto o = parse_legacy_json(
      R"({"counters":{"c":{"count":2,"sum":3},"d":{"value":7}}})", kNow);
  EXPECT_EQ(params(o), (Params{"counters[c].count", "counters[c].sum"}));
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].name, "d");
  EXPECT_EQ(o.measurements[0].type, MetricType::counter);
}

TEST(LegacyJson, item_errors_name_the_section_and_key) {
  auto o = parse_legacy_json(
      R"({"gauges":[{"value":1},{"name":"g","value":"abc"},{"name":"g","value":1,"source":"all"},
                    {"name":"g","value":1e200},{"name":"ok","value":2}],
          "counters":{"login-delay":{"name":"bad name","value":1},"x":5}})",
      kNow);
  EXPECT_EQ(params(o), (Params{"gauges[0].name", "gauges[1].value", "gauges[2].source",
                               "gauges[3].value", "counters[login-delay].name", "counters[x]"}));
  EXPECT_TRUE(o.too_large_float);
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].name, "ok");
}

TEST(LegacyJson, invalid_global_source_rejects_everything) {
  auto o = parse_legacy_json(R"({"source":"all","gauges":[{"name":"g","value":1}]})", kNow);
  EXPECT_EQ(params(o), (Params{"source"}));
  EXPECT_TRUE(o.measurements.empty());
}

TEST(LegacyJson, request_errors) {
  for (const char* body : {"nope", "[]", R"({})", R"({"gauges":[]})", R"({"gauges":{},"counters":[]})",
                           R"({"gauges":"cpu"})"}) {
    auto o = parse_legacy_json(body, kNow);
    EXPECT_NE(o.request_error, "") << body;
    EXPECT_TRUE(o.measurements.empty()) << body;
  }
}

// -- POST /v1/metrics, form ---------------------------------------------------------------------

TEST(LegacyForm, array_style_keys_with_globals) {
  auto o = parse_legacy_form(
      "measure_time=1234567950&source=prod-us-west&counters%5B0%5D%5Bname%5D=conn_servers&"
      "counters[0][value]=5&counters[1][name]=write_fails&counters[1][value]=3&"
      "gauges[0][name]=cpu_temp&gauges[0][value]=88.4&gauges[0][source]=prod-us-east&"
      "gauges[0][measure_time]=1234567949",
      kNow);
  ASSERT_EQ(o.request_error, "");
  ASSERT_TRUE(o.errors.empty());
  ASSERT_EQ(o.measurements.size(), 3u);
  EXPECT_EQ(o.measurements[0].name, "cpu_temp");
  EXPECT_EQ(o.measurements[0].agg.sum, 88.4);
  EXPECT_EQ(o.measurements[0].time, 1234567949);
  EXPECT_EQ(o.measurements[0].tags, tags({{"source", "prod-us-east"}}));
  EXPECT_EQ(o.measurements[1].name, "conn_servers");
  EXPECT_EQ(o.measurements[1].type, MetricType::counter);
  EXPECT_EQ(o.measurements[1].agg.sum, 5);
  EXPECT_EQ(o.measurements[1].time, 1234567950);
  EXPECT_EQ(o.measurements[1].tags, tags({{"source", "prod-us-west"}}));
  EXPECT_EQ(o.measurements[2].name, "write_fails");
  EXPECT_EQ(o.measurements[2].agg.sum, 3);
}

TEST(LegacyForm, names_nested_beyond_the_bound_are_refused_whole) {
  // 32 levels are accepted (and mean nothing to the legacy parser here); 33 are refused with a
  // request error, before any nesting is built, however deep the name goes.
  std::string ok = "gauges[0][name]=a&gauges[0][value]=1&x";
  for (int i = 0; i < 32; ++i) ok += "[k]";
  auto o = parse_legacy_form(ok + "=1", kNow);
  EXPECT_EQ(o.request_error.find("nests deeper"), std::string::npos) << o.request_error;
  for (std::size_t levels : {33u, 100000u}) {
    std::string deep = "gauges[0][name]=a&gauges[0][value]=1&gauges";
    for (std::size_t i = 0; i < levels; ++i) deep += "[k]";
    auto r = parse_legacy_form(deep + "=1", kNow);
    EXPECT_NE(r.request_error.find("nests deeper than 32 levels: gauges[k][k]"), std::string::npos)
        << r.request_error.substr(0, 200);
    EXPECT_LT(r.request_error.size(), 200u) << "the name is cut in the message";
    EXPECT_TRUE(r.measurements.empty()) << "nothing is stored from a refused body";
  }
}

TEST(LegacyForm, text_that_is_not_utf8_is_refused_whole) {
  // Found by fuzzing: an attribute value that decodes to bytes that are not UTF-8 was kept as JSON
  // and threw when its text was written (type_error.316), out of the parser.
  const std::string good = "gauges[0][name]=a&gauges[0][value]=1&gauges[0][attributes][display_name]=";
  auto ok = parse_legacy_form(good + "%C2%B5s", kNow);
  ASSERT_EQ(ok.request_error, "");
  ASSERT_EQ(ok.measurements.size(), 1u);
  EXPECT_NE(ok.measurements[0].attributes_json.find("\xC2\xB5s"), std::string::npos)
      << ok.measurements[0].attributes_json;
  auto bad_value = parse_legacy_form(good + "%B5", kNow);
  EXPECT_EQ(bad_value.request_error, "the parameter gauges[0][attributes][display_name] is not valid UTF-8");
  EXPECT_TRUE(bad_value.measurements.empty());
  EXPECT_TRUE(bad_value.errors.empty());
  auto bad_name = parse_legacy_form("gauges[0][name]=a&gauges[0][value]=1&gauges[0][%FF]=2", kNow);
  EXPECT_EQ(bad_name.request_error, "the parameter gauges[0][\xEF\xBF\xBD] (its name) is not valid UTF-8");
  EXPECT_TRUE(bad_name.measurements.empty());
}

TEST(LegacyForm, hashed_by_name_keys) {
  auto o = parse_legacy_form("gauges[login-delay][value]=3.5&gauges[login-delay][source]=Foo",
                             kNow);
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].name, "login-delay");
  EXPECT_EQ(o.measurements[0].agg.sum, 3.5);
  EXPECT_EQ(o.measurements[0].tags, tags({{"source", "foo"}}));
}

TEST(LegacyForm, summary_fields_from_strings) {
  auto o = parse_legacy_form(
      "gauges[0][name]=g&gauges[0][count]=2&gauges[0][sum]=6&gauges[0][min]=1&gauges[0][max]=5&"
      "gauges[0][sum_squares]=26&gauges[0][period]=60",
      kNow);
  ASSERT_TRUE(o.errors.empty());
  ASSERT_EQ(o.measurements.size(), 1u);
  const Agg& a = o.measurements[0].agg;
  EXPECT_EQ(a.count, 2);
  EXPECT_EQ(a.sum, 6);
  EXPECT_EQ(a.min, 1);
  EXPECT_EQ(a.max, 5);
  EXPECT_EQ(a.sumsq, 26);
  EXPECT_EQ(o.measurements[0].period, 60);
}

TEST(LegacyForm, numbers_are_parsed_strictly) {
  auto o = parse_legacy_form(
      "gauges[0][name]=a&gauges[0][value]=abc&"
      "gauges[1][name]=b&gauges[1][value]=12x&"
      "gauges[2][name]=c&gauges[2][value]=&"
      "gauges[3][name]=d&gauges[3][value]=+5&"
      "gauges[4][name]=e&gauges[4][value]=nan&"
      "gauges[5][name]=f&gauges[5][value]=1e200&"
      "gauges[6][name]=g&gauges[6][value]=1e-140&"
      "gauges[7][name]=h&gauges[7][value]=-2.5e3&"
      "gauges[8][name]=i&gauges[8][value]=1&gauges[8][measure_time]=12:00&"
      "gauges[9][name]=j&gauges[9][value]=1e999",
      kNow);
  EXPECT_EQ(params(o), (Params{"gauges[0].value", "gauges[1].value", "gauges[2].value",
                               "gauges[3].value", "gauges[4].value", "gauges[5].value",
                               "gauges[8].measure_time", "gauges[9].value"}));
  EXPECT_TRUE(o.too_large_float);
  ASSERT_EQ(o.measurements.size(), 2u);
  EXPECT_EQ(o.measurements[0].name, "g");
  EXPECT_EQ(o.measurements[0].agg.sum, 0.0);
  EXPECT_EQ(o.measurements[1].name, "h");
  EXPECT_EQ(o.measurements[1].agg.sum, -2500);
}

TEST(LegacyForm, overflowing_number_text_is_too_large) {
  auto o = parse_legacy_form("gauges[g][value]=-1e999&gauges[h][value]=1e-999", kNow);
  EXPECT_TRUE(o.too_large_float);
  EXPECT_EQ(params(o), (Params{"gauges[g].value"}));
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].name, "h");
  EXPECT_EQ(o.measurements[0].agg.sum, 0.0);
}

TEST(LegacyForm, form_measure_time_accepts_float_text_floored) {
  auto o = parse_legacy_form("measure_time=1234567950.7&gauges[g][value]=1", kNow);
  ASSERT_EQ(o.measurements.size(), 1u);
  EXPECT_EQ(o.measurements[0].time, 1234567950);
}

TEST(LegacyForm, request_errors) {
  for (const char* body : {"", "source=x", "gauges[0=1", "gauges[0][name]=a&gauges[0]=b",
                           "gauges=1&gauges[0][value]=1", "gauges[][value]=1"}) {
    auto o = parse_legacy_form(body, kNow);
    EXPECT_NE(o.request_error, "") << body;
    EXPECT_TRUE(o.measurements.empty()) << body;
  }
}

}  // namespace vigil

// -- names refused by a policy (composite metrics) ------------------------------------------------

namespace vigil {

namespace {

// Refuses one name, any case, as the catalog refuses composite metrics.
class RefuseOne final : public NamePolicy {
 public:
  explicit RefuseOne(std::string name) : name_(std::move(name)) {}
  const char* refuses(std::string_view metric) const override {
    std::string lower(metric);
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower == name_ ? "is a composite metric" : nullptr;
  }

 private:
  std::string name_;
};

}  // namespace

TEST(IngestParser, refused_names_are_rejected_by_position_and_the_rest_kept) {
  RefuseOne policy("cpu.total");
  auto o = parse_measurements_json(
      R"({"measurements":[{"name":"cpu","value":1},{"name":"CPU.Total","value":2},{"name":"mem","value":3}]})",
      kNow, &policy);
  ASSERT_EQ(o.request_error, "");
  EXPECT_EQ(params(o), Params({"measurements[1].name"}));
  EXPECT_EQ(o.errors[0].message, "is a composite metric");
  ASSERT_EQ(o.measurements.size(), 2u);
  EXPECT_EQ(o.measurements[0].name, "cpu");
  EXPECT_EQ(o.measurements[1].name, "mem");
  // Without the policy the same body is valid.
  EXPECT_TRUE(parse_measurements_json(R"({"name":"cpu.total","value":2})", kNow).errors.empty());
  EXPECT_EQ(params(parse_measurements_json(R"({"name":"cpu.total","value":2})", kNow, &policy)), Params({"name"}));
}

TEST(IngestParser, legacy_refused_names_are_rejected_by_position) {
  RefuseOne policy("cpu.total");
  auto j = parse_legacy_json(R"({"gauges":{"cpu.total":{"value":1},"cpu":{"value":2}},
                                 "counters":[{"name":"Cpu.Total","value":1}]})",
                             kNow, &policy);
  EXPECT_EQ(params(j), Params({"gauges[cpu.total].name", "counters[0].name"}));
  ASSERT_EQ(j.measurements.size(), 1u);
  EXPECT_EQ(j.measurements[0].name, "cpu");
  auto f = parse_legacy_form("gauges[0][name]=cpu&gauges[0][value]=1&gauges[1][name]=cpu.total&gauges[1][value]=2",
                             kNow, &policy);
  EXPECT_EQ(params(f), Params({"gauges[1].name"}));
  ASSERT_EQ(f.measurements.size(), 1u);
}

TEST(IngestParser, parsing_into_an_outcome_appends_and_a_bad_body_appends_nothing) {
  ParseOutcome out;
  parse_measurements_json_into(R"({"name":"a","value":1,"time":100})", 0, nullptr, out);
  ASSERT_TRUE(out.request_error.empty());
  parse_measurements_json_into(R"({"measurements":[{"name":"b","value":2,"time":100},{"name":"c"}]})", 0,
                               nullptr, out);
  ASSERT_EQ(out.measurements.size(), 2u);  // "c" has no value
  EXPECT_EQ(out.measurements[0].name, "a");
  EXPECT_EQ(out.measurements[1].name, "b");
  ASSERT_EQ(out.errors.size(), 1u);
  EXPECT_EQ(out.errors[0].param, "measurements[1].value");

  parse_measurements_json_into(R"({"name":"d","value":)", 0, nullptr, out);  // truncated
  EXPECT_FALSE(out.request_error.empty());
  EXPECT_TRUE(out.errors.empty());
  ASSERT_EQ(out.measurements.size(), 2u);

  parse_measurements_json_into(R"({"name":"e","value":5e200,"time":100})", 0, nullptr, out);
  EXPECT_TRUE(out.request_error.empty());
  EXPECT_TRUE(out.too_large_float);
  parse_measurements_json_into(R"({"name":"f","value":3,"time":100})", 0, nullptr, out);
  EXPECT_FALSE(out.too_large_float);
  EXPECT_TRUE(out.errors.empty());
  ASSERT_EQ(out.measurements.size(), 3u);
  EXPECT_EQ(out.measurements[2].name, "f");
  EXPECT_EQ(out.measurements[2].agg.sum, 3);
}

TEST(IngestParser, a_batch_collected_from_many_bodies_grows_geometrically) {
  std::string body = R"({"measurements":[)";
  for (int i = 0; i < 100; ++i) body += std::string(i ? "," : "") + R"({"name":"m","value":1,"time":100})";
  body += "]}";
  ParseOutcome out;
  int moves = 0;
  const Measurement* data = nullptr;
  for (int i = 0; i < 1000; ++i) {
    parse_measurements_json_into(body, 0, nullptr, out);
    if (out.measurements.data() != data) ++moves;
    data = out.measurements.data();
  }
  ASSERT_EQ(out.measurements.size(), 100000u);
  EXPECT_LE(moves, 20);  // a reallocation per body would copy the batch 1,000 times
}

}  // namespace vigil
