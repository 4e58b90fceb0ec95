// POST /v1/measurements bodies (and Kafka JSON messages): the Librato JSON parser over simdjson.
#include "api/librato/lang/ingest_parser.hpp"
#include "fuzz/fuzz.hpp"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto body = fuzz::text(data, size);
  ParseOutcome o = parse_measurements_json(body, fuzz::kNow);
  VIGIL_FUZZ_CHECK(o.request_error.empty() || o.measurements.empty(), "a request error keeps no measurement");
  for (const auto& m : o.measurements) VIGIL_FUZZ_CHECK(!m.name.empty(), "a stored measurement has a name");
  recycle(o);
  // The batch form of a Kafka consumer: appended behind earlier measurements.
  ParseOutcome batch;
  parse_measurements_json_into(R"({"name":"a","value":1})", fuzz::kNow, nullptr, batch);
  const std::size_t before = batch.measurements.size();
  parse_measurements_json_into(body, fuzz::kNow, nullptr, batch);
  VIGIL_FUZZ_CHECK(batch.measurements.size() >= before, "earlier measurements stay");
  VIGIL_FUZZ_CHECK(batch.request_error.empty() || batch.measurements.size() == before,
                   "a request error appends nothing");
  recycle(batch);
  return 0;
}
