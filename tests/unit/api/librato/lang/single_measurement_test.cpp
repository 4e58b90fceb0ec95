// The single-measurement scan (engine/single_measurement.hpp) and the fast path built on it must
// give exactly the outcome simdjson's DOM parse gives: the scan only recognizes, and everything
// it does not recognize, or that does not validate, goes to the full parser.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "api/librato/lang/ingest_parser.hpp"
#include "api/librato/lang/single_measurement.hpp"

namespace vigil {

namespace {

constexpr std::int64_t kNow = 1700000000;

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// Compares the outcome of the default parse (fast path first) with the DOM-only parse.
void expect_same_outcome(const std::string& body) {
  SCOPED_TRACE("body: " + body);
  ParseOutcome fast = parse_measurements_json(body, kNow);
  ParseOutcome dom = parse_measurements_json_dom(body, kNow);
  EXPECT_EQ(fast.request_error, dom.request_error);
  EXPECT_EQ(fast.too_large_float, dom.too_large_float);
  ASSERT_EQ(fast.errors.size(), dom.errors.size());
  for (std::size_t i = 0; i < fast.errors.size(); ++i) {
    EXPECT_EQ(fast.errors[i].param, dom.errors[i].param);
    EXPECT_EQ(fast.errors[i].message, dom.errors[i].message);
  }
  ASSERT_EQ(fast.measurements.size(), dom.measurements.size());
  for (std::size_t i = 0; i < fast.measurements.size(); ++i) {
    const Measurement& a = fast.measurements[i];
    const Measurement& b = dom.measurements[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.tags, b.tags);
    EXPECT_EQ(a.time, b.time);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.period, b.period);
    EXPECT_EQ(a.attributes_json, b.attributes_json);
    EXPECT_TRUE(same_bits(a.agg.count, b.agg.count));
    EXPECT_TRUE(same_bits(a.agg.sum, b.agg.sum)) << a.agg.sum << " vs " << b.agg.sum;
    EXPECT_TRUE(same_bits(a.agg.min, b.agg.min));
    EXPECT_TRUE(same_bits(a.agg.max, b.agg.max));
    EXPECT_TRUE(same_bits(a.agg.last, b.agg.last));
    EXPECT_TRUE(same_bits(a.agg.sumsq, b.agg.sumsq));
    EXPECT_EQ(a.agg.last_time, b.agg.last_time);
  }
}

bool scans(const std::string& body) {
  SingleMeasurementView v;
  return scan_single_measurement(body, v);
}

}  // namespace

TEST(SingleMeasurementScan, reads_the_plain_form_in_any_order_and_spacing) {
  SingleMeasurementView v;
  ASSERT_TRUE(scan_single_measurement(
      R"({"name":"bench.cpu","time":1700000000,"value":81.5,"tags":{"host":"h0001","region":"r1"}})", v));
  EXPECT_EQ(v.name, "bench.cpu");
  EXPECT_EQ(v.value, 81.5);
  EXPECT_TRUE(v.has_time);
  EXPECT_TRUE(v.time_is_integer);
  EXPECT_EQ(v.time_int, 1700000000);
  ASSERT_TRUE(v.has_tags);
  ASSERT_EQ(v.tag_count, 2u);
  EXPECT_EQ(v.tags[0].first, "host");
  EXPECT_EQ(v.tags[0].second, "h0001");
  EXPECT_EQ(v.tags[1].first, "region");
  EXPECT_EQ(v.tags[1].second, "r1");

  ASSERT_TRUE(scan_single_measurement(" \n{ \"tags\" : { } ,\t\"value\":-2e3,\r\n\"name\":\"x\" } \n", v));
  EXPECT_EQ(v.name, "x");
  EXPECT_EQ(v.value, -2000.0);
  EXPECT_FALSE(v.has_time);
  EXPECT_TRUE(v.has_tags);
  EXPECT_EQ(v.tag_count, 0u);

  ASSERT_TRUE(scan_single_measurement(R"({"value":7,"name":"y","time":1.7e9})", v));
  EXPECT_FALSE(v.has_tags);
  EXPECT_FALSE(v.time_is_integer);
  EXPECT_EQ(v.time_double, 1.7e9);
}

