#include "connectors/payloads.hpp"
#include "engine/time_text.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

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

std::string fmt_value(const json& v) {
  if (!v.is_number()) return "n/a";
  double d = v.get<double>();
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

// "cpu above 90 (max, for 300 s)"
std::string condition_text(const json& c) {
  std::string type = c.value("type", "");
  std::string s = c.value("metric_name", "") + " " + type;
  if (type != "absent" && c.contains("threshold")) s += " " + fmt_value(c["threshold"]);
  std::string detail;
  if (c.contains("summary_function")) detail = c["summary_function"].get<std::string>();
  if (c.contains("duration")) {
    if (!detail.empty()) detail += ", ";
    detail += (type == "absent" ? "no data for " : "for ") + std::to_string(c["duration"].get<std::int64_t>()) + " s";
  }
  if (!detail.empty()) s += " (" + detail + ")";
  return s;
}

}  // namespace

bool render_notification(std::string_view text, HttpRequestSpec& out, std::string& err) {
  json r = json::parse(text, nullptr, false);
  if (!r.is_object() || !r.contains("service") || !r.contains("alert")) {
    err = "malformed outbox record";
    return false;
  }
  const json& svc = r["service"];
  const json& alert = r["alert"];
  json settings = svc.value("settings", json::object());
  std::string type = svc.value("type", "");
  std::string kind = r.value("kind", "trigger");  // trigger | resolve | test
  bool resolved = kind == "resolve";
  std::string state = resolved ? "resolved" : kind == "test" ? "test" : "firing";
  json tags = r.contains("stream") ? r["stream"].value("tags", json::object()) : json::object();
  std::size_t ci = r.value("condition_index", std::size_t{0});
  json conditions = alert.value("conditions", json::array());
  json cond = ci < conditions.size() ? conditions[ci] : json::object();
  json threshold = cond.contains("threshold") ? cond["threshold"] : json(nullptr);
  std::string runbook = alert.value("runbook_url", "");
  std::string name = alert.value("name", "");
  std::int64_t time = r.value("time", std::int64_t{0});
  std::string idem = r.value("idempotency_key", "");

  out.headers.clear();
  out.headers.emplace_back("Content-Type", "application/json");
  out.headers.emplace_back("Idempotency-Key", idem);
  out.headers.emplace_back("User-Agent", "vigil-notifier/1");

  // Conditions with the value each had on this stream.
  json cond_list = json::array();
  json values = r.value("values", json::array());
  for (std::size_t i = 0; i < conditions.size(); ++i) {
    json c = conditions[i];
    c["value"] = i < values.size() ? values[i] : json(nullptr);
    cond_list.push_back(c);
  }

  if (type == "webhook") {
    json body = {{"version", 1},
                 {"event", kind},
                 {"state", state},
                 {"idempotency_key", idem},
                 {"alert",
                  {{"id", alert.value("id", 0)},
                   {"name", name},
                   {"description", alert.value("description", "")},
                   {"runbook_url", runbook.empty() ? json(nullptr) : json(runbook)},
                   {"rearm_seconds", alert.value("rearm_seconds", 0)}}},
                 {"condition", cond},
                 {"conditions", cond_list},
                 {"stream", {{"tags", tags}}},
                 {"value", r.contains("value") ? r["value"] : json(nullptr)},
                 {"threshold", threshold},
                 {"triggered_at", r.contains("triggered_at") ? r["triggered_at"] : json(nullptr)},
                 {"resolved_at", r.contains("resolved_at") ? r["resolved_at"] : json(nullptr)},
                 {"time", time},
                 {"reason", r.value("reason", "")},
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
    std::string value = fmt_value(r.value("value", json(nullptr)));
    std::string head = resolved ? "Resolved: " + name : kind == "test" ? "Test: " + name : "Alert triggered: " + name;
    std::string text = resolved ? ":white_check_mark: Resolved: alert " + name + " on " + stream + " is no longer firing"
                                : (kind == "test" ? ":information_source: Test notification from Vigil for " + name
                                                  : ":rotating_light: Alert " + name + " triggered on " + stream + ": " +
                                                        condition_text(cond) + ", value " + value);
    json fields = json::array({{{"type", "mrkdwn"}, {"text", "*Stream*\n" + stream}},
                               {{"type", "mrkdwn"}, {"text", "*Value*\n" + value + " (threshold " + fmt_value(threshold) + ")"}},
                               {{"type", "mrkdwn"}, {"text", "*Condition*\n" + condition_text(cond)}},
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
    json custom = {{"alert_id", alert.value("id", 0)},
                   {"alert_name", name},
                   {"description", alert.value("description", "")},
                   {"stream", tags},
                   {"value", r.contains("value") ? r["value"] : json(nullptr)},
                   {"threshold", threshold},
                   {"conditions", cond_list},
                   {"state", state},
                   {"triggered_at", r.contains("triggered_at") ? r["triggered_at"] : json(nullptr)},
                   {"resolved_at", r.contains("resolved_at") ? r["resolved_at"] : json(nullptr)},
                   {"runbook_url", runbook.empty() ? json(nullptr) : json(runbook)}};
    std::string summary = (resolved ? "Resolved: " : "") + name + " on " + stream + ": " + condition_text(cond) +
                          ", value " + fmt_value(r.value("value", json(nullptr)));
    if (summary.size() > 1024) summary.resize(1024);
    json body = {{"routing_key", settings.value("routing_key", "")},
                 {"event_action", resolved ? "resolve" : "trigger"},
                 {"dedup_key", dedup_key(alert.value("id", 0ull), r.value("stream_key", ""))},
                 {"payload",
                  {{"summary", summary},
                   {"source", source},
                   {"severity", settings.value("severity", "critical")},
                   {"timestamp", iso8601(time)},
                   {"component", cond.value("metric_name", "")},
                   {"class", cond.value("type", "")},
                   {"custom_details", custom}}},
                 {"client", "Vigil"}};
    if (!runbook.empty()) body["links"] = json::array({{{"href", runbook}, {"text", "Runbook"}}});
    out.url = settings.value("url", kPagerDutyUrl);
    out.body = body.dump();
  } else {
    err = "unsupported service type '" + type + "'";
    return false;
  }
  if (out.url.empty()) {
    err = "the service has no url";
    return false;
  }
  return true;
}

}  // namespace vigil::connectors
