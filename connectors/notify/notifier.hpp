// The notifier: delivers the alert outbox (actors/alerting/hub.hpp) off the ingest path, on its own
// thread running an Asio event loop with the asynchronous HTTP client.
//
// Records are delivered one at a time per service, so a slow or hanging receiver delays only its
// own notifications; within a service, in outbox order per stream (a trigger is never overtaken
// by its resolve), while a record waiting for its retry does not hold back the other streams of
// its service. A failed attempt (no answer within the timeout, a 5xx, 408 or 429) is retried
// with exponential backoff and jitter, the attempt count and next attempt time rewritten in the
// outbox; other 4xx answers and the last failed attempt leave the record in the outbox as
// `failed` (visible through the API). Every attempt carries the record's Idempotency-Key. At start
// every pending record is resumed. Mail goes through the configured SMTP server on a worker thread
// of its own (a refused recipient, a 5xx reply, is final; anything else is retried); records of
// service types that no longer exist (campfire, hipchat, flowdock) fail at once as undeliverable.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace vigil::actors {
class AlertHub;
}

namespace vigil::connectors {

struct NotifierOptions {
  int delivery_timeout_ms = 5000;
  int max_attempts = 10;
  int backoff_initial_ms = 1000;
  int backoff_max_ms = 300000;
  // The SMTP server of `mail` services (connectors/notify/smtp.hpp); no url: mail is undeliverable.
  std::string smtp_url;
  std::string smtp_from = "vigil@localhost";
  std::string smtp_username, smtp_password;
  bool smtp_starttls = false;
  // The egress policy (engine/model/egress.hpp): loopback and private targets allowed.
  bool allow_private_targets = true;
};

class Notifier {
 public:
  Notifier(actors::AlertHub& hub, NotifierOptions opts);
  ~Notifier();
  void start();
  // Stops the thread; undelivered records stay in the outbox for the next start.
  void stop();

  // Delay before retry number `attempt` (1-based) without jitter.
  static std::int64_t backoff_ms(const NotifierOptions& o, int attempt);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::connectors
