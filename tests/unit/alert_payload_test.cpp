#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/http/body.hpp"
#include "connectors/http_client.hpp"
#include "connectors/notifier.hpp"
#include "connectors/payloads.hpp"

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
          {"time", kind == "resolve" ? 1700000060 : 1700000000}};
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
  ASSERT_TRUE(render_notification(record("webhook", settings, "trigger").dump(), r, err)) << err;
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
  ASSERT_TRUE(render_notification(record("webhook", settings, "trigger").dump(), again, err));
  EXPECT_EQ(again.body, r.body);
}

TEST(Payloads, hmac_matches_rfc4231_case_2) {
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(Payloads, slack_trigger_and_resolve) {
  HttpRequestSpec r;
  std::string err;
  ASSERT_TRUE(render_notification(record("slack", {{"url", "https://hooks.slack.com/x"}}, "trigger").dump(), r, err));
  auto b = json::parse(r.body);
  std::string text = b["text"];
  EXPECT_NE(text.find("api.errors"), std::string::npos);
  EXPECT_NE(text.find("host=api-1"), std::string::npos);
  EXPECT_NE(text.find("7.5"), std::string::npos);
  EXPECT_EQ(b["blocks"][0]["type"], "header");
  std::string fields = b["blocks"][1]["fields"].dump();
  EXPECT_NE(fields.find("7.5 (threshold 3)"), std::string::npos);
  EXPECT_NE(r.body.find("<https://rb/errors|Runbook>"), std::string::npos);
  ASSERT_TRUE(render_notification(record("slack", {{"url", "https://hooks.slack.com/x"}}, "resolve").dump(), r, err));
  b = json::parse(r.body);
  EXPECT_EQ(b["text"].get<std::string>().find(":white_check_mark: Resolved"), 0u);
  EXPECT_EQ(b["blocks"][0]["text"]["text"], "Resolved: api.errors");
}

TEST(Payloads, pagerduty_events_v2) {
  HttpRequestSpec r;
  std::string err;
  ASSERT_TRUE(render_notification(record("pagerduty", {{"routing_key", "RK"}}, "trigger").dump(), r, err));
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
  ASSERT_TRUE(render_notification(
      record("pagerduty", {{"routing_key", "RK"}, {"url", "http://127.0.0.1:9/pd"}}, "resolve").dump(), r, err));
  b = json::parse(r.body);
  EXPECT_EQ(r.url, "http://127.0.0.1:9/pd");
  EXPECT_EQ(b["event_action"], "resolve");
  EXPECT_EQ(b["dedup_key"], key);
  EXPECT_NE(dedup_key(7, "host=api-2"), key);
}

TEST(Payloads, unknown_service_type_is_an_error) {
  HttpRequestSpec r;
  std::string err;
  EXPECT_FALSE(render_notification(record("campfire", json::object(), "trigger").dump(), r, err));
  EXPECT_FALSE(err.empty());
}

TEST(HttpClient, parses_urls) {
  ParsedUrl u;
  std::string err;
  ASSERT_TRUE(parse_url("https://events.pagerduty.com/v2/enqueue", u, err));
  EXPECT_TRUE(u.tls);
  EXPECT_EQ(u.host, "events.pagerduty.com");
  EXPECT_EQ(u.port, "443");
  EXPECT_EQ(u.target, "/v2/enqueue");
  ASSERT_TRUE(parse_url("http://127.0.0.1:8080?x=1", u, err));
  EXPECT_FALSE(u.tls);
  EXPECT_EQ(u.port, "8080");
  EXPECT_EQ(u.target, "/?x=1");
  ASSERT_TRUE(parse_url("http://[::1]:9000/h", u, err));
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.port, "9000");
  EXPECT_FALSE(parse_url("ftp://x/", u, err));
}

TEST(Notifier, backoff_doubles_up_to_the_cap) {
  NotifierOptions o;
  o.backoff_initial_ms = 100;
  o.backoff_max_ms = 1000;
  EXPECT_EQ(Notifier::backoff_ms(o, 1), 100);
  EXPECT_EQ(Notifier::backoff_ms(o, 2), 200);
  EXPECT_EQ(Notifier::backoff_ms(o, 4), 800);
  EXPECT_EQ(Notifier::backoff_ms(o, 5), 1000);
  EXPECT_EQ(Notifier::backoff_ms(o, 50), 1000);
}

TEST(FormJson, bracket_notation) {
  auto j = api::form_to_json({{"name", "a"},
                                                    {"conditions[0][type]", "above"},
                                                    {"conditions[0][threshold]", "5"},
                                                    {"services[]", "3"},
                                                    {"services[]", "4"},
                                                    {"attributes[runbook_url]", "http://x"}});
  EXPECT_EQ(j["name"], "a");
  ASSERT_TRUE(j["conditions"].is_array()) << "indexed keys become an array, as in a JSON body";
  EXPECT_EQ(j["conditions"][0]["type"], "above");
  EXPECT_EQ(j["conditions"][0]["threshold"], "5");
  EXPECT_EQ(j["services"], json::array({"3", "4"}));
  EXPECT_EQ(j["attributes"]["runbook_url"], "http://x");
}

}  // namespace
}  // namespace vigil::connectors
