#include "api/librato/alert_request.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <nlohmann/json.hpp>
#include <optional>

#include "api/librato/lang/normalize.hpp"
#include "engine/model/egress.hpp"

namespace vigil::alerting {

using nlohmann::json;

namespace {

// -- request coercion: JSON values or the strings of a form body ------------------------------

std::optional<double> as_number(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s.empty()) return std::nullopt;
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return d;
  }
  return std::nullopt;
}

std::optional<std::int64_t> as_integer(const json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (d == std::floor(d) && std::fabs(d) < 9e15) return static_cast<std::int64_t>(d);
    return std::nullopt;
  }
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return n;
  }
  return std::nullopt;
}

std::optional<bool> as_bool(const json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<std::int64_t>() != 0;
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == "true" || s == "1") return true;
    if (s == "false" || s == "0") return false;
  }
  return std::nullopt;
}

// Arrays may arrive as objects keyed "0", "1", ... from a form body; both are accepted.
std::vector<const json*> as_list(const json& v) {
  std::vector<const json*> out;
  if (v.is_array()) {
    for (const auto& e : v) out.push_back(&e);
  } else if (v.is_object()) {
    for (const auto& [k, e] : v.items()) out.push_back(&e);
  } else if (!v.is_null()) {
    out.push_back(&v);
  }
  return out;
}

void parse_conditions(const json& list, std::vector<Condition>& out, std::vector<ParamError>& errors) {
  if (!list.is_array() && !list.is_object()) {
    errors.push_back({"conditions", "must be an array of condition objects"});
    return;
  }
  std::size_t i = 0;
  for (const json* cj : as_list(list)) {
    std::string p = "conditions[" + std::to_string(i++) + "]";
    if (!cj->is_object()) {
      errors.push_back({p, "must be an object"});
      continue;
    }
    Condition c;
    std::string type;
    const json* tv = cj->contains("type") ? &(*cj)["type"] : cj->contains("condition_type") ? &(*cj)["condition_type"] : nullptr;
    if (tv && tv->is_string()) type = tv->get<std::string>();
    if (type == "above") c.type = CondType::above;
    else if (type == "below") c.type = CondType::below;
    else if (type == "absent") c.type = CondType::absent;
    else {
      errors.push_back({p + ".type", "must be one of above, below, absent"});
      continue;
    }
    if (cj->contains("metric_name") && (*cj)["metric_name"].is_string())
      c.metric_name = (*cj)["metric_name"].get<std::string>();
    if (!valid_metric_name(c.metric_name)) errors.push_back({p + ".metric_name", "is required and must be a valid metric name"});
    if (cj->contains("source") && !(*cj)["source"].is_null()) {
      if (!(*cj)["source"].is_string()) errors.push_back({p + ".source", "must be a string"});
      else {
        c.source = (*cj)["source"].get<std::string>();
        if (c.source == "*") c.source.clear();
      }
    }
    if (cj->contains("tags") && !(*cj)["tags"].is_null()) {
      for (const json* tj : as_list((*cj)["tags"])) {
        TagClause tc;
        if (!tj->is_object() || !tj->contains("name") || !(*tj)["name"].is_string()) {
          errors.push_back({p + ".tags", "each tag filter needs a name and values"});
          continue;
        }
        std::string name;
        auto e = normalize_tag_name((*tj)["name"].get<std::string>(), name);
        if (!e.empty()) errors.push_back({p + ".tags", e});
        tc.name = name;
        if (tj->contains("grouped")) tc.grouped = as_bool((*tj)["grouped"]).value_or(false);
        if (tj->contains("values"))
          for (const json* v : as_list((*tj)["values"]))
            if (v->is_string()) tc.values.push_back(ascii_lower(v->get<std::string>()));
        if (tc.values.empty()) errors.push_back({p + ".tags", "tag filter '" + name + "' needs at least one value"});
        c.tags.push_back(std::move(tc));
      }
    }
    if (cj->contains("threshold") && !(*cj)["threshold"].is_null()) {
      auto d = as_number((*cj)["threshold"]);
      if (!d || !std::isfinite(*d)) errors.push_back({p + ".threshold", "must be a number"});
      else {
        c.has_threshold = true;
        c.threshold = *d;
      }
    }
    if (c.type != CondType::absent && !c.has_threshold)
      errors.push_back({p + ".threshold", "is required for " + type + " conditions"});
    if (cj->contains("summary_function") && !(*cj)["summary_function"].is_null() && c.type != CondType::absent) {
      const json& sv = (*cj)["summary_function"];
      if (!sv.is_string() || !summary_from_string(sv.get<std::string>(), c.summary))
        errors.push_back({p + ".summary_function",
                          "must be one of min, max, average, sum, count, derivative (gauges) or derivative, "
                          "absolute_value (counters)"});
    }
    if (cj->contains("duration") && !(*cj)["duration"].is_null()) {
      auto d = as_integer((*cj)["duration"]);
      if (!d || *d < 60 || *d > 3600) errors.push_back({p + ".duration", "must be an integer between 60 and 3600"});
      else c.duration = *d;
    } else if (c.type == CondType::absent) {
      errors.push_back({p + ".duration", "is required for absent conditions"});
    }
    if (cj->contains("detect_reset") && !(*cj)["detect_reset"].is_null()) {
      auto b = as_bool((*cj)["detect_reset"]);
      if (!b) errors.push_back({p + ".detect_reset", "must be a boolean"});
      else c.detect_reset = *b;
    }
    out.push_back(std::move(c));
  }
}

}  // namespace

