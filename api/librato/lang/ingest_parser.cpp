#include "api/librato/lang/ingest_parser.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <tuple>
#include <simdjson.h>
#include <xxhash.h>

#include <nlohmann/json.hpp>

#include "engine/meta/catalog.hpp"
#include "engine/model/short_text.hpp"
#include "api/librato/lang/single_measurement.hpp"
#include "api/http/form.hpp"
#include "api/librato/lang/normalize.hpp"

namespace vigil {

namespace {


// Largest double below 2^63: times at or above it do not fit an int64.
constexpr double kMaxTimeDouble = 9.2e18;

// Builds the param name of a field: "measurements[3].value", or just "value" for a single
// measurement object (index < 0).
std::string field_param(std::int64_t index, std::string_view field) {
  std::string p;
  if (index >= 0) {
    p = "measurements[";
    p += std::to_string(index);
    p += "].";
  }
  p += field;
  return p;
}

// Checks a time given as a double: finite, non-negative, within int64; floors it.
bool time_from_double(double d, std::int64_t& out) {
  if (!std::isfinite(d) || d < 0 || d >= static_cast<double>(kSampleTimeMax) + 1) return false;
  out = static_cast<std::int64_t>(std::floor(d));
  return in_sample_window(out);
}

// Checks a period given as a double: a positive integral value.
bool period_from_double(double d, std::int64_t& out) {
  if (!std::isfinite(d) || d < 1 || d >= kMaxTimeDouble || std::floor(d) != d) return false;
  out = static_cast<std::int64_t>(d);
  return true;
}

// Key comparison against a literal with a compile-time length, so it compiles to a few
// integer compares instead of a memcmp call (keys are matched once per field on the hot path).
template <std::size_t N>
inline bool key_is(std::string_view k, const char (&lit)[N]) {
  return k.size() == N - 1 && std::memcmp(k.data(), lit, N - 1) == 0;
}

constexpr const char* kTimeError =
    "must be epoch seconds from 0 to 253402300799 (1970-01-01 to 9999-12-31T23:59:59Z)";

// The aggregate of a summary measurement whose fields are valid: min, max and last default to the
// mean, the sum of squares to count × mean² (all samples at the mean). False when the statistics
// are out of range.
bool summary_agg(double count, double sum, const double* min, const double* max, const double* last,
                 std::optional<double> sumsq, std::int64_t time, Agg& a) {
  const double mean = sum / count;
  a.count = count;
  a.sum = sum;
  a.min = min ? *min : mean;
  a.max = max ? *max : mean;
  a.last = last ? *last : mean;
  a.last_time = time;
  a.sumsq = sumsq ? *sumsq : count * mean * mean;
  return std::isfinite(a.sumsq) && std::isfinite(mean);
}
constexpr const char* kPeriodError = "must be a positive integer";

// ===============================================================================================
// POST /v1/measurements (simdjson DOM)
// ===============================================================================================

using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

// Bodies up to this size are parsed with per-thread reusable buffers; larger ones get temporary
// buffers so a single huge request does not pin memory in every worker thread.
constexpr std::size_t kReusableBufferLimit = 1 << 20;

struct ThreadBuffers {
  simdjson::dom::parser parser;
  std::unique_ptr<char[]> padded;
  std::size_t padded_capacity = 0;
};

ThreadBuffers& thread_buffers() {
  thread_local ThreadBuffers b;
  return b;
}

// The JSON text of a number or string tag value.
bool tag_value_text(element e, std::string& out) {
  char buf[64];
  std::to_chars_result r{};
  switch (e.type()) {
    case element_type::STRING: {
      std::string_view sv = e.get_string().value_unsafe();
      out.assign(sv.data(), sv.size());
      return true;
    }
    case element_type::INT64:
      r = std::to_chars(buf, buf + sizeof buf, e.get_int64().value_unsafe());
      break;
    case element_type::UINT64:
      r = std::to_chars(buf, buf + sizeof buf, e.get_uint64().value_unsafe());
      break;
    case element_type::DOUBLE:
      r = std::to_chars(buf, buf + sizeof buf, e.get_double().value_unsafe());
      break;
    default: return false;
  }
  out.assign(buf, static_cast<std::size_t>(r.ptr - buf));
  return true;
}

bool json_time(element e, std::int64_t& out) {
  switch (e.type()) {
    case element_type::INT64: {
      std::int64_t v = e.get_int64().value_unsafe();
      if (!in_sample_window(v)) return false;
      out = v;
      return true;
    }
    case element_type::UINT64: return false;  // above INT64_MAX
    case element_type::DOUBLE: return time_from_double(e.get_double().value_unsafe(), out);
    default: return false;
  }
}

bool json_period(element e, std::int64_t& out) {
  switch (e.type()) {
    case element_type::INT64: {
      std::int64_t v = e.get_int64().value_unsafe();
      if (v <= 0) return false;
      out = v;
      return true;
    }
    case element_type::DOUBLE: return period_from_double(e.get_double().value_unsafe(), out);
    default: return false;
  }
}

// A per-measurement tag: a validated name and either a validated value or a removal (JSON null).
struct TagOverride {
  std::string name;
  std::string value;
  bool remove = false;
  // `name` / `value` hold a normalized, valid text: a later measurement whose raw text equals it
  // (the usual case: the same tag names, and often values, measurement after measurement) skips
  // normalizing it again.
  bool name_valid = false;
  bool value_valid = false;
  std::uint32_t order = 0;
};

// Scratch space reused across measurements (and requests) of one thread, so merging tags does
// not allocate beyond the measurement's own tag vector.
struct TagScratch {
  std::vector<TagOverride> items;
  std::vector<TagOverride*> sorted;
  std::size_t n = 0;

