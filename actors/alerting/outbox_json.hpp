// The JSON pieces of an outbox record (outbox.hpp), for the readers that embed them as they are
// stored: history events (the stream and values of a delivery) and notification payloads (the
// alert's conditions). Header-only over nlohmann::json, so include it from .cpp files only.
#pragma once

#include <nlohmann/json.hpp>

#include "actors/alerting/outbox.hpp"

namespace vigil::actors::outbox_json {

inline nlohmann::json number(const std::optional<Number>& n) {
  if (!n) return nullptr;
  return std::visit([](auto v) { return nlohmann::json(v); }, *n);
}

inline nlohmann::json values(const std::vector<std::optional<Number>>& vs) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& v : vs) a.push_back(number(v));
  return a;
}

inline nlohmann::json tags(const Tags& tags) {
  nlohmann::json o = nlohmann::json::object();
  for (const auto& [k, v] : tags) o[k] = v;
  return o;
}

// "stream": {"tags": {...}}
inline nlohmann::json stream(const Tags& t) { return {{"tags", tags(t)}}; }

inline nlohmann::json condition(const OutboxCondition& c) {
  nlohmann::json j = {{"id", c.id}, {"type", c.type}, {"metric_name", c.metric_name}};
  if (c.threshold) j["threshold"] = number(c.threshold);
  if (c.summary_function) j["summary_function"] = *c.summary_function;
  if (c.duration) j["duration"] = *c.duration;
  if (c.source) j["source"] = *c.source;
  return j;
}

}  // namespace vigil::actors::outbox_json
