// The single-measurement fast scan, differential against simdjson's DOM: whenever the scan
// accepts a body, the default parse (fast path) and the DOM parse must give the same outcome,
// bit for bit; the Kafka path (parse_measurement_message, with its memory of series) as well.
#include <string>

#include "api/librato/lang/ingest_parser.hpp"
#include "api/librato/lang/single_measurement.hpp"
#include "fuzz/fuzz.hpp"

using namespace vigil;

namespace {

void same(const ParseOutcome& fast, const ParseOutcome& dom) {
  VIGIL_FUZZ_CHECK(fast.request_error == dom.request_error, "request_error differs");
  VIGIL_FUZZ_CHECK(fast.too_large_float == dom.too_large_float, "too_large_float differs");
  VIGIL_FUZZ_CHECK(fast.errors.size() == dom.errors.size(), "error count differs");
  for (std::size_t i = 0; i < fast.errors.size(); ++i) {
    VIGIL_FUZZ_CHECK(fast.errors[i].param == dom.errors[i].param, "error param differs");
    VIGIL_FUZZ_CHECK(fast.errors[i].message == dom.errors[i].message, "error message differs");
  }
  VIGIL_FUZZ_CHECK(fast.measurements.size() == dom.measurements.size(), "measurement count differs");
  for (std::size_t i = 0; i < fast.measurements.size(); ++i) {
    const Measurement& a = fast.measurements[i];
    const Measurement& b = dom.measurements[i];
    VIGIL_FUZZ_CHECK(a.name == b.name, "name differs");
    VIGIL_FUZZ_CHECK(a.tags == b.tags, "tags differ");
    VIGIL_FUZZ_CHECK(a.time == b.time, "time differs");
    VIGIL_FUZZ_CHECK(a.type == b.type, "type differs");
    VIGIL_FUZZ_CHECK(a.period == b.period, "period differs");
    VIGIL_FUZZ_CHECK(a.attributes_json == b.attributes_json, "attributes differ");
    VIGIL_FUZZ_CHECK(fuzz::same_bits(a.agg.count, b.agg.count), "count differs");
    VIGIL_FUZZ_CHECK(fuzz::same_bits(a.agg.sum, b.agg.sum), "sum differs");
    VIGIL_FUZZ_CHECK(fuzz::same_bits(a.agg.min, b.agg.min), "min differs");
    VIGIL_FUZZ_CHECK(fuzz::same_bits(a.agg.max, b.agg.max), "max differs");
    VIGIL_FUZZ_CHECK(fuzz::same_bits(a.agg.last, b.agg.last), "last differs");
    VIGIL_FUZZ_CHECK(fuzz::same_bits(a.agg.sumsq, b.agg.sumsq), "sum_squares differs");
    VIGIL_FUZZ_CHECK(a.agg.last_time == b.agg.last_time, "last_time differs");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string body(fuzz::text(data, size));
  SingleMeasurementView v;
  if (!scan_single_measurement(body, v)) return 0;
  VIGIL_FUZZ_CHECK(v.tag_count <= kMaxTagsPerMeasurement, "tag count within bounds");
  ParseOutcome dom = parse_measurements_json_dom(body, fuzz::kNow);
  ParseOutcome fast = parse_measurements_json(body, fuzz::kNow);
  same(fast, dom);
  // The Kafka path: first sight, then (a series id learned) the memorised one. A new series index
  // generation per input, so that what earlier inputs taught the memory is not reused.
  static std::uint64_t generation = 0;
  ++generation;
  ParseOutcome first;
  parse_measurement_message(body, fuzz::kNow, nullptr, generation, first);
  same(first, dom);
  for (auto& m : first.measurements) {
    m.series_id = 42;
    m.series_generation = generation;
  }
  learn_series(first.measurements);
  ParseOutcome again;
  parse_measurement_message(body, fuzz::kNow, nullptr, generation, again);
  VIGIL_FUZZ_CHECK(again.measurements.size() == dom.measurements.size(), "memorised: count differs");
  for (std::size_t i = 0; i < again.measurements.size(); ++i) {
    const Measurement& a = again.measurements[i];
    const Measurement& b = dom.measurements[i];
    VIGIL_FUZZ_CHECK(a.name == b.name, "memorised: name differs");
    VIGIL_FUZZ_CHECK(a.time == b.time, "memorised: time differs");
    VIGIL_FUZZ_CHECK(fuzz::same_bits(a.agg.sum, b.agg.sum), "memorised: value differs");
  }
  learn_series(again.measurements);
  return 0;
}
