// A Deeploy custom metric as the dialect keeps it: its definition (what the CustomMetric model
// shows) and the bookkeeping of its data points, persisted as one DocStore document under
// "deeploy/metric/<workspace>/<deployment>/<id>".
//
// Data points are engine samples of the Vigil metric "deeploy.<id>", tagged workspace=<ws>,
// deployment=<dep> (both lower-cased) and, for line and bar metrics, x=<label tag>: the number the
// document gives the data point's x label. Labels themselves (any string or number, kept exactly
// as sent) live in the document, in the order of their first data point; label tags are never
// reused, not even after the data points are cleared, so a sample always means the label it was
// written for.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/model.hpp"

namespace vigil {
class DocStore;
}

namespace vigil::api::deeploy {

enum class GraphType { line, bar, timeseries };
enum class AggregationMethod { average, sum, min, max };

const char* to_string(GraphType g);
const char* to_string(AggregationMethod a);
std::optional<GraphType> parse_graph_type(std::string_view s);
std::optional<AggregationMethod> parse_aggregation(std::string_view s);

struct Label {
  nlohmann::json value;  // the xValue as first sent (a string or a number)
  std::uint64_t tag = 0;
};

struct MetricDoc {
  std::string id;  // a lower-case UUID
  std::string workspace, deployment;
  std::uint64_t seq = 0;  // creation order within the store
  std::string name;
  GraphType graph = GraphType::line;
  AggregationMethod aggregation = AggregationMethod::average;
  std::optional<std::string> title_x, title_y, unit_x, unit_y;
  std::int64_t created_ms = 0, updated_ms = 0;
  // Line and bar: the labels seen since the last clear, in first-seen order.
  std::vector<Label> labels;
  std::uint64_t next_label = 0;
  // The span of the stored samples' times (UTC seconds), absent when there are none.
  std::optional<std::int64_t> first_time, last_time;

  bool has_points() const { return first_time.has_value(); }
};

nlohmann::json to_json(const MetricDoc& m);
// nullopt for a document that is not a metric record.
std::optional<MetricDoc> metric_from_json(const nlohmann::json& j);

// The CustomMetric model of the API (lowerCamelCase; absent titles and units as null).
nlohmann::json api_json(const MetricDoc& m);

std::string doc_key(const std::string& workspace, const std::string& deployment,
                    const std::string& id);
std::string doc_prefix(const std::string& workspace, const std::string& deployment);

// The custom metrics of a deployment, in creation order (documents that are not metric records
// are skipped).
std::vector<MetricDoc> metrics_of(const DocStore& docs, const std::string& workspace,
                                  const std::string& deployment);

// The Vigil metric name of a custom metric, and the tags of its samples (sorted by name).
std::string vigil_metric(const MetricDoc& m);
Tags series_tags(const MetricDoc& m, std::optional<std::uint64_t> label_tag);

// The identity of an x label: strings by their text, numbers by their value (1 and 1.0 are one
// label; "1" is another).
std::string label_key(const nlohmann::json& x);

// Workspace and deployment ids: 1..128 characters of [A-Za-z0-9._-].
bool valid_namespace_id(std::string_view s);

// A random lower-case version 4 UUID.
std::string new_uuid();

}  // namespace vigil::api::deeploy
