#include "actors/alerting/hub.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>

#include "actors/alerting/alert_keys.hpp"
#include "actors/alerting/outbox_json.hpp"
#include "actors/alerting/snapshot.hpp"
#include "engine/model/clock.hpp"
#include "engine/meta/catalog.hpp"
#include "engine/stats/prom_text.hpp"
#include "engine/storage/series_index.hpp"
#include "engine/storage/storage.hpp"
#include "engine/query/tag_filter.hpp"

namespace vigil::actors {

using nlohmann::json;
using namespace vigil::alerting;

std::int64_t wall_ms() { return now_millis(); }

namespace {

// A sample value as records and history hold it: nullopt unless finite.
std::optional<Number> finite(double v) {
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

// Equal conditions but for their ids (an alert's conditions keep their ids when unchanged).
bool same_conditions(std::vector<Condition> a, std::vector<Condition> b) {
  for (auto& c : a) c.id = 0;
  for (auto& c : b) c.id = 0;
  return a == b;
}

}  // namespace

// -- hub ------------------------------------------------------------------------------------------

struct AlertHub::Impl {
  mutable std::mutex mu;
  std::map<std::uint64_t, Alert> alerts;
  std::map<std::uint64_t, Service> services;
  std::map<std::uint64_t, std::uint64_t> generations;
  AlertBook book;
  std::uint64_t next_alert = 1, next_service = 1, next_cond = 1, next_seq = 1, next_generation = 1;
  std::shared_ptr<const AlertSnapshot> snap = std::make_shared<AlertSnapshot>();
  std::atomic<std::uint64_t> version{1};
  std::atomic<bool> active{false};
  Listener listener;
  std::mutex listener_mu;
  std::atomic<std::uint64_t> triggers{0}, clears{0}, queued{0}, delivered{0}, retries{0}, failed{0};
  // Bounds (set_limits) and what they count.
  AlertLimits limits;
  std::atomic<std::int64_t> outbox_size{0};   // records in the outbox, pending and failed
  std::atomic<std::int64_t> failed_size{0};   // failed records in the outbox
  std::atomic<std::uint64_t> dropped{0}, purged{0}, released{0}, persist_failures{0}, persist_retried{0},
      series_released{0};
  // Transitions whose effects could not be written (under mu): applied again first.
  std::vector<Transition> unpersisted;
  static constexpr std::size_t kMaxUnpersisted = 1'000'000;
  std::int64_t last_release_ms = 0, last_purge_ms = 0, last_persist_log_ms = 0;  // under mu

  // Rebuilds the shards' view of the alerts (under mu).
  void publish() {
    auto s = std::make_shared<AlertSnapshot>();
    s->version = version.load() + 1;
    for (const auto& [id, a] : alerts) {
      if (!a.active || a.conditions.empty()) continue;
      auto shared = std::make_shared<const Alert>(a);
      for (std::uint32_t i = 0; i < a.conditions.size(); ++i) {
        const auto& c = a.conditions[i];
        CondRef ref;
        ref.alert = shared;
        ref.generation = generations[id];
        ref.cond = i;
        if (!c.source.empty()) ref.filter.add("source", c.source);
        for (const auto& t : c.tags)
          for (const auto& v : t.values) ref.filter.add(t.name, v);
        s->by_metric[metric_key(c.metric_name)].push_back(std::move(ref));
      }
    }
    active.store(!s->by_metric.empty());
    snap = s;
    version.store(s->version);
  }

  void define(const Alert& a) {
    AlertBook::AlertInfo info;
    info.generation = generations[a.id];
    info.conditions = a.conditions.size();
    info.rearm_seconds = a.rearm_seconds;
    info.active = a.active;
    book.define(a.id, info);
  }

