// Deeploy data points (POST .../customMetric/:id/dataPoints) for each graph type, and the
// dialect's ISO 8601 datetimes and time zones.
#include <string>

#include "api/deeploy/points.hpp"
#include "api/deeploy/times.hpp"
#include "fuzz/fuzz.hpp"

using namespace vigil;
using namespace vigil::api::deeploy;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto s = fuzz::text(data, size);
  auto body = nlohmann::json::parse(s.begin(), s.end(), nullptr, false);
  if (!body.is_discarded()) {
    if (!body.is_array()) return 0;
    auto tz = TimeZone::find("+02:00");
    for (GraphType g : {GraphType::line, GraphType::bar, GraphType::timeseries})
      for (std::size_t i = 0; i < body.size(); ++i) {
        Point p;
        std::string error, bad;
        if (parse_point(body[i], "[" + std::to_string(i) + "]", g, *tz, p, error, bad)) {
          VIGIL_FUZZ_CHECK(bad.empty() && p.prediction_log_ids.is_array(), "an accepted point");
        } else {
          VIGIL_FUZZ_CHECK(!error.empty() && !bad.empty(), "a refused point names its field");
        }
      }
    return 0;
  }
  if (auto t = parse_iso8601(s, TimeZone::utc())) VIGIL_FUZZ_CHECK(*t >= 0, "years from 1970");
  // Zone names: fixed offsets and IANA names (read from the system zoneinfo), never a path.
  if (size < 64) {
    if (auto z = TimeZone::find(s)) (void)z->to_utc(fuzz::kNow);
  }
  (void)choose_bin(static_cast<std::int64_t>(size) * 1000, fuzz::kNow);
  return 0;
}
