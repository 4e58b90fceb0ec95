// Parsing and validation of measurement submissions: POST /v1/measurements (JSON), the legacy
// POST /v1/metrics (JSON or form-encoded), and single measurement objects (Kafka messages).
// The parsers only validate and normalise; storing is the caller's business.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/model.hpp"

namespace vigil {

class Catalog;

// The metric names a parser must refuse beyond the syntax: composite metrics are computed from
// their definition at query time, never stored, so measurements cannot be submitted to them.
// Consulted once per otherwise valid measurement; the parsers stay free of the catalog.
class NamePolicy {
 public:
  virtual ~NamePolicy() = default;
  // The reason to refuse measurements of `metric` (the rest of an error message, e.g. "is a
  // composite metric: ..."), or nullptr to accept them.
  virtual const char* refuses(std::string_view metric) const = 0;
};

// The catalog's policy: refuses the names of composite metrics (any case). Cheap while no
// composite metric exists (one atomic load per measurement).
class CompositeRefusal final : public NamePolicy {
 public:
  explicit CompositeRefusal(const Catalog& catalog) : catalog_(catalog) {}
  const char* refuses(std::string_view metric) const override;

 private:
  const Catalog& catalog_;
};

// Metric properties given on a measurement that are not needed to store its samples: used when
// the measurement creates its metric (Librato: "any metric properties included in the request
// will be used when creating this initial metric").
struct MetricText {
  std::size_t index = 0;  // into ParseOutcome::measurements
  std::optional<std::string> display_name;
  std::optional<std::string> description;
};

struct ParseOutcome {
  std::vector<Measurement> measurements;  // the valid ones, in input order
  std::vector<MetricText> texts;          // of the measurements that carry display_name or description
  // One per rejected item or field; param like "measurements[3].name", "gauges[0].value" or
  // "tags.Region".
  std::vector<ParamError> errors;
  // Non-empty when the body as a whole is unusable (bad JSON, not an object, no measurements);
  // then `measurements` is empty.
  std::string request_error;
  bool too_large_float = false;  // an item was rejected for a magnitude above 1e126
  // The body was read by the single-measurement scan (single_measurement.hpp) without simdjson.
  bool fast_path = false;
};

// POST /v1/measurements body:
//   {"tags": {..}, "time": T, "period": P, "measurements": [{...}, ...]}
// Also accepts a single measurement object {"name": .., "value": .., "time": .., "tags": {..}};
// errors for it name the fields directly ("value", "tags.Region").
// `now` is the default time (epoch seconds).
// Measurements of names that `policy` refuses are rejected like invalid ones (error on `.name`).
ParseOutcome parse_measurements_json(std::string_view body, std::int64_t now, const NamePolicy* policy = nullptr);

// Hands the tag vectors of `out`'s measurements (emptied, with their capacity) back to this
// thread's JSON parser, which gives them to the measurements of later bodies instead of
// allocating: call it once the measurements are stored, on the thread that parsed them.
void recycle(ParseOutcome& out);
void recycle(std::vector<Measurement>& measurements);
void recycle(std::span<Measurement> measurements);

// parse_measurements_json appending to `out`, whose measurements stay in front of the body's
// (a consumer collecting many small bodies into one batch): errors, request_error and
// too_large_float are reset first; on a request error nothing is appended.
void parse_measurements_json_into(std::string_view body, std::int64_t now, const NamePolicy* policy,
                                  ParseOutcome& out);

// parse_measurements_json_into for a stream of bodies of mostly one measurement each (Kafka
// messages), parsed on one thread: a plain single measurement whose name and tags are written
// exactly as in an earlier body of this thread, whose series was stored since at series index
// generation `generation` (learn_series), is appended with that series_id and without tags; its
// name and tags are not parsed again. Other bodies, and that one's time and value, are parsed and
// checked as always.
void parse_measurement_message(std::string_view body, std::int64_t now, const NamePolicy* policy,
                               std::uint64_t generation, ParseOutcome& out);

// Stored measurements (Engine::ingest_learning set their series ids), on the thread that parsed
// them with parse_measurement_message: its memory of their series learns the ids, then their tag
// vectors are recycled.
void learn_series(std::span<Measurement> stored);

// parse_measurements_json always through simdjson's DOM: a plain single measurement object is
// otherwise read by a strict scan (engine/single_measurement.hpp) that must give the same
// outcome; tests compare the two.
ParseOutcome parse_measurements_json_dom(std::string_view body, std::int64_t now, const NamePolicy* policy = nullptr);

// POST /v1/metrics (legacy) JSON body: {"gauges": .., "counters": .., "source": S,
// "measure_time": T}, each section an array of measurements or an object hashed by name.
ParseOutcome parse_legacy_json(std::string_view body, std::int64_t now, const NamePolicy* policy = nullptr);

// POST /v1/metrics (legacy) application/x-www-form-urlencoded body:
//   gauges[0][name]=cpu&gauges[0][value]=75&gauges[login-delay][value]=3.5&source=..
ParseOutcome parse_legacy_form(std::string_view body, std::int64_t now, const NamePolicy* policy = nullptr);

}  // namespace vigil