  // Writes the effects of alert events: state of dirty streams, history, outbox. Under mu.
  bool persist(const std::vector<AlertEvent>& events, const AlertBook::Dirty& dirty, Storage& storage,
               std::vector<OutboxRecord>& records, std::string& err) {
    Storage::Batch batch;
    std::uint64_t n_triggers = 0, n_clears = 0, n_dropped = 0;
    const std::size_t first_record = records.size();
    for (const auto& [id, stream] : dirty) {
      const StreamState* st = book.stream(id, stream);
      if (st) batch.put(Cf::meta, alert_keys::state(id, stream), encode(*st));
    }
    for (const auto& e : events) {
      auto ai = alerts.find(e.alert_id);
      if (ai == alerts.end()) continue;
      const Alert& a = ai->second;
      bool trigger = e.kind == AlertEvent::Kind::trigger;
      ++(trigger ? n_triggers : n_clears);
      Tags stream = parse_stream(e.stream);
      std::vector<std::optional<Number>> values;
      for (double v : e.values) values.push_back(finite(v));
      json h = {{"seq", next_seq},
                {"time", e.time_ms / 1000},
                {"time_ms", e.time_ms},
                {"event", trigger ? "trigger" : "clear"},
                {"stream", outbox_json::stream(stream)},
                {"values", outbox_json::values(values)},
                {"notify", e.notify},
                {"reason", e.reason}};
      batch.put(Cf::meta, alert_keys::history(a.id, next_seq), h.dump());
      ++next_seq;
      if (!e.notify) continue;
      for (auto sid : a.services) {
        auto si = services.find(sid);
        if (si == services.end()) continue;
        if (outbox_size.load() + static_cast<std::int64_t>(records.size() - first_record) >=
            static_cast<std::int64_t>(limits.outbox_max)) {
          // The outbox is full: the state change is stored, its notification is not queued.
          ++n_dropped;
          json d = {{"seq", next_seq},
                    {"time", e.time_ms / 1000},
                    {"time_ms", e.time_ms},
                    {"event", "notification_dropped"},
                    {"kind", trigger ? "trigger" : "resolve"},
                    {"stream", outbox_json::stream(stream)},
                    {"service_id", sid},
                    {"error", "the outbox is full (alerts.outbox_max = " + std::to_string(limits.outbox_max) + ")"}};
          batch.put(Cf::meta, alert_keys::history(a.id, next_seq), d.dump());
          ++next_seq;
          continue;
        }
        std::uint64_t seq = next_seq++;
        // The condition reported first: the first above/below one (absent has no threshold).
        std::size_t primary = 0;
        for (std::size_t i = 0; i < a.conditions.size(); ++i)
          if (a.conditions[i].type != CondType::absent) {
            primary = i;
            break;
          }
        OutboxRecord r;
        r.id = seq;
        r.kind = trigger ? OutboxKind::trigger : OutboxKind::resolve;
        r.idempotency_key = "vigil-" + std::to_string(seq);
        r.alert = outbox_alert(a);
        r.service = outbox_service(si->second);
        r.stream = stream;
        r.stream_key = e.stream;
        r.condition_index = primary;
        r.values = values;
        r.value = primary < e.values.size() ? finite(e.values[primary]) : std::nullopt;
        r.reason = e.reason;
        r.triggered_at = e.triggered_at_ms / 1000;
        if (!trigger) r.resolved_at = e.time_ms / 1000;
        r.time = e.time_ms / 1000;
        r.created_ms = e.time_ms;
        batch.put(Cf::meta, alert_keys::outbox(seq), to_json(r));
        records.push_back(std::move(r));
      }
    }
    if (!batch.empty() && !storage.write(batch, err)) {
      records.resize(first_record);
      return false;
    }
    triggers.fetch_add(n_triggers);
    clears.fetch_add(n_clears);
    const std::size_t added = records.size() - first_record;
    queued.fetch_add(added);
    outbox_size.fetch_add(static_cast<std::int64_t>(added));
    if (n_dropped > 0) {
      dropped.fetch_add(n_dropped);
      spdlog::error("alerting: the outbox is full (alerts.outbox_max = {}): {} notification(s) not queued",
                    limits.outbox_max, n_dropped);
    }
    return true;
  }

  // The streams a set of transitions (or an alert, for a clear) touches, as they are now:
  // what a failed persist puts back.
  using Saved = std::map<std::pair<std::uint64_t, std::string>, std::optional<StreamState>>;
  void save(Saved& saved, std::uint64_t id, const std::string& stream) {
    auto key = std::make_pair(id, stream);
    if (saved.count(key)) return;
    const StreamState* st = book.stream(id, stream);
    saved.emplace(std::move(key), st ? std::optional<StreamState>(*st) : std::nullopt);
  }
  void save_alert(Saved& saved, std::uint64_t id) {
    if (const auto* streams = book.streams(id))
      for (const auto& [key, st] : *streams) saved.emplace(std::make_pair(id, key), st);
  }
  void roll_back(const Saved& saved) {
    for (const auto& [key, st] : saved) {
      if (st) book.restore(key.first, key.second, *st);
      else book.erase(key.first, key.second);
    }
  }

