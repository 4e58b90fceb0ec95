#include "engine/alerting/alert_model.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "engine/model/egress.hpp"

namespace vigil::alerting {

using nlohmann::json;

const char* to_string(CondType t) {
  switch (t) {
    case CondType::below: return "below";
    case CondType::absent: return "absent";
    default: return "above";
  }
}

const char* to_string(SummaryFn f) {
  switch (f) {
    case SummaryFn::average: return "average";
    case SummaryFn::min: return "min";
    case SummaryFn::max: return "max";
    case SummaryFn::sum: return "sum";
    case SummaryFn::count: return "count";
    case SummaryFn::derivative: return "derivative";
    case SummaryFn::absolute_value: return "absolute_value";
    default: return "";
  }
}

SummaryFn resolve(SummaryFn f, MetricType t) {
  if (f != SummaryFn::deflt) return f;
  return t == MetricType::counter ? SummaryFn::derivative : SummaryFn::average;
}

bool summary_from_string(std::string_view s, SummaryFn& out) {
  static const std::pair<const char*, SummaryFn> names[] = {
      {"average", SummaryFn::average}, {"min", SummaryFn::min},       {"max", SummaryFn::max},
      {"sum", SummaryFn::sum},         {"count", SummaryFn::count},   {"derivative", SummaryFn::derivative},
      {"absolute_value", SummaryFn::absolute_value}, {"mean", SummaryFn::average}};
  for (const auto& [n, f] : names)
    if (s == n) {
      out = f;
      return true;
    }
  return false;
}

namespace {

json condition_json(const Condition& c) {
  json j = {{"id", c.id}, {"type", to_string(c.type)}, {"metric_name", c.metric_name}};
  if (!c.source.empty()) j["source"] = c.source;
  if (!c.tags.empty()) {
    json tags = json::array();
    for (const auto& t : c.tags) tags.push_back({{"name", t.name}, {"grouped", t.grouped}, {"values", t.values}});
    j["tags"] = tags;
  }
  if (c.has_threshold) j["threshold"] = c.threshold;
  if (c.summary != SummaryFn::deflt) j["summary_function"] = to_string(c.summary);
  if (c.duration > 0) j["duration"] = c.duration;
  j["detect_reset"] = c.detect_reset;
  return j;
}

bool condition_from(const json& j, Condition& c) {
  if (!j.is_object()) return false;
  c.id = j.value("id", std::uint64_t{0});
  std::string t = j.value("type", "above");
  c.type = t == "below" ? CondType::below : t == "absent" ? CondType::absent : CondType::above;
  c.metric_name = j.value("metric_name", "");
  c.source = j.value("source", "");
  c.tags.clear();
  if (j.contains("tags") && j["tags"].is_array())
    for (const auto& tj : j["tags"]) {
      TagClause tc;
      tc.name = tj.value("name", "");
      tc.grouped = tj.value("grouped", false);
      if (tj.contains("values") && tj["values"].is_array())
        for (const auto& v : tj["values"])
          if (v.is_string()) tc.values.push_back(v.get<std::string>());
      c.tags.push_back(std::move(tc));
    }
  c.has_threshold = j.contains("threshold") && j["threshold"].is_number();
  c.threshold = c.has_threshold ? j["threshold"].get<double>() : 0;
  c.summary = SummaryFn::deflt;
  if (j.contains("summary_function")) summary_from_string(j.value("summary_function", ""), c.summary);
  c.duration = j.value("duration", std::int64_t{0});
  c.detect_reset = j.value("detect_reset", false);
  return true;
}


}  // namespace

std::string Alert::runbook_url() const {
  auto j = json::parse(attributes_json, nullptr, false);
  if (j.is_object() && j.contains("runbook_url") && j["runbook_url"].is_string())
    return j["runbook_url"].get<std::string>();
  return {};
}


std::uint64_t parse_id(std::string_view text) {
  std::uint64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) return 0;
  return v;
}

std::string to_json(const Alert& a) {
  json conds = json::array();
  for (const auto& c : a.conditions) conds.push_back(condition_json(c));
  json attrs = json::parse(a.attributes_json, nullptr, false);
  if (!attrs.is_object()) attrs = json::object();
  json j = {{"id", a.id},
            {"name", a.name},
            {"description", a.description.empty() ? json(nullptr) : json(a.description)},
            {"conditions", conds},
            {"services", a.services},
            {"attributes", attrs},
            {"active", a.active},
            {"rearm_seconds", a.rearm_seconds},
            {"rearm_per_signal", false},
            {"md", false},
            {"created_at", a.created_at},
            {"updated_at", a.updated_at},
            {"version", a.version}};
  return j.dump();
}