TEST(SingleMeasurementScan, leaves_everything_else_to_the_full_parser) {
  const char* others[] = {
      R"({"name":"x"})",                                      // no value
      R"({"value":1})",                                       // no name
      R"({"name":"x","value":1,"period":60})",                // another field
      R"({"name":"x","value":1,"name":"y"})",                 // a repeated field
      R"({"name":"x","value":1,"value":2})",
      R"({"name":"x","value":1,"tags":{},"tags":{}})",
      R"({"name":"x\u0041","value":1})",                      // an escape
      "{\"name\":\"caf\xc3\xa9\",\"value\":1}",               // non-ASCII
      "{\"name\":\"a\tb\",\"value\":1}",                      // a control character
      R"({"name":"x","value":"1"})",                          // a string value
      R"({"name":"x","value":null})",
      R"({"name":"x","value":1,"tags":{"a":1}})",             // a number tag value
      R"({"name":"x","value":1,"tags":{"a":null}})",
      R"({"name":"x","value":1,"tags":{"a":"b",}})",          // trailing commas
      R"({"name":"x","value":1,})",
      R"({"name":"x","value":01})",                           // numbers outside the grammar
      R"({"name":"x","value":1.})",
      R"({"name":"x","value":.5})",
      R"({"name":"x","value":+1})",
      R"({"name":"x","value":1e})",
      R"({"name":"x","value":-})",
      R"({"name":"x","value":1e400})",                        // outside double
      R"({"name":"x","value":9223372036854775808})",          // outside int64
      R"({"name":"x","value":1,"time":9223372036854775808})",
      R"({"name":"x","value":1} x)",                          // trailing content
      R"({"name":"x","value":1}{})",
      R"({"name":"x" "value":1})",
      R"({"name":"x","value":1)",
      R"([{"name":"x","value":1}])",
      R"({"measurements":[{"name":"x","value":1}]})",
      R"({"name":"x","value":1,"tags":{"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6","g":"7","h":"8","i":"9","j":"10","k":"11"}})",
      "",
      "{}",
  };
  for (const char* body : others) EXPECT_FALSE(scans(body)) << body;
}

