#include "connectors/notify/payloads.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "actors/alerting/outbox_json.hpp"
#include "engine/model/time_text.hpp"

namespace vigil::connectors {

using nlohmann::json;

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(data.data()),
       data.size(), mac, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(hex[mac[i] >> 4]);
    out.push_back(hex[mac[i] & 15]);
  }
  return out;
}

std::string dedup_key(unsigned long long alert_id, std::string_view stream_key) {
  // FNV-1a 64 of the stream key: short, stable across builds and restarts.
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : stream_key) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "vigil-alert-%llu-%016llx", alert_id, static_cast<unsigned long long>(h));
  return buf;
}

namespace {

std::string iso8601(std::int64_t t) { return iso8601_utc(t); }

std::string fmt_value(const std::optional<actors::Number>& v) {
  if (!v) return "n/a";
  double d = actors::as_double(*v);
  char buf[64];
  if (d == std::floor(d) && std::fabs(d) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", d);
  else
    std::snprintf(buf, sizeof buf, "%.6g", d);
  return buf;
}

std::string stream_text(const json& tags) {
  std::string s;
  for (const auto& [k, v] : tags.items()) {
    if (!s.empty()) s += ", ";
    s += k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  }
  return s.empty() ? "(no tags)" : s;
}

// "cpu above 90 (max, for 300 s)"; `c` is nullptr when the record names no condition.
std::string condition_text(const actors::OutboxCondition* c) {
  if (!c) return " ";
  const std::string& type = c->type;
  std::string s = c->metric_name + " " + type;
  if (type != "absent" && c->threshold) s += " " + fmt_value(c->threshold);
  std::string detail;
  if (c->summary_function) detail = *c->summary_function;
  if (c->duration) {
    if (!detail.empty()) detail += ", ";
    detail += (type == "absent" ? "no data for " : "for ") + std::to_string(*c->duration) + " s";
  }
  if (!detail.empty()) s += " (" + detail + ")";
  return s;
}

}  // namespace

bool render_notification(const actors::OutboxRecord& r, HttpRequestSpec& out, std::string& err) {
  namespace oj = actors::outbox_json;
  const actors::OutboxAlert& alert = r.alert;
  json settings = json::parse(r.service.settings_json, nullptr, false);
  if (!settings.is_object()) {
    err = "malformed outbox record: service settings are not an object";
    return false;
  }
  const std::string& type = r.service.type;
  std::string kind = actors::to_string(r.kind);
  bool resolved = r.kind == actors::OutboxKind::resolve;
  bool test = r.kind == actors::OutboxKind::test;
  std::string state = resolved ? "resolved" : test ? "test" : "firing";
  json tags = oj::tags(r.stream);
  std::size_t ci = r.condition_index;
  const actors::OutboxCondition* primary = ci < alert.conditions.size() ? &alert.conditions[ci] : nullptr;
  json cond = primary ? oj::condition(*primary) : json::object();
  std::optional<actors::Number> threshold_value = primary ? primary->threshold : std::nullopt;
  json threshold = oj::number(threshold_value);
  const std::string& runbook = alert.runbook_url;
  const std::string& name = alert.name;
  std::int64_t time = r.time;
  const std::string& idem = r.idempotency_key;
  json value = oj::number(r.value);
  json triggered_at = r.triggered_at;
  json resolved_at = r.resolved_at ? json(*r.resolved_at) : json(nullptr);

  out.headers.clear();
  out.headers.emplace_back("Content-Type", "application/json");
  out.headers.emplace_back("Idempotency-Key", idem);
  out.headers.emplace_back("User-Agent", "vigil-notifier/1");

  // Conditions with the value each had on this stream.
  json cond_list = json::array();
  for (std::size_t i = 0; i < alert.conditions.size(); ++i) {
    json c = oj::condition(alert.conditions[i]);
    c["value"] = i < r.values.size() ? oj::number(r.values[i]) : json(nullptr);
    cond_list.push_back(c);
  }

  if (type == "webhook") {
    json body = {{"version", 1},
                 {"event", kind},
                 {"state", state},
                 {"idempotency_key", idem},
                 {"alert",
                  {{"id", alert.id},
                   {"name", name},
                   {"description", alert.description},
                   {"runbook_url", runbook.empty() ? json(nullptr) : json(runbook)},
                   {"rearm_seconds", alert.rearm_seconds}}},
                 {"condition", cond},
                 {"conditions", cond_list},
                 {"stream", {{"tags", tags}}},
                 {"value", value},
                 {"threshold", threshold},
                 {"triggered_at", triggered_at},
                 {"resolved_at", resolved_at},
                 {"time", time},
                 {"reason", r.reason},
                 {"runbook_url", runbook.empty() ? json(nullptr) : json(runbook)}};
    out.url = settings.value("url", "");
    out.body = body.dump();
    out.headers.emplace_back("X-Vigil-Event", kind);
    std::string secret = settings.value("secret", "");
    if (!secret.empty()) out.headers.emplace_back("X-Vigil-Signature", "sha256=" + hmac_sha256_hex(secret, out.body));
    if (settings.contains("headers") && settings["headers"].is_object())
      for (const auto& [k, v] : settings["headers"].items())
        if (v.is_string()) out.headers.emplace_back(k, v.get<std::string>());
  } else if (type == "slack") {
    std::string stream = stream_text(tags);
    std::string value_text = fmt_value(r.value);
    std::string head = resolved ? "Resolved: " + name : test ? "Test: " + name : "Alert triggered: " + name;
    std::string text = resolved ? ":white_check_mark: Resolved: alert " + name + " on " + stream + " is no longer firing"
                                : (test ? ":information_source: Test notification from Vigil for " + name
                                        : ":rotating_light: Alert " + name + " triggered on " + stream + ": " +
                                              condition_text(primary) + ", value " + value_text);
    json fields = json::array({{{"type", "mrkdwn"}, {"text", "*Stream*\n" + stream}},
                               {{"type", "mrkdwn"}, {"text", "*Value*\n" + value_text + " (threshold " + fmt_value(threshold_value) + ")"}},
                               {{"type", "mrkdwn"}, {"text", "*Condition*\n" + condition_text(primary)}},
                               {{"type", "mrkdwn"}, {"text", "*State*\n" + state}}});
    json blocks = json::array({{{"type", "header"}, {"text", {{"type", "plain_text"}, {"text", head}}}},
                               {{"type", "section"}, {"fields", fields}}});
    std::string context = "Vigil · " + iso8601(time);
    if (!runbook.empty()) {
      blocks.push_back({{"type", "section"}, {"text", {{"type", "mrkdwn"}, {"text", "<" + runbook + "|Runbook>"}}}});
    }
    blocks.push_back({{"type", "context"}, {"elements", json::array({{{"type", "mrkdwn"}, {"text", context}}})}});
    out.url = settings.value("url", "");
    out.body = json{{"text", text}, {"blocks", blocks}}.dump();
  } else if (type == "pagerduty") {
    std::string stream = stream_text(tags);
    std::string source = tags.contains("source") && tags["source"].is_string() ? tags["source"].get<std::string>() : stream;
    json custom = {{"alert_id", alert.id},
                   {"alert_name", name},
                   {"description", alert.description},
                   {"stream", tags},
                   {"value", value},
                   {"threshold", threshold},
                   {"conditions", cond_list},
                   {"state", state},
                   {"triggered_at", triggered_at},
                   {"resolved_at", resolved_at},
                   {"runbook_url", runbook.empty() ? json(nullptr) : json(runbook)}};
    std::string summary = (resolved ? "Resolved: " : "") + name + " on " + stream + ": " + condition_text(primary) +
                          ", value " + fmt_value(r.value);
    if (summary.size() > 1024) summary.resize(1024);
    json body = {{"routing_key", settings.value("routing_key", "")},
                 {"event_action", resolved ? "resolve" : "trigger"},
                 {"dedup_key", dedup_key(alert.id, r.stream_key)},
                 {"payload",
                  {{"summary", summary},
                   {"source", source},
                   {"severity", settings.value("severity", "critical")},
                   {"timestamp", iso8601(time)},
                   {"component", primary ? primary->metric_name : std::string()},
                   {"class", primary ? primary->type : std::string()},
                   {"custom_details", custom}}},
                 {"client", "Vigil"}};
    if (!runbook.empty()) body["links"] = json::array({{{"href", runbook}, {"text", "Runbook"}}});
    out.url = settings.value("url", kPagerDutyUrl);
    out.body = body.dump();
  } else if (type == "opsgenie") {
    // Alert API v2: create with the stream's alias, close it by alias on resolve.
    std::string stream = stream_text(tags);
    std::string alias = dedup_key(alert.id, r.stream_key);
    std::string base = settings.value("url", kOpsGenieUrl);
    while (!base.empty() && base.back() == '/') base.pop_back();
    out.headers.emplace_back("Authorization", "GenieKey " + settings.value("api_key", ""));
    if (resolved) {
      out.url = base + "/v2/alerts/" + alias + "/close?identifierType=alias";
      out.body = json{{"source", "Vigil"}, {"note", "Resolved: " + name + " on " + stream + " is no longer firing"}}.dump();
    } else {
      std::string message = (test ? "Test: " : "") + name + " on " + stream;
      if (message.size() > 130) message.resize(130);
      json details = {{"alert_id", std::to_string(alert.id)},
                      {"stream", stream},
                      {"value", fmt_value(r.value)},
                      {"threshold", fmt_value(threshold_value)},
                      {"condition", condition_text(primary)},
                      {"state", state}};
      if (!runbook.empty()) details["runbook_url"] = runbook;
      json body = {{"message", message},
                   {"alias", alias},
                   {"description", condition_text(primary) + ", value " + fmt_value(r.value) +
                                       (alert.description.empty() ? "" : "\n" + alert.description)},
                   {"source", "Vigil"},
                   {"priority", settings.value("priority", "P1")},
                   {"tags", json::array({"vigil"})},
                   {"details", details}};
      out.url = base + "/v2/alerts";
      out.body = body.dump();
    }
  } else if (type == "victorops") {
    // The REST endpoint integration: CRITICAL opens an incident, RECOVERY resolves it, by entity_id.
    std::string stream = stream_text(tags);
    std::string base = settings.value("url", kVictorOpsUrl);
    while (!base.empty() && base.back() == '/') base.pop_back();
    json body = {{"message_type", resolved ? "RECOVERY" : test ? "INFO" : "CRITICAL"},
                 {"entity_id", dedup_key(alert.id, r.stream_key)},
                 {"entity_display_name", name + " on " + stream},
                 {"state_message", (resolved ? "Resolved: " : "") + name + " on " + stream + ": " +
                                       condition_text(primary) + ", value " + fmt_value(r.value)},
                 {"state_start_time", time},
                 {"monitoring_tool", "Vigil"},
                 {"alert_id", alert.id},
                 {"value", value},
                 {"threshold", threshold}};
    if (!runbook.empty()) body["runbook_url"] = runbook;
    out.url = base + "/integrations/generic/20131114/alert/" + settings.value("api_key", "") + "/" +
              settings.value("routing_key", "");
    out.body = body.dump();
  } else {
    err = "service type '" + type + "' is not deliverable";
    return false;
  }
  if (out.url.empty()) {
    err = "the service has no url";
    return false;
  }
  return true;
}

bool render_mail(const actors::OutboxRecord& r, MailSpec& out, std::string& err) {
  namespace oj = actors::outbox_json;
  json settings = json::parse(r.service.settings_json, nullptr, false);
  if (!settings.is_object() || !settings.contains("addresses")) {
    err = "the mail service has no addresses";
    return false;
  }
  out.to.clear();
  const json& a = settings["addresses"];
  auto add = [&out](std::string x) {
    while (!x.empty() && x.front() == ' ') x.erase(x.begin());
    while (!x.empty() && x.back() == ' ') x.pop_back();
    if (!x.empty()) out.to.push_back(std::move(x));
  };
  if (a.is_string()) {
    const auto& text = a.get_ref<const std::string&>();
    std::size_t start = 0;
    while (start <= text.size()) {
      std::size_t comma = text.find(',', start);
      if (comma == std::string::npos) comma = text.size();
      add(text.substr(start, comma - start));
      start = comma + 1;
    }
  } else if (a.is_array()) {
    for (const auto& x : a)
      if (x.is_string()) add(x.get<std::string>());
  }
  if (out.to.empty()) {
    err = "the mail service has no addresses";
    return false;
  }
  const actors::OutboxAlert& alert = r.alert;
  bool resolved = r.kind == actors::OutboxKind::resolve;
  bool test = r.kind == actors::OutboxKind::test;
  json tags = oj::tags(r.stream);
  std::string stream = stream_text(tags);
  std::size_t ci = r.condition_index;
  const actors::OutboxCondition* primary = ci < alert.conditions.size() ? &alert.conditions[ci] : nullptr;
  std::optional<actors::Number> threshold = primary ? primary->threshold : std::nullopt;
  out.subject = std::string("[Vigil] ") + (resolved ? "Resolved: " : test ? "Test: " : "Alert triggered: ") +
                alert.name + " on " + stream;
  std::string& b = out.body;
  b = resolved ? "Alert " + alert.name + " on " + stream + " is no longer firing.\n"
               : test ? "Test notification from Vigil for alert " + alert.name + ".\n"
                      : "Alert " + alert.name + " triggered on " + stream + ".\n";
  b += "\nCondition: " + condition_text(primary);
  b += "\nValue: " + fmt_value(r.value) + " (threshold " + fmt_value(threshold) + ")";
  b += "\nTime: " + iso8601(r.time);
  if (!alert.description.empty()) b += "\n\n" + alert.description;
  if (!alert.runbook_url.empty()) b += "\n\nRunbook: " + alert.runbook_url;
  b += "\n\nNotification " + r.idempotency_key + "\n";
  out.message_id = r.idempotency_key;
  return true;
}

}  // namespace vigil::connectors
