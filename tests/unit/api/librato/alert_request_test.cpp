#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "api/librato/alert_request.hpp"

namespace vigil::alerting {
namespace {

TEST(AlertModel, validates_librato_alert_rules) {
  Alert a;
  auto errs = parse_alert_request(R"({"name":"a b","conditions":[{"type":"sideways","metric_name":"x"}],
    "rearm_seconds":90,"version":1})", nullptr, a);
  std::set<std::string> params;
  for (const auto& e : errs) params.insert(e.param);
  EXPECT_TRUE(params.count("name"));
  EXPECT_TRUE(params.count("conditions[0].type"));
  EXPECT_TRUE(params.count("rearm_seconds"));
  EXPECT_TRUE(params.count("version"));

  errs = parse_alert_request(R"({"name":"ok","conditions":[{"type":"above","metric_name":"x","threshold":1,
    "duration":30},{"type":"absent","metric_name":"y"},{"type":"below","metric_name":"z","threshold":1,
    "summary_function":"median"}]})", nullptr, a);
  params.clear();
  for (const auto& e : errs) params.insert(e.param);
  EXPECT_TRUE(params.count("conditions[0].duration"));
  EXPECT_TRUE(params.count("conditions[1].duration"));
  EXPECT_TRUE(params.count("conditions[2].summary_function"));

  errs = parse_alert_request(R"({"name":"production.web.frontend.response_time","conditions":[{"type":"above",
    "threshold":"200","metric_name":"web.nginx.response_time","source":"prod-*","duration":"300"}],
    "services":["849"],"attributes":{"runbook_url":"http://x"},"active":"false"})", nullptr, a);
  EXPECT_TRUE(errs.empty());
  EXPECT_EQ(a.rearm_seconds, 600);
  EXPECT_FALSE(a.active);
  EXPECT_EQ(a.services, (std::vector<std::uint64_t>{849}));
  ASSERT_EQ(a.conditions.size(), 1u);
  EXPECT_EQ(a.conditions[0].threshold, 200);
  EXPECT_EQ(a.conditions[0].duration, 300);
  EXPECT_EQ(a.conditions[0].source, "prod-*");
  EXPECT_EQ(a.runbook_url(), "http://x");

  Alert updated;
  errs = parse_alert_request(R"({"description":"d"})", &a, updated);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].param, "conditions");  // required on PUT
}

TEST(AlertModel, service_secrets_are_masked_kept_on_put_back_and_scrubbed) {
  Service s;
  ASSERT_TRUE(parse_service_request(
                  R"({"title":"t","type":"webhook","settings":{"url":"https://x.example/h","secret":"s3cr3t-value",)"
                  R"("headers":{"Authorization":"Bearer tok-123456"}}})",
                  nullptr, s)
                  .empty());
  auto shown = nlohmann::json::parse(masked_settings_json(s));
  EXPECT_EQ(shown["url"], "https://x.example/h");  // a webhook URL is not a secret
  EXPECT_EQ(shown["secret"], kMaskedSecret);
  EXPECT_EQ(shown["headers"]["Authorization"], kMaskedSecret);
  // A client sends back what it read: the secrets stay.
  Service put;
  ASSERT_TRUE(parse_service_request(R"({"settings":)" + shown.dump() + "}", &s, put).empty());
  auto kept = nlohmann::json::parse(put.settings_json);
  EXPECT_EQ(kept["secret"], "s3cr3t-value");
  EXPECT_EQ(kept["headers"]["Authorization"], "Bearer tok-123456");
  EXPECT_EQ(scrub_secrets("HTTP 401: bad secret s3cr3t-value for Bearer tok-123456", s, 300),
            "HTTP 401: bad secret ******** for ********");
  EXPECT_EQ(scrub_secrets(std::string(1000, 'a'), s, 300).size(), 300u + std::string("…").size());
  Service slack;
  ASSERT_TRUE(parse_service_request(R"({"title":"t","type":"slack","settings":{"url":"https://hooks.slack.com/T/B/X"}})",
                                    nullptr, slack)
                  .empty());
  EXPECT_EQ(nlohmann::json::parse(masked_settings_json(slack))["url"], kMaskedSecret);
}

TEST(AlertModel, services_need_their_settings) {
  Service s;
  auto errs = parse_service_request(R"({"title":"t","type":"carrier-pigeon"})", nullptr, s);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].param, "type");
  errs = parse_service_request(R"({"title":"t","type":"webhook","settings":{"url":"ftp://x"}})", nullptr, s);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].param, "settings.url");
  errs = parse_service_request(R"({"title":"t","type":"pagerduty","settings":{}})", nullptr, s);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].param, "settings.routing_key");
  errs = parse_service_request(R"({"title":"t","type":"mail","settings":{"addresses":"a@b.c, not-an-address"}})", nullptr, s);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].param, "settings.addresses");
  EXPECT_TRUE(parse_service_request(R"({"title":"t","type":"mail","settings":{"addresses":["a@b.c","d@e.f"]}})", nullptr, s)
                  .empty());
  errs = parse_service_request(R"({"title":"t","type":"victorops","settings":{"api_key":"k"}})", nullptr, s);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0].param, "settings.routing_key");
  // Services that no longer exist are stored as they are (and reported undeliverable).
  EXPECT_TRUE(parse_service_request(R"({"title":"t","type":"Campfire","settings":{"room":"Ops"}})", nullptr, s).empty());
  EXPECT_EQ(s.type, "campfire");
  EXPECT_FALSE(deliverable_service_type(s.type));
  EXPECT_TRUE(known_service_type(s.type));
  EXPECT_TRUE(parse_service_request(R"({"title":"t","type":"slack","settings":{"url":"https://hooks.slack.com/x"}})",
                                    nullptr, s)
                  .empty());
  Service round;
  ASSERT_TRUE(from_json(to_json(s), round));
  EXPECT_EQ(round.settings_json, s.settings_json);
}

}  // namespace
}  // namespace vigil::alerting