  TagOverride& next() {
    if (n == items.size()) items.emplace_back();
    TagOverride& t = items[n];
    t.order = static_cast<std::uint32_t>(n);
    t.remove = false;
    ++n;
    return t;
  }
};

TagScratch& tag_scratch() {
  thread_local TagScratch s;
  return s;
}

// Merges validated top-level tags (sorted, unique) with a measurement's overrides into `dst`:
// sorted by name, the last of duplicate names wins, a removal drops the name.
void merge_overrides(TagScratch& s, const Tags& top, Tags& dst) {
  dst.clear();
  if (top.empty()) {
    // The usual measurement: its own tags, already in order (a producer sends them in one order,
    // often sorted) and so without repeated names.
    bool ordered = true;
    for (std::size_t i = 1; i < s.n && ordered; ++i) ordered = compare_text(s.items[i - 1].name, s.items[i].name) < 0;
    if (ordered) {
      dst.reserve(s.n);
      for (std::size_t i = 0; i < s.n; ++i)
        if (!s.items[i].remove) dst.emplace_back(s.items[i].name, s.items[i].value);
      return;
    }
  }
  s.sorted.clear();
  for (std::size_t i = 0; i < s.n; ++i) s.sorted.push_back(&s.items[i]);
  // Sorted by name, then input order, so the last of duplicate names wins below (a measurement
  // has a few tags: an insertion sort, unless a body sends many).
  auto before = [](const TagOverride* a, const TagOverride* b) {
    int c = compare_text(a->name, b->name);
    return c != 0 ? c < 0 : a->order < b->order;
  };
  if (s.sorted.size() > 16) {
    std::sort(s.sorted.begin(), s.sorted.end(), before);
  } else {
    for (std::size_t i = 1; i < s.sorted.size(); ++i)
      for (std::size_t j = i; j > 0 && before(s.sorted[j], s.sorted[j - 1]); --j) std::swap(s.sorted[j], s.sorted[j - 1]);
  }

  dst.reserve(top.size() + s.n);
  std::size_t i = 0, j = 0;
  const std::size_t n = s.sorted.size();
  while (i < top.size() || j < n) {
    int c;
    if (i == top.size())
      c = 1;
    else if (j == n)
      c = -1;
    else
      c = compare_text(top[i].first, s.sorted[j]->name);
    if (c < 0) {
      dst.push_back(top[i++]);
      continue;
    }
    std::size_t last = j;
    while (last + 1 < n && same_text(s.sorted[last + 1]->name, s.sorted[j]->name)) ++last;
    const TagOverride& t = *s.sorted[last];
    if (!t.remove) dst.emplace_back(t.name, t.value);
    if (c == 0) ++i;
    j = last + 1;
  }
}

// Tag vectors of measurements already stored (see recycle()): each new measurement takes one, so
// a request's measurements do not each allocate their tags.
constexpr std::size_t kSpareTagsLimit = 1 << 16;

std::vector<Tags>& spare_tags() {
  thread_local std::vector<Tags> spare;
  return spare;
}

// Parses one request (or a single measurement object) from a DOM root.
class MeasurementsParser {
 public:
  MeasurementsParser(ParseOutcome& out, std::int64_t now, const NamePolicy* policy)
      : out_(out), now_(now), policy_(policy) {}

  void run(element root) {
    if (root.type() != element_type::OBJECT) {
      out_.request_error = "the body must be a JSON object";
      return;
    }
    object obj = root.get_object().value_unsafe();
    element measurements;
    bool has_measurements = false, has_name = false, has_tags = false;
    element tags, time, period;
    bool has_time = false, has_period = false;
    for (auto field : obj) {
      std::string_view k = field.key;
      if (k == "measurements") {
        measurements = field.value;
        has_measurements = true;
      } else if (k == "tags") {
        tags = field.value;
        has_tags = true;
      } else if (k == "time") {
        time = field.value;
        has_time = true;
      } else if (k == "period") {
        period = field.value;
        has_period = true;
      } else if (k == "name") {
        has_name = true;
      }
    }

    if (!has_measurements) {
      if (has_name) {  // a single measurement object
        one(obj, -1);
        return;
      }
      out_.request_error = "measurements: at least one measurement is required";
      return;
    }
    if (measurements.type() != element_type::ARRAY) {
      out_.request_error = "measurements: must be an array";
      return;
    }
    simdjson::dom::array arr = measurements.get_array().value_unsafe();
    std::size_t count = arr.size();
    if (count == 0) {
      out_.request_error = "measurements: at least one measurement is required";
      return;
    }

    // Request-wide defaults, validated once. An invalid one rejects every measurement.
    bool top_ok = true;
    if (has_tags && !top_tags(tags)) top_ok = false;
    if (has_time) {
      std::int64_t t = 0;
      if (json_time(time, t)) {
        default_time_ = t;
      } else {
        out_.errors.push_back({"time", kTimeError});
        top_ok = false;
      }
    }
    if (has_period) {
      std::int64_t p = 0;
      if (json_period(period, p)) {
        default_period_ = p;
      } else {
        out_.errors.push_back({"period", kPeriodError});
        top_ok = false;
      }
    }
    if (!top_ok) return;

    // Appending to a batch of earlier bodies (parse_measurements_json_into) keeps growing it
    // geometrically: reserving the exact size each time would copy the batch once per body.
    if (auto& ms = out_.measurements; ms.capacity() < ms.size() + count)
      ms.reserve(std::max(ms.size() + count, 2 * ms.capacity()));
    std::int64_t i = 0;
    for (element m : arr) {
      if (m.type() != element_type::OBJECT) {
        out_.errors.push_back({"measurements[" + std::to_string(i) + "]", "must be an object"});
      } else {
        one(m.get_object().value_unsafe(), i);
      }
      ++i;
    }
  }

 private:
  void error(std::int64_t index, std::string_view field, std::string message) {
    out_.errors.push_back({field_param(index, field), std::move(message)});
  }

  // Validates the top-level tags into top_ (sorted, unique names). False on any error.
  bool top_tags(element tags) {
    if (tags.type() != element_type::OBJECT) {
      out_.errors.push_back({"tags", "must be an object"});
      return false;
    }
    bool ok = true;
    std::string value;
    object tag_obj = tags.get_object().value_unsafe();
    for (auto field : tag_obj) {
      if (field.value.type() == element_type::NULL_VALUE) continue;
      std::string name;
      std::string err = normalize_tag_name(field.key, name);
      if (err.empty()) {
        if (!tag_value_text(field.value, value))
          err = "tag value must be a string or a number";
        else
          err = normalize_tag_value(value, value);
      }
      if (!err.empty()) {
        out_.errors.push_back({"tags." + std::string(field.key), std::move(err)});
        ok = false;
        continue;
      }
      auto it = std::find_if(top_.begin(), top_.end(), [&](const Tag& t) { return t.first == name; });
      if (it != top_.end())
        it->second = value;  // "Region" and "region" collapse: the later one wins
      else
        top_.emplace_back(std::move(name), value);
    }
    if (!ok) return false;
    std::sort(top_.begin(), top_.end());
    std::string err = check_tag_count(top_.size());
    if (!err.empty()) {
      out_.errors.push_back({"tags", std::move(err)});
      return false;
    }
    return true;
  }

