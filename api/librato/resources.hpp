// What the Librato dialect's routes share: the engine, the Librato stores (tokens through Access,
// jobs, documents), the reject counters and the limits; and one registration function per route
// file, each adding its routes to the dialect's table (api/librato/dialect.cpp calls them all).
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "api/dialect.hpp"
#include "api/http/routes.hpp"
#include "api/librato/composite.hpp"
#include "engine/storage/status.hpp"
#include "engine/query/tag_filter.hpp"

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
  actors::Engine& engine;
  Access& access;
  JobTable& jobs;
  DocStore& docs;
  RejectCounters& rejects;
  // Batch metric updates and deletes touching more metrics than this run as jobs (202).
  std::int64_t job_threshold = 100;
  std::size_t max_points = 100000;         // query.max_points
  std::size_t max_batch_samples = 100000;  // engine.max_batch_samples
};

// The routes, one registration per file.
void add_ingest_routes(RouteTable& t, Resources& res);      // ingest_routes.cpp
void add_query_routes(RouteTable& t, Resources& res);       // query_routes.cpp
void add_token_routes(RouteTable& t, Resources& res);       // token_routes.cpp
void add_metric_routes(RouteTable& t, Resources& res);      // metric_routes.cpp (and jobs)
void add_source_routes(RouteTable& t, Resources& res);      // source_routes.cpp
void add_annotation_routes(RouteTable& t, Resources& res);  // annotation_routes.cpp
void add_space_routes(RouteTable& t, Resources& res);       // space_routes.cpp
void add_snapshot_routes(RouteTable& t, Resources& res);    // snapshot_routes.cpp
void add_alert_routes(RouteTable& t, Resources& res);       // alerts_routes.cpp
void add_service_routes(RouteTable& t, Resources& res);     // services_routes.cpp

// GET /v1/metrics?compose=...; with `definition`, that expression instead of the `compose`
// parameter (GET /v1/metrics/:name of a persisted composite).
Response get_composite(Resources& res, const Request& req, const std::string* definition = nullptr);
// The series of metrics matching `metric` (wildcards) whose source matches `source`, summarized
// by `fn` (mean, sum, min, max, count) at `resolution` over [start, stop]: storage merged with the
// shards' unflushed samples (actors::PendingReader), so nothing is flushed for it.
// A storage error met on the way is kept in `status` (the first one; the set then misses points):
// the caller answers it rather than the set. Every query charges `budget` (the request's, shared
// by all its series sets) when given: a limit throws QueryRefused.
composite::Set fetch_series(actors::Engine& engine, const std::string& metric, const std::string& source,
                            const std::string& fn, std::int64_t start, std::int64_t stop, std::int64_t resolution,
                            Status& status, QueryBudget* budget = nullptr);
// The same with any tag filter (a chart stream's `tags`), pushed into the query; series must also
// match `narrow` when given (a second condition, e.g. a snapshot's source on top of a stream's).
composite::Set fetch_series(actors::Engine& engine, const std::string& metric, const TagFilter& filter,
                            const TagFilter* narrow, const std::string& fn, std::int64_t start, std::int64_t stop,
                            std::int64_t resolution, Status& status, QueryBudget* budget = nullptr);

}  // namespace vigil::api::librato
