#include "api/librato/query_api.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>

#include "api/http/form.hpp"
#include "api/http/json_out.hpp"
#include "api/librato/lang/tags_search.hpp"
#include "api/librato/metric_json.hpp"
#include "api/librato/storage_error.hpp"
#include "api/librato/legacy_summary.hpp"

namespace vigil::api::librato {

namespace {

using nlohmann::json;

constexpr std::int64_t kMaxResolution = 604800;

// -- parameters -----------------------------------------------------------------------------

// The last value of parameter `key`, or nullptr.
const std::string* param(const Params& q, std::string_view key) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : q)
    if (k == key) found = &v;
  return found;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string lowered(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return std::string(s);
}

// Reads integer parameter `key` into `out` if present; records an error when malformed or
// outside [lo, hi].
void int_param(const Params& q, std::string_view key, std::int64_t lo, std::int64_t hi,
               std::optional<std::int64_t>& out, std::vector<ParamError>& errors) {
  const std::string* s = param(q, key);
  if (s == nullptr) return;
  auto v = parse_int(*s);
  if (!v) {
    errors.push_back({std::string(key), "must be an integer"});
    return;
  }
  if (*v < lo || *v > hi) {
    errors.push_back(
        {std::string(key), "must be between " + std::to_string(lo) + " and " + std::to_string(hi)});
    return;
  }
  out = v;
}

constexpr std::int64_t kTimeMin = kSampleTimeMin;  // the engine's window of sample times
constexpr std::int64_t kTimeMax = kSampleTimeMax;  // 9999-12-31T23:59:59Z

// start_time / end_time / duration as both routes read them. end_time defaults to now; start_time
// to end_time - duration, or to 0 when `start_optional` (else it is an error to give neither).
// start_time + duration without end_time means end_time = start_time + duration.
struct Window {
  std::int64_t start = 0;
  std::int64_t end = 0;
  bool has_start = false;
};

std::optional<Window> parse_window(const Params& q, std::int64_t now, bool start_optional,
                                   std::vector<ParamError>& errors) {
  std::optional<std::int64_t> start, end, duration;
  std::size_t before = errors.size();
  int_param(q, "start_time", kTimeMin, kTimeMax, start, errors);
  int_param(q, "end_time", kTimeMin, kTimeMax, end, errors);
  int_param(q, "duration", 1, kTimeMax, duration, errors);
  if (errors.size() != before) return std::nullopt;
  if (start && end && duration) {
    errors.push_back({"duration", "cannot be combined with both start_time and end_time"});
    return std::nullopt;
  }
  Window w;
  if (start && duration && !end) {
    w.start = *start;
    w.end = *start + *duration;
  } else {
    w.end = end ? *end : now;
    if (start)
      w.start = *start;
    else if (duration)
      w.start = w.end - *duration;
    else if (start_optional)
      w.start = 0;
    else {
      errors.push_back({"start_time", "is required unless duration is given"});
      return std::nullopt;
    }
  }
  w.has_start = start.has_value();
  if (w.start > w.end) {
    errors.push_back({"start_time", "must not be after end_time"});
    return std::nullopt;
  }
  return w;
}

// -- rendering ------------------------------------------------------------------------------

json number(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9007199254740992.0)
    return static_cast<std::int64_t>(v);
  return v;
}

// The request again, resuming at `start`: start_time replaced (or appended), duration dropped and
// end_time pinned to the resolved end so that every page covers the same window.
constexpr std::string_view kPlain = "*,!";  // kept as they are in links: globs, lists

std::string next_href(std::string_view name, const Params& q, std::int64_t start,
                      std::int64_t end) {
  std::string href = "/v1/measurements/";
  url_encode(href, name, kPlain);
  href += '?';
  bool first = true;
  auto add = [&](std::string_view k, std::string_view v) {
    if (!first) href += '&';
    first = false;
    url_encode(href, k, kPlain);
    href += '=';
    url_encode(href, v, kPlain);
  };
  bool start_done = false, end_done = false;
  for (const auto& [k, v] : q) {
    if (k == "duration") continue;
    if (k == "start_time") {
      if (!start_done) add(k, std::to_string(start));
      start_done = true;
    } else if (k == "end_time") {
      if (!end_done) add(k, std::to_string(end));
      end_done = true;
    } else {
      add(k, v);
    }
  }
  if (!start_done) add("start_time", std::to_string(start));
  if (!end_done) add("end_time", std::to_string(end));
  return href;
}

