// Influx line protocol (Kafka and HTTP); the first byte picks the timestamp precision.
#include "api/librato/lang/line_protocol.hpp"
#include "fuzz/fuzz.hpp"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static constexpr TimePrecision kPrecisions[] = {TimePrecision::ns, TimePrecision::us, TimePrecision::ms,
                                                  TimePrecision::s};
  ParseOutcome o = parse_line_protocol(fuzz::text(data + 1, size - 1), fuzz::kNow, kPrecisions[data[0] % 4]);
  VIGIL_FUZZ_CHECK(o.request_error.empty() || o.measurements.empty(), "a request error keeps no measurement");
  TimePrecision p;
  (void)parse_time_precision(fuzz::text(data, size < 4 ? size : 4), p);
  return 0;
}
