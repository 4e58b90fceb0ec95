// The Librato read routes: GET /v1/measurements/:name and the legacy GET /v1/metrics/:name.
// Request parsing and JSON rendering; the computation is engine/query. A storage error the
// reader met answers 500 (api/librato/storage_error.hpp) instead of a partial result.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/librato/errors.hpp"
#include "engine/meta/catalog.hpp"
#include "engine/query/query.hpp"

namespace vigil::api::librato {

// Decoded query parameters, in order, duplicates kept.
using Params = std::vector<std::pair<std::string, std::string>>;

// GET /v1/measurements/:name. `info` null → 404. At most `max_points` points are returned
// (0 = unlimited); beyond that, links carries {"rel":"next","href":...} to resume from: an
// absolute URL below `origin` ("http://host:port"; the path alone when empty).
// `budget`: the request's cost budget (a query limit throws QueryRefused), or null.
Response get_measurements(std::string_view name, const Params& q, const MetricInfo* info,
                          SeriesReader& reader, std::int64_t now, std::size_t max_points,
                          std::string_view origin = {}, QueryBudget* budget = nullptr);

// GET /v1/metrics/:name (legacy): the metadata, plus `resolution` and `measurements` keyed by
// source when any of start_time, end_time, count, resolution or duration is given.
Response get_metric(std::string_view name, const Params& q, const MetricInfo& info,
                    SeriesReader& reader, std::int64_t now, std::size_t max_points,
                    QueryBudget* budget = nullptr);

}  // namespace vigil::api::librato