  // Reads a float field, applying the float restrictions. False (with an error) if invalid.
  bool number(element e, std::int64_t index, std::string_view field, double& out) {
    auto r = e.get_double();
    if (r.error()) {
      error(index, field, "must be a number");
      return false;
    }
    out = r.value_unsafe();
    FloatCheck fc = check_float(out);
    if (fc != FloatCheck::ok) {
      if (fc == FloatCheck::too_large) out_.too_large_float = true;
      error(index, field, float_error_message(fc));
      return false;
    }
    return true;
  }

  // Merges the top-level tags with a measurement's `tags` object into `dst`.
  bool merge_tags(element tags, std::int64_t index, Tags& dst) {
    if (tags.type() != element_type::OBJECT) {
      error(index, "tags", "must be an object");
      return false;
    }
    TagScratch& s = tag_scratch();
    s.n = 0;
    bool ok = true;
    object tag_obj = tags.get_object().value_unsafe();
    for (auto field : tag_obj) {
      TagOverride& t = s.next();
      std::string err;
      if (!t.name_valid || !same_text(field.key, t.name)) {
        err = normalize_tag_name(field.key, t.name);
        t.name_valid = err.empty();
      }
      if (err.empty()) {
        if (field.value.type() == element_type::NULL_VALUE) {
          t.remove = true;
        } else if (field.value.type() == element_type::STRING) {
          std::string_view sv = field.value.get_string().value_unsafe();
          if (!t.value_valid || !same_text(sv, t.value)) {
            err = normalize_tag_value(sv, t.value);
            t.value_valid = err.empty();
          }
        } else if (!tag_value_text(field.value, t.value)) {
          err = "tag value must be a string, a number or null";
          t.value_valid = false;
        } else {
          err = normalize_tag_value(t.value, t.value);
          t.value_valid = err.empty();
        }
      }
      if (!err.empty()) {
        std::string f = "tags.";
        f += field.key;
        error(index, f, std::move(err));
        ok = false;
      }
    }
    if (!ok) return false;

    merge_overrides(s, top_, dst);
    return true;
  }

  // Validates one measurement object; appends it to the outcome when valid.
  void one(object obj, std::int64_t index) {
    enum : unsigned {
      kName = 1u << 0, kValue = 1u << 1, kCount = 1u << 2, kSum = 1u << 3, kMin = 1u << 4,
      kMax = 1u << 5, kLast = 1u << 6, kStddev = 1u << 7, kStddevM2 = 1u << 8, kTime = 1u << 9,
      kPeriod = 1u << 10, kTags = 1u << 11, kAttributes = 1u << 12, kDisplayName = 1u << 13,
      kDescription = 1u << 14,
    };
    unsigned seen = 0;
    element name, value, count, sum, min, max, last, stddev, stddev_m2, time, period, tags,
        attributes, display_name, description;
    for (auto field : obj) {
      std::string_view k = field.key;
      switch (k.size()) {
        case 3:
          if (key_is(k, "sum")) sum = field.value, seen |= kSum;
          else if (key_is(k, "min")) min = field.value, seen |= kMin;
          else if (key_is(k, "max")) max = field.value, seen |= kMax;
          break;
        case 4:
          if (key_is(k, "name")) name = field.value, seen |= kName;
          else if (key_is(k, "time")) time = field.value, seen |= kTime;
          else if (key_is(k, "tags")) tags = field.value, seen |= kTags;
          else if (key_is(k, "last")) last = field.value, seen |= kLast;
          break;
        case 5:
          if (key_is(k, "value")) value = field.value, seen |= kValue;
          else if (key_is(k, "count")) count = field.value, seen |= kCount;
          break;
        case 6:
          if (key_is(k, "period")) period = field.value, seen |= kPeriod;
          else if (key_is(k, "stddev")) stddev = field.value, seen |= kStddev;
          break;
        case 9:
          if (key_is(k, "stddev_m2")) stddev_m2 = field.value, seen |= kStddevM2;
          break;
        case 10:
          if (key_is(k, "attributes")) attributes = field.value, seen |= kAttributes;
          break;
        case 11:
          if (key_is(k, "description")) description = field.value, seen |= kDescription;
          break;
        case 12:
          if (key_is(k, "display_name")) display_name = field.value, seen |= kDisplayName;
          break;
        default: break;
      }
    }

    Measurement& m = out_.measurements.emplace_back();
    if (auto& spare = spare_tags(); !spare.empty()) {
      m.tags = std::move(spare.back());  // emptied when stored; its capacity is what counts
      spare.pop_back();
    }
    bool ok = true;

    // name
    if (!(seen & kName)) {
      error(index, "name", "is required");
      ok = false;
    } else if (name.type() != element_type::STRING) {
      error(index, "name", "must be a string");
      ok = false;
    } else {
      std::string_view sv = name.get_string().value_unsafe();
      if (!accepted_name_.empty() && sv == accepted_name_) {
        m.name.assign(sv.data(), sv.size());  // checked for the measurement before
      } else if (!valid_metric_name(sv)) {
        error(index, "name", "must be 1-255 characters of A-Za-z0-9.:-_");
        ok = false;
      } else if (const char* why = policy_ ? policy_->refuses(sv) : nullptr) {
        error(index, "name", why);
        ok = false;
      } else {
        m.name.assign(sv.data(), sv.size());
        accepted_name_ = sv;
      }
    }

    // time, period, attributes
    m.time = default_time_ ? *default_time_ : now_;
    if ((seen & kTime) && !json_time(time, m.time)) {
      error(index, "time", kTimeError);
      ok = false;
    }
    if (seen & kPeriod) {
      std::int64_t p = 0;
      if (json_period(period, p)) {
        m.period = p;
      } else {
        error(index, "period", kPeriodError);
        ok = false;
      }
    } else {
      m.period = default_period_;
    }
    if (seen & kAttributes) {
      if (attributes.type() == element_type::OBJECT) {
        m.attributes_json = simdjson::minify(attributes);
      } else {
        error(index, "attributes", "must be an object");
        ok = false;
      }
    }

    // value or summary fields
    if (seen & kValue) {
      double v = 0;
      if (seen & kCount) {
        error(index, "count", "value and count are mutually exclusive");
        ok = false;
      } else if (number(value, index, "value", v)) {
        m.agg = Agg::of_value(v, m.time);
      } else {
        ok = false;
      }
    } else if (seen & kCount) {
      ok = summary(seen & kSum ? &sum : nullptr, count, seen & kMin ? &min : nullptr,
                   seen & kMax ? &max : nullptr, seen & kLast ? &last : nullptr,
                   seen & kStddev ? &stddev : nullptr, seen & kStddevM2 ? &stddev_m2 : nullptr,
                   index, m) &&
           ok;
    } else {
      error(index, "value", "is required (or count and sum)");
      ok = false;
    }

    // tags
    if (seen & kTags) {
      ok = merge_tags(tags, index, m.tags) && ok;
    } else {
      m.tags = top_;
    }
    if (ok) {
      std::string err = check_tag_count(m.tags.size());
      if (!err.empty()) {
        error(index, "tags", std::move(err));
        ok = false;
      } else if (m.tags.empty()) {
        m.tags.emplace_back(kDefaultTagName, kDefaultTagValue);
      }
    }

    // display_name, description: kept for the creation of the metric
    MetricText text;
    if (seen & kDisplayName) ok = metric_text(display_name, index, "display_name", 255, text.display_name) && ok;
    if (seen & kDescription) ok = metric_text(description, index, "description", 65535, text.description) && ok;

    if (!ok) {
      out_.measurements.pop_back();
    } else if (text.display_name || text.description) {
      text.index = out_.measurements.size() - 1;
      out_.texts.push_back(std::move(text));
    }
  }