  // Applies transitions to the book and persists their effects; on a write failure the book is
  // put back as it was and false returned (the caller keeps the transitions). Under mu.
  bool apply_persisted(const std::vector<Transition>& ts, Storage& storage, std::vector<OutboxRecord>& records,
                       std::string& err) {
    Saved saved;
    for (const auto& t : ts) save(saved, t.alert_id, t.stream);
    AlertBook::Dirty dirty;
    auto events = book.apply(ts, wall_ms(), dirty);
    if (dirty.empty()) return true;
    if (persist(events, dirty, storage, records, err)) return true;
    roll_back(saved);
    return false;
  }

  // Applies the kept transitions and then `ts`; keeps them all when the write fails. Under mu.
  void apply_or_keep(const std::vector<Transition>& ts, Storage& storage, std::vector<OutboxRecord>& records) {
    std::vector<Transition> all;
    const bool retry = !unpersisted.empty();
    if (retry) {
      all = std::move(unpersisted);
      unpersisted.clear();
      all.insert(all.end(), ts.begin(), ts.end());
    }
    const std::vector<Transition>& batch = retry ? all : ts;
    if (batch.empty()) return;
    std::string err;
    if (apply_persisted(batch, storage, records, err)) {
      if (retry) {
        persist_retried.fetch_add(1);
        spdlog::warn("alerting: alert state persisted after a retry ({} transition(s))", batch.size());
      }
      return;
    }
    persist_failures.fetch_add(1);
    const std::int64_t now = wall_ms();
    if (now - last_persist_log_ms >= 5000) {
      last_persist_log_ms = now;
      spdlog::error("alerting: cannot persist alert state ({} transition(s) kept, retried): {}", batch.size(), err);
    }
    if (!retry) all = ts;
    if (all.size() > kMaxUnpersisted) {
      spdlog::error("alerting: {} unpersisted transitions dropped (more than {} kept)", all.size() - kMaxUnpersisted,
                    kMaxUnpersisted);
      all.erase(all.begin(), all.end() - static_cast<std::ptrdiff_t>(kMaxUnpersisted));
    }
    unpersisted = std::move(all);
  }

