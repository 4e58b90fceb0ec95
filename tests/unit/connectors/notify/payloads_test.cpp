#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "connectors/notify/payloads.hpp"

namespace vigil::connectors {
namespace {

using nlohmann::json;

json record(const std::string& type, const json& settings, const std::string& kind) {
  return {{"id", 42},
          {"kind", kind},
          {"idempotency_key", "vigil-42"},
          {"alert",
           {{"id", 7},
            {"name", "api.errors"},
            {"description", "Too many errors"},
            {"runbook_url", "https://rb/errors"},
            {"rearm_seconds", 600},
            {"conditions", json::array({{{"id", 1}, {"type", "above"}, {"metric_name", "errors"}, {"threshold", 3},
                                         {"summary_function", "max"}, {"duration", 120}}})}}},
          {"service", {{"id", 9}, {"type", type}, {"title", "t"}, {"settings", settings}}},
          {"stream", {{"tags", {{"host", "api-1"}, {"source", "web-3"}}}}},
          {"stream_key", "host=api-1,source=web-3"},
          {"condition_index", 0},
          {"values", json::array({7.5})},
          {"value", 7.5},
          {"reason", "conditions met"},
          {"triggered_at", 1700000000},
          {"resolved_at", kind == "resolve" ? json(1700000060) : json(nullptr)},
          {"time", kind == "resolve" ? 1700000060 : 1700000000},
          {"created_ms", 1700000000000},
          {"attempts", 0},
          {"next_attempt_ms", 0},
          {"state", "pending"},
          {"last_error", ""}};
}

// Renders a record given in its stored JSON form.
bool render_stored(const json& stored, HttpRequestSpec& out, std::string& err) {
  actors::OutboxRecord r;
  if (!actors::from_json(stored.dump(), r, err)) return false;
  return render_notification(r, out, err);
}

const std::string* header(const HttpRequestSpec& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return &v;
  return nullptr;
}

TEST(Payloads, webhook_body_signature_and_headers) {
  HttpRequestSpec r;
  std::string err;
  json settings = {{"url", "https://example.com/hook"}, {"secret", "key"}, {"headers", {{"X-Team", "ops"}}}};
  ASSERT_TRUE(render_stored(record("webhook", settings, "trigger"), r, err)) << err;
  EXPECT_EQ(r.url, "https://example.com/hook");
  auto b = json::parse(r.body);
  EXPECT_EQ(b["event"], "trigger");
  EXPECT_EQ(b["state"], "firing");
  EXPECT_EQ(b["alert"]["id"], 7);
  EXPECT_EQ(b["alert"]["name"], "api.errors");
  EXPECT_EQ(b["condition"]["type"], "above");
  EXPECT_EQ(b["threshold"], 3);
  EXPECT_EQ(b["value"], 7.5);
  EXPECT_EQ(b["stream"]["tags"]["host"], "api-1");
  EXPECT_EQ(b["runbook_url"], "https://rb/errors");
  EXPECT_EQ(b["triggered_at"], 1700000000);
  EXPECT_TRUE(b["resolved_at"].is_null());
  ASSERT_NE(header(r, "Idempotency-Key"), nullptr);
  EXPECT_EQ(*header(r, "Idempotency-Key"), "vigil-42");
  ASSERT_NE(header(r, "X-Vigil-Signature"), nullptr);
  EXPECT_EQ(*header(r, "X-Vigil-Signature"), "sha256=" + hmac_sha256_hex("key", r.body));
  EXPECT_EQ(*header(r, "X-Team"), "ops");
  // Rendering is deterministic: a retry sends the same bytes.
  HttpRequestSpec again;
  ASSERT_TRUE(render_stored(record("webhook", settings, "trigger"), again, err));
  EXPECT_EQ(again.body, r.body);
}

TEST(Payloads, hmac_matches_rfc4231_case_2) {
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Payloads, slack_trigger_and_resolve) {
  HttpRequestSpec r;
  std::string err;
  ASSERT_TRUE(render_stored(record("slack", {{"url", "https://hooks.slack.com/x"}}, "trigger"), r, err));
  auto b = json::parse(r.body);
  std::string text = b["text"];
  EXPECT_NE(text.find("api.errors"), std::string::npos);
  EXPECT_NE(text.find("host=api-1"), std::string::npos);
  EXPECT_NE(text.find("7.5"), std::string::npos);
  EXPECT_EQ(b["blocks"][0]["type"], "header");
  std::string fields = b["blocks"][1]["fields"].dump();
  EXPECT_NE(fields.find("7.5 (threshold 3)"), std::string::npos);
  EXPECT_NE(r.body.find("<https://rb/errors|Runbook>"), std::string::npos);
  ASSERT_TRUE(render_stored(record("slack", {{"url", "https://hooks.slack.com/x"}}, "resolve"), r, err));
  b = json::parse(r.body);
  EXPECT_EQ(b["text"].get<std::string>().find(":white_check_mark: Resolved"), 0u);
  EXPECT_EQ(b["blocks"][0]["text"]["text"], "Resolved: api.errors");
}

TEST(Payloads, pagerduty_events_v2) {
  HttpRequestSpec r;
  std::string err;
  ASSERT_TRUE(render_stored(record("pagerduty", {{"routing_key", "RK"}}, "trigger"), r, err));
  EXPECT_EQ(r.url, kPagerDutyUrl);
  auto b = json::parse(r.body);
  EXPECT_EQ(b["routing_key"], "RK");
  EXPECT_EQ(b["event_action"], "trigger");
  EXPECT_EQ(b["dedup_key"], dedup_key(7, "host=api-1,source=web-3"));
  EXPECT_EQ(b["payload"]["source"], "web-3");
  EXPECT_EQ(b["payload"]["severity"], "critical");
  EXPECT_EQ(b["payload"]["timestamp"], "2023-11-14T22:13:20Z");
  EXPECT_NE(b["payload"]["summary"].get<std::string>().find("api.errors"), std::string::npos);
  EXPECT_EQ(b["payload"]["custom_details"]["value"], 7.5);
  EXPECT_EQ(b["payload"]["custom_details"]["threshold"], 3);
  std::string key = b["dedup_key"];
  ASSERT_TRUE(render_stored(
      record("pagerduty", {{"routing_key", "RK"}, {"url", "http://127.0.0.1:9/pd"}}, "resolve"), r, err));
  b = json::parse(r.body);
  EXPECT_EQ(r.url, "http://127.0.0.1:9/pd");
  EXPECT_EQ(b["event_action"], "resolve");
  EXPECT_EQ(b["dedup_key"], key);
  EXPECT_NE(dedup_key(7, "host=api-2"), key);
}

TEST(Payloads, unknown_service_type_is_an_error) {
  HttpRequestSpec r;
  std::string err;
  EXPECT_FALSE(render_stored(record("campfire", json::object(), "trigger"), r, err));
  EXPECT_FALSE(err.empty());
}

}  // namespace
}  // namespace vigil::connectors
