// POST /v1/metrics (legacy) JSON bodies.
#include "api/librato/lang/ingest_parser.hpp"
#include "fuzz/fuzz.hpp"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ParseOutcome o = parse_legacy_json(fuzz::text(data, size), fuzz::kNow);
  VIGIL_FUZZ_CHECK(o.request_error.empty() || o.measurements.empty(), "a request error keeps no measurement");
  return 0;
}
