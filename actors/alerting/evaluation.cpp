#include "actors/alerting/evaluation.hpp"

#include <algorithm>
#include <queue>
#include <unordered_map>

#include "actors/alerting/hub.hpp"
#include "actors/alerting/snapshot.hpp"
#include "engine/meta/catalog.hpp"
#include "engine/encoding/series_key.hpp"
#include "engine/storage/series_index.hpp"

namespace vigil::actors {

using namespace vigil::alerting;

// -- shard side -----------------------------------------------------------------------------------

namespace {

struct TrackerEntry {
  std::uint64_t alert_id = 0;
  std::uint64_t generation = 0;
  std::uint32_t cond = 0;
  const Condition* c = nullptr;  // owned by the snapshot held by the shard
  MetricType type = MetricType::gauge;
  std::int64_t rearm_ms = 0;
  Tracker t;
  bool in_heap = false;
};

struct SeriesAlerts {
  std::string metric;
  std::string stream;
  Tags tags;
  std::vector<TrackerEntry> trackers;
  std::int64_t last_ms = 0;  // wall-clock arrival of the series' last sample
};

struct Deadline {
  std::int64_t at;
  std::uint64_t sid;
  std::uint64_t alert_id;
  std::uint32_t cond;
  bool operator>(const Deadline& o) const { return at > o.at; }
};

}  // namespace

struct ShardAlerts::Impl {
  AlertHub& hub;
  std::uint16_t shard;
  std::shared_ptr<const AlertSnapshot> snap;
  std::uint64_t version = 0;
  std::unordered_map<std::uint64_t, SeriesAlerts> series;
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<Deadline>> heap;
  std::vector<Transition> out;
  std::int64_t last_sweep_ms = 0;

  Impl(AlertHub& h, std::uint16_t s) : hub(h), shard(s) {}

  // Releases the entries of series idle for alerts.idle_stream_s (checked every quarter of it,
  // 1 s to 1 min). A series with an absent condition is kept: its silence is what it watches.
  // A released series starts over at its next sample, as after a restart: its trackers report
  // their first verdict again, which the book (alert_eval.hpp) turns into nothing new.
  void sweep(std::int64_t now) {
    if (last_sweep_ms == 0) last_sweep_ms = now;
    if (now - last_sweep_ms < 1000) return;  // the limits are read under the hub's lock: not per batch
    const std::int64_t idle = hub.limits().idle_stream_ms;
    if (now - last_sweep_ms < std::clamp<std::int64_t>(idle / 4, 1000, 60000)) return;
    last_sweep_ms = now;
    std::size_t n = 0;
    for (auto it = series.begin(); it != series.end();) {
      bool keep = now - it->second.last_ms < idle;
      for (const auto& te : it->second.trackers) keep = keep || te.c->type == CondType::absent;
      if (keep) {
        ++it;
      } else {
        it = series.erase(it);
        ++n;
      }
    }
    if (n > 0) hub.note_series_released(n);
  }

  void match(std::uint64_t sid, SeriesAlerts& sa, std::vector<TrackerEntry>&& old) {
    (void)sid;
    sa.trackers.clear();
    auto it = snap->by_metric.find(sa.metric);
    if (it == snap->by_metric.end()) return;
    MetricType type = MetricType::gauge;
    if (auto info = hub.catalog().get(sa.metric)) type = info->type;
    for (const auto& ref : it->second) {
      if (!ref.filter.matches(sa.tags)) continue;
      TrackerEntry te;
      te.alert_id = ref.alert->id;
      te.generation = ref.generation;
      te.cond = ref.cond;
      te.c = &ref.alert->conditions[ref.cond];
      te.type = type;
      te.rearm_ms = ref.alert->rearm_seconds * 1000;
      for (auto& o : old)
        if (o.alert_id == te.alert_id && o.generation == te.generation && o.cond == te.cond) {
          te.t = o.t;
          te.in_heap = o.in_heap;
        }
      sa.trackers.push_back(te);
    }
  }

  void refresh() {
    if (hub.version() == version) return;
    snap = hub.snapshot();
    version = snap->version;
    for (auto& [sid, sa] : series) match(sid, sa, std::move(sa.trackers));
  }

