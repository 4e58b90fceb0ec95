// GET /v1/metrics?compose=...: a composite metric query (engine/composite) over the series of the
// store, answered in Librato's composite response shape.
#include <stdexcept>

#include "actors/engine.hpp"
#include "actors/pending_reader.hpp"
#include "api/librato/metric_json.hpp"
#include "api/librato/params.hpp"
#include "api/librato/resources.hpp"
#include "api/librato/storage_error.hpp"
#include "api/librato/composite.hpp"
#include "engine/meta/doc_store.hpp"
#include "engine/query/query.hpp"
#include "engine/storage/store_reader.hpp"

namespace vigil::api::librato {

namespace {

using nlohmann::json;

constexpr std::int64_t kMaxResolution = 604800;

}  // namespace

composite::Set fetch_series(actors::Engine& engine, const std::string& metric, const TagFilter& filter,
                            const TagFilter* narrow, const std::string& fn, std::int64_t start, std::int64_t stop,
                            std::int64_t resolution, Status& status, QueryBudget* budget) {
  // Storage and the shards' unflushed samples: a sample accepted before the request is read
  // without making every shard flush first.
  actors::PendingReader reader(engine, budget);
  composite::Set out;
  auto summary = parse_summary_function(fn);
  for (const auto& info : engine.catalog().list()) {
    if (!glob_match(metric, info.name)) continue;
    MeasurementQuery mq;
    mq.metric_key = metric_key(info.name);
    mq.start = start;
    mq.end = stop;
    mq.resolution = resolution;
    mq.filter = filter;
    mq.summary = summary && *summary != SummaryFunction::all ? *summary : SummaryFunction::mean;
    mq.counter = info.type == MetricType::counter;
    mq.budget = budget;
    for (auto& s : run_query(reader, mq).series) {
      if (narrow && !narrow->matches(s.tags)) continue;
      composite::Series cs;
      cs.metric = info.name;
      if (const std::string* src = find_tag(s.tags, "source")) {
        cs.source = *src;
      } else {
        for (const auto& [k, v] : s.tags) cs.source += (cs.source.empty() ? "" : ",") + k + "=" + v;
      }
      for (const auto& p : s.points) cs.points.emplace_back(p.time, p.value);
      out.push_back(std::move(cs));
    }
  }
  status.update(reader.status());
  return out;
}

composite::Set fetch_series(actors::Engine& engine, const std::string& metric, const std::string& source,
                            const std::string& fn, std::int64_t start, std::int64_t stop, std::int64_t resolution,
                            Status& status, QueryBudget* budget) {
  TagFilter filter;
  if (source != "*") filter.add("source", source);
  return fetch_series(engine, metric, filter, nullptr, fn, start, stop, resolution, status, budget);
}

Response get_composite(Resources& res, const Request& req, const std::string* definition) {
  actors::Engine& engine = res.engine;
  auto q = query_json(req);
  std::vector<ParamError> errors;
  bool bad = false;
  auto compose = definition ? std::optional<std::string>(*definition) : get_string(q, "compose", bad);
  auto start = get_int(q, "start_time", bad);
  auto end = get_int(q, "end_time", bad);
  auto resolution = get_int(q, "resolution", bad);
  if (bad) errors.push_back({"compose", "compose must be text; start_time, end_time and resolution integers"});
  if (!start) errors.push_back({"start_time", "is required with compose"});
  if (!resolution || *resolution < 1 || *resolution > kMaxResolution)
    errors.push_back({"resolution", "is required with compose, 1..604800"});
  std::int64_t stop = end.value_or(now_seconds());
  // The window of sample times (engine/model/model.hpp): interval arithmetic stays far from the
  // int64 limits.
  if (start && !in_sample_window(*start))
    errors.push_back({"start_time", "must be epoch seconds from 0 to 253402300799 (9999-12-31T23:59:59Z)"});
  if (end && !in_sample_window(*end))
    errors.push_back({"end_time", "must be epoch seconds from 0 to 253402300799 (9999-12-31T23:59:59Z)"});
  if (start && stop < *start) errors.push_back({"end_time", "must not be before start_time"});
  std::string perr;
  auto expr = compose ? composite::parse(*compose, perr) : std::nullopt;
  if (compose && !expr) errors.push_back({"compose", perr});
  if (!errors.empty()) return params_error(400, errors);

  // One budget for the whole request: every s() of the expression charges it.
  QueryBudget budget = engine.queries().begin();
  Status status;
  auto fetch = [&](const std::string& metric, const std::string& source, const std::string& fn) {
    return fetch_series(engine, metric, source, fn, *start, stop, *resolution, status, &budget);
  };
  composite::Set result;
  try {
    auto sources = [&](const std::string& pattern) {
      std::vector<std::string> out;
      for (auto& src : engine.series().tag_values("source"))
        if (glob_match(pattern, src)) out.push_back(src);
      return out;
    };
    result = composite::evaluate(*expr, fetch, composite::Interval{*start, stop, *resolution}, sources);
  } catch (const std::invalid_argument& e) {
    if (!status.ok()) return storage_error(status);
    return params_error(400, {{"compose", e.what()}});
  }
  if (!status.ok()) return storage_error(status);
  auto [qmetric, qsource] = composite::first_query(*expr);
  json measurements = json::array();
  for (const auto& s : result) {
    auto info = engine.catalog().get(s.metric);
    json m;
    m["metric"] = info ? metric_json(*info) : json{{"name", s.metric}, {"type", "composite"}};
    m["period"] = info && info->period ? json(*info->period) : json(nullptr);
    m["query"] = {{"metric", qmetric}, {"source", qsource}};
    json series = json::array();
    for (const auto& [t, v] : s.points) series.push_back({{"measure_time", t}, {"value", v}});
    m["series"] = std::move(series);
    auto doc = res.docs.get("source/" + s.source);
    m["source"] = {{"name", s.source},
                   {"display_name", doc && doc->contains("display_name") ? (*doc)["display_name"] : json(nullptr)}};
    measurements.push_back(std::move(m));
  }
  return json_answer(200, {{"compose", *compose}, {"measurements", measurements}, {"resolution", *resolution}});
}

}  // namespace vigil::api::librato