TEST(SingleMeasurementFastPath, gives_the_same_outcome_as_the_dom_parse) {
  const char* bodies[] = {
      R"({"name":"bench.cpu","time":1700000000,"value":81.5,"tags":{"host":"h0001","region":"r1"}})",
      R"({"name":"Bench.CPU","value":1})",                                      // default time, default tag
      R"({"name":"x","value":1,"tags":{}})",
      R"({"name":"x","value":1,"tags":{"Host":"A","host":"b","zone":"Z"}})",    // collapsing names
      R"({"name":"x","value":1,"tags":{"b":"1","a":"2","b":"3"}})",             // last of a name wins
      R"({"name":"x","value":-0})",
      R"({"name":"x","value":-0.0})",
      R"({"name":"x","value":0.1e-200})",                                       // truncated to 0
      R"({"name":"x","value":1e127})",                                          // too large
      R"({"name":"x","value":1e126})",
      R"({"name":"x","value":-9223372036854775808})",
      R"({"name":"x","value":123456789012345678})",
      R"({"name":"x","value":2.2250738585072011e-308})",
      R"({"name":"x","value":1.7976931348623157e308})",
      R"({"name":"x","value":0.30000000000000004})",
      R"({"name":"x","value":1,"time":-1})",                                    // invalid time
      R"({"name":"x","value":1,"time":1.99})",
      R"({"name":"x","value":1,"time":-0.5})",
      R"({"name":"x","value":1,"time":9.3e18})",
      R"({"name":"x","value":1,"time":0})",
      R"({"name":"bad name","value":1})",                                       // invalid name
      R"({"name":"","value":1})",
      R"({"name":"x","value":1,"tags":{"bad tag":"v"}})",                       // invalid tags
      R"({"name":"x","value":1,"tags":{"t":""}})",
      R"({"name":"x","value":1,"tags":{"t":"a b"}})",
      R"({"name":"x","value":1,"tags":{"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6","g":"7","h":"8","i":"9","j":"10"}})",
      R"({"name":"x","value":1,"tags":{"a":"1","b":"2","c":"3","d":"4","e":"5","f":"6","g":"7","h":"8","i":"9","j":"10","k":"11"}})",
      "{\"name\":\"x\",\"value\":1,\"tags\":{\"t\":\"caf\xc3\xa9\"}}",
      R"({"name":"x","value":1,"tags":{"t":"a\"b"}})",
  };
  for (const char* body : bodies) expect_same_outcome(body);
  // The fast path was taken for the valid plain bodies (and never by the DOM-only parse); a
  // body the scan does not recognize, or that does not validate, went to simdjson.
  const char* fast_bodies[] = {bodies[0], bodies[1], bodies[2], bodies[5], bodies[7], bodies[9], bodies[10]};
  for (const char* body : fast_bodies) {
    EXPECT_TRUE(parse_measurements_json(body, kNow).fast_path) << body;
    EXPECT_FALSE(parse_measurements_json_dom(body, kNow).fast_path) << body;
  }
  const char* slow_bodies[] = {bodies[8], bodies[20], bodies[24], bodies[26], bodies[27], bodies[28]};
  for (const char* body : slow_bodies) EXPECT_FALSE(parse_measurements_json(body, kNow).fast_path) << body;
  expect_same_outcome(R"({"name":")" + std::string(255, 'n') + R"(","value":1})");
  expect_same_outcome(R"({"name":")" + std::string(256, 'n') + R"(","value":1})");
  expect_same_outcome(R"({"name":"x","value":1,"tags":{")" + std::string(64, 't') + R"(":")" + std::string(256, 'v') +
                      R"("}})");
  expect_same_outcome(R"({"name":"x","value":1,"tags":{")" + std::string(65, 't') + R"(":"v"}})");
  expect_same_outcome(R"({"name":"x","value":1,"tags":{"t":")" + std::string(257, 'v') + R"("}})");
}

