// The query texts of the Scale and OpenDataDSL dialects: Scale's ISO datetimes and durations
// (started / ended), OpenDataDSL's calendars, observed functions, dates and ranges (with IANA
// zones) and entity ids.
#include <string>
#include <vector>

#include "api/odsl/calendar.hpp"
#include "api/scale/iso_time.hpp"
#include "fuzz/fuzz.hpp"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto s = fuzz::text(data, size);
  if (auto t = api::scale::parse_datetime(s)) (void)api::scale::format_datetime(*t);
  if (auto d = api::scale::parse_duration(s)) (void)api::scale::before(fuzz::kNow, *d);
  (void)api::odsl::parse_observed(s);
  std::string err;
  if (auto r = api::odsl::parse_range(s, fuzz::kNow, err)) {
    if (auto cal = api::odsl::parse_calendar("HOURLY")) {
      std::vector<api::odsl::Period> ps;
      const std::int64_t from = r->from, to = r->kind == api::odsl::Range::between ? r->to : r->from + 86400;
      if (to >= from && to - from < 400LL * 86400) (void)api::odsl::periods(*cal, r->zone, from, to, 10000, ps);
    }
  } else {
    VIGIL_FUZZ_CHECK(!err.empty(), "a refused range says why");
  }
  if (auto cal = api::odsl::parse_calendar(s)) {
    std::vector<api::odsl::Period> ps;
    (void)api::odsl::periods(*cal, api::odsl::Zone{}, fuzz::kNow - 86400 * 3, fuzz::kNow, 10000, ps);
  }
  return 0;
}
