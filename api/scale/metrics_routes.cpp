// GET /v6/metrics, /v6/metrics/:name and /v6/metrics/:name/plot-data: the declared metrics types,
// one type with its choices, and a type's plot data per UTC day from the daily rollups.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "actors/engine.hpp"
#include "actors/pending_reader.hpp"
#include "api/scale/choices.hpp"
#include "api/scale/errors.hpp"
#include "api/scale/iso_time.hpp"
#include "api/scale/paging.hpp"
#include "api/scale/plot.hpp"
#include "api/scale/resources.hpp"
#include "api/http/form.hpp"
#include "engine/model/clock.hpp"
#include "engine/model/limits.hpp"
#include "engine/model/text.hpp"

namespace vigil::api::scale {

namespace {

using json = nlohmann::ordered_json;

constexpr std::int64_t kDay = 86400;

json number(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9007199254740992.0)
    return static_cast<std::int64_t>(v);
  return v;
}

json text_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json column_json(const config::ScaleColumn& c) {
  return json{{"name", c.name},
              {"title", c.title},
              {"description", c.description},
              {"units", c.units},
              {"group", text_or_null(c.group)},
              {"aggregate", c.aggregate}};
}

json type_json(const config::ScaleMetricType& t) {
  json filters = json::array(), groups = json::array(), columns = json::array();
  for (const auto& f : t.filters) filters.push_back({{"param", f.param}, {"type", f.type}});
  for (const auto& g : t.groups)
    groups.push_back({{"name", g.name}, {"title", g.title}, {"description", g.description}});
  for (const auto& c : t.columns) columns.push_back(column_json(c));
  return json{{"name", t.name},     {"title", t.title}, {"description", t.description},
              {"filters", filters}, {"groups", groups}, {"columns", columns}};
}

// {"id", "name", then each declared filter param (null unless every series of the choice carries
// one value of that tag), then the other shared tags}.
json choice_json(const config::ScaleMetricType& t, const Choice& c) {
  json o = {{"id", c.id}, {"name", c.name}};
  auto shared = [&](const std::string& tag) -> const std::string* {
    for (const auto& [k, v] : c.shared)
      if (k == tag) return &v;
    return nullptr;
  };
  for (const auto& f : t.filters) {
    if (f.param == "id" || f.param == "name") continue;
    const std::string* v = shared(ascii_lower(f.param));
    o[f.param] = v ? json(*v) : json(nullptr);
  }
  for (const auto& [k, v] : c.shared)
    if (k != "id" && k != "name" && !o.contains(k)) o[k] = v;
  return o;
}

std::vector<std::string> all_of(const Params& q, const char* key) {
  std::vector<std::string> out;
  for (const auto& [k, v] : q)
    if (k == key) out.push_back(v);
  return out;
}

const std::string* last_of(const Params& q, const char* key) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : q)
    if (k == key) found = &v;
  return found;
}

const config::ScaleMetricType* find_type(const Resources& res, const std::string& name) {
  for (const auto& t : res.types)
    if (t.name == name) return &t;
  return nullptr;
}

Response bad(Resources& res, const std::string& param, const std::string& message) {
  res.rejects.bad_query.fetch_add(1);
  return param_error(param, message);
}

Response bad(Resources& res, const ParamProblem& p) { return bad(res, p.param, p.message); }

Response not_found(const std::string& name) {
  return detail_error(404, "Not found: no metrics type '" + name + "'.");
}

Response store_failed(const std::string& err) { return detail_error(500, "storage error: " + err); }

json paged(const Request& req, const Params& q, const Page& page, std::size_t count, json results) {
  std::size_t last = page.last(count);
  json next = last < count ? json(page_url(req, q, page.page + 1)) : json(nullptr);
  json previous = page.page > 1 ? json(page_url(req, q, page.page - 1)) : json(nullptr);
  return json{
      {"count", count}, {"next", next}, {"previous", previous}, {"results", std::move(results)}};
}

