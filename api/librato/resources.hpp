// The Librato resource routes beyond ingest and queries: API tokens, metric create/update/delete
// and batch jobs (and, as they come, sources, annotations, spaces and charts). One entry point for
// the router.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/http_server.hpp"
#include "engine/composite.hpp"
#include "engine/status.hpp"
#include "engine/tag_filter.hpp"

namespace vigil {
class JobTable;
class DocStore;
}
namespace vigil::actors {
class Engine;
}

namespace vigil::api::librato {

class Access;

struct Resources {
  Access& access;
  JobTable& jobs;
  DocStore& docs;
  // Batch metric updates and deletes touching more metrics than this run as jobs (202).
  std::int64_t job_threshold = 100;
};

// Handles the request if it is one of these routes: true with the answer in `out`; false if the
// router's other routes should handle it.
bool route_resources(actors::Engine& engine, Resources& res, const Request& req, Response& out);

// The parts, one per file.
bool route_tokens(Access& access, const Request& req, Response& out);
bool route_metrics(actors::Engine& engine, Resources& res, const Request& req, Response& out);
bool route_jobs(Resources& res, const Request& req, Response& out);
bool route_sources(actors::Engine& engine, Resources& res, const Request& req, Response& out);
bool route_annotations(Resources& res, const Request& req, Response& out);
// GET /v1/metrics?compose=...; with `definition`, that expression instead of the `compose`
// parameter (GET /v1/metrics/:name of a persisted composite).
Response get_composite(actors::Engine& engine, Resources& res, const Request& req,
                       const std::string* definition = nullptr);
// The series of metrics matching `metric` (wildcards) whose source matches `source`, summarized
// by `fn` (mean, sum, min, max, count) at `resolution` over [start, stop]; the store is not synced.
// A storage error met on the way is kept in `status` (the first one; the set then misses points):
// the caller answers it rather than the set.
composite::Set fetch_series(actors::Engine& engine, const std::string& metric, const std::string& source,
                            const std::string& fn, std::int64_t start, std::int64_t stop, std::int64_t resolution,
                            Status& status);
// The same with any tag filter (a chart stream's `tags`), pushed into the query; series must also
// match `narrow` when given (a second condition, e.g. a snapshot's source on top of a stream's).
composite::Set fetch_series(actors::Engine& engine, const std::string& metric, const TagFilter& filter,
                            const TagFilter* narrow, const std::string& fn, std::int64_t start, std::int64_t stop,
                            std::int64_t resolution, Status& status);
bool route_snapshots(actors::Engine& engine, Resources& res, const Request& req, Response& out);
bool route_spaces(actors::Engine& engine, Resources& res, const Request& req, Response& out);

// The decoded segments of `path` after `base` ("/v1/annotations/a/1" -> {"a", "1"}); false if
// the path is not `base` or under it.
bool path_segments(const std::string& path, const std::string& base, std::vector<std::string>& segs);
Response no_content();
Response json_answer(int status, const nlohmann::json& body);

Response method_not_allowed(const std::string& allow);

}  // namespace vigil::api::librato