  void deliver(std::vector<OutboxRecord> records) {
    if (records.empty()) return;
    std::lock_guard lock(listener_mu);
    if (listener) listener(std::move(records));
  }
};

AlertHub::AlertHub(Storage& storage, SeriesIndex& series, Catalog& catalog)
    : impl_(std::make_unique<Impl>()), storage_(storage), series_(series), catalog_(catalog) {}
AlertHub::~AlertHub() = default;

bool AlertHub::load(std::string& err) {
  auto& I = *impl_;
  std::lock_guard lock(I.mu);
  bool ok = true;
  // A scan that meets a storage error fails the load (nothing is started on a partial state).
  auto scanned = [&](const Status& st) {
    if (st.ok()) return true;
    err = "cannot read the alerts: " + st.to_string();
    return false;
  };
  Status st = storage_.scan_prefix(Cf::meta, alert_keys::kAlertPrefix, [&](std::string_view k, std::string_view v) {
    Alert a;
    if (!alert_keys::parse_alert(k) || !from_json(v, a)) {
      err = "corrupt alert record";
      ok = false;
      return false;
    }
    I.next_alert = std::max(I.next_alert, a.id + 1);
    for (const auto& c : a.conditions) I.next_cond = std::max(I.next_cond, c.id + 1);
    I.alerts[a.id] = std::move(a);
    return true;
  });
  if (!ok || !scanned(st)) return false;
  st = storage_.scan_prefix(Cf::meta, alert_keys::kServicePrefix, [&](std::string_view, std::string_view v) {
    Service s;
    if (from_json(v, s) && s.id > 0) {
      I.next_service = std::max(I.next_service, s.id + 1);
      I.services[s.id] = std::move(s);
    }
    return true;
  });
  if (!scanned(st)) return false;
  for (const auto& [id, a] : I.alerts) {
    I.generations[id] = I.next_generation++;
    I.define(a);
  }
  st = storage_.scan_prefix(Cf::meta, alert_keys::kStatePrefix, [&](std::string_view k, std::string_view v) {
    auto key = alert_keys::parse_state(k);
    if (!key) return true;
    StreamState ss;
    if (I.alerts.count(key->alert_id) && decode(v, ss)) {
      ss.touched_ms = wall_ms();  // idle from the start on
      I.book.restore(key->alert_id, std::string(key->stream), std::move(ss));
    }
    return true;
  });
  if (!scanned(st)) return false;
  for (const auto& [id, a] : I.alerts) I.define(a);  // sizes restored verdict vectors
  // Outbox and history share one sequence.
  auto bump = [&](std::string_view prefix, std::optional<std::uint64_t> (*seq_of)(std::string_view)) {
    return storage_.scan_prefix(Cf::meta, prefix, [&](std::string_view k, std::string_view) {
      if (auto seq = seq_of(k)) I.next_seq = std::max(I.next_seq, *seq + 1);
      return true;
    });
  };
  if (!scanned(bump(alert_keys::kOutboxPrefix, alert_keys::parse_outbox)) ||
      !scanned(bump(alert_keys::kHistoryPrefix, alert_keys::parse_history_seq)))
    return false;
  // The outbox's size (its bound) and its failed records (their retention).
  std::int64_t records = 0, failed = 0;
  st = storage_.scan_prefix(Cf::meta, alert_keys::kOutboxPrefix, [&](std::string_view, std::string_view v) {
    ++records;
    if (v.find("\"state\":\"failed\"") != std::string_view::npos) ++failed;
    return true;
  });
  if (!scanned(st)) return false;
  I.outbox_size.store(records);
  I.failed_size.store(failed);
  I.publish();
  spdlog::info("alerting: {} alerts, {} services", I.alerts.size(), I.services.size());
  return true;
}

std::vector<Alert> AlertHub::list_alerts() const {
  std::lock_guard lock(impl_->mu);
  std::vector<Alert> out;
  for (const auto& [id, a] : impl_->alerts) out.push_back(a);
  return out;
}

std::optional<Alert> AlertHub::get_alert(std::uint64_t id) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->alerts.find(id);
  if (it == impl_->alerts.end()) return std::nullopt;
  return it->second;
}

std::optional<Alert> AlertHub::find_alert(std::string_view name) const {
  std::lock_guard lock(impl_->mu);
  std::string key = metric_key(name);
  for (const auto& [id, a] : impl_->alerts)
    if (metric_key(a.name) == key) return a;
  return std::nullopt;
}

AlertHub::Result AlertHub::put_alert(Alert& a, std::string& err) {
  auto& I = *impl_;
  std::vector<OutboxRecord> records;
  {
    std::lock_guard lock(I.mu);
    std::string key = metric_key(a.name);
    for (const auto& [id, other] : I.alerts)
      if (id != a.id && metric_key(other.name) == key) return Result::duplicate_name;
    for (auto sid : a.services)
      if (!I.services.count(sid)) {
        err = std::to_string(sid);
        return Result::unknown_service;
      }
    auto now = wall_ms() / 1000;
    const Alert* old = nullptr;
    if (a.id == 0) {
      a.id = I.next_alert++;
      a.created_at = now;
    } else {
      auto it = I.alerts.find(a.id);
      if (it == I.alerts.end()) return Result::not_found;
      old = &it->second;
      a.created_at = old->created_at;
    }
    a.updated_at = now;
    // Conditions keep their ids when unchanged in place; new ones get fresh ids.
    bool changed = !old || !same_conditions(old->conditions, a.conditions) || old->active != a.active;
    for (std::size_t i = 0; i < a.conditions.size(); ++i)
      a.conditions[i].id = (!changed && old && i < old->conditions.size()) ? old->conditions[i].id : I.next_cond++;
    std::vector<AlertEvent> events;
    AlertBook::Dirty dirty;
    Impl::Saved saved;
    if (old) I.save_alert(saved, a.id);
    const auto gen_it = I.generations.find(a.id);
    const bool had_generation = gen_it != I.generations.end();
    const std::uint64_t old_generation = had_generation ? gen_it->second : 0;
    if (changed) {
      // Tracking restarts with the new definition; streams firing under the old one clear.
      if (old) events = I.book.clear(a.id, wall_ms(), a.active ? "alert conditions changed" : "alert deactivated", dirty);
      I.generations[a.id] = I.next_generation++;
    }
    Alert before = old ? *old : Alert{};
    I.alerts[a.id] = a;
    I.define(a);
    Storage::Batch batch;
    batch.put(Cf::meta, alert_keys::alert(a.id), to_json(a));
    if (!storage_.write(batch, err) || !I.persist(events, dirty, storage_, records, err)) {
      // Nothing moved: the definition, its generation and the book's streams are as they were.
      if (old) I.alerts[a.id] = before;
      else I.alerts.erase(a.id);
      if (had_generation) I.generations[a.id] = old_generation;
      else I.generations.erase(a.id);
      I.roll_back(saved);
      if (old) I.define(before);
      else I.book.remove(a.id);
      return Result::storage_error;
    }
    if (changed) I.publish();
  }
  I.deliver(std::move(records));
  return Result::ok;
}

AlertHub::Result AlertHub::delete_alert(std::uint64_t id, std::string& err) {
  auto& I = *impl_;
  std::lock_guard lock(I.mu);
  if (!I.alerts.count(id)) return Result::not_found;
  Storage::Batch batch;
  batch.del(Cf::meta, alert_keys::alert(id));
  // Keys of alert id+1 bound those of alert id (big-endian ids).
  batch.delete_range(Cf::meta, alert_keys::state_prefix(id), alert_keys::state_prefix(id + 1));
  batch.delete_range(Cf::meta, alert_keys::history_prefix(id), alert_keys::history_prefix(id + 1));
  if (!storage_.write(batch, err)) return Result::storage_error;
  I.alerts.erase(id);
  I.book.remove(id);
  I.generations.erase(id);
  I.publish();
  return Result::ok;
}

AlertHub::Result AlertHub::clear_alert(std::uint64_t id, std::string& err) {
  auto& I = *impl_;
  std::vector<OutboxRecord> records;
  {
    std::lock_guard lock(I.mu);
    auto it = I.alerts.find(id);
    if (it == I.alerts.end()) return Result::not_found;
    AlertBook::Dirty dirty;
    Impl::Saved saved;
    I.save_alert(saved, id);
    auto events = I.book.clear(id, wall_ms(), "cleared by hand", dirty);
    if (!I.persist(events, dirty, storage_, records, err)) {
      I.roll_back(saved);  // nothing cleared: the client is told and may clear again
      return Result::storage_error;
    }
    // Trackers restart, so a condition still met fires again on the next sample.
    I.generations[id] = I.next_generation++;
    I.define(it->second);
    I.publish();
  }
  I.deliver(std::move(records));
  return Result::ok;
}

std::vector<Service> AlertHub::list_services() const {
  std::lock_guard lock(impl_->mu);
  std::vector<Service> out;
  for (const auto& [id, s] : impl_->services) out.push_back(s);
  return out;
}

std::optional<Service> AlertHub::get_service(std::uint64_t id) const {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->services.find(id);
  if (it == impl_->services.end()) return std::nullopt;
  return it->second;
}

AlertHub::Result AlertHub::put_service(Service& s, std::string& err) {
  auto& I = *impl_;
  std::lock_guard lock(I.mu);
  auto now = wall_ms() / 1000;
  if (s.id == 0) {
    s.id = I.next_service++;
    s.created_at = now;
  } else if (!I.services.count(s.id)) {
    return Result::not_found;
  }
  s.updated_at = now;
  Storage::Batch batch;
  batch.put(Cf::meta, alert_keys::service(s.id), to_json(s));
  if (!storage_.write(batch, err)) return Result::storage_error;
  I.services[s.id] = s;
  return Result::ok;
}

AlertHub::Result AlertHub::delete_service(std::uint64_t id, std::string& err) {
  auto& I = *impl_;
  std::lock_guard lock(I.mu);
  if (!I.services.count(id)) return Result::not_found;
  Storage::Batch batch;
  batch.del(Cf::meta, alert_keys::service(id));
  std::vector<std::uint64_t> touched;
  for (auto& [aid, a] : I.alerts) {
    auto it = std::find(a.services.begin(), a.services.end(), id);
    if (it == a.services.end()) continue;
    Alert copy = a;
    copy.services.erase(copy.services.begin() + (it - a.services.begin()));
    batch.put(Cf::meta, alert_keys::alert(aid), to_json(copy));
    touched.push_back(aid);
  }
  if (!storage_.write(batch, err)) return Result::storage_error;
  for (auto aid : touched) {
    auto& v = I.alerts[aid].services;
    v.erase(std::remove(v.begin(), v.end(), id), v.end());
  }
  I.services.erase(id);
  return Result::ok;
}

std::optional<std::uint64_t> AlertHub::send_test(std::uint64_t service_id, std::string& err, bool* outbox_full) {
  auto& I = *impl_;
  OutboxRecord r;
  if (outbox_full) *outbox_full = false;
  {
    std::lock_guard lock(I.mu);
    auto it = I.services.find(service_id);
    if (it == I.services.end()) {
      err = "service not found";
      return std::nullopt;
    }
    if (I.outbox_size.load() >= static_cast<std::int64_t>(I.limits.outbox_max)) {
      I.dropped.fetch_add(1);
      err = "the outbox is full: " + std::to_string(I.outbox_size.load()) + " notifications (alerts.outbox_max = " +
            std::to_string(I.limits.outbox_max) + ")";
      if (outbox_full) *outbox_full = true;
      return std::nullopt;
    }
    r.id = I.next_seq++;
    auto now = wall_ms();
    r.kind = OutboxKind::test;
    r.idempotency_key = "vigil-" + std::to_string(r.id);
    r.alert.name = "vigil.test";
    r.alert.description = "Test notification from Vigil";
    // Integers, not doubles: the test payload has always carried a threshold of 0 and a value of 1.
    r.alert.conditions.push_back(OutboxCondition{0, "above", "vigil.test", Number{std::int64_t{0}}, {}, {}, {}});
    r.service = outbox_service(it->second);
    r.stream = {{"source", "vigil"}};
    r.stream_key = "source=vigil";
    r.values = {Number{std::int64_t{1}}};
    r.value = Number{std::int64_t{1}};
    r.reason = "test notification";
    r.triggered_at = now / 1000;
    r.time = now / 1000;
    r.created_ms = now;
    Storage::Batch batch;
    batch.put(Cf::meta, alert_keys::outbox(r.id), to_json(r));
    if (!storage_.write(batch, err)) return std::nullopt;
    I.outbox_size.fetch_add(1);
  }
  std::uint64_t seq = r.id;
  I.deliver({std::move(r)});
  return seq;
}

AlertHub::AlertStatus AlertHub::status(std::uint64_t id) const {
  std::lock_guard lock(impl_->mu);
  AlertStatus s;
  const auto* streams = impl_->book.streams(id);
  if (!streams) return s;
  for (const auto& [key, st] : *streams) {
    if (st.triggered_at == 0 && st.cleared_at == 0) continue;
    StreamStatus ss;
    ss.stream = key;
    ss.tags = parse_stream(key);
    ss.firing = st.firing;
    ss.triggered_at = st.triggered_at / 1000;
    ss.cleared_at = st.cleared_at / 1000;
    ss.values = st.values;
    if (st.firing) {
      if (!s.firing || ss.triggered_at < s.triggered_at) s.triggered_at = ss.triggered_at;
      s.firing = true;
    }
    s.cleared_at = std::max(s.cleared_at, ss.cleared_at);
    s.streams.push_back(std::move(ss));
  }
  return s;
}

std::vector<std::string> AlertHub::history(std::uint64_t alert_id) const {
  std::vector<std::string> out;
  // A storage error leaves the listing partial; it is counted in vigil_storage_errors_total.
  (void)storage_.scan_prefix(Cf::meta, alert_keys::history_prefix(alert_id), [&](std::string_view, std::string_view v) {
    out.emplace_back(v);
    return true;
  });
  return out;
}

std::vector<std::string> AlertHub::outbox() const {
  std::vector<std::string> out;
  // As history(): a storage error is counted, and the outbox is read again at the next pass.
  (void)storage_.scan_prefix(Cf::meta, alert_keys::kOutboxPrefix, [&](std::string_view, std::string_view v) {
    out.emplace_back(v);
    return true;
  });
  return out;
}

std::vector<OutboxRecord> AlertHub::pending_outbox() const {
  std::vector<OutboxRecord> out;
  // As outbox(): a storage error is counted, and the outbox is read again at the next pass.
  (void)storage_.scan_prefix(Cf::meta, alert_keys::kOutboxPrefix, [&](std::string_view k, std::string_view v) {
    OutboxRecord r;
    std::string err;
    if (!from_json(v, r, err)) {
      auto seq = alert_keys::parse_outbox(k);
      spdlog::error("alerting: outbox record {} cannot be read ({}); it stays in the outbox", seq ? *seq : 0, err);
      return true;
    }
    if (r.state == OutboxState::pending) out.push_back(std::move(r));
    return true;
  });
  return out;
}

std::shared_ptr<const AlertSnapshot> AlertHub::snapshot() const {
  std::lock_guard lock(impl_->mu);
  return impl_->snap;
}

std::uint64_t AlertHub::version() const { return impl_->version.load(std::memory_order_acquire); }
bool AlertHub::has_active_alerts() const { return impl_->active.load(std::memory_order_acquire); }

void AlertHub::submit(const std::vector<Transition>& ts) {
  auto& I = *impl_;
  std::vector<OutboxRecord> records;
  {
    std::lock_guard lock(I.mu);
    I.apply_or_keep(ts, storage_, records);
  }
  I.deliver(std::move(records));
}

void AlertHub::note_series_released(std::size_t n) { impl_->series_released.fetch_add(n); }

void AlertHub::set_limits(const AlertLimits& limits) {
  std::lock_guard lock(impl_->mu);
  impl_->limits = limits;
}

AlertLimits AlertHub::limits() const {
  std::lock_guard lock(impl_->mu);
  return impl_->limits;
}

void AlertHub::housekeep() {
  auto& I = *impl_;
  std::vector<OutboxRecord> records;
  const std::int64_t now = wall_ms();
  bool purge = false;
  {
    std::lock_guard lock(I.mu);
    if (!I.unpersisted.empty()) I.apply_or_keep({}, storage_, records);
    // Idle streams: swept every quarter of the idle time (1 s to 1 min).
    const std::int64_t every = std::clamp<std::int64_t>(I.limits.idle_stream_ms / 4, 1000, 60000);
    if (I.unpersisted.empty() && now - I.last_release_ms >= every) {
      I.last_release_ms = now;
      auto idle = I.book.idle(now, I.limits.idle_stream_ms);
      if (!idle.empty()) {
        Storage::Batch batch;
        for (const auto& [id, stream] : idle) batch.del(Cf::meta, alert_keys::state(id, stream));
        std::string err;
        if (storage_.write(batch, err)) {
          for (const auto& [id, stream] : idle) I.book.erase(id, stream);
          I.released.fetch_add(idle.size());
        } else {
          spdlog::warn("alerting: cannot release {} idle stream(s): {}", idle.size(), err);
        }
      }
    }
    const std::int64_t purge_every = std::clamp<std::int64_t>(I.limits.failed_retention_ms / 4, 500, 60000);
    if (I.failed_size.load() > 0 && now - I.last_purge_ms >= purge_every) {
      I.last_purge_ms = now;
      purge = true;
    }
  }
  I.deliver(std::move(records));
  if (!purge) return;
  // Failed records past their retention leave the outbox (a scan of the outbox, which
  // alerts.outbox_max bounds; outside the hub's lock: the notifier never rewrites failed records).
  const std::int64_t retention = limits().failed_retention_ms;
  Storage::Batch batch;
  std::int64_t n = 0;
  (void)storage_.scan_prefix(Cf::meta, alert_keys::kOutboxPrefix, [&](std::string_view k, std::string_view v) {
    if (v.find("\"state\":\"failed\"") == std::string_view::npos) return true;
    OutboxRecord r;
    std::string err;
    if (!from_json(v, r, err) || r.state != OutboxState::failed) return true;
    const std::int64_t since = r.failed_ms ? *r.failed_ms : r.created_ms;
    if (now - since < retention) return true;
    batch.del(Cf::meta, k);
    ++n;
    return true;
  });
  if (n == 0) return;
  std::string err;
  if (!storage_.write(batch, err)) {
    spdlog::warn("alerting: cannot purge {} failed notification(s): {}", n, err);
    return;
  }
  I.purged.fetch_add(static_cast<std::uint64_t>(n));
  I.failed_size.fetch_sub(n);
  I.outbox_size.fetch_sub(n);
  spdlog::info("alerting: {} failed notification(s) purged after alerts.failed_retention_s", n);
}

void AlertHub::set_listener(Listener l) {
  std::lock_guard lock(impl_->listener_mu);
  impl_->listener = std::move(l);
}

bool AlertHub::outbox_update(const OutboxRecord& record) {
  impl_->retries.fetch_add(1);
  Storage::Batch batch;
  batch.put(Cf::meta, alert_keys::outbox(record.id), to_json(record));
  std::string err;
  return storage_.write(batch, err);
}

namespace {
// The history entry of a delivery outcome for outbox record `r`.
json delivery_event(const OutboxRecord& r, const char* event, std::uint64_t hseq, std::int64_t now) {
  return {{"seq", hseq},
          {"time", now / 1000},
          {"time_ms", now},
          {"event", event},
          {"kind", to_string(r.kind)},
          {"stream", outbox_json::stream(r.stream)},
          {"values", outbox_json::values(r.values)},
          {"service_id", r.service.id},
          {"service_type", r.service.type},
          {"notification_id", r.id},
          {"attempts", r.attempts}};
}
}  // namespace

bool AlertHub::outbox_delivered(const OutboxRecord& record, int http_status) {
  Storage::Batch batch;
  batch.del(Cf::meta, alert_keys::outbox(record.id));
  if (record.alert.id != 0) {
    std::uint64_t hseq;
    {
      std::lock_guard lock(impl_->mu);
      hseq = impl_->next_seq++;
    }
    auto now = wall_ms();
    json h = delivery_event(record, "notify", hseq, now);
    h["http_status"] = http_status;
    h["latency_ms"] = now - record.created_ms;
    batch.put(Cf::meta, alert_keys::history(record.alert.id, hseq), h.dump());
  }
  std::string err;
  if (!storage_.write(batch, err)) {
    spdlog::error("alerting: cannot record a delivery: {}", err);
    return false;
  }
  impl_->outbox_size.fetch_sub(1);
  impl_->delivered.fetch_add(1);
  return true;
}

bool AlertHub::outbox_failed(const OutboxRecord& record) {
  OutboxRecord r = record;
  r.state = OutboxState::failed;
  r.failed_ms = wall_ms();
  Storage::Batch batch;
  batch.put(Cf::meta, alert_keys::outbox(r.id), to_json(r));
  if (r.alert.id != 0) {
    std::uint64_t hseq;
    {
      std::lock_guard lock(impl_->mu);
      hseq = impl_->next_seq++;
    }
    json h = delivery_event(r, "delivery_failed", hseq, wall_ms());
    h["error"] = r.last_error;
    batch.put(Cf::meta, alert_keys::history(r.alert.id, hseq), h.dump());
  }
  std::string err;
  if (!storage_.write(batch, err)) {
    spdlog::error("alerting: cannot record a failed delivery: {}", err);
    return false;
  }
  impl_->failed_size.fetch_add(1);
  impl_->failed.fetch_add(1);
  return true;
}

std::string AlertHub::metrics_text() const {
  auto& I = *impl_;
  std::string out;
  auto line = [&](const char* name, const char* help, std::uint64_t v) {
    prom::metric(out, name, "counter", help, v);
  };
  line("vigil_alert_triggers_total", "Alert streams that started firing.", I.triggers.load());
  line("vigil_alert_clears_total", "Alert streams that cleared.", I.clears.load());
  line("vigil_notifications_queued_total", "Notifications written to the outbox.", I.queued.load());
  line("vigil_notifications_delivered_total", "Notifications delivered (2xx).", I.delivered.load());
  line("vigil_notification_retries_total", "Failed delivery attempts that were retried.", I.retries.load());
  line("vigil_notifications_failed_total", "Notifications given up and kept as failed.", I.failed.load());
  line("vigil_notifications_dropped_total", "Notifications not queued because the outbox was full (alerts.outbox_max).",
       I.dropped.load());
  line("vigil_notifications_purged_total", "Failed notifications purged after alerts.failed_retention_s.",
       I.purged.load());
  line("vigil_alert_state_persist_failures_total",
       "Alert state changes that could not be written (kept and applied again).", I.persist_failures.load());
  line("vigil_alert_state_persist_retries_total", "Kept alert state changes written by a later attempt.",
       I.persist_retried.load());
  line("vigil_alert_streams_released_total", "Idle per-stream alert states released (alerts.idle_stream_s).",
       I.released.load());
  line("vigil_alert_series_released_total",
       "Idle series whose condition trackers the evaluators released (alerts.idle_stream_s).",
       I.series_released.load());
  std::size_t alerts, streams, unpersisted;
  {
    std::lock_guard lock(I.mu);
    alerts = I.alerts.size();
    streams = I.book.stream_count();
    unpersisted = I.unpersisted.size();
  }
  prom::metric(out, "vigil_alerts", "gauge", "Defined alerts.", alerts);
  prom::metric(out, "vigil_alert_streams", "gauge", "Per-stream alert states held.", streams);
  prom::metric(out, "vigil_alert_unpersisted_transitions", "gauge",
               "Verdict changes waiting to be applied again after a failed write.", unpersisted);
  prom::metric(out, "vigil_outbox_records", "gauge", "Notifications in the outbox, pending and failed.",
               static_cast<std::uint64_t>(std::max<std::int64_t>(0, I.outbox_size.load())));
  prom::metric(out, "vigil_outbox_failed_records", "gauge", "Failed notifications kept in the outbox.",
               static_cast<std::uint64_t>(std::max<std::int64_t>(0, I.failed_size.load())));
  return out;
}

}  // namespace vigil::actors
