#include "api/deeploy/metric_doc.hpp"

#include <algorithm>

#include "api/deeploy/times.hpp"
#include "api/http/json_out.hpp"
#include "engine/meta/doc_store.hpp"
#include "engine/meta/tokens.hpp"
#include "engine/model/limits.hpp"
#include "engine/model/text.hpp"

namespace vigil::api::deeploy {

namespace {

using nlohmann::json;

json opt(const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); }

std::optional<std::string> opt_string(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

}  // namespace

const char* to_string(GraphType g) {
  switch (g) {
    case GraphType::bar:
      return "bar";
    case GraphType::timeseries:
      return "timeseries";
    default:
      return "line";
  }
}

const char* to_string(AggregationMethod a) {
  switch (a) {
    case AggregationMethod::sum:
      return "sum";
    case AggregationMethod::min:
      return "min";
    case AggregationMethod::max:
      return "max";
    default:
      return "average";
  }
}

std::optional<GraphType> parse_graph_type(std::string_view s) {
  if (s == "line") return GraphType::line;
  if (s == "bar") return GraphType::bar;
  if (s == "timeseries") return GraphType::timeseries;
  return std::nullopt;
}

std::optional<AggregationMethod> parse_aggregation(std::string_view s) {
  if (s == "average") return AggregationMethod::average;
  if (s == "sum") return AggregationMethod::sum;
  if (s == "min") return AggregationMethod::min;
  if (s == "max") return AggregationMethod::max;
  return std::nullopt;
}

json to_json(const MetricDoc& m) {
  json labels = json::array();
  for (const auto& l : m.labels) labels.push_back({l.value, l.tag});
  json j = {{"kind", "deeploy.metric"},
            {"id", m.id},
            {"workspace", m.workspace},
            {"deployment", m.deployment},
            {"seq", m.seq},
            {"name", m.name},
            {"graphType", to_string(m.graph)},
            {"aggregationMethod", to_string(m.aggregation)},
            {"titleXAxis", opt(m.title_x)},
            {"titleYAxis", opt(m.title_y)},
            {"unitXAxis", opt(m.unit_x)},
            {"unitYAxis", opt(m.unit_y)},
            {"createdMs", m.created_ms},
            {"updatedMs", m.updated_ms},
            {"labels", std::move(labels)},
            {"nextLabel", m.next_label},
            {"firstTime", m.first_time ? json(*m.first_time) : json(nullptr)},
            {"lastTime", m.last_time ? json(*m.last_time) : json(nullptr)}};
  return j;
}

std::optional<MetricDoc> metric_from_json(const json& j) {
  if (!j.is_object() || j.value("kind", "") != "deeploy.metric") return std::nullopt;
  try {
    MetricDoc m;
    m.id = j.at("id").get<std::string>();
    m.workspace = j.at("workspace").get<std::string>();
    m.deployment = j.at("deployment").get<std::string>();
    m.seq = j.at("seq").get<std::uint64_t>();
    m.name = j.at("name").get<std::string>();
    auto g = parse_graph_type(j.at("graphType").get<std::string>());
    auto a = parse_aggregation(j.at("aggregationMethod").get<std::string>());
    if (!g || !a) return std::nullopt;
    m.graph = *g;
    m.aggregation = *a;
    m.title_x = opt_string(j, "titleXAxis");
    m.title_y = opt_string(j, "titleYAxis");
    m.unit_x = opt_string(j, "unitXAxis");
    m.unit_y = opt_string(j, "unitYAxis");
    m.created_ms = j.at("createdMs").get<std::int64_t>();
    m.updated_ms = j.at("updatedMs").get<std::int64_t>();
    for (const auto& l : j.at("labels"))
      m.labels.push_back({l.at(0), l.at(1).get<std::uint64_t>()});
    m.next_label = j.at("nextLabel").get<std::uint64_t>();
    if (j.at("firstTime").is_number()) m.first_time = j["firstTime"].get<std::int64_t>();
    if (j.at("lastTime").is_number()) m.last_time = j["lastTime"].get<std::int64_t>();
    return m;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

json api_json(const MetricDoc& m) {
  return {{"id", m.id},
          {"deploymentId", m.deployment},
          {"name", m.name},
          {"graphType", to_string(m.graph)},
          {"aggregationMethod", to_string(m.aggregation)},
          {"titleXAxis", opt(m.title_x)},
          {"titleYAxis", opt(m.title_y)},
          {"unitXAxis", opt(m.unit_x)},
          {"unitYAxis", opt(m.unit_y)},
          {"createdAt", iso_millis(m.created_ms)},
          {"updatedAt", iso_millis(m.updated_ms)}};
}

std::string doc_prefix(const std::string& workspace, const std::string& deployment) {
  return "deeploy/metric/" + workspace + "/" + deployment + "/";
}

std::vector<MetricDoc> metrics_of(const DocStore& docs, const std::string& workspace,
                                  const std::string& deployment) {
  std::vector<MetricDoc> metrics;
  for (const auto& [key, doc] : docs.list(doc_prefix(workspace, deployment)))
    if (auto m = metric_from_json(doc)) metrics.push_back(std::move(*m));
  std::sort(metrics.begin(), metrics.end(),
            [](const MetricDoc& a, const MetricDoc& b) { return a.seq < b.seq; });
  return metrics;
}

std::string doc_key(const std::string& workspace, const std::string& deployment,
                    const std::string& id) {
  return doc_prefix(workspace, deployment) + id;
}

std::string vigil_metric(const MetricDoc& m) { return "deeploy." + m.id; }

Tags series_tags(const MetricDoc& m, std::optional<std::uint64_t> label_tag) {
  Tags tags{{"deployment", ascii_lower(m.deployment)}, {"workspace", ascii_lower(m.workspace)}};
  if (label_tag) tags.emplace_back("x", std::to_string(*label_tag));
  std::sort(tags.begin(), tags.end());
  return tags;
}

std::string label_key(const json& x) {
  if (x.is_string()) return "s" + x.get<std::string>();
  std::string out = "n";
  json_out::number(out, x.get<double>());
  return out;
}

bool valid_namespace_id(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

std::string new_uuid() {
  std::string hex = random_token().substr(0, 32);
  hex[12] = '4';
  static const char kVariant[] = "89ab";
  hex[16] = kVariant[(hex[16] >= 'a' ? hex[16] - 'a' + 10 : hex[16] - '0') & 3];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

}  // namespace vigil::api::deeploy
