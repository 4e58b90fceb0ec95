// The notification outbox record: what the hub writes under outbox/<seq> (alert_keys.hpp) in the
// same batch as the state change that caused it, what the notifier delivers, and what the
// payload renderer turns into an HTTP request (connectors/notify/payloads.hpp).
//
// A record is a snapshot: the alert and service are copied in as they were when the
// notification was queued, so a later edit of either never changes a notification already
// queued, and every retry renders the same bytes.
//
// Stored form: one JSON object with the 19 keys below (a failed record has a 20th, failed_ms); to_json and from_json are its only
// writer and reader. from_json is strict: a record missing a field, or holding one of the wrong
// type, is an error with the field named, never a default. Numbers keep whether they were
// written as integers or doubles (test notifications carry integers), so a record read back and
// written again is byte for byte what was stored, and so is every payload rendered from it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/alerting/alert_model.hpp"
#include "engine/model/model.hpp"

namespace vigil::actors {

// A JSON number as written: an integer or a double.
using Number = std::variant<std::int64_t, double>;
double as_double(const Number& n);

// A condition as notifications show it ("alert.conditions[i]"). Optional fields are absent
// from the JSON when unset, as in the stored alert.
struct OutboxCondition {
  std::uint64_t id = 0;
  std::string type;  // above | below | absent
  std::string metric_name;
  std::optional<Number> threshold;
  std::optional<std::string> summary_function;
  std::optional<std::int64_t> duration;  // seconds
  std::optional<std::string> source;

  bool operator==(const OutboxCondition&) const = default;
};

struct OutboxAlert {
  std::uint64_t id = 0;  // 0 for a test notification
  std::string name;
  std::string description;
  std::string runbook_url;
  std::int64_t rearm_seconds = 0;
  std::vector<OutboxCondition> conditions;

  bool operator==(const OutboxAlert&) const = default;
};

struct OutboxService {
  std::uint64_t id = 0;
  std::string type;  // webhook | slack | pagerduty
  std::string title;
  std::string settings_json = "{}";  // a JSON object

  bool operator==(const OutboxService&) const = default;
};

enum class OutboxKind : std::uint8_t { trigger, resolve, test };
const char* to_string(OutboxKind k);

enum class OutboxState : std::uint8_t { pending, failed };
const char* to_string(OutboxState s);

struct OutboxRecord {
  std::uint64_t id = 0;  // the outbox sequence number
  OutboxKind kind = OutboxKind::trigger;
  std::string idempotency_key;  // "vigil-<id>", sent with every attempt
  OutboxAlert alert;
  OutboxService service;
  Tags stream;             // JSON: "stream": {"tags": {...}}
  std::string stream_key;  // the stream as the alert book names it (PagerDuty dedup key)
  std::size_t condition_index = 0;           // the condition reported first
  std::vector<std::optional<Number>> values;  // per condition; nullopt = no finite value
  std::optional<Number> value;                // values[condition_index]
  std::string reason;
  std::int64_t triggered_at = 0;             // seconds
  std::optional<std::int64_t> resolved_at;   // seconds; resolves only
  std::int64_t time = 0;                     // seconds
  std::int64_t created_ms = 0;
  int attempts = 0;
  std::int64_t next_attempt_ms = 0;
  OutboxState state = OutboxState::pending;
  std::string last_error;
  // When the record was given up as failed (wall-clock ms): its retention
  // (alerts.failed_retention_s) counts from here. Only failed records carry it.
  std::optional<std::int64_t> failed_ms;

  bool operator==(const OutboxRecord&) const = default;
};

// The snapshots a record carries of an alert definition and of a service.
OutboxAlert outbox_alert(const alerting::Alert& a);
OutboxService outbox_service(const alerting::Service& s);

std::string to_json(const OutboxRecord& r);
// false and `err` (naming the field) when `text` is not a complete record.
bool from_json(std::string_view text, OutboxRecord& out, std::string& err);

}  // namespace vigil::actors
