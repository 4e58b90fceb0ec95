#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "actors/alerting/outbox.hpp"

namespace vigil::actors {
namespace {

using nlohmann::json;

OutboxRecord trigger_record() {
  OutboxRecord r;
  r.id = 42;
  r.kind = OutboxKind::trigger;
  r.idempotency_key = "vigil-42";
  r.alert.id = 7;
  r.alert.name = "api.errors";
  r.alert.description = "Too many errors";
  r.alert.runbook_url = "https://rb/errors";
  r.alert.rearm_seconds = 600;
  r.alert.conditions.push_back({1, "above", "errors", Number{3.0}, std::string("max"), std::int64_t{120}, {}});
  r.alert.conditions.push_back({2, "absent", "heartbeat", {}, {}, std::int64_t{300}, std::string("web-*")});
  r.service = {9, "webhook", "ops", R"({"url":"https://example.com/hook"})"};
  r.stream = {{"host", "api-1"}, {"source", "web-3"}};
  r.stream_key = "host=api-1,source=web-3";
  r.condition_index = 0;
  r.values = {Number{7.5}, std::nullopt};
  r.value = Number{7.5};
  r.reason = "conditions met";
  r.triggered_at = 1700000000;
  r.time = 1700000000;
  r.created_ms = 1700000000123;
  return r;
}

TEST(OutboxRecord, a_failed_record_keeps_its_failure_time) {
  OutboxRecord r = trigger_record();
  r.state = OutboxState::failed;
  r.failed_ms = 1700000500000;
  json j = json::parse(to_json(r));
  EXPECT_EQ(j["failed_ms"], 1700000500000);
  OutboxRecord back;
  std::string err;
  ASSERT_TRUE(from_json(to_json(r), back, err)) << err;
  EXPECT_EQ(back, r);
  EXPECT_FALSE(json::parse(to_json(trigger_record())).contains("failed_ms"));  // pending: no such key
  j["failed_ms"] = "soon";
  EXPECT_FALSE(from_json(j.dump(), back, err));
  EXPECT_NE(err.find("failed_ms"), std::string::npos);
}

TEST(OutboxRecord, to_json_then_from_json_gives_an_equal_record) {
  OutboxRecord r = trigger_record();
  OutboxRecord back;
  std::string err;
  ASSERT_TRUE(from_json(to_json(r), back, err)) << err;
  EXPECT_EQ(back, r);

  r.kind = OutboxKind::resolve;
  r.resolved_at = 1700000060;
  r.attempts = 3;
  r.next_attempt_ms = 1700000099000;
  r.state = OutboxState::failed;
  r.last_error = "HTTP 503";
  ASSERT_TRUE(from_json(to_json(r), back, err)) << err;
  EXPECT_EQ(back, r);
}

TEST(OutboxRecord, integers_stay_integers) {
  OutboxRecord r = trigger_record();
  r.kind = OutboxKind::test;
  r.alert.conditions = {{0, "above", "vigil.test", Number{std::int64_t{0}}, {}, {}, {}}};
  r.values = {Number{std::int64_t{1}}};
  r.value = Number{std::int64_t{1}};
  std::string text = to_json(r);
  auto j = json::parse(text);
  EXPECT_TRUE(j["value"].is_number_integer());
  EXPECT_TRUE(j["alert"]["conditions"][0]["threshold"].is_number_integer());
  OutboxRecord back;
  std::string err;
  ASSERT_TRUE(from_json(text, back, err)) << err;
  EXPECT_EQ(back, r);
  EXPECT_EQ(to_json(back), text) << "a record read back and written again is byte for byte the same";
}

// A record exactly as the hub wrote it before the record was typed (19 keys, nlohmann's dump).
const char* kOldTrigger =
    R"({"alert":{"conditions":[{"duration":120,"id":1,"metric_name":"errors","summary_function":"max",)"
    R"("threshold":3.0,"type":"above"}],"description":"Too many errors","id":7,"name":"api.errors",)"
    R"("rearm_seconds":600,"runbook_url":"https://rb/errors"},"attempts":2,"condition_index":0,)"
    R"("created_ms":1700000000123,"id":42,"idempotency_key":"vigil-42","kind":"trigger",)"
    R"("last_error":"HTTP 500","next_attempt_ms":1700000002000,"reason":"conditions met","resolved_at":null,)"
    R"("service":{"id":9,"settings":{"url":"https://example.com/hook"},"title":"ops","type":"webhook"},)"
    R"("state":"pending","stream":{"tags":{"host":"api-1","source":"web-3"}},"stream_key":"host=api-1,source=web-3",)"
    R"("time":1700000000,"triggered_at":1700000000,"value":7.5,"values":[7.5,null]})";

const char* kOldTest =
    R"({"alert":{"conditions":[{"id":0,"metric_name":"vigil.test","threshold":0,"type":"above"}],)"
    R"("description":"Test notification from Vigil","id":0,"name":"vigil.test","rearm_seconds":0,"runbook_url":""},)"
    R"("attempts":0,"condition_index":0,"created_ms":1700000000000,"id":5,"idempotency_key":"vigil-5","kind":"test",)"
    R"("last_error":"","next_attempt_ms":0,"reason":"test notification","resolved_at":null,)"
    R"("service":{"id":3,"settings":{"url":"http://127.0.0.1:9/h"},"title":"t","type":"webhook"},)"
    R"("state":"pending","stream":{"tags":{"source":"vigil"}},"stream_key":"source=vigil","time":1700000000,)"
    R"("triggered_at":1700000000,"value":1,"values":[1]})";

TEST(OutboxRecord, a_record_written_by_the_untyped_writer_reads_back) {
  OutboxRecord r;
  std::string err;
  ASSERT_TRUE(from_json(kOldTrigger, r, err)) << err;
  OutboxRecord want = trigger_record();
  want.alert.conditions.resize(1);
  want.values = {Number{7.5}, std::nullopt};
  want.attempts = 2;
  want.next_attempt_ms = 1700000002000;
  want.last_error = "HTTP 500";
  want.service.settings_json = R"({"url":"https://example.com/hook"})";
  EXPECT_EQ(r, want);
  EXPECT_EQ(to_json(r), kOldTrigger);

  ASSERT_TRUE(from_json(kOldTest, r, err)) << err;
  EXPECT_EQ(r.kind, OutboxKind::test);
  EXPECT_EQ(r.alert.id, 0u);
  EXPECT_EQ(r.stream, (Tags{{"source", "vigil"}}));
  EXPECT_EQ(to_json(r), kOldTest);
}

TEST(OutboxRecord, a_missing_field_is_an_error_naming_it) {
  for (const char* key : {"id", "kind", "idempotency_key", "alert", "service", "stream", "stream_key",
                          "condition_index", "values", "value", "reason", "triggered_at", "resolved_at", "time",
                          "created_ms", "attempts", "next_attempt_ms", "state", "last_error"}) {
    json j = json::parse(kOldTrigger);
    j.erase(key);
    OutboxRecord r;
    std::string err;
    EXPECT_FALSE(from_json(j.dump(), r, err)) << key;
    EXPECT_NE(err.find(key), std::string::npos) << err;
  }
  json j = json::parse(kOldTrigger);
  j["alert"]["conditions"][0].erase("metric_name");
  OutboxRecord r;
  std::string err;
  EXPECT_FALSE(from_json(j.dump(), r, err));
  EXPECT_EQ(err, "alert.conditions[0].metric_name is missing");
  j = json::parse(kOldTrigger);
  j["service"].erase("settings");
  EXPECT_FALSE(from_json(j.dump(), r, err));
  EXPECT_EQ(err, "service.settings is missing");
}

TEST(OutboxRecord, a_mistyped_field_is_an_error) {
  json j = json::parse(kOldTrigger);
  j["attempts"] = "2";
  OutboxRecord r;
  std::string err;
  EXPECT_FALSE(from_json(j.dump(), r, err));
  EXPECT_EQ(err, "attempts must be an integer");
  j = json::parse(kOldTrigger);
  j["kind"] = "page";
  EXPECT_FALSE(from_json(j.dump(), r, err));
  EXPECT_EQ(err, "kind must be trigger, resolve or test");
  EXPECT_FALSE(from_json("[]", r, err));
  EXPECT_FALSE(from_json("not json", r, err));
}

}  // namespace
}  // namespace vigil::actors
