// Alerts and notification services: the alert model (conditions, services, attributes, rearm),
// service secrets, and the stored JSON form. Requests that create or change them are a dialect's
// (Librato's: api/librato/alert_request.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/model.hpp"

namespace vigil::alerting {

enum class CondType : std::uint8_t { above = 0, below = 1, absent = 2 };
const char* to_string(CondType t);

// summary_function; `deflt` resolves by metric type: gauges average, counters derivative.
enum class SummaryFn : std::uint8_t { deflt, average, min, max, sum, count, derivative, absolute_value };
const char* to_string(SummaryFn f);
SummaryFn resolve(SummaryFn f, MetricType t);

// A v2 tag filter clause: the tag `name` must match one of `values` (wildcards allowed).
struct TagClause {
  std::string name;
  std::vector<std::string> values;
  bool grouped = false;

  bool operator==(const TagClause&) const = default;
};

struct Condition {
  CondType type = CondType::above;
  std::string metric_name;  // as given; matching uses the lower-cased key
  std::string source;       // source pattern (wildcards), empty = every source
  std::vector<TagClause> tags;
  bool has_threshold = false;
  double threshold = 0;
  SummaryFn summary = SummaryFn::deflt;
  std::int64_t duration = 0;  // seconds; 0 = unset
  bool detect_reset = false;
  std::uint64_t id = 0;  // unique within the alert store

  // Every field, the id included; threshold compares as a double (0.0 == -0.0).
  bool operator==(const Condition&) const = default;
};

struct Alert {
  std::uint64_t id = 0;
  std::string name;
  std::string description;
  int version = 2;
  bool active = true;
  std::int64_t rearm_seconds = 600;
  std::vector<Condition> conditions;
  std::vector<std::uint64_t> services;
  std::string attributes_json = "{}";  // a JSON object; runbook_url is one of its keys
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;

  std::string runbook_url() const;

  // Every field; attributes compare as text.
  bool operator==(const Alert&) const = default;
};

// The service types a service may have: those Vigil delivers to (webhook, slack, pagerduty,
// mail, opsgenie, victorops), and those of services that no longer exist (campfire, hipchat,
// flowdock), stored so that alert migrations keep them and reported as undeliverable.
bool known_service_type(std::string_view type);
bool deliverable_service_type(std::string_view type);

struct Service {
  std::uint64_t id = 0;
  std::string type;   // known_service_type
  std::string title;
  std::string settings_json = "{}";  // a JSON object
  std::int64_t created_at = 0;
  std::int64_t updated_at = 0;

  bool operator==(const Service&) const = default;
};

// Secrets in service settings (PagerDuty routing and service keys, webhook secrets and header
// values, Slack URLs, OpsGenie and VictorOps keys, the tokens of retired services) are
// write-only: every API answer shows them as kMaskedSecret, and a PUT that sends kMaskedSecret
// back keeps the stored value.
inline constexpr const char* kMaskedSecret = "********";
std::string masked_settings_json(const Service& s);
// The secret values of a service's settings (those of at least 4 characters).
std::vector<std::string> secret_values(const Service& s);
// `text` (e.g. a receiver's answer) with every secret value of `s` masked, cut to `limit` bytes.
std::string scrub_secrets(std::string text, const Service& s, std::size_t limit);

// Stored form (also the basis of the API representation; services as ids).
std::string to_json(const Alert& a);
bool from_json(std::string_view s, Alert& a);
std::string to_json(const Service& s);
bool from_json(std::string_view s, Service& out);

// A summary function by its name ("average", "mean", "min", ...); false if unknown.
bool summary_from_string(std::string_view s, SummaryFn& out);

}  // namespace vigil::alerting