bool from_json(std::string_view s, Alert& a) {
  auto j = json::parse(s, nullptr, false);
  if (!j.is_object()) return false;
  a.id = j.value("id", std::uint64_t{0});
  a.name = j.value("name", "");
  a.description = j.contains("description") && j["description"].is_string() ? j["description"].get<std::string>() : "";
  a.version = j.value("version", 2);
  a.active = j.value("active", true);
  a.rearm_seconds = j.value("rearm_seconds", std::int64_t{600});
  a.conditions.clear();
  if (j.contains("conditions"))
    for (const auto& cj : j["conditions"]) {
      Condition c;
      if (condition_from(cj, c)) a.conditions.push_back(std::move(c));
    }
  a.services.clear();
  if (j.contains("services"))
    for (const auto& sj : j["services"])
      if (sj.is_number_unsigned()) a.services.push_back(sj.get<std::uint64_t>());
  a.attributes_json = j.contains("attributes") ? j["attributes"].dump() : "{}";
  a.created_at = j.value("created_at", std::int64_t{0});
  a.updated_at = j.value("updated_at", std::int64_t{0});
  return true;
}

std::string to_json(const Service& s) {
  json settings = json::parse(s.settings_json, nullptr, false);
  if (!settings.is_object()) settings = json::object();
  json j = {{"id", std::to_string(s.id)}, {"type", s.type},           {"settings", settings},
            {"title", s.title},           {"created_at", s.created_at}, {"updated_at", s.updated_at}};
  return j.dump();
}

bool from_json(std::string_view text, Service& s) {
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return false;
  s.id = parse_id(j.value("id", ""));
  s.type = j.value("type", "");
  s.title = j.value("title", "");
  s.settings_json = j.contains("settings") ? j["settings"].dump() : "{}";
  s.created_at = j.value("created_at", std::int64_t{0});
  s.updated_at = j.value("updated_at", std::int64_t{0});
  return true;
}


namespace {

// The settings of a service type that are secrets: write-only, shown masked.
std::vector<std::string> secret_keys(std::string_view type) {
  if (type == "webhook") return {"secret", "headers"};
  if (type == "slack") return {"url"};
  if (type == "pagerduty") return {"routing_key", "service_key"};
  if (type == "opsgenie") return {"api_key"};
  if (type == "victorops") return {"api_key", "routing_key"};
  if (type == "campfire" || type == "hipchat" || type == "flowdock") return {"token", "api_token", "auth_token"};
  return {};
}

}  // namespace

std::string masked_settings_json(const Service& s) {
  json settings = json::parse(s.settings_json, nullptr, false);
  if (!settings.is_object()) return "{}";
  for (const auto& k : secret_keys(s.type)) {
    if (!settings.contains(k)) continue;
    json& v = settings[k];
    if (v.is_object()) {
      for (auto& [h, hv] : v.items()) hv = kMaskedSecret;
    } else if (!v.is_null()) {
      v = kMaskedSecret;
    }
  }
  return settings.dump();
}

std::vector<std::string> secret_values(const Service& s) {
  std::vector<std::string> out;
  json settings = json::parse(s.settings_json, nullptr, false);
  if (!settings.is_object()) return out;
  auto add = [&out](const json& v) {
    if (v.is_string() && v.get<std::string>().size() >= 4) out.push_back(v.get<std::string>());
  };
  for (const auto& k : secret_keys(s.type)) {
    if (!settings.contains(k)) continue;
    const json& v = settings[k];
    if (v.is_object()) {
      for (const auto& [h, hv] : v.items()) add(hv);
    } else {
      add(v);
    }
  }
  return out;
}

std::string scrub_secrets(std::string text, const Service& s, std::size_t limit) {
  for (const auto& secret : secret_values(s)) {
    for (std::size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at))
      text.replace(at, secret.size(), kMaskedSecret);
  }
  if (text.size() > limit) {
    text.resize(limit);
    text += "…";
  }
  return text;
}

bool known_service_type(std::string_view type) {
  return deliverable_service_type(type) || type == "campfire" || type == "hipchat" || type == "flowdock";
}

bool deliverable_service_type(std::string_view type) {
  return type == "webhook" || type == "slack" || type == "pagerduty" || type == "mail" || type == "opsgenie" ||
         type == "victorops";
}


}  // namespace vigil::alerting