  // A display_name or description: a string of at most `limit` bytes, or null (none).
  bool metric_text(element e, std::int64_t index, const char* field, std::size_t limit,
                   std::optional<std::string>& out) {
    if (e.type() == element_type::NULL_VALUE) return true;
    if (e.type() != element_type::STRING) {
      error(index, field, "must be a string");
      return false;
    }
    std::string_view sv = e.get_string().value_unsafe();
    if (sv.size() > limit) {
      error(index, field, "must be at most " + std::to_string(limit) + " characters");
      return false;
    }
    if (!sv.empty()) out.emplace(sv);
    return true;
  }

  bool summary(const element* sum_e, element count_e, const element* min_e, const element* max_e,
               const element* last_e, const element* stddev_e, const element* m2_e,
               std::int64_t index, Measurement& m) {
    bool ok = true;
    double count = 0, sum = 0, min = 0, max = 0, last = 0, sd = 0, m2 = 0;
    if (!number(count_e, index, "count", count)) {
      ok = false;
    } else if (count <= 0) {
      error(index, "count", "must be greater than 0");
      ok = false;
    }
    if (!sum_e) {
      error(index, "sum", "is required with count");
      ok = false;
    } else if (!number(*sum_e, index, "sum", sum)) {
      ok = false;
    }
    if (min_e && !number(*min_e, index, "min", min)) ok = false;
    if (max_e && !number(*max_e, index, "max", max)) ok = false;
    if (last_e && !number(*last_e, index, "last", last)) ok = false;
    if (stddev_e && m2_e) {
      error(index, "stddev_m2", "only one of stddev and stddev_m2 may be set");
      ok = false;
    } else if (stddev_e) {
      if (!number(*stddev_e, index, "stddev", sd)) {
        ok = false;
      } else if (sd < 0) {
        error(index, "stddev", "must not be negative");
        ok = false;
      }
    } else if (m2_e) {
      if (!number(*m2_e, index, "stddev_m2", m2)) {
        ok = false;
      } else if (m2 < 0) {
        error(index, "stddev_m2", "must not be negative");
        ok = false;
      }
    }
    if (!ok) return false;
    if (min_e && max_e && min > max) {
      error(index, "min", "must not be greater than max");
      return false;
    }

    const double mean = sum / count;
    std::optional<double> sumsq;
    if (stddev_e)
      sumsq = count * (sd * sd + mean * mean);
    else if (m2_e)
      sumsq = m2 + sum * sum / count;
    if (!summary_agg(count, sum, min_e ? &min : nullptr, max_e ? &max : nullptr, last_e ? &last : nullptr, sumsq,
                     m.time, m.agg)) {
      error(index, stddev_e ? "stddev" : m2_e ? "stddev_m2" : "sum",
            "summary statistics out of range");
      return false;
    }
    return true;
  }