SummaryFunction default_summary(const MetricInfo& info) {
  json attrs = json::parse(info.attributes_json, nullptr, false);
  if (attrs.is_object()) {
    auto it = attrs.find("summarize_function");
    if (it != attrs.end() && it->is_string()) {
      auto f = parse_summary_function(lowered(it->get<std::string>()));
      if (f && *f != SummaryFunction::all) return *f;
    }
  }
  return SummaryFunction::mean;
}

Response not_found() { return request_error(404, "Not Found"); }

}  // namespace

json metric_json(const MetricInfo& info) {
  auto str_or_null = [](const std::string& s) { return s.empty() ? json(nullptr) : json(s); };
  json attrs = json::parse(info.attributes_json, nullptr, false);
  if (!attrs.is_object()) attrs = json::object();
  json o = json::object();
  o["name"] = info.name;
  o["display_name"] = str_or_null(info.display_name);
  o["description"] = str_or_null(info.description);
  o["period"] = info.period ? json(*info.period) : json(nullptr);
  o["source_lag"] = info.source_lag ? json(*info.source_lag) : json(nullptr);
  o["type"] = to_string(info.type);
  o["attributes"] = std::move(attrs);
  if (info.type == MetricType::composite) o["composite"] = info.composite;
  return o;
}

// -- GET /v1/measurements/:name ------------------------------------------------------------------

