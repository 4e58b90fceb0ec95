#include "api/librato/lang/line_protocol.hpp"

#include <gtest/gtest.h>

namespace vigil {
namespace {

constexpr std::int64_t kNow = 1700000000;

TEST(LineProtocol, value_field_is_the_metric_and_tags_are_normalised) {
  auto r = parse_line_protocol("cpu,Host=Web-1,region=east value=42.5 1700000060000000000\n", kNow,
                               TimePrecision::ns);
  ASSERT_TRUE(r.request_error.empty());
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
  ASSERT_EQ(r.measurements.size(), 1u);
  const auto& m = r.measurements[0];
  EXPECT_EQ(m.name, "cpu");
  EXPECT_EQ(m.time, 1700000060);
  EXPECT_EQ(m.agg.count, 1);
  EXPECT_EQ(m.agg.sum, 42.5);
  EXPECT_EQ(m.tags, (Tags{{"host", "web-1"}, {"region", "east"}}));
}

TEST(LineProtocol, other_fields_become_measurement_dot_field) {
  auto r = parse_line_protocol("disk,host=a used=10i,free=2.5e3,value=7u 1700000000", kNow, TimePrecision::s);
  ASSERT_TRUE(r.errors.empty());
  ASSERT_EQ(r.measurements.size(), 3u);
  EXPECT_EQ(r.measurements[0].name, "disk.used");
  EXPECT_EQ(r.measurements[0].agg.sum, 10);
  EXPECT_EQ(r.measurements[1].name, "disk.free");
  EXPECT_EQ(r.measurements[1].agg.sum, 2500);
  EXPECT_EQ(r.measurements[2].name, "disk");
  EXPECT_EQ(r.measurements[2].agg.sum, 7);
  for (const auto& m : r.measurements) EXPECT_EQ(m.time, 1700000000);
}

TEST(LineProtocol, precisions_and_default_time) {
  auto ms = parse_line_protocol("a value=1 1700000001999", kNow, TimePrecision::ms);
  ASSERT_EQ(ms.measurements.size(), 1u);
  EXPECT_EQ(ms.measurements[0].time, 1700000001);
  auto us = parse_line_protocol("a value=1 1700000002000000", kNow, TimePrecision::us);
  EXPECT_EQ(us.measurements.at(0).time, 1700000002);
  auto none = parse_line_protocol("a value=1", kNow, TimePrecision::ns);
  EXPECT_EQ(none.measurements.at(0).time, kNow);
  EXPECT_EQ(none.measurements.at(0).tags, (Tags{{"source", "unassigned"}}));
  TimePrecision p;
  EXPECT_TRUE(parse_time_precision("us", p));
  EXPECT_EQ(p, TimePrecision::us);
  EXPECT_FALSE(parse_time_precision("minutes", p));
}

TEST(LineProtocol, seconds_after_9999_are_refused) {
  auto ok = parse_line_protocol("a value=1 253402300799", kNow, TimePrecision::s);
  ASSERT_EQ(ok.measurements.size(), 1u);
  EXPECT_EQ(ok.measurements[0].time, kSampleTimeMax);
  auto late = parse_line_protocol("a value=1 253402300800\na value=2 9223372036854775807", kNow, TimePrecision::s);
  EXPECT_TRUE(late.measurements.empty());
  ASSERT_EQ(late.errors.size(), 2u);
  EXPECT_NE(late.errors[0].message.find("9999-12-31"), std::string::npos);
}

TEST(LineProtocol, several_lines_comments_blank_lines_and_escapes) {
  auto r = parse_line_protocol("# comment\n\nm1,t=x value=1 1\r\nm2 value=-2.5 2\n", kNow, TimePrecision::s);
  ASSERT_TRUE(r.errors.empty()) << r.errors[0].message;
  ASSERT_EQ(r.measurements.size(), 2u);
  EXPECT_EQ(r.measurements[0].tags, (Tags{{"t", "x"}}));
  EXPECT_EQ(r.measurements[1].name, "m2");
  // An escaped space is part of the tag value, which Librato's rules then reject.
  auto e = parse_line_protocol("m,t=a\\ b value=1 1", kNow, TimePrecision::s);
  ASSERT_EQ(e.errors.size(), 1u);
  EXPECT_EQ(e.errors[0].message.rfind("tags.t", 0), 0u) << e.errors[0].message;
  EXPECT_EQ(r.measurements[1].agg.sum, -2.5);
}

TEST(LineProtocol, errors_name_the_line_and_keep_the_good_lines) {
  auto r = parse_line_protocol(
      "ok value=1 1\nbad\nstr value=\"x\" 1\nbool value=true 1\nts value=1 abc\ninf value=1e200 1\n"
      "tags,a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9,j=10,k=11 value=1 1\nbad!name value=1 1\nok2 value=2 2",
      kNow, TimePrecision::s);
  ASSERT_EQ(r.measurements.size(), 2u);
  EXPECT_EQ(r.measurements[0].name, "ok");
  EXPECT_EQ(r.measurements[1].name, "ok2");
  ASSERT_EQ(r.errors.size(), 7u);
  EXPECT_EQ(r.errors[0].param, "line 2");
  EXPECT_EQ(r.errors[1].param, "line 3");
  EXPECT_NE(r.errors[1].message.find("string"), std::string::npos);
  EXPECT_NE(r.errors[2].message.find("boolean"), std::string::npos);
  EXPECT_NE(r.errors[3].message.find("timestamp"), std::string::npos);
  EXPECT_EQ(r.errors[6].param, "line 8");
}

TEST(LineProtocol, empty_body_is_a_request_error) {
  EXPECT_FALSE(parse_line_protocol("", kNow, TimePrecision::ns).request_error.empty());
  EXPECT_FALSE(parse_line_protocol("# only a comment\n\n", kNow, TimePrecision::ns).request_error.empty());
}

}  // namespace
}  // namespace vigil

namespace vigil {

namespace {

class RefuseCpuTotal final : public NamePolicy {
 public:
  const char* refuses(std::string_view metric) const override {
    return metric == "cpu.total" ? "is a composite metric" : nullptr;
  }
};

}  // namespace

TEST(LineProtocol, a_line_naming_a_refused_metric_is_rejected_whole) {
  RefuseCpuTotal policy;
  auto r = parse_line_protocol("cpu value=1,total=2 1700000000\ncpu value=3 1700000000\n", 1700000000,
                               TimePrecision::s, &policy);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].param, "line 1");
  EXPECT_EQ(r.errors[0].message, "metric 'cpu.total' is a composite metric");
  ASSERT_EQ(r.measurements.size(), 1u);
  EXPECT_EQ(r.measurements[0].agg.sum, 3);
}

}  // namespace vigil