  ParseOutcome& out_;
  std::int64_t now_;
  const NamePolicy* policy_;
  Tags top_;
  std::optional<std::int64_t> default_time_;
  std::optional<std::int64_t> default_period_;
  // The last name that passed the checks (a view into the parsed document): a batch mostly
  // repeats one metric name, which is then checked once.
  std::string_view accepted_name_;
};

// Bodies up to this size are first offered to the single-measurement scan.
constexpr std::size_t kSingleScanLimit = 4096;

// The time and value of a recognized single measurement, checked as MeasurementsParser::one checks them.
bool single_time_value(const SingleMeasurementView& v, std::int64_t now, std::int64_t& time, double& value) {
  time = now;
  if (v.has_time) {
    if (!v.time_is_integer) {
      if (!time_from_double(v.time_double, time)) return false;
    } else if (!in_sample_window(v.time_int)) {
      return false;
    } else {
      time = v.time_int;
    }
  }
  value = v.value;
  return check_float(value) == FloatCheck::ok;
}

// A recognized single measurement, checked as MeasurementsParser::one checks a single measurement
// object: appended when valid (true); nothing appended when anything in it is invalid (false).
bool parse_single_view(const SingleMeasurementView& v, std::int64_t now, const NamePolicy* policy, ParseOutcome& out) {
  if (!valid_metric_name(v.name) || (policy && policy->refuses(v.name))) return false;
  std::int64_t time;
  double value;
  if (!single_time_value(v, now, time, value)) return false;
  TagScratch& s = tag_scratch();
  s.n = 0;
  for (std::size_t i = 0; i < v.tag_count; ++i) {
    const auto& [name, text] = v.tags[i];
    TagOverride& t = s.next();
    if (!t.name_valid || !same_text(name, t.name)) {
      t.name_valid = normalize_tag_name(name, t.name).empty();
      if (!t.name_valid) return false;
    }
    if (!t.value_valid || !same_text(text, t.value)) {
      t.value_valid = normalize_tag_value(text, t.value).empty();
      if (!t.value_valid) return false;
    }
  }
  Measurement& m = out.measurements.emplace_back();
  if (auto& spare = spare_tags(); !spare.empty()) {
    m.tags = std::move(spare.back());
    spare.pop_back();
  }
  merge_overrides(s, Tags{}, m.tags);
  if (m.tags.size() > kMaxTagsPerMeasurement) {
    out.measurements.pop_back();
    return false;
  }
  if (m.tags.empty()) m.tags.emplace_back(kDefaultTagName, kDefaultTagValue);
  m.name.assign(v.name.data(), v.name.size());
  m.time = time;
  m.agg = Agg::of_value(value, time);
  return true;
}

// A body recognized by scan_single_measurement, checked as MeasurementsParser::one checks a
// single measurement object. Appends the measurement and returns true when it is valid; returns
// false, appending nothing, when the body is not recognized or anything in it is invalid: the
// full parser then reads it and reports its errors.
bool parse_single_fast(std::string_view body, std::int64_t now, const NamePolicy* policy, ParseOutcome& out) {
  SingleMeasurementView v;
  if (body.size() > kSingleScanLimit || !scan_single_measurement(body, v)) return false;
  return parse_single_view(v, now, policy, out);
}

// The series of the single measurements a stream parser has seen, by their name and tags as
// written: for each, the name and tags as parsed, and the series id once it was stored. Per thread.
class SeriesMemo {
 public:
  struct Entry {
    std::string raw;  // name, '\1', the tags object's text from the first tag name to the last value
    std::uint64_t hash = 0;
    std::string name;
    Tags tags;
    std::uint64_t id = 0;  // 0: not stored yet
    std::uint64_t generation = 0;
  };

  // The bytes a body's series is recognized by: its name, and the text of its tags object from
  // the first tag name to the last value (equal texts are equal tags once parsed).
  static std::string_view tags_text(const SingleMeasurementView& v) {
    if (v.tag_count == 0) return {};
    const char* b = v.tags[0].first.data();
    const auto& last = v.tags[v.tag_count - 1].second;
    return {b, static_cast<std::size_t>(last.data() + last.size() - b)};
  }
  static std::uint64_t hash(std::string_view name, std::string_view tags) {
    std::uint64_t h = XXH3_64bits_withSeed(tags.data(), tags.size(), XXH3_64bits(name.data(), name.size()));
    return h == 0 ? 1 : h;  // 0 means "none" in Measurement::source_hash
  }

  Entry* find(std::uint64_t h, std::string_view name, std::string_view tags) {
    return probe(h, [&](const Entry& e) {
      // string_view compares: no memcmp of a null pointer when there are no tags (UB).
      const std::string_view raw(e.raw);
      return raw.size() == name.size() + 1 + tags.size() && raw.substr(0, name.size()) == name &&
             raw.substr(name.size() + 1) == tags;
    });
  }

  void add(std::uint64_t h, std::string_view name, std::string_view tags, const Measurement& m) {
    if (entries_.size() >= kMaxEntries) clear();  // a stream of more series than this: start over
    if (slots_.empty()) slots_.assign(kSlots, 0);
    Entry& e = entries_.emplace_back();
    e.raw.reserve(name.size() + 1 + tags.size());
    e.raw.append(name).append(1, '\1').append(tags);
    e.hash = h;
    e.name = m.name;
    e.tags = m.tags;
    std::size_t i = h & mask_;
    while (slots_[i] != 0) i = (i + 1) & mask_;
    slots_[i] = static_cast<std::uint32_t>(entries_.size());
  }

  // A stored measurement parsed here: its entry learns the series id.
  void learn(const Measurement& m) {
    if (Entry* e = probe(m.source_hash, [&](const Entry& x) { return x.name == m.name && x.tags == m.tags; })) {
      e->id = m.series_id;
      e->generation = m.series_generation;
    }
  }

  void clear() {
    entries_.clear();
    slots_.clear();
  }

 private:
  // The entry of hash `h` that `match` accepts, or null.
  template <class Match>
  Entry* probe(std::uint64_t h, Match match) {
    if (slots_.empty()) return nullptr;
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const std::uint32_t at = slots_[i];
      if (at == 0) return nullptr;
      Entry& e = entries_[at - 1];
      if (e.hash == h && match(e)) return &e;
    }
  }

  static constexpr std::size_t kMaxEntries = std::size_t{1} << 14;
  static constexpr std::size_t kSlots = kMaxEntries * 2;  // at most half full
  static constexpr std::size_t mask_ = kSlots - 1;
  std::vector<Entry> entries_;
  std::vector<std::uint32_t> slots_;  // entry index + 1; 0: empty
};

SeriesMemo& series_memo() {
  thread_local SeriesMemo memo;
  return memo;
}

void parse_dom(simdjson::dom::parser& parser, const char* buf, std::size_t len, ParseOutcome& out,
               std::int64_t now, const NamePolicy* policy) {
  element root;
  auto err = parser.parse(buf, len, false).get(root);
  if (err) {
    out.request_error = std::string("invalid JSON: ") + simdjson::error_message(err);
    return;
  }
  MeasurementsParser(out, now, policy).run(root);
}

// ===============================================================================================
// POST /v1/metrics (legacy)
// ===============================================================================================

using ojson = nlohmann::ordered_json;

// Parses a whole string as a double. Overflow gives the largest finite double and underflow
// zero (or a denormal), so the float restrictions reject or truncate them like any other value.
bool strict_double(std::string_view s, double& out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  if (r.ptr != s.data() + s.size()) return false;
  if (r.ec == std::errc::result_out_of_range) {
    std::string copy(s);
    out = std::strtod(copy.c_str(), nullptr);
    if (std::isinf(out)) out = std::copysign(std::numeric_limits<double>::max(), out);
    return true;
  }
  return r.ec == std::errc();
}

bool strict_int(std::string_view s, std::int64_t& out) {
  if (s.empty()) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// A legacy time: an integer or float (floored), as a JSON number or a string.
bool legacy_time(const ojson& v, std::int64_t& out) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned()) {
      auto u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(kSampleTimeMax)) return false;
      out = static_cast<std::int64_t>(u);
      return true;
    }
    out = v.get<std::int64_t>();
    return in_sample_window(out);
  }
  if (v.is_number_float()) return time_from_double(v.get<double>(), out);
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (strict_int(s, out)) return in_sample_window(out);
    double d = 0;
    return strict_double(s, d) && time_from_double(d, out);
  }
  return false;
}

