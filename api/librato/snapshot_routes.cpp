// /v1/snapshots: a PNG of a chart over an interval, rendered server-side by a job from the chart's
// streams. The snapshot is the document `snapshot/<id>`; the image is stored in the meta column
// family under `snapimg/<id>` and served at /v1/snapshots/:id/image.png.
#include <ctime>

#include "actors/engine.hpp"
#include "api/render/chart_render.hpp"
#include "api/librato/params.hpp"
#include "api/librato/resources.hpp"
#include "api/librato/storage_error.hpp"
#include "engine/meta/doc_store.hpp"
#include "engine/meta/jobs.hpp"
#include "api/render/png.hpp"
#include "engine/storage/storage.hpp"
#include "engine/model/time_text.hpp"

namespace vigil::api::librato {

namespace {

using nlohmann::json;

std::string iso_time(std::int64_t t) { return iso8601_utc(t); }

std::string snap_key(std::uint64_t id) { return "snapshot/" + DocStore::pad(id); }
std::string image_key(std::uint64_t id) { return "snapimg/" + DocStore::pad(id); }

// The chart with this id in any space.
std::optional<json> find_chart(DocStore& docs, std::int64_t id) {
  if (id <= 0) return std::nullopt;
  std::string suffix = "/chart/" + DocStore::pad(static_cast<std::uint64_t>(id));
  for (auto& [k, doc] : docs.list("space/"))
    if (k.size() > suffix.size() && k.compare(k.size() - suffix.size(), suffix.size(), suffix) == 0) return doc;
  return std::nullopt;
}

Response create(actors::Engine& engine, Resources& res, const Request& req) {
  json body;
  Response err;
  if (!parse_body(req, body, err)) return err;
  const json* chart_in = nullptr;
  if (body.contains("subject") && body["subject"].is_object() && body["subject"].contains("chart") &&
      body["subject"]["chart"].is_object())
    chart_in = &body["subject"]["chart"];
  if (!chart_in) return params_error(400, {{"subject", "is required: {\"chart\": {\"id\", \"source\", \"type\"}}"}});
  bool bad = false;
  auto chart_id = get_int(*chart_in, "id", bad);
  std::optional<json> chart = chart_id && !bad ? find_chart(res.docs, *chart_id) : std::nullopt;
  if (!chart) return params_error(400, {{"subject.chart.id", "must be the id of a chart"}});
  std::vector<ParamError> errors;
  auto source = get_string(*chart_in, "source", bad);
  // `sources` (the form the snapshot answer itself carries): a list of one source pattern.
  if (!source && !bad && chart_in->contains("sources") && !(*chart_in)["sources"].is_null()) {
    const json& list = (*chart_in)["sources"];
    if (list.is_array() && list.size() == 1 && list[0].is_string()) source = list[0].get<std::string>();
    else if (!(list.is_array() && list.empty()))
      errors.push_back({"subject.chart.sources", "must be a list of one source pattern"});
  }
  auto type = get_string(*chart_in, "type", bad);
  if (type && *type != "line" && *type != "stacked" && *type != "bignumber")
    errors.push_back({"subject.chart.type", "must be line, stacked or bignumber"});
  bad = false;
  auto duration = get_int(body, "duration", bad);
  if (bad || (duration && (*duration < 60 || *duration > 31 * 86400)))
    errors.push_back({"duration", "must be 60..2678400 seconds"});
  bad = false;
  auto end = get_int(body, "end_time", bad);
  if (bad) errors.push_back({"end_time", "must be a unix time"});
  if (!errors.empty()) return params_error(400, errors);

  std::int64_t now = now_seconds();
  std::string e;
  std::uint64_t id = res.docs.allocate_id("snapshot", e);
  if (id == 0) return system_error(503, e);
  std::string src = source.value_or("*");
  std::string kind = type.value_or((*chart)["type"].get<std::string>());
  std::int64_t stop = end.value_or(now), dur = duration.value_or(3600);
  json snap = {{"id", id},
               {"href", base_url(req) + "/v1/snapshots/" + std::to_string(id)},
               {"job_href", nullptr},
               {"image_href", nullptr},
               {"duration", dur},
               {"end_time", iso_time(stop)},
               {"created_at", iso_time(now)},
               {"updated_at", iso_time(now)},
               {"subject", {{"chart", {{"id", *chart_id}, {"sources", json::array({src})}, {"type", kind}}}}}};
  std::string base = base_url(req);
  auto job = res.jobs.submit(
      [&engine, &res, id, chart = *chart, src, kind, stop, dur, base](JobTable::Context& ctx) {
        engine.sync();  // samples accepted before the snapshot was requested are drawn
        Status read;
        Raster img = chart::render(engine, chart, src, kind, stop - dur, stop, read);
        if (!read.ok()) {  // an image missing lines is not the chart: the job fails, naming the error
          ctx.error("snapshot", "storage error: " + read.to_string());
          return false;
        }
        std::string err;
        Storage::Batch batch;
        batch.put(Cf::meta, image_key(id), img.png());
        if (!engine.storage().write(batch, err)) return false;
        auto doc = res.docs.get(snap_key(id));
        if (!doc) return false;
        (*doc)["image_href"] = base + "/v1/snapshots/" + std::to_string(id) + "/image.png";
        (*doc)["updated_at"] = iso_time(now_seconds());
        return res.docs.put(snap_key(id), *doc, err);
      },
      now, e);
  if (job == 0) return system_error(503, e);
  snap["job_href"] = base + "/v1/jobs/" + std::to_string(job);
  if (!res.docs.put(snap_key(id), snap, e)) return system_error(503, e);
  // The job may have finished already: answer with the stored state.
  auto stored = res.docs.get(snap_key(id));
  json answer = stored && !(*stored)["image_href"].is_null() ? *stored : snap;
  answer.erase("id");
  Response r = json_answer(202, answer);
  r.headers.emplace_back("Location", "/v1/snapshots/" + std::to_string(id));
  return r;
}

}  // namespace

namespace {

// The stored snapshot of the path's id, or nullopt.
std::optional<json> find_snapshot(Resources& res, const std::string& ref, std::uint64_t& id) {
  id = 0;
  try {
    std::size_t pos = 0;
    id = std::stoull(ref, &pos);
    if (pos != ref.size()) id = 0;
  } catch (const std::exception&) {
    id = 0;
  }
  return id ? res.docs.get(snap_key(id)) : std::nullopt;
}

}  // namespace

void add_snapshot_routes(RouteTable& t, Resources& res) {
  t.add("POST", "/v1/snapshots", [&res](const Request& req, const PathParams&) { return create(res.engine, res, req); });
  t.add("GET", "/v1/snapshots/:id", [&res](const Request&, const PathParams& p) {
    std::uint64_t id = 0;
    auto snap = find_snapshot(res, p["id"], id);
    if (!snap) return request_error(404, "snapshot " + p["id"] + " not found");
    snap->erase("id");
    return json_answer(200, *snap);
  });
  t.add("GET", "/v1/snapshots/:id/image.png", [&res](const Request&, const PathParams& p) {
    std::uint64_t id = 0;
    if (!find_snapshot(res, p["id"], id)) return request_error(404, "snapshot " + p["id"] + " not found");
    std::string png;
    if (Status st = res.engine.storage().get(Cf::meta, image_key(id), png); st.is_not_found())
      return request_error(404, "the image of snapshot " + p["id"] + " is not rendered yet");
    else if (!st.ok())
      return storage_error(st);
    return Response{200, std::move(png), "image/png", {}};
  });
}

}  // namespace vigil::api::librato
