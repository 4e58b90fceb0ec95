// AlertEvaluators (evaluation.hpp): the detached CAF actors that run one ShardAlerts each.
#include "actors/alerting/evaluation.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <chrono>

#include "actors/alerting/hub.hpp"

namespace vigil::actors {

using RecordsPtr = std::shared_ptr<const std::vector<LogRecord>>;

}  // namespace vigil::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::RecordsPtr)

namespace vigil::actors {

namespace {

using eval_tick_atom = caf::atom_constant<caf::atom("evaltick")>;
using eval_sweep_atom = caf::atom_constant<caf::atom("evalsweep")>;

struct EvaluatorState {
  std::unique_ptr<ShardAlerts> alerts;
  std::int64_t timer_at = 0;  // wall-clock ms of the armed absent timer, 0 if none
  bool sweep_armed = false;   // a sweep of idle series is due (every second while any is held)
  static inline const char* name = "vigil.alerts";
};

caf::behavior evaluator_actor(caf::stateful_actor<EvaluatorState>* self, std::uint16_t shard, AlertHub* hub) {
  self->state.alerts = std::make_unique<ShardAlerts>(*hub, shard);
  // One delayed message for the earliest absent deadline.
  auto arm = [self](std::int64_t at) {
    auto& st = self->state;
    if (at <= 0 || (st.timer_at != 0 && st.timer_at <= at)) return;
    st.timer_at = at;
    self->delayed_send(self, std::chrono::milliseconds(std::max<std::int64_t>(0, at - wall_ms())),
                       eval_tick_atom::value);
  };
  // Idle series are released on apply, and by this timer when no sample comes any more.
  auto arm_sweep = [self] {
    if (self->state.sweep_armed) return;
    self->state.sweep_armed = true;
    self->delayed_send(self, std::chrono::seconds(1), eval_sweep_atom::value);
  };
  return {
      [=](const RecordsPtr& records) {
        arm(self->state.alerts->on_apply(*records));
        arm_sweep();
      },
      [=](eval_tick_atom) {
        self->state.timer_at = 0;
        arm(self->state.alerts->on_timer());
      },
      [=](eval_sweep_atom) {
        self->state.sweep_armed = false;
        if (self->state.alerts->on_sweep()) arm_sweep();
      },
  };
}

}  // namespace

struct AlertEvaluators::Impl {
  AlertHub& hub;
  std::vector<caf::actor> actors;
  explicit Impl(AlertHub& h) : hub(h) {}
};

AlertEvaluators::AlertEvaluators(caf::actor_system& system, AlertHub& hub, int shards)
    : impl_(std::make_unique<Impl>(hub)) {
  for (int i = 0; i < shards; ++i)
    // Detached: it writes to RocksDB (rarely: on verdict changes) and must never wait behind
    // other actors' work.
    impl_->actors.push_back(system.spawn<caf::detached>(evaluator_actor, static_cast<std::uint16_t>(i), &hub));
}

AlertEvaluators::~AlertEvaluators() {
  for (auto& a : impl_->actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

void AlertEvaluators::post(std::size_t shard, RecordsPtr records) {
  // Absent trackers need every sample of a watched series, so evaluation runs whenever an
  // active alert exists; with none, nothing is sent.
  if (!impl_->hub.has_active_alerts() || shard >= impl_->actors.size()) return;
  caf::anon_send(impl_->actors[shard], std::move(records));
}

}  // namespace vigil::actors