bool legacy_period(const ojson& v, std::int64_t& out) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned()) {
      auto u = v.get<std::uint64_t>();
      if (u == 0 || u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return false;
      out = static_cast<std::int64_t>(u);
      return true;
    }
    out = v.get<std::int64_t>();
    return out > 0;
  }
  if (v.is_number_float()) return period_from_double(v.get<double>(), out);
  if (v.is_string()) return strict_int(v.get_ref<const std::string&>(), out) && out > 0;
  return false;
}

class LegacyParser {
 public:
  LegacyParser(ParseOutcome& out, std::int64_t now, const NamePolicy* policy)
      : out_(out), now_(now), policy_(policy) {}

  void run(const ojson& root) {
    if (!root.is_object()) {
      out_.request_error = "the body must be an object";
      return;
    }
    const ojson* gauges = find(root, "gauges");
    const ojson* counters = find(root, "counters");
    for (auto [sec, label] : {std::pair{gauges, "gauges"}, std::pair{counters, "counters"}}) {
      if (sec && !sec->is_array() && !sec->is_object() && !sec->is_null()) {
        out_.request_error = std::string(label) + ": must be an array or an object";
        return;
      }
    }
    std::size_t total = (gauges && !gauges->is_null() ? gauges->size() : 0) +
                        (counters && !counters->is_null() ? counters->size() : 0);
    if (total == 0) {
      out_.request_error = "at least one gauge or counter measurement is required";
      return;
    }

    bool top_ok = true;
    if (const ojson* s = find(root, "source"); s && !s->is_null()) {
      std::string src;
      std::string err = s->is_string() ? normalize_source(s->get_ref<const std::string&>(), src)
                                       : std::string("must be a string");
      if (err.empty()) {
        source_ = std::move(src);
      } else {
        out_.errors.push_back({"source", std::move(err)});
        top_ok = false;
      }
    }
    if (const ojson* t = find(root, "measure_time"); t && !t->is_null()) {
      std::int64_t v = 0;
      if (legacy_time(*t, v)) {
        time_ = v;
      } else {
        out_.errors.push_back({"measure_time", kTimeError});
        top_ok = false;
      }
    }
    if (!top_ok) return;

    out_.measurements.reserve(total);
    if (gauges && !gauges->is_null()) section(*gauges, "gauges", MetricType::gauge);
    if (counters && !counters->is_null()) section(*counters, "counters", MetricType::counter);
  }

 private:
  static const ojson* find(const ojson& obj, const char* key) {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  }

  void section(const ojson& sec, const char* label, MetricType type) {
    if (sec.is_array()) {
      for (std::size_t i = 0; i < sec.size(); ++i)
        item(sec[i], std::string(label) + "[" + std::to_string(i) + "]", nullptr, type);
    } else {
      for (auto it = sec.begin(); it != sec.end(); ++it)
        item(it.value(), std::string(label) + "[" + it.key() + "]", &it.key(), type);
    }
  }

  void error(const std::string& prefix, std::string_view field, std::string message) {
    std::string p = prefix;
    if (!field.empty()) {
      p += '.';
      p += field;
    }
    out_.errors.push_back({std::move(p), std::move(message)});
  }

  // Reads a float (number or strictly parsed string) and applies the float restrictions.
  bool number(const ojson& v, const std::string& prefix, std::string_view field, double& out) {
    if (v.is_number()) {
      out = v.get<double>();
    } else if (!v.is_string() || !strict_double(v.get_ref<const std::string&>(), out)) {
      error(prefix, field, "must be a number");
      return false;
    }
    FloatCheck fc = check_float(out);
    if (fc != FloatCheck::ok) {
      if (fc == FloatCheck::too_large) out_.too_large_float = true;
      error(prefix, field, float_error_message(fc));
      return false;
    }
    return true;
  }

