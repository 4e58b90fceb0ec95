// Notification payloads: an outbox record (actors/alerting/outbox.hpp) rendered as the HTTP request
// its service expects. Rendering is deterministic, so every retry of a record sends the same
// body (and signature) with the same Idempotency-Key.
//
//   webhook    POST settings.url, the Vigil JSON payload (docs/API.md "Webhook payload"),
//              X-Vigil-Signature: sha256=<hex HMAC-SHA256(settings.secret, body)> when a secret
//              is set, plus settings.headers
//   slack      POST settings.url (incoming webhook), {"text": ..., "blocks": [...]}
//   pagerduty  POST settings.url or https://events.pagerduty.com/v2/enqueue, Events API v2
//   opsgenie   POST <settings.url or https://api.opsgenie.com>/v2/alerts (Alert API v2, GenieKey
//              settings.api_key; alias = the stream's dedup key), resolve: .../alerts/<alias>/close
//   victorops  POST <settings.url or https://alert.victorops.com>/integrations/generic/20131114/
//              alert/<api_key>/<routing_key> (REST endpoint: CRITICAL, RECOVERY, INFO for tests)
//   mail       an e-mail to settings.addresses through the configured SMTP server (render_mail)
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "actors/alerting/outbox.hpp"

namespace vigil::connectors {

struct HttpRequestSpec {
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// false and `err` when the record cannot be rendered (unknown service type, bad settings).
bool render_notification(const actors::OutboxRecord& record, HttpRequestSpec& out, std::string& err);

// An e-mail notification: recipients, subject and plain-text body.
struct MailSpec {
  std::vector<std::string> to;
  std::string subject;
  std::string body;
  std::string message_id;  // the record's idempotency key, as the Message-ID's local part
};
bool render_mail(const actors::OutboxRecord& record, MailSpec& out, std::string& err);

// Lower-case hex HMAC-SHA256.
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

// The PagerDuty dedup key of an alert's stream: stable across triggers, resolves and restarts.
std::string dedup_key(unsigned long long alert_id, std::string_view stream_key);

inline constexpr const char* kPagerDutyUrl = "https://events.pagerduty.com/v2/enqueue";
inline constexpr const char* kOpsGenieUrl = "https://api.opsgenie.com";
inline constexpr const char* kVictorOpsUrl = "https://alert.victorops.com";

}  // namespace vigil::connectors