  SeriesAlerts& lookup(std::uint64_t sid) {
    auto it = series.find(sid);
    if (it != series.end()) return it->second;
    SeriesAlerts& sa = series[sid];
    enc::parse_series_key(hub.series().key_of(sid), sa.metric, sa.tags);
    enc::append_tags_key(sa.stream, sa.tags);  // the tags part of the series key
    match(sid, sa, {});
    return sa;
  }

  void emit(const TrackerEntry& te, const SeriesAlerts& sa, bool holds, double value, std::int64_t time) {
    Transition t;
    t.alert_id = te.alert_id;
    t.generation = te.generation;
    t.cond = te.cond;
    t.stream = sa.stream;
    t.holds = holds;
    t.value = value;
    t.sample_time = time;
    out.push_back(std::move(t));
  }

  void flush() {
    if (out.empty()) return;
    hub.submit(out);
    out.clear();
  }

  std::int64_t next_deadline() const { return heap.empty() ? 0 : heap.top().at; }
};

ShardAlerts::ShardAlerts(AlertHub& hub, std::uint16_t shard) : impl_(std::make_unique<Impl>(hub, shard)) {
  impl_->snap = hub.snapshot();
  impl_->version = impl_->snap->version;
}
ShardAlerts::~ShardAlerts() = default;

std::int64_t ShardAlerts::on_apply(const std::vector<LogRecord>& records) {
  auto& I = *impl_;
  I.refresh();
  std::int64_t now = wall_ms();
  I.sweep(now);
  if (I.snap->by_metric.empty()) return I.next_deadline();
  for (const auto& r : records) {
    SeriesAlerts& sa = I.lookup(r.sid);
    sa.last_ms = now;
    for (auto& te : sa.trackers) {
      if (te.c->type == CondType::absent) {
        te.t.last_seen_ms = now;
        te.t.deadline_ms = now + te.c->duration * 1000;
        if (te.t.verdict != 0) {
          te.t.verdict = 0;
          I.emit(te, sa, false, 0, r.time);
        }
        if (!te.in_heap) {
          te.in_heap = true;
          I.heap.push(Deadline{te.t.deadline_ms, r.sid, te.alert_id, te.cond});
        }
        continue;
      }
      double v = 0;
      auto verdict = observe(*te.c, te.type, te.t, r.agg, r.time, v);
      if (!verdict) continue;
      bool changed = static_cast<std::int8_t>(*verdict) != te.t.verdict;
      // A condition that keeps holding is reported again once per rearm period, so that a
      // stream still firing when rearm_seconds elapse is notified again.
      bool reassert = !changed && *verdict && te.rearm_ms > 0 && now - te.t.reported_ms >= te.rearm_ms;
      if (changed || reassert) {
        te.t.verdict = *verdict ? 1 : 0;
        if (*verdict) te.t.reported_ms = now;
        I.emit(te, sa, *verdict, v, r.time);
      }
    }
  }
  I.flush();
  return I.next_deadline();
}

bool ShardAlerts::on_sweep() {
  impl_->sweep(wall_ms());
  return !impl_->series.empty();
}

std::int64_t ShardAlerts::on_timer() {
  auto& I = *impl_;
  I.refresh();
  std::int64_t now = wall_ms();
  while (!I.heap.empty() && I.heap.top().at <= now) {
    Deadline d = I.heap.top();
    I.heap.pop();
    auto it = I.series.find(d.sid);
    if (it == I.series.end()) continue;
    SeriesAlerts& sa = it->second;
    for (auto& te : sa.trackers) {
      if (te.alert_id != d.alert_id || te.cond != d.cond || te.c->type != CondType::absent) continue;
      if (te.t.deadline_ms > now) {
        I.heap.push(Deadline{te.t.deadline_ms, d.sid, te.alert_id, te.cond});
      } else {
        te.in_heap = false;
        if (te.t.verdict != 1) {
          te.t.verdict = 1;
          I.emit(te, sa, true, static_cast<double>(now - te.t.last_seen_ms) / 1000.0, now / 1000);
        }
      }
    }
  }
  I.flush();
  return I.next_deadline();
}

}  // namespace vigil::actors