// -- GET /v6/metrics ----------------------------------------------------------------------------

Response list_types(Resources& res, const Request& req) {
  Params q = parse_urlencoded(req.query);
  Page page;
  if (auto p = parse_page(q, page)) return bad(res, *p);
  if (auto p = check_page(page, res.types.size())) return bad(res, *p);
  json results = json::array();
  for (std::size_t i = page.first(res.types.size()); i < page.last(res.types.size()); ++i)
    results.push_back(type_json(res.types[i]));
  return json_body(200, paged(req, q, page, res.types.size(), std::move(results)));
}

// -- GET /v6/metrics/:name ----------------------------------------------------------------------

Response get_type(Resources& res, ChoiceIds& ids, const std::string& name) {
  const config::ScaleMetricType* t = find_type(res, name);
  if (!t) return not_found(name);
  actors::PendingReader reader(res.engine);
  TypeSeries ts;
  std::string err;
  if (!discover(reader, *t, ids, ts, err)) return store_failed(err);
  if (!reader.status().ok()) return store_failed(reader.status().to_string());
  json body = type_json(*t);
  json choices = json::array();
  for (const auto& c : ts.choices) choices.push_back(choice_json(*t, c));
  body["choices"] = std::move(choices);
  return json_body(200, body);
}

// -- GET /v6/metrics/:name/plot-data ------------------------------------------------------------

// `started` / `ended`: an ISO 8601 datetime, or a duration counted back from `now`.
std::optional<std::int64_t> parse_instant(const std::string& s, std::int64_t now) {
  if (!s.empty() && (s[0] == 'P' || s[0] == 'p')) {
    auto d = parse_duration(s);
    if (!d) return std::nullopt;
    return before(now, *d);
  }
  return parse_datetime(s);
}