// Generated bodies near the plain form, and single-byte mutations of them: whatever the scan
// accepts, the outcome is the DOM parse's.
TEST(SingleMeasurementFastPath, agrees_with_the_dom_parse_on_generated_bodies) {
  std::mt19937_64 rng(20261123);
  auto pick = [&](std::initializer_list<const char*> xs) {
    return std::string(xs.begin()[std::uniform_int_distribution<std::size_t>(0, xs.size() - 1)(rng)]);
  };
  auto chance = [&](int percent) { return std::uniform_int_distribution<int>(0, 99)(rng) < percent; };
  auto ws = [&] { return chance(80) ? std::string() : pick({" ", "\n", "\t ", "\r\n", "  "}); };
  const std::string mutation_bytes = "{}[]:,\"\\ 0123456789.-+eE\tnx\x01\xc3";
  std::size_t recognized = 0, valid = 0;
  for (int iter = 0; iter < 40000; ++iter) {
    std::vector<std::string> fields;
    if (chance(97)) fields.push_back("\"name\":" + ws() + pick({"\"bench.cpu\"", "\"Bench.Cpu\"", "\"a:b-c_d\"", "\"bad name\"", "\"\"", "\"x\"", "1", "\"\\u0078\""}));
    if (chance(97))
      fields.push_back("\"value\":" + ws() + pick({"81.5", "0", "-0", "-0.0", "1e3", "1E-3", "2.5e+2", "-17", "123456789012345678",
                                                   "9223372036854775807", "9223372036854775808", "1e126", "1e127", "1e-131", "1e400",
                                                   "0.1", "\"1\"", "null", "true", "3.14159265358979323846"}));
    if (chance(60))
      fields.push_back("\"time\":" + ws() + pick({"1700000000", "0", "-1", "1.5e9", "1700000000.9", "-0.5", "9.3e18", "1e400",
                                                  "9223372036854775807", "\"1\"", "null"}));
    if (chance(70)) {
      std::string t = "{";
      int n = chance(85) ? std::uniform_int_distribution<int>(0, 3)(rng) : std::uniform_int_distribution<int>(4, 12)(rng);
      for (int i = 0; i < n; ++i) {
        if (i) t += "," + ws();
        t += pick({"\"host\"", "\"Host\"", "\"region\"", "\"zone\"", "\"a\"", "\"b c\"", "\"\"", "\"r\\u0041\""});
        t += ":" + ws();
        t += pick({"\"h0001\"", "\"H0001\"", "\"r1\"", "\"\"", "\"a b\"", "\"caf\xc3\xa9\"", "1", "null", "\"x\\\"y\""});
      }
      fields.push_back("\"tags\":" + ws() + t + ws() + "}");
    }
    if (chance(5)) fields.push_back("\"period\":60");
    if (chance(5)) fields.push_back(fields.empty() ? "\"name\":\"y\"" : fields.front());  // a repeated field
    std::shuffle(fields.begin(), fields.end(), rng);
    std::string body = ws() + "{" + ws();
    for (std::size_t i = 0; i < fields.size(); ++i) body += (i ? "," + ws() : "") + fields[i] + ws();
    body += "}" + ws();
    if (chance(30) && !body.empty()) {  // one byte replaced, inserted or removed
      std::size_t at = std::uniform_int_distribution<std::size_t>(0, body.size() - 1)(rng);
      char c = mutation_bytes[std::uniform_int_distribution<std::size_t>(0, mutation_bytes.size() - 1)(rng)];
      switch (std::uniform_int_distribution<int>(0, 2)(rng)) {
        case 0: body[at] = c; break;
        case 1: body.insert(body.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        default: body.erase(at, 1); break;
      }
    }
    if (scans(body)) {
      ++recognized;
      if (parse_measurements_json_dom(body, kNow).measurements.size() == 1) ++valid;
    }
    expect_same_outcome(body);
    if (HasFailure()) break;
  }
  // The generator reaches the scan often, with valid measurements and invalid ones, and the full
  // parser often too.
  EXPECT_GT(recognized, 6000u);
  EXPECT_GT(valid, 2000u);
  EXPECT_GT(recognized - valid, 2000u);
  EXPECT_LT(recognized, 32000u);
  std::printf("generated bodies: %zu recognized by the scan, %zu of them valid\n", recognized, valid);
}

}  // namespace vigil

namespace vigil {

// Numbers of every length, with and without fraction and exponent, as values and as times: the
// scan's shortcuts read them exactly as simdjson does.
TEST(SingleMeasurementFastPath, reads_numbers_exactly_as_the_dom_parse) {
  std::mt19937_64 rng(7);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int iter = 0; iter < 20000; ++iter) {
    std::string tok = uniform(0, 3) == 0 ? "-" : "";
    const int int_digits = uniform(1, 20);
    for (int i = 0; i < int_digits; ++i) tok += static_cast<char>('0' + (i == 0 && int_digits > 1 ? uniform(1, 9) : uniform(0, 9)));
    if (uniform(0, 2) != 0) {
      tok += '.';
      const int frac_digits = uniform(1, 22);
      for (int i = 0; i < frac_digits; ++i) tok += static_cast<char>('0' + uniform(0, 9));
    }
    if (uniform(0, 4) == 0) tok += (uniform(0, 1) ? "e" : "E") + std::string(uniform(0, 2) == 0 ? "-" : "") + std::to_string(uniform(0, 30));
    expect_same_outcome(R"({"name":"x","value":)" + tok + "}");
    expect_same_outcome(R"({"name":"x","value":1,"time":)" + tok + "}");
    if (HasFailure()) break;
  }
}

}  // namespace vigil