  void item(const ojson& it, const std::string& prefix, const std::string* key, MetricType type) {
    if (!it.is_object()) {
      error(prefix, "", "must be an object");
      return;
    }
    Measurement m;
    m.type = type;
    bool ok = true;

    if (const ojson* n = find(it, "name"); n && !n->is_null()) {
      if (!n->is_string()) {
        error(prefix, "name", "must be a string");
        ok = false;
      } else {
        m.name = n->get<std::string>();
      }
    } else if (key) {
      m.name = *key;
    } else {
      error(prefix, "name", "is required");
      ok = false;
    }
    if (ok && !valid_metric_name(m.name)) {
      error(prefix, "name", "must be 1-255 characters of A-Za-z0-9.:-_");
      ok = false;
    } else if (const char* why = ok && policy_ ? policy_->refuses(m.name) : nullptr) {
      error(prefix, "name", why);
      ok = false;
    }

    m.time = time_ ? *time_ : now_;
    if (const ojson* t = find(it, "measure_time"); t && !t->is_null() && !legacy_time(*t, m.time)) {
      error(prefix, "measure_time", kTimeError);
      ok = false;
    }

    std::optional<std::string> source = source_;
    if (const ojson* s = find(it, "source"); s && !s->is_null()) {
      std::string src;
      std::string err = s->is_string() ? normalize_source(s->get_ref<const std::string&>(), src)
                                       : std::string("must be a string");
      if (err.empty()) {
        source = std::move(src);
      } else {
        error(prefix, "source", std::move(err));
        ok = false;
      }
    }
    m.tags.emplace_back(kDefaultTagName, source ? std::string_view(*source) : kDefaultTagValue);

    if (const ojson* p = find(it, "period"); p && !p->is_null()) {
      std::int64_t v = 0;
      if (legacy_period(*p, v)) {
        m.period = v;
      } else {
        error(prefix, "period", kPeriodError);
        ok = false;
      }
    }
    if (const ojson* a = find(it, "attributes"); a && !a->is_null()) {
      if (a->is_object()) {
        m.attributes_json = a->dump();
      } else {
        error(prefix, "attributes", "must be an object");
        ok = false;
      }
    }

    const ojson* value = find(it, "value");
    const ojson* count = find(it, "count");
    if (type == MetricType::counter) {
      for (const char* f : {"count", "sum", "min", "max", "sum_squares"}) {
        if (find(it, f)) {
          error(prefix, f, "counters accept only value");
          ok = false;
        }
      }
    }
    if (value && count) {
      error(prefix, "count", "value and count are mutually exclusive");
      ok = false;
    } else if (value) {
      double v = 0;
      if (number(*value, prefix, "value", v))
        m.agg = Agg::of_value(v, m.time);
      else
        ok = false;
    } else if (count && type == MetricType::gauge) {
      ok = summary(it, *count, prefix, m) && ok;
    } else if (!count) {
      error(prefix, "value", type == MetricType::gauge ? "is required (or count and sum)"
                                                       : "is required");
      ok = false;
    }

    // display_name, description (kept for the creation of the metric) and type, which must
    // agree with the section
    MetricText text;
    for (const auto& [field, slot, limit] :
         {std::tuple{"display_name", &text.display_name, std::size_t{255}},
          std::tuple{"description", &text.description, std::size_t{65535}}}) {
      const ojson* f = find(it, field);
      if (!f || f->is_null()) continue;
      if (!f->is_string()) {
        error(prefix, field, "must be a string");
        ok = false;
      } else if (f->get_ref<const std::string&>().size() > limit) {
        error(prefix, field, "must be at most " + std::to_string(limit) + " characters");
        ok = false;
      } else if (!f->get_ref<const std::string&>().empty()) {
        *slot = f->get<std::string>();
      }
    }
    if (const ojson* t = find(it, "type"); t && !t->is_null()) {
      if (!t->is_string() || (t->get_ref<const std::string&>() != "gauge" && t->get_ref<const std::string&>() != "counter")) {
        error(prefix, "type", "must be gauge or counter");
        ok = false;
      } else if (t->get_ref<const std::string&>() != to_string(type)) {
        error(prefix, "type", std::string("is ") + t->get<std::string>() + ", but the measurement is in the " +
                                  (type == MetricType::counter ? "counters" : "gauges") + " section");
        ok = false;
      }
    }

    if (ok) {
      out_.measurements.push_back(std::move(m));
      if (text.display_name || text.description) {
        text.index = out_.measurements.size() - 1;
        out_.texts.push_back(std::move(text));
      }
    }
  }

  bool summary(const ojson& it, const ojson& count_v, const std::string& prefix, Measurement& m) {
    bool ok = true;
    double count = 0, sum = 0, min = 0, max = 0, sumsq = 0;
    if (!number(count_v, prefix, "count", count)) {
      ok = false;
    } else if (count <= 0) {
      error(prefix, "count", "must be greater than 0");
      ok = false;
    }
    const ojson* sum_v = find(it, "sum");
    if (!sum_v) {
      error(prefix, "sum", "is required with count");
      ok = false;
    } else if (!number(*sum_v, prefix, "sum", sum)) {
      ok = false;
    }
    const ojson* min_v = find(it, "min");
    const ojson* max_v = find(it, "max");
    const ojson* sq_v = find(it, "sum_squares");
    if (min_v && !number(*min_v, prefix, "min", min)) ok = false;
    if (max_v && !number(*max_v, prefix, "max", max)) ok = false;
    if (sq_v) {
      if (!number(*sq_v, prefix, "sum_squares", sumsq)) {
        ok = false;
      } else if (sumsq < 0) {
        error(prefix, "sum_squares", "must not be negative");
        ok = false;
      }
    }
    if (!ok) return false;
    if (min_v && max_v && min > max) {
      error(prefix, "min", "must not be greater than max");
      return false;
    }
    if (!summary_agg(count, sum, min_v ? &min : nullptr, max_v ? &max : nullptr, nullptr,
                     sq_v ? std::optional<double>(sumsq) : std::nullopt, m.time, m.agg)) {
      error(prefix, "sum", "summary statistics out of range");
      return false;
    }
    return true;
  }

  ParseOutcome& out_;
  std::int64_t now_;
  const NamePolicy* policy_;
  std::optional<std::string> source_;
  std::optional<std::int64_t> time_;
};

// Splits a form key like "gauges[0][name]" into {"gauges", "0", "name"}. False if malformed.
bool split_form_key(std::string_view key, std::vector<std::string_view>& parts) {
  parts.clear();
  std::size_t open = key.find('[');
  if (open == 0) return false;
  parts.push_back(key.substr(0, open));
  if (open == std::string_view::npos) return true;
  std::size_t pos = open;
  while (pos < key.size()) {
    if (key[pos] != '[') return false;
    std::size_t close = key.find(']', pos + 1);
    if (close == std::string_view::npos || close == pos + 1) return false;
    parts.push_back(key.substr(pos + 1, close - pos - 1));
    pos = close + 1;
  }
  return true;
}

}  // namespace

const char* CompositeRefusal::refuses(std::string_view metric) const {
  return catalog_.is_composite(metric)
             ? "is a composite metric: its values are computed from its definition, measurements cannot be "
               "submitted to it"
             : nullptr;
}

void recycle(ParseOutcome& out) { recycle(out.measurements); }

void recycle(std::vector<Measurement>& measurements) { recycle(std::span<Measurement>(measurements)); }

void recycle(std::span<Measurement> measurements) {
  auto& spare = spare_tags();
  for (auto& m : measurements) {
    if (spare.size() >= kSpareTagsLimit) break;
    if (m.tags.capacity() == 0) continue;
    m.tags.clear();
    spare.push_back(std::move(m.tags));
  }
}

