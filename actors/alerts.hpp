// Continuous alerting, the actor side.
//
// AlertHub owns the alert and service definitions, the alert book (per-stream state, persisted),
// the notification outbox and the alert history, all in the meta column family:
//   alert/<id u64>                         alert JSON
//   service/<id u64>                       service JSON
//   alertstate/<alert id u64><stream>      per-stream state (firing, since, last notified, verdicts)
//   outbox/<seq u64>                       a notification to deliver (pending or failed)
//   history/<alert id u64><seq u64>        timeline event (trigger, clear, notify, delivery_failed)
// A state change, its history events and its outbox records are written in one atomic batch, so
// a notification exists durably before anyone tries to deliver it, and a restart neither loses a
// firing stream nor notifies it again.
//
// ShardAlerts lives in the evaluator actor beside each shard actor: it keeps the condition trackers of the shard's series
// (a series' trackers are only touched by its shard's evaluator), evaluates every applied sample, keeps the
// absent deadlines in a timer heap (the evaluator arms one delayed message for the earliest),
// and reports verdict changes to the hub. Alert definitions reach shards as an immutable
// snapshot, swapped when alerts change.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/alert_eval.hpp"
#include "engine/alert_model.hpp"
#include "engine/shard_state.hpp"

namespace caf {
class actor_system;
}

namespace vigil {
class Storage;
class SeriesIndex;
class Catalog;
}  // namespace vigil

namespace vigil::actors {

struct AlertSnapshot;

class AlertHub {
 public:
  AlertHub(Storage& storage, SeriesIndex& series, Catalog& catalog);
  ~AlertHub();
  bool load(std::string& err);

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
  // Queues a test notification to the service; its outbox id.
  std::optional<std::uint64_t> send_test(std::uint64_t service_id, std::string& err);

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
  // Outbox records (JSON objects): pending and failed notifications.
  std::vector<std::string> outbox() const;

  // -- shards
  std::shared_ptr<const AlertSnapshot> snapshot() const;
  std::uint64_t version() const;
  bool has_active_alerts() const;  // an active alert with conditions exists
  void submit(const std::vector<alerting::Transition>& ts);
  SeriesIndex& series() { return series_; }
  Catalog& catalog() { return catalog_; }

  // -- the notifier
  using Listener = std::function<void(std::vector<std::string> records)>;
  void set_listener(Listener l);
  std::vector<std::string> pending_outbox() const;
  // Rewrites a record (attempts, next attempt, last error).
  bool outbox_update(const std::string& record);
  // Delivered: the record leaves the outbox; a `notify` history event records it.
  bool outbox_delivered(const std::string& record, int http_status);
  // Given up: the record stays in the outbox as failed; a `delivery_failed` event records it.
  bool outbox_failed(const std::string& record);

  // Prometheus text lines: alert events and notification deliveries.
  std::string metrics_text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Storage& storage_;
  SeriesIndex& series_;
  Catalog& catalog_;
};

class ShardAlerts {
 public:
  ShardAlerts(AlertHub& hub, std::uint16_t shard);
  ~ShardAlerts();
  // Evaluates applied samples. Returns the earliest absent deadline (wall-clock ms), 0 if none.
  std::int64_t on_apply(const std::vector<LogRecord>& records);
  // Fires due absent deadlines. Returns the next deadline, 0 if none.
  std::int64_t on_timer();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One evaluator actor per shard, beside the shard actor: it receives the same records (shared,
// not copied), owns the ShardAlerts of that shard's series and arms its absent timer. Evaluation
// therefore never waits for a shard's apply or flush (a RocksDB write), which keeps the
// sample-to-notification latency independent of storage work. With no active alert, post()
// is one atomic load.
class AlertEvaluators {
 public:
  AlertEvaluators(caf::actor_system& system, AlertHub& hub, int shards);
  ~AlertEvaluators();  // stops the actors
  void post(std::size_t shard, std::shared_ptr<const std::vector<LogRecord>> records);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::int64_t wall_ms();

}  // namespace vigil::actors
