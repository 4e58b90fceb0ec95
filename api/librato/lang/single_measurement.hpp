// Recognizes the commonest small body, one Librato measurement object of the plainest form:
//   {"name": "cpu", "value": 0.5, "time": 1700000000, "tags": {"host": "a", "region": "b"}}
// (the shape a Kafka producer sends one measurement per message in). "time" and "tags" are
// optional; the fields come in any order, with any JSON whitespace.
//
// It recognizes, it does not judge: the measurement parser validates what it returns as for any
// body. Anything else is "not recognized" and goes to simdjson, which stays the authority on
// errors: other fields, a repeated field, a string with an escape, a control character or a
// non-ASCII byte, a tag value that is not a string, more tags than a measurement may have, a number
// outside int64 (integers) or double (the others), trailing content, any malformed JSON.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

#include "api/librato/lang/normalize.hpp"

namespace vigil {

struct SingleMeasurementView {
  SingleMeasurementView() {}  // `tags` beyond tag_count stay uninitialized: a scan per message
  std::string_view name;
  double value = 0;
  bool has_time = false;
  bool time_is_integer = false;  // time_int is set, else time_double
  std::int64_t time_int = 0;
  double time_double = 0;
  bool has_tags = false;
  std::size_t tag_count = 0;
  union {  // as written; only the first tag_count are set
    std::array<std::pair<std::string_view, std::string_view>, kMaxTagsPerMeasurement> tags;
  };
};

// True when `body` is a recognized single measurement; `out` views into `body`.
bool scan_single_measurement(std::string_view body, SingleMeasurementView& out);

}  // namespace vigil