bool valid_alert_name(std::string_view name) { return valid_metric_name(name); }

std::vector<ParamError> parse_alert_request(std::string_view body, const Alert* base, Alert& out) {
  std::vector<ParamError> errors;
  json j = body.empty() ? json::object() : json::parse(body, nullptr, false);
  if (!j.is_object()) {
    errors.push_back({"body", "must be a JSON object"});
    return errors;
  }
  out = base ? *base : Alert{};
  if (j.contains("name") && !j["name"].is_null()) {
    if (!j["name"].is_string()) errors.push_back({"name", "must be a string"});
    else out.name = j["name"].get<std::string>();
  }
  if (out.name.empty()) errors.push_back({"name", "is required"});
  else if (!valid_alert_name(out.name))
    errors.push_back({"name", "must be 1..255 characters of A-Za-z0-9.:-_"});
  if (j.contains("version") && !j["version"].is_null()) {
    auto v = as_integer(j["version"]);
    if (!v || *v != 2) errors.push_back({"version", "only version 2 alerts are supported"});
  }
  if (j.contains("description")) {
    if (j["description"].is_null()) out.description.clear();
    else if (!j["description"].is_string()) errors.push_back({"description", "must be a string"});
    else out.description = j["description"].get<std::string>();
  }
  if (j.contains("active") && !j["active"].is_null()) {
    auto b = as_bool(j["active"]);
    if (!b) errors.push_back({"active", "must be a boolean"});
    else out.active = *b;
  }
  if (j.contains("rearm_seconds")) {
    if (j["rearm_seconds"].is_null()) out.rearm_seconds = 600;
    else {
      auto v = as_integer(j["rearm_seconds"]);
      if (!v || *v < 0 || *v % 60 != 0) errors.push_back({"rearm_seconds", "must be a non-negative multiple of 60"});
      else out.rearm_seconds = *v;
    }
  }
  if (j.contains("attributes") && !j["attributes"].is_null()) {
    const json& a = j["attributes"];
    if (!a.is_object()) errors.push_back({"attributes", "must be an object"});
    else {
      if (a.contains("runbook_url") && !a["runbook_url"].is_string())
        errors.push_back({"attributes.runbook_url", "must be a string"});
      out.attributes_json = a.dump();
    }
  } else if (base && j.contains("attributes")) {
    out.attributes_json = "{}";
  }
  if (j.contains("conditions") && !j["conditions"].is_null()) {
    out.conditions.clear();
    parse_conditions(j["conditions"], out.conditions, errors);
  } else if (base) {
    errors.push_back({"conditions", "is required when updating an alert"});
  } else {
    out.conditions.clear();
  }
  if (j.contains("services") && !j["services"].is_null()) {
    out.services.clear();
    for (const json* sv : as_list(j["services"])) {
      std::uint64_t id = 0;
      if (sv->is_number_unsigned()) id = sv->get<std::uint64_t>();
      else if (sv->is_string()) id = parse_id(sv->get<std::string>());
      else if (sv->is_object() && sv->contains("id")) {
        const json& iv = (*sv)["id"];
        id = iv.is_number_unsigned() ? iv.get<std::uint64_t>() : iv.is_string() ? parse_id(iv.get<std::string>()) : 0;
      }
      if (id == 0) errors.push_back({"services", "must be a list of service ids"});
      else if (std::find(out.services.begin(), out.services.end(), id) == out.services.end())
        out.services.push_back(id);
    }
  }
  return errors;
}

