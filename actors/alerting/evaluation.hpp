// Continuous alerting, the shard side: evaluation of applied samples against the alerts.
//
// ShardAlerts lives in the evaluator actor beside each shard actor: it keeps the condition
// trackers of the shard's series (a series' trackers are only touched by its shard's evaluator),
// evaluates every applied sample, keeps the absent deadlines in a timer heap (the evaluator arms
// one delayed message for the earliest), and reports verdict changes to the hub (hub.hpp). Alert
// definitions reach shards as an immutable snapshot (snapshot.hpp), swapped when alerts change.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/shard/shard_state.hpp"

namespace caf {
class actor_system;
}

namespace vigil::actors {

class AlertHub;

class ShardAlerts {
 public:
  ShardAlerts(AlertHub& hub, std::uint16_t shard);
  ~ShardAlerts();
  // Evaluates applied samples. Returns the earliest absent deadline (wall-clock ms), 0 if none.
  std::int64_t on_apply(const std::vector<LogRecord>& records);
  // Fires due absent deadlines. Returns the next deadline, 0 if none.
  std::int64_t on_timer();
  // Releases idle series (also done on apply); true while series entries are held.
  bool on_sweep();

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

}  // namespace vigil::actors