Response plot_data(Resources& res, ChoiceIds& ids, const Request& req, const std::string& name) {
  const config::ScaleMetricType* t = find_type(res, name);
  if (!t) return not_found(name);
  Params q = parse_urlencoded(req.query);
  Page page;
  if (auto p = parse_page(q, page)) return bad(res, *p);

  const std::int64_t now = now_seconds();
  std::int64_t started = 0, ended = now;
  const char* kTimeHelp =
      "must be an ISO-8601 datetime (2015-01-01T00:00:00Z) or duration (PT3H0M0S) after 1970";
  if (const std::string* s = last_of(q, "started")) {
    auto v = parse_instant(*s, now);
    if (!v) return bad(res, "started", kTimeHelp);
    started = *v;
  }
  if (const std::string* s = last_of(q, "ended")) {
    auto v = parse_instant(*s, now);
    if (!v) return bad(res, "ended", kTimeHelp);
    ended = *v;
  }
  if (started > ended)
    return bad(res, "started",
               "must not be after ended (" + format_datetime(started) + "Z > " +
                   format_datetime(ended) + "Z)");

  // The columns: those named by `column` or in a group named by `group`; all without either.
  std::vector<std::string> column_names = all_of(q, "column"), group_names = all_of(q, "group");
  for (const auto& c : column_names)
    if (std::none_of(t->columns.begin(), t->columns.end(),
                     [&](const auto& col) { return col.name == c; }))
      return bad(res, "column", "unknown column '" + c + "' of metrics type '" + t->name + "'");
  for (const auto& g : group_names)
    if (std::none_of(t->groups.begin(), t->groups.end(),
                     [&](const auto& gr) { return gr.name == g; }))
      return bad(res, "group", "unknown group '" + g + "' of metrics type '" + t->name + "'");
  std::vector<std::size_t> selected;
  for (std::size_t i = 0; i < t->columns.size(); ++i) {
    const auto& col = t->columns[i];
    bool named =
        std::find(column_names.begin(), column_names.end(), col.name) != column_names.end();
    bool grouped = !col.group.empty() && std::find(group_names.begin(), group_names.end(),
                                                   col.group) != group_names.end();
    if ((column_names.empty() && group_names.empty()) || named || grouped) selected.push_back(i);
  }

  QueryBudget budget = res.engine.queries().begin();  // the query limits (engine/query/budget.hpp)
  actors::PendingReader reader(res.engine, &budget);
  TypeSeries ts;
  std::string err;
  if (!discover(reader, *t, ids, ts, err)) return store_failed(err);

  // The choices asked for (distinct); values per choice from two on.
  std::vector<bool> wanted(ts.choices.size(), false);
  std::size_t distinct = 0;
  for (const auto& s : all_of(q, "choice_id")) {
    std::uint64_t id = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size())
      return bad(res, "choice_id", "must be an integer, got '" + s + "'");
    std::ptrdiff_t at = ts.find(id);
    if (at < 0)
      return bad(res, "choice_id", "no choice " + s + " in metrics type '" + t->name + "'");
    if (!wanted[static_cast<std::size_t>(at)]) ++distinct;
    wanted[static_cast<std::size_t>(at)] = true;
  }
  const bool per_choice = distinct >= 2;
  if (auto p = check_page(page, selected.size())) return bad(res, *p);

  std::vector<std::uint64_t> choice_ids;
  for (const auto& c : ts.choices) choice_ids.push_back(c.id);
  const std::int64_t from = floor_to(started, kDay);
  json results = json::array();
  for (std::size_t k = page.first(selected.size()); k < page.last(selected.size()); ++k) {
    const std::size_t ci = selected[k];
    const config::ScaleColumn& col = t->columns[ci];
    std::vector<std::uint64_t> series;
    std::vector<std::size_t> choice_of;
    for (const auto& [id, choice] : ts.columns[ci])
      if (distinct == 0 || wanted[choice]) {
        series.push_back(id);
        choice_of.push_back(choice);
      }
    std::vector<DayBucket> buckets;
    budget.plan(series.size(), kDay, from, ended);  // the daily buckets of the column, before reading
    if (!series.empty())
      reader.read_rollups(
          series, kDay, from, ended,
          [&](std::size_t i, std::int64_t day, const Agg& a) {
            buckets.push_back({day, choice_of[i], a});
          },
          kMinField | kMaxField);
    auto values = plot_values(*parse_aggregate(col.aggregate), buckets, choice_ids, per_choice);
    json out = {{"column", column_json(col)}};
    json list = json::array();
    std::optional<double> min_y, max_y;
    for (const auto& v : values) {
      json item = json::object();
      if (v.choice_id) item["id"] = *v.choice_id;
      item["datetime"] = format_datetime(v.day);
      item["value"] = number(v.value);
      list.push_back(std::move(item));
      min_y = min_y ? std::min(*min_y, v.value) : v.value;
      max_y = max_y ? std::max(*max_y, v.value) : v.value;
    }
    out["min_x"] = values.empty() ? json(nullptr) : json(format_date(values.front().day));
    out["max_x"] = values.empty() ? json(nullptr) : json(format_date(values.back().day));
    out["min_y"] = min_y ? number(*min_y) : json(nullptr);
    out["max_y"] = max_y ? number(*max_y) : json(nullptr);
    out["values"] = std::move(list);
    results.push_back(std::move(out));
  }
  if (!reader.status().ok()) return store_failed(reader.status().to_string());
  return json_body(200, paged(req, q, page, selected.size(), std::move(results)));
}

}  // namespace

void add_metrics_routes(RouteTable& t, Resources& res, ChoiceIds& ids) {
  t.add("GET", "/v6/metrics",
        [&res](const Request& req, const PathParams&) { return list_types(res, req); });
  t.add("GET", "/v6/metrics/:name", [&res, &ids](const Request&, const PathParams& p) {
    return get_type(res, ids, p["name"]);
  });
  t.add("GET", "/v6/metrics/:name/plot-data",
        [&res, &ids](const Request& req, const PathParams& p) {
          return plot_data(res, ids, req, p["name"]);
        });
}

}  // namespace vigil::api::scale