Response get_measurements(std::string_view name, const Params& q, const MetricInfo* info,
                          SeriesReader& reader, std::int64_t now, std::size_t max_points,
                          std::string_view origin, QueryBudget* budget) {
  if (info == nullptr) return not_found();
  std::vector<ParamError> errors;
  MeasurementQuery mq;
  mq.metric_key = metric_key(info->name);
  mq.counter = info->type == MetricType::counter;
  mq.max_points = max_points;
  mq.budget = budget;

  auto window = parse_window(q, now, false, errors);

  std::optional<std::int64_t> resolution;
  if (param(q, "resolution") == nullptr)
    errors.push_back({"resolution", "is required"});
  else
    int_param(q, "resolution", 1, kMaxResolution, resolution, errors);

  for (const auto& [k, v] : q) {
    if (k.size() >= 6 && k.compare(0, 5, "tags[") == 0 && k.back() == ']') {
      std::string tag = trimmed(std::string_view(k).substr(5, k.size() - 6));
      if (tag.empty())
        errors.push_back({k, "tag name must not be empty"});
      else
        mq.filter.add(tag, v);
    } else if (k == "tags_search") {
      std::string err;
      auto search = parse_tags_search(v, err);
      if (!search) errors.push_back({k, err});
      else mq.search = std::make_shared<const TagExpr>(std::move(*search));
    }
  }
  if (mq.search && !mq.filter.empty()) errors.push_back({"tags_search", "cannot be combined with tags"});

  if (const std::string* g = param(q, "group_by")) {
    std::string gs = trimmed(*g);
    if (gs == "*") {
      mq.group_all = true;
    } else {
      std::string_view rest = gs;
      bool bad = gs.empty();
      while (!bad) {
        auto comma = rest.find(',');
        std::string tag = lowered(trimmed(rest.substr(0, comma)));
        if (tag.empty() || tag == "*") {
          bad = true;
          break;
        }
        mq.group_by.push_back(std::move(tag));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
      if (bad) errors.push_back({"group_by", "must be * or a comma-separated list of tag names"});
    }
    if (const std::string* gf = param(q, "group_by_function")) {
      auto f = parse_group_function(lowered(*gf));
      if (f)
        mq.group_function = *f;
      else
        errors.push_back({"group_by_function", "must be one of sum, min, max, mean"});
    } else {
      errors.push_back({"group_by_function", "is required when group_by is set"});
    }
  }

  mq.summary = default_summary(*info);
  if (const std::string* sf = param(q, "summary_function")) {
    auto f = parse_summary_function(lowered(*sf));
    if (!f)
      errors.push_back({"summary_function",
                        "must be one of sum, min, max, count, mean, derivative, stddev, all"});
    else if (*f == SummaryFunction::all && param(q, "group_by") != nullptr)
      errors.push_back({"summary_function", "all cannot be combined with group_by"});
    else
      mq.summary = *f;
  }

  if (!errors.empty()) return params_error(400, errors);
  mq.start = window->start;
  mq.end = window->end;
  mq.resolution = *resolution;

  QueryResult r = run_query(reader, mq);
  if (!reader.status().ok()) return storage_error(reader.status());

  // Written directly (keys in the order nlohmann's sorted objects give): a one-series query spent
  // most of its time building and dumping a json tree.
  namespace jo = json_out;
  std::string body;
  body.reserve(128 + r.series.size() * (64 + (mq.summary == SummaryFunction::all ? 160 : 40) * 8));
  body.append("{\"links\":[");
  if (r.next_start) {
    body.append("{\"href\":");
    jo::string(body, std::string(origin) + next_href(name, q, *r.next_start, mq.end));
    body.append(",\"rel\":\"next\"}");
  }
  body.append("],\"name\":");
  jo::string(body, info->name);
  body.append(",\"resolution\":");
  jo::integer(body, mq.resolution);
  body.append(",\"series\":[");
  for (std::size_t i = 0; i < r.series.size(); ++i) {
    const auto& s = r.series[i];
    if (i > 0) body.push_back(',');
    body.append("{\"measurements\":[");
    for (std::size_t j = 0; j < s.points.size(); ++j) {
      const auto& p = s.points[j];
      if (j > 0) body.push_back(',');
      if (mq.summary == SummaryFunction::all) {
        body.append("{\"count\":");
        jo::count(body, p.agg.count);
        body.append(",\"last\":");
        jo::number(body, p.agg.last);
        body.append(",\"max\":");
        jo::number(body, p.agg.max);
        body.append(",\"mean\":");
        jo::number(body, p.agg.mean());
        body.append(",\"min\":");
        jo::number(body, p.agg.min);
        body.append(",\"stddev\":");
        jo::number(body, p.agg.stddev());
        body.append(",\"sum\":");
        jo::number(body, p.agg.sum);
        body.append(",\"time\":");
        jo::integer(body, p.time);
      } else {
        body.append("{\"time\":");
        jo::integer(body, p.time);
        body.append(",\"value\":");
        jo::number(body, p.value);
      }
      body.push_back('}');
    }
    body.append("],\"tags\":{");
    // Tags as a json object would hold them: sorted by name, the last of equal names.
    std::vector<const Tag*> tags;
    tags.reserve(s.tags.size());
    for (const auto& t : s.tags) tags.push_back(&t);
    std::stable_sort(tags.begin(), tags.end(), [](const Tag* a, const Tag* b) { return a->first < b->first; });
    bool first = true;
    for (std::size_t k = 0; k < tags.size(); ++k) {
      if (k + 1 < tags.size() && tags[k + 1]->first == tags[k]->first) continue;
      if (!first) body.push_back(',');
      first = false;
      jo::string(body, tags[k]->first);
      body.push_back(':');
      jo::string(body, tags[k]->second);
    }
    body.append("}}");
  }
  body.append("]}");
  return Response{200, std::move(body), "application/json", {}};
}

// -- GET /v1/metrics/:name (legacy) ---------------------------------------------------------------

Response get_metric(std::string_view /*name*/, const Params& q, const MetricInfo& info,
                    SeriesReader& reader, std::int64_t now, std::size_t max_points, QueryBudget* budget) {
  json body = metric_json(info);
  bool interval = false;
  for (const char* k : {"start_time", "end_time", "count", "resolution", "duration"})
    if (param(q, k) != nullptr) interval = true;
  if (!interval) return Response{200, body.dump(), "application/json", {}};

  std::vector<ParamError> errors;
  std::optional<std::int64_t> count, resolution;
  int_param(q, "count", 1, std::numeric_limits<std::int64_t>::max(), count, errors);
  int_param(q, "resolution", 1, kMaxResolution, resolution, errors);
  // With count and no start_time, look back from the beginning of time for the last N points.
  auto window = parse_window(q, now, count.has_value(), errors);
  if (!errors.empty()) return params_error(400, errors);

  LegacyQuery lq;
  lq.metric_key = metric_key(info.name);
  lq.start = window->start;
  lq.end = window->end;
  lq.resolution = resolution.value_or(0);
  if (count) lq.count = static_cast<std::size_t>(*count);
  lq.from_start = window->has_start;
  lq.max_points = max_points;
  lq.budget = budget;
  LegacySummary summary;
  summary.counter = info.type == MetricType::counter;
  auto flag = [&](const char* key, bool& out) {
    if (const std::string* v = param(q, key)) {
      std::string l = lowered(*v);
      if (l == "true" || l == "1") out = true;
      else if (l == "false" || l == "0") out = false;
      else errors.push_back({key, "must be true or false"});
      return true;
    }
    return false;
  };
  flag("summarize_time", summary.summarize_time);
  flag("summarize_sources", summary.summarize_sources);
  if (const std::string* g = param(q, "group_by")) {
    auto f = parse_legacy_group(lowered(*g));
    if (!f) {
      errors.push_back({"group_by", "must be one of min, max, mean, sum, count"});
    } else {
      summary.group = *f;
      summary.summarize_sources = true;
      summary.breakout_sources = false;
    }
  }
  flag("breakout_sources", summary.breakout_sources);
  if (!errors.empty()) return params_error(400, errors);
  if (const std::string* s = param(q, "source")) lq.sources.set_pattern(*s);
  for (const auto& [k, v] : q)
    if (k == "sources[]" || k == "sources") lq.sources.add_source(v);

  LegacyResult r = run_legacy_query(reader, lq);
  if (!reader.status().ok()) return storage_error(reader.status());

  // Series keyed by source; series sharing a source are merged in time order.
  std::map<std::string, std::vector<const Bucket*>> by_source;
  for (const auto& s : r.series) {
    std::string key;
    if (const std::string* src = find_tag(s.tags, "source")) {
      key = *src;
    } else {
      for (const auto& [k, v] : s.tags) {
        if (!key.empty()) key += ',';
        key += k + "=" + v;
      }
    }
    auto& list = by_source[key];
    for (const auto& p : s.points) list.push_back(&p);
  }
  std::map<std::string, std::vector<LegacyRecord>> records;
  for (auto& [key, list] : by_source) {
    std::stable_sort(list.begin(), list.end(),
                     [](const Bucket* a, const Bucket* b) { return a->time < b->time; });
    auto& rs = records[key];
    for (const Bucket* p : list)
      rs.push_back(LegacyRecord{p->time, p->agg.count, p->agg.sum, p->agg.min, p->agg.max, p->agg.mean(), 0});
  }
  summarize_legacy(records, summary);
  json measurements = json::object();
  for (auto& [key, rs] : records) {
    json arr = json::array();
    for (const auto& p : rs) {
      json m = {{"measure_time", p.time}, {"value", p.value}, {"count", number(p.count)},
                {"min", p.min},          {"max", p.max},     {"sum", p.sum}};
      if (p.summarized) m["summarized"] = p.summarized;
      arr.push_back(std::move(m));
    }
    measurements[key] = std::move(arr);
  }
  body["resolution"] = lq.resolution > 0 ? lq.resolution : 1;
  body["measurements"] = std::move(measurements);
  if (r.next_time) body["query"] = {{"next_time", *r.next_time}};
  return Response{200, body.dump(), "application/json", {}};
}

}  // namespace vigil::api::librato
