// The Librato resource routes beyond ingest and queries: API tokens (and, as they come, metric
// CRUD, jobs, sources, annotations, spaces and charts). One entry point for the router.
#pragma once

#include "api/http_server.hpp"

namespace vigil::actors {
class Engine;
}

namespace vigil::api::librato {

class Access;

// Handles the request if it is one of these routes (any method of their paths; other methods
// answer 405): true with the answer in `out`, false if the path is not one of them.
bool route_resources(actors::Engine& engine, Access& access, const Request& req, Response& out);

// The parts, one per file.
bool route_tokens(Access& access, const Request& req, Response& out);

}  // namespace vigil::api::librato
