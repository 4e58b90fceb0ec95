// What the UbiOps dialect's routes share: the engine, the token store (through the
// Authenticator), the document store holding the metric definitions, the reject counters and the
// limits; the metric definitions themselves; and one registration function per route file.
//
// A metric definition is the document `ubiops/metric/<project>/<padded id>` of the DocStore. Its
// data is the Vigil metric `ubiops.<project>.<id>` (MetricDef::vigil_name): the project is part
// of the name, so two projects' metrics never share series, and the id (not the UbiOps name) is,
// so that a rename moves no data. Each label set is one series of that metric (codec.hpp maps
// labels onto tags).
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/auth.hpp"
#include "api/dialect.hpp"
#include "api/http/routes.hpp"

namespace vigil {
class DocStore;
}
namespace vigil::actors {
class Engine;
}

namespace vigil::api::ubiops {

struct Resources {
  actors::Engine& engine;
  Authenticator& auth;
  DocStore& docs;
  RejectCounters& rejects;
  bool auth_enabled = true;                // auth.enabled: false admits every request as admin
  std::size_t max_points = 100000;         // query.max_points: periods of one data list
  std::size_t max_batch_samples = 100000;  // engine.max_batch_samples: data points of one write
  // Serialises the dialect's writes: a create reads the minutes it replaces before it writes.
  std::mutex write_mu;
};

struct MetricDef {
  std::uint64_t id = 0;
  std::string project;
  std::string name;
  std::optional<std::string> description;
  std::optional<std::string> unit;
  std::string metric_type;  // "delta" or "gauge"
  std::vector<std::string> labels;
  std::int64_t created_us = 0;
  std::int64_t updated_us = 0;

  std::string vigil_name() const { return "ubiops." + project + "." + std::to_string(id); }
  std::string doc_key() const;
  // The MetricDetail of the client's models.
  nlohmann::json detail() const;
  nlohmann::json doc() const;
  static std::optional<MetricDef> from_doc(const nlohmann::json& doc);
};

// The metric definitions of a project, by id.
std::vector<MetricDef> project_metrics(const DocStore& docs, const std::string& project);
std::optional<MetricDef> find_metric(const DocStore& docs, const std::string& project, const std::string& name);

// Wall-clock time in epoch microseconds.
std::int64_t now_micros();

void add_metric_routes(RouteTable& t, Resources& res);  // metric_routes.cpp
void add_series_routes(RouteTable& t, Resources& res);  // series_routes.cpp

}  // namespace vigil::api::ubiops
