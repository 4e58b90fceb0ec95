// Texts read back from the store: canonical series keys and tag keys, ingest-log entries, and
// the alert stream state.
#include <string>
#include <vector>

#include "engine/alerting/alert_eval.hpp"
#include "engine/encoding/series_key.hpp"
#include "engine/shard/shard_state.hpp"
#include "fuzz/fuzz.hpp"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto s = fuzz::text(data, size);
  std::string metric;
  Tags tags;
  if (enc::parse_series_key(s, metric, tags)) {
    // What parses is a key the writer produces again.
    Tags again;
    std::string m2;
    VIGIL_FUZZ_CHECK(enc::parse_series_key(enc::series_key(metric, tags), m2, again), "a written key parses");
    VIGIL_FUZZ_CHECK(m2 == metric && again == tags, "a written key gives back its parts");
  }
  Tags t2;
  (void)enc::parse_tags_key(s, t2);
  (void)enc::is_plain_key_text(s);
  std::vector<LogRecord> records;
  if (decode_log_entry(s, records)) {
    std::string out;
    encode_log_entry(records, out);
    std::vector<LogRecord> back;
    VIGIL_FUZZ_CHECK(decode_log_entry(out, back) && back.size() == records.size(), "an entry written back decodes");
  }
  alerting::StreamState st;
  (void)alerting::decode(s, st);
  return 0;
}