std::vector<ParamError> parse_service_request(std::string_view body, const Service* base, Service& out) {
  std::vector<ParamError> errors;
  json j = body.empty() ? json::object() : json::parse(body, nullptr, false);
  if (!j.is_object()) {
    errors.push_back({"body", "must be a JSON object"});
    return errors;
  }
  out = base ? *base : Service{};
  if (j.contains("title") && !j["title"].is_null()) {
    if (!j["title"].is_string()) errors.push_back({"title", "must be a string"});
    else out.title = j["title"].get<std::string>();
  }
  if (out.title.empty()) errors.push_back({"title", "is required"});
  if (j.contains("type") && !j["type"].is_null()) {
    if (!j["type"].is_string()) errors.push_back({"type", "must be a string"});
    else out.type = ascii_lower(j["type"].get<std::string>());
  }
  if (out.type.empty()) errors.push_back({"type", "is required"});
  else if (!known_service_type(out.type))
    errors.push_back({"type", "unsupported service type '" + out.type +
                                  "' (supported: webhook, slack, pagerduty, mail, opsgenie, victorops; stored but "
                                  "undeliverable: campfire, hipchat, flowdock)"});
  json settings = json::parse(out.settings_json, nullptr, false);
  if (j.contains("settings") && !j["settings"].is_null()) {
    if (!j["settings"].is_object()) errors.push_back({"settings", "must be an object"});
    else settings = j["settings"];
  }
  if (!settings.is_object()) settings = json::object();
  // A client that read the service (secrets masked) and sends its settings back keeps the
  // stored secrets: a masked value stands for the value it hides.
  if (base && j.contains("settings") && settings.is_object()) {
    json stored = json::parse(base->settings_json, nullptr, false);
    if (stored.is_object()) {
      for (auto& [k, v] : settings.items()) {
        if (v.is_string() && v.get<std::string>() == kMaskedSecret && stored.contains(k)) v = stored[k];
        if (k == "headers" && v.is_object() && stored.contains("headers") && stored["headers"].is_object())
          for (auto& [h, hv] : v.items())
            if (hv.is_string() && hv.get<std::string>() == kMaskedSecret && stored["headers"].contains(h))
              hv = stored["headers"][h];
      }
    }
  }
  auto url_ok = [](const json& v) {
    if (!v.is_string()) return false;
    const auto& s = v.get_ref<const std::string&>();
    return (s.rfind("http://", 0) == 0 && s.size() > 7) || (s.rfind("https://", 0) == 0 && s.size() > 8);
  };
  // A target the egress policy never allows (engine/model/egress.hpp), when the URL names it by
  // address; names are judged by the address they resolve to, at each delivery.
  if (settings.contains("url") && url_ok(settings["url"])) {
    std::string why = egress_refusal(url_host(settings["url"].get<std::string>()), true);
    if (!why.empty()) errors.push_back({"settings.url", "refused as a notification target: " + why});
  }
  if (out.type == "webhook" || out.type == "slack") {
    if (!settings.contains("url") || !url_ok(settings["url"]))
      errors.push_back({"settings.url", "is required and must be an http:// or https:// URL"});
    if (settings.contains("secret") && !settings["secret"].is_string())
      errors.push_back({"settings.secret", "must be a string"});
    if (settings.contains("headers")) {
      const json& h = settings["headers"];
      bool ok = h.is_object();
      if (ok)
        for (const auto& [k, v] : h.items())
          if (!v.is_string() || k.empty() || k.find_first_of("\r\n:") != std::string::npos ||
              v.get<std::string>().find_first_of("\r\n") != std::string::npos)
            ok = false;
      if (!ok) errors.push_back({"settings.headers", "must be an object of header names to string values"});
    }
  } else if (out.type == "mail") {
    // addresses: "a@x.com,b@y.com" (Librato's form) or a list of addresses.
    std::vector<std::string> to;
    bool ok = settings.contains("addresses");
    if (ok && settings["addresses"].is_string()) {
      const auto& text = settings["addresses"].get_ref<const std::string&>();
      std::size_t start = 0;
      while (start <= text.size()) {
        std::size_t comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        std::string a = text.substr(start, comma - start);
        while (!a.empty() && a.front() == ' ') a.erase(a.begin());
        while (!a.empty() && a.back() == ' ') a.pop_back();
        if (!a.empty()) to.push_back(a);
        start = comma + 1;
      }
    } else if (ok && settings["addresses"].is_array()) {
      for (const auto& a : settings["addresses"])
        if (a.is_string()) to.push_back(a.get<std::string>());
        else ok = false;
    } else {
      ok = false;
    }
    for (const auto& a : to) {
      auto at = a.find('@');
      if (at == std::string::npos || at == 0 || at + 1 == a.size() || a.find_first_of(" \r\n<>,;") != std::string::npos)
        ok = false;
    }
    if (!ok || to.empty())
      errors.push_back({"settings.addresses", "is required: e-mail addresses, comma-separated or as a list"});
  } else if (out.type == "opsgenie" || out.type == "victorops") {
    if (!settings.contains("api_key") || !settings["api_key"].is_string() || settings["api_key"].get<std::string>().empty())
      errors.push_back({"settings.api_key", "is required"});
    if (out.type == "victorops" && (!settings.contains("routing_key") || !settings["routing_key"].is_string() ||
                                    settings["routing_key"].get<std::string>().empty()))
      errors.push_back({"settings.routing_key", "is required"});
    if (settings.contains("url") && !url_ok(settings["url"]))
      errors.push_back({"settings.url", "must be an http:// or https:// URL"});
  } else if (out.type == "pagerduty") {
    if (!settings.contains("routing_key") && settings.contains("service_key")) settings["routing_key"] = settings["service_key"];
    if (!settings.contains("routing_key") || !settings["routing_key"].is_string() ||
        settings["routing_key"].get<std::string>().empty())
      errors.push_back({"settings.routing_key", "is required"});
    if (settings.contains("url") && !url_ok(settings["url"]))
      errors.push_back({"settings.url", "must be an http:// or https:// URL"});
  }
  out.settings_json = settings.dump();
  return errors;
}

}  // namespace vigil::alerting