ParseOutcome parse_measurements_json(std::string_view body, std::int64_t now, const NamePolicy* policy) {
  ParseOutcome out;
  parse_measurements_json_into(body, now, policy, out);
  return out;
}

namespace {

void parse_json_into(std::string_view body, std::int64_t now, const NamePolicy* policy, ParseOutcome& out,
                     bool scan_single) {
  const std::size_t before = out.measurements.size();
  if (before == 0) out.texts.clear();
  out.errors.clear();
  out.request_error.clear();
  out.too_large_float = false;
  out.fast_path = false;
  if (scan_single && parse_single_fast(body, now, policy, out)) {
    out.fast_path = true;
    return;
  }
  if (body.size() > kReusableBufferLimit) {
    simdjson::padded_string padded(body);
    simdjson::dom::parser parser;
    parse_dom(parser, padded.data(), padded.size(), out, now, policy);
  } else {
    ThreadBuffers& b = thread_buffers();
    std::size_t need = body.size() + simdjson::SIMDJSON_PADDING;
    if (b.padded_capacity < need) {
      std::size_t cap = std::max<std::size_t>(need, 4096);
      b.padded = std::make_unique<char[]>(cap);
      b.padded_capacity = cap;
    }
    if (!body.empty()) std::memcpy(b.padded.get(), body.data(), body.size());
    std::memset(b.padded.get() + body.size(), 0, simdjson::SIMDJSON_PADDING);
    parse_dom(b.parser, b.padded.get(), body.size(), out, now, policy);
  }
  if (!out.request_error.empty()) {
    out.measurements.erase(out.measurements.begin() + static_cast<std::ptrdiff_t>(before), out.measurements.end());
    std::erase_if(out.texts, [before](const MetricText& t) { return t.index >= before; });
    out.errors.clear();
  }
}

}  // namespace

void parse_measurements_json_into(std::string_view body, std::int64_t now, const NamePolicy* policy,
                                  ParseOutcome& out) {
  parse_json_into(body, now, policy, out, true);
}

void parse_measurement_message(std::string_view body, std::int64_t now, const NamePolicy* policy,
                               std::uint64_t generation, ParseOutcome& out) {
  SingleMeasurementView v;
  if (body.size() > kSingleScanLimit || !scan_single_measurement(body, v)) {
    parse_json_into(body, now, policy, out, false);
    return;
  }
  out.errors.clear();
  out.request_error.clear();
  out.too_large_float = false;
  SeriesMemo& memo = series_memo();
  const std::string_view tags = SeriesMemo::tags_text(v);
  const std::uint64_t h = SeriesMemo::hash(v.name, tags);
  SeriesMemo::Entry* e = memo.find(h, v.name, tags);
  if (e != nullptr && e->id != 0 && e->generation == generation) {
    // Name and tags were valid as written; the time, the value and the name policy are checked.
    std::int64_t time;
    double value;
    if (single_time_value(v, now, time, value) && !(policy && policy->refuses(e->name))) {
      Measurement& m = out.measurements.emplace_back();
      m.name = e->name;
      m.time = time;
      m.agg = Agg::of_value(value, time);
      m.series_id = e->id;
      m.series_generation = e->generation;
      return;
    }
  }
  if (!parse_single_view(v, now, policy, out)) {
    parse_json_into(body, now, policy, out, false);  // reports what is wrong
    return;
  }
  Measurement& m = out.measurements.back();
  m.source_hash = h;
  if (e == nullptr)
    memo.add(h, v.name, tags, m);
  else
    e->id = 0;  // learned at an older generation: learns again
}

void learn_series(std::span<Measurement> stored) {
  SeriesMemo& memo = series_memo();
  for (Measurement& m : stored)
    if (m.source_hash != 0) {
      if (m.series_id != 0) memo.learn(m);
      m.source_hash = 0;
    }
  recycle(stored);
}

ParseOutcome parse_measurements_json_dom(std::string_view body, std::int64_t now, const NamePolicy* policy) {
  ParseOutcome out;
  parse_json_into(body, now, policy, out, false);
  return out;
}

ParseOutcome parse_legacy_json(std::string_view body, std::int64_t now, const NamePolicy* policy) {
  ParseOutcome out;
  ojson root = ojson::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    out.request_error = "invalid JSON";
    return out;
  }
  LegacyParser(out, now, policy).run(root);
  if (!out.request_error.empty()) {
    out.measurements.clear();
    out.texts.clear();
    out.errors.clear();
  }
  return out;
}

ParseOutcome parse_legacy_form(std::string_view body, std::int64_t now, const NamePolicy* policy) {
  ParseOutcome out;
  ojson root = ojson::object();
  std::vector<std::string_view> parts;
  for (const auto& [key, value] : parse_urlencoded(body)) {
    // Names and values become JSON strings (attributes are kept as JSON text): UTF-8 only, as in
    // every other form body (api/http/body.hpp).
    if (const bool key_ok = valid_utf8(key); !key_ok || !valid_utf8(value)) {
      out.request_error = "the parameter " + shown_name(key) +
                          (key_ok ? "" : " (its name)") + " is not valid UTF-8";
      return out;
    }
    if (!split_form_key(key, parts)) {
      out.request_error = "malformed parameter name: " + shown_name(key);
      return out;
    }
    if (parts.size() > kMaxFormKeyDepth + 1) {
      out.request_error = "parameter name nests deeper than " + std::to_string(kMaxFormKeyDepth) +
                          " levels: " + shown_name(key);
      return out;
    }
    ojson* node = &root;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (!node->is_object() && !node->is_null()) {
        out.request_error = "conflicting parameter: " + shown_name(key);
        return out;
      }
      node = &(*node)[std::string(parts[i])];
    }
    if (node->is_object()) {
      out.request_error = "conflicting parameter: " + shown_name(key);
      return out;
    }
    *node = value;  // a repeated scalar parameter: the last one wins
  }
  LegacyParser(out, now, policy).run(root);
  if (!out.request_error.empty()) {
    out.measurements.clear();
    out.texts.clear();
    out.errors.clear();
  }
  return out;
}

}  // namespace vigil
