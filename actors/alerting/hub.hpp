// Continuous alerting, the actor side: the hub.
//
// AlertHub owns the alert and service definitions, the alert book (per-stream state, persisted),
// the notification outbox and the alert history, all in the meta column family (key layouts in
// alert_keys.hpp; outbox records in outbox.hpp).
// A state change, its history events and its outbox records are written in one atomic batch, so
// a notification exists durably before anyone tries to deliver it, and a restart neither loses a
// firing stream nor notifies it again.
//
// Shards evaluate (evaluation.hpp) and report verdict changes to the hub through submit(); they
// see the alert definitions as an immutable snapshot (snapshot.hpp), swapped when alerts change.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/alerting/outbox.hpp"
#include "engine/alerting/alert_eval.hpp"
#include "engine/alerting/alert_model.hpp"

namespace vigil {
class Storage;
class SeriesIndex;
class Catalog;
}  // namespace vigil

namespace vigil::actors {

struct AlertSnapshot;

// Bounds on what alerting keeps (config: alerts.outbox_max, alerts.idle_stream_s,
// alerts.failed_retention_s).
struct AlertLimits {
  std::size_t outbox_max = 100000;           // outbox records, pending and failed together
  std::int64_t idle_stream_ms = 3'600'000;   // per-stream state unchanged this long is released
  std::int64_t failed_retention_ms = 7LL * 86'400'000;  // failed records are purged after this
};

class AlertHub {
 public:
  AlertHub(Storage& storage, SeriesIndex& series, Catalog& catalog);
  ~AlertHub();
  bool load(std::string& err);
  void set_limits(const AlertLimits& limits);
  AlertLimits limits() const;

  enum class Result { ok, not_found, duplicate_name, unknown_service, storage_error };

  std::vector<alerting::Alert> list_alerts() const;
  std::optional<alerting::Alert> get_alert(std::uint64_t id) const;
  std::optional<alerting::Alert> find_alert(std::string_view name) const;
  // Creates (a.id == 0: assigns id and times) or replaces an alert.
  Result put_alert(alerting::Alert& a, std::string& err);
  Result delete_alert(std::uint64_t id, std::string& err);
  // Clears every firing stream of the alert by hand (resolve notifications go out).
  Result clear_alert(std::uint64_t id, std::string& err);

  std::vector<alerting::Service> list_services() const;
  std::optional<alerting::Service> get_service(std::uint64_t id) const;
  Result put_service(alerting::Service& s, std::string& err);
  // Deletes the service and removes it from every alert.
  Result delete_service(std::uint64_t id, std::string& err);
  // Queues a test notification to the service; its outbox id. nullopt and `err` when the
  // service is unknown, the outbox is full (`outbox_full` set) or the store refused the record.
  std::optional<std::uint64_t> send_test(std::uint64_t service_id, std::string& err, bool* outbox_full = nullptr);

  struct StreamStatus {
    std::string stream;
    Tags tags;
    bool firing = false;
    std::int64_t triggered_at = 0;  // seconds
    std::int64_t cleared_at = 0;
    std::vector<double> values;
  };
  struct AlertStatus {
    bool firing = false;
    std::int64_t triggered_at = 0;  // earliest firing stream, seconds
    std::int64_t cleared_at = 0;    // latest clear, seconds
    std::vector<StreamStatus> streams;
  };
  AlertStatus status(std::uint64_t id) const;
  // Timeline events of an alert (JSON objects), oldest first.
  std::vector<std::string> history(std::uint64_t alert_id) const;
  // The stored outbox records (OutboxRecord's JSON form, as written): pending and failed
  // notifications.
  std::vector<std::string> outbox() const;

  // -- shards
  std::shared_ptr<const AlertSnapshot> snapshot() const;
  std::uint64_t version() const;
  bool has_active_alerts() const;  // an active alert with conditions exists
  // Applies verdict changes. The book's state moves only with its persisted effects: when the
  // batch (state, history, outbox) cannot be written, the streams are put back as they were and
  // the transitions are kept, to be applied again, in order and before any newer ones, at the
  // next submit() or housekeep(); their notifications are then delivered once.
  void submit(const std::vector<alerting::Transition>& ts);
  // Periodic work (the notifier calls it a few times a second): applies again the transitions
  // whose effects could not be persisted, releases idle streams (AlertLimits::idle_stream_ms)
  // and purges failed outbox records past their retention.
  void housekeep();
  // Counts series entries the evaluators released as idle (vigil_alert_series_released_total).
  void note_series_released(std::size_t n);
  SeriesIndex& series() { return series_; }
  Catalog& catalog() { return catalog_; }

  // -- the notifier
  // Called with the records of every committed batch that queued notifications.
  using Listener = std::function<void(std::vector<OutboxRecord> records)>;
  void set_listener(Listener l);
  // The pending records, in outbox order. A stored record that cannot be read is logged as an
  // error and left in place.
  std::vector<OutboxRecord> pending_outbox() const;
  // Rewrites a record (attempts, next attempt, last error).
  bool outbox_update(const OutboxRecord& record);
  // Delivered: the record leaves the outbox; a `notify` history event records it.
  bool outbox_delivered(const OutboxRecord& record, int http_status);
  // Given up: the record stays in the outbox as failed; a `delivery_failed` event records it.
  bool outbox_failed(const OutboxRecord& record);

  // Prometheus text lines: alert events and notification deliveries.
  std::string metrics_text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Storage& storage_;
  SeriesIndex& series_;
  Catalog& catalog_;
};

// Wall-clock milliseconds since the epoch.
std::int64_t wall_ms();

}  // namespace vigil::actors
