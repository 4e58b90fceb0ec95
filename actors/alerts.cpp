#include "actors/alerts.hpp"

#include <spdlog/spdlog.h>

#include <caf/all.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <queue>
#include <unordered_map>

#include "engine/catalog.hpp"
#include "engine/encoding/bytes.hpp"
#include "engine/encoding/series_key.hpp"
#include "engine/prom_text.hpp"
#include "engine/series_index.hpp"
#include "engine/storage.hpp"
#include "engine/tag_filter.hpp"

namespace vigil::actors {

using nlohmann::json;
using namespace vigil::alerting;

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// -- snapshot -------------------------------------------------------------------------------------

struct CondRef {
  std::shared_ptr<const Alert> alert;
  std::uint64_t generation = 0;
  std::uint32_t cond = 0;
  TagFilter filter;
};

struct AlertSnapshot {
  std::uint64_t version = 0;
  std::unordered_map<std::string, std::vector<CondRef>> by_metric;  // metric key -> conditions
};

namespace {

std::string alert_key(std::uint64_t id) {
  std::string k = "alert/";
  enc::put_u64(k, id);
  return k;
}
std::string service_key(std::uint64_t id) {
  std::string k = "service/";
  enc::put_u64(k, id);
  return k;
}
std::string state_key(std::uint64_t id, std::string_view stream) {
  std::string k = "alertstate/";
  enc::put_u64(k, id);
  k.append(stream);
  return k;
}
std::string state_prefix(std::uint64_t id) {
  std::string k = "alertstate/";
  enc::put_u64(k, id);
  return k;
}
std::string outbox_key(std::uint64_t seq) {
  std::string k = "outbox/";
  enc::put_u64(k, seq);
  return k;
}
std::string history_prefix(std::uint64_t id) {
  std::string k = "history/";
  enc::put_u64(k, id);
  return k;
}
std::string history_key(std::uint64_t id, std::uint64_t seq) {
  std::string k = history_prefix(id);
  enc::put_u64(k, seq);
  return k;
}

json tags_json(const Tags& tags) {
  json o = json::object();
  for (const auto& [k, v] : tags) o[k] = v;
  return o;
}

json num(double v) {
  if (!std::isfinite(v)) return nullptr;
  return v;
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

  json stream_json(std::string_view stream) const { return {{"tags", tags_json(parse_stream(stream))}}; }

  json alert_snapshot_json(const Alert& a) const {
    json conds = json::array();
    for (const auto& c : a.conditions) {
      json cj = {{"id", c.id}, {"type", to_string(c.type)}, {"metric_name", c.metric_name}};
      if (c.has_threshold) cj["threshold"] = c.threshold;
      if (c.summary != SummaryFn::deflt) cj["summary_function"] = to_string(c.summary);
      if (c.duration > 0) cj["duration"] = c.duration;
      if (!c.source.empty()) cj["source"] = c.source;
      conds.push_back(cj);
    }
    return {{"id", a.id},
            {"name", a.name},
            {"description", a.description},
            {"runbook_url", a.runbook_url()},
            {"rearm_seconds", a.rearm_seconds},
            {"conditions", conds}};
  }

  json service_json(const Service& s) const {
    json settings = json::parse(s.settings_json, nullptr, false);
    if (!settings.is_object()) settings = json::object();
    return {{"id", s.id}, {"type", s.type}, {"title", s.title}, {"settings", settings}};
  }

  // Writes the effects of alert events: state of dirty streams, history, outbox. Under mu.
  bool persist(const std::vector<AlertEvent>& events, const AlertBook::Dirty& dirty, Storage& storage,
               std::vector<std::string>& records, std::string& err) {
    Storage::Batch batch;
    for (const auto& [id, stream] : dirty) {
      const StreamState* st = book.stream(id, stream);
      if (st) batch.put(Cf::meta, state_key(id, stream), encode(*st));
    }
    for (const auto& e : events) {
      auto ai = alerts.find(e.alert_id);
      if (ai == alerts.end()) continue;
      const Alert& a = ai->second;
      bool trigger = e.kind == AlertEvent::Kind::trigger;
      (trigger ? triggers : clears).fetch_add(1);
      json values = json::array();
      for (double v : e.values) values.push_back(num(v));
      json h = {{"seq", next_seq},
                {"time", e.time_ms / 1000},
                {"time_ms", e.time_ms},
                {"event", trigger ? "trigger" : "clear"},
                {"stream", stream_json(e.stream)},
                {"values", values},
                {"notify", e.notify},
                {"reason", e.reason}};
      batch.put(Cf::meta, history_key(a.id, next_seq), h.dump());
      ++next_seq;
      if (!e.notify) continue;
      for (auto sid : a.services) {
        auto si = services.find(sid);
        if (si == services.end()) continue;
        std::uint64_t seq = next_seq++;
        // The condition reported first: the first above/below one (absent has no threshold).
        std::size_t primary = 0;
        for (std::size_t i = 0; i < a.conditions.size(); ++i)
          if (a.conditions[i].type != CondType::absent) {
            primary = i;
            break;
          }
        json r = {{"id", seq},
                  {"kind", trigger ? "trigger" : "resolve"},
                  {"idempotency_key", "vigil-" + std::to_string(seq)},
                  {"alert", alert_snapshot_json(a)},
                  {"service", service_json(si->second)},
                  {"stream", stream_json(e.stream)},
                  {"stream_key", e.stream},
                  {"condition_index", primary},
                  {"values", values},
                  {"value", primary < e.values.size() ? num(e.values[primary]) : json(nullptr)},
                  {"reason", e.reason},
                  {"triggered_at", e.triggered_at_ms / 1000},
                  {"resolved_at", trigger ? json(nullptr) : json(e.time_ms / 1000)},
                  {"time", e.time_ms / 1000},
                  {"created_ms", e.time_ms},
                  {"attempts", 0},
                  {"next_attempt_ms", 0},
                  {"state", "pending"},
                  {"last_error", ""}};
        std::string text = r.dump();
        queued.fetch_add(1);
        batch.put(Cf::meta, outbox_key(seq), text);
        records.push_back(std::move(text));
      }
    }
    if (batch.empty()) return true;
    return storage.write(batch, err);
  }

  void deliver(std::vector<std::string> records) {
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
  storage_.scan_prefix(Cf::meta, "alert/", [&](std::string_view k, std::string_view v) {
    Alert a;
    if (k.size() != 14 || !from_json(v, a)) {
      err = "corrupt alert record";
      ok = false;
      return false;
    }
    I.next_alert = std::max(I.next_alert, a.id + 1);
    for (const auto& c : a.conditions) I.next_cond = std::max(I.next_cond, c.id + 1);
    I.alerts[a.id] = std::move(a);
    return true;
  });
  if (!ok) return false;
  storage_.scan_prefix(Cf::meta, "service/", [&](std::string_view, std::string_view v) {
    Service s;
    if (from_json(v, s) && s.id > 0) {
      I.next_service = std::max(I.next_service, s.id + 1);
      I.services[s.id] = std::move(s);
    }
    return true;
  });
  for (const auto& [id, a] : I.alerts) {
    I.generations[id] = I.next_generation++;
    I.define(a);
  }
  storage_.scan_prefix(Cf::meta, "alertstate/", [&](std::string_view k, std::string_view v) {
    if (k.size() < 19) return true;
    std::uint64_t id = enc::get_u64(k.data() + 11);
    StreamState st;
    if (I.alerts.count(id) && decode(v, st)) I.book.restore(id, std::string(k.substr(19)), std::move(st));
    return true;
  });
  for (const auto& [id, a] : I.alerts) I.define(a);  // sizes restored verdict vectors
  auto bump = [&](std::string_view prefix, std::size_t off) {
    storage_.scan_prefix(Cf::meta, prefix, [&](std::string_view k, std::string_view) {
      if (k.size() >= off + 8) I.next_seq = std::max(I.next_seq, enc::get_u64(k.data() + off) + 1);
      return true;
    });
  };
  bump("outbox/", 7);
  bump("history/", 16);
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
  std::vector<std::string> records;
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
    std::string old_conds;
    if (old) {
      Alert tmp = *old;
      for (auto& c : tmp.conditions) c.id = 0;
      tmp.services.clear();
      old_conds = to_json(Alert{0, "", "", 2, true, 0, tmp.conditions, {}, "{}", 0, 0});
    }
    std::string new_conds = to_json(Alert{0, "", "", 2, true, 0, a.conditions, {}, "{}", 0, 0});
    bool changed = !old || old_conds != new_conds || old->active != a.active;
    for (std::size_t i = 0; i < a.conditions.size(); ++i)
      a.conditions[i].id = (!changed && old && i < old->conditions.size()) ? old->conditions[i].id : I.next_cond++;
    std::vector<AlertEvent> events;
    AlertBook::Dirty dirty;
    if (changed) {
      // Tracking restarts with the new definition; streams firing under the old one clear.
      if (old) events = I.book.clear(a.id, wall_ms(), a.active ? "alert conditions changed" : "alert deactivated", dirty);
      I.generations[a.id] = I.next_generation++;
    }
    Alert before = old ? *old : Alert{};
    I.alerts[a.id] = a;
    I.define(a);
    Storage::Batch batch;
    batch.put(Cf::meta, alert_key(a.id), to_json(a));
    if (!storage_.write(batch, err) || !I.persist(events, dirty, storage_, records, err)) {
      if (old) I.alerts[a.id] = before;
      else I.alerts.erase(a.id);
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
  batch.del(Cf::meta, alert_key(id));
  // Keys of alert id+1 bound those of alert id (big-endian ids).
  batch.delete_range(Cf::meta, state_prefix(id), state_prefix(id + 1));
  batch.delete_range(Cf::meta, history_prefix(id), history_prefix(id + 1));
  if (!storage_.write(batch, err)) return Result::storage_error;
  I.alerts.erase(id);
  I.book.remove(id);
  I.generations.erase(id);
  I.publish();
  return Result::ok;
}

AlertHub::Result AlertHub::clear_alert(std::uint64_t id, std::string& err) {
  auto& I = *impl_;
  std::vector<std::string> records;
  {
    std::lock_guard lock(I.mu);
    auto it = I.alerts.find(id);
    if (it == I.alerts.end()) return Result::not_found;
    AlertBook::Dirty dirty;
    auto events = I.book.clear(id, wall_ms(), "cleared by hand", dirty);
    // Trackers restart, so a condition still met fires again on the next sample.
    I.generations[id] = I.next_generation++;
    I.define(it->second);
    if (!I.persist(events, dirty, storage_, records, err)) return Result::storage_error;
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
  batch.put(Cf::meta, service_key(s.id), to_json(s));
  if (!storage_.write(batch, err)) return Result::storage_error;
  I.services[s.id] = s;
  return Result::ok;
}

AlertHub::Result AlertHub::delete_service(std::uint64_t id, std::string& err) {
  auto& I = *impl_;
  std::lock_guard lock(I.mu);
  if (!I.services.count(id)) return Result::not_found;
  Storage::Batch batch;
  batch.del(Cf::meta, service_key(id));
  std::vector<std::uint64_t> touched;
  for (auto& [aid, a] : I.alerts) {
    auto it = std::find(a.services.begin(), a.services.end(), id);
    if (it == a.services.end()) continue;
    Alert copy = a;
    copy.services.erase(copy.services.begin() + (it - a.services.begin()));
    batch.put(Cf::meta, alert_key(aid), to_json(copy));
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

std::optional<std::uint64_t> AlertHub::send_test(std::uint64_t service_id, std::string& err) {
  auto& I = *impl_;
  std::string text;
  std::uint64_t seq = 0;
  {
    std::lock_guard lock(I.mu);
    auto it = I.services.find(service_id);
    if (it == I.services.end()) {
      err = "service not found";
      return std::nullopt;
    }
    seq = I.next_seq++;
    auto now = wall_ms();
    json alert = {{"id", 0},
                  {"name", "vigil.test"},
                  {"description", "Test notification from Vigil"},
                  {"runbook_url", ""},
                  {"rearm_seconds", 0},
                  {"conditions", json::array({{{"id", 0}, {"type", "above"}, {"metric_name", "vigil.test"}, {"threshold", 0}}})}};
    json r = {{"id", seq},
              {"kind", "test"},
              {"idempotency_key", "vigil-" + std::to_string(seq)},
              {"alert", alert},
              {"service", I.service_json(it->second)},
              {"stream", {{"tags", {{"source", "vigil"}}}}},
              {"stream_key", "source=vigil"},
              {"condition_index", 0},
              {"values", json::array({1})},
              {"value", 1},
              {"reason", "test notification"},
              {"triggered_at", now / 1000},
              {"resolved_at", nullptr},
              {"time", now / 1000},
              {"created_ms", now},
              {"attempts", 0},
              {"next_attempt_ms", 0},
              {"state", "pending"},
              {"last_error", ""}};
    text = r.dump();
    Storage::Batch batch;
    batch.put(Cf::meta, outbox_key(seq), text);
    if (!storage_.write(batch, err)) return std::nullopt;
  }
  I.deliver({text});
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
  storage_.scan_prefix(Cf::meta, history_prefix(alert_id), [&](std::string_view, std::string_view v) {
    out.emplace_back(v);
    return true;
  });
  return out;
}

std::vector<std::string> AlertHub::outbox() const {
  std::vector<std::string> out;
  storage_.scan_prefix(Cf::meta, "outbox/", [&](std::string_view, std::string_view v) {
    out.emplace_back(v);
    return true;
  });
  return out;
}

std::vector<std::string> AlertHub::pending_outbox() const {
  std::vector<std::string> out;
  for (auto& r : outbox()) {
    auto j = json::parse(r, nullptr, false);
    if (j.is_object() && j.value("state", "") == "pending") out.push_back(std::move(r));
  }
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
  std::vector<std::string> records;
  {
    std::lock_guard lock(I.mu);
    AlertBook::Dirty dirty;
    auto events = I.book.apply(ts, wall_ms(), dirty);
    if (dirty.empty()) return;
    std::string err;
    if (!I.persist(events, dirty, storage_, records, err)) {
      spdlog::error("alerting: cannot persist alert state: {}", err);
      return;
    }
  }
  I.deliver(std::move(records));
}

void AlertHub::set_listener(Listener l) {
  std::lock_guard lock(impl_->listener_mu);
  impl_->listener = std::move(l);
}

bool AlertHub::outbox_update(const std::string& record) {
  impl_->retries.fetch_add(1);
  auto j = json::parse(record, nullptr, false);
  if (!j.is_object()) return false;
  Storage::Batch batch;
  batch.put(Cf::meta, outbox_key(j.value("id", std::uint64_t{0})), record);
  std::string err;
  return storage_.write(batch, err);
}

namespace {
// The history entry of a delivery outcome for outbox record `j` (notification `seq`).
json delivery_event(const json& j, const char* event, std::uint64_t hseq, std::uint64_t seq,
                    std::int64_t now) {
  return {{"seq", hseq},
          {"time", now / 1000},
          {"time_ms", now},
          {"event", event},
          {"kind", j.value("kind", "")},
          {"stream", j["stream"]},
          {"values", j["values"]},
          {"service_id", j["service"].value("id", std::uint64_t{0})},
          {"service_type", j["service"].value("type", "")},
          {"notification_id", seq},
          {"attempts", j.value("attempts", 0)}};
}
}  // namespace

bool AlertHub::outbox_delivered(const std::string& record, int http_status) {
  impl_->delivered.fetch_add(1);
  auto j = json::parse(record, nullptr, false);
  if (!j.is_object()) return false;
  std::uint64_t seq = j.value("id", std::uint64_t{0});
  std::uint64_t alert_id = j["alert"].value("id", std::uint64_t{0});
  Storage::Batch batch;
  batch.del(Cf::meta, outbox_key(seq));
  if (alert_id != 0) {
    std::uint64_t hseq;
    {
      std::lock_guard lock(impl_->mu);
      hseq = impl_->next_seq++;
    }
    auto now = wall_ms();
    json h = delivery_event(j, "notify", hseq, seq, now);
    h["http_status"] = http_status;
    h["latency_ms"] = now - j.value("created_ms", now);
    batch.put(Cf::meta, history_key(alert_id, hseq), h.dump());
  }
  std::string err;
  if (!storage_.write(batch, err)) {
    spdlog::error("alerting: cannot record a delivery: {}", err);
    return false;
  }
  return true;
}

bool AlertHub::outbox_failed(const std::string& record) {
  impl_->failed.fetch_add(1);
  auto j = json::parse(record, nullptr, false);
  if (!j.is_object()) return false;
  std::uint64_t seq = j.value("id", std::uint64_t{0});
  std::uint64_t alert_id = j["alert"].value("id", std::uint64_t{0});
  j["state"] = "failed";
  Storage::Batch batch;
  batch.put(Cf::meta, outbox_key(seq), j.dump());
  if (alert_id != 0) {
    std::uint64_t hseq;
    {
      std::lock_guard lock(impl_->mu);
      hseq = impl_->next_seq++;
    }
    json h = delivery_event(j, "delivery_failed", hseq, seq, wall_ms());
    h["error"] = j.value("last_error", "");
    batch.put(Cf::meta, history_key(alert_id, hseq), h.dump());
  }
  std::string err;
  return storage_.write(batch, err);
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
  std::size_t alerts;
  {
    std::lock_guard lock(I.mu);
    alerts = I.alerts.size();
  }
  prom::metric(out, "vigil_alerts", "gauge", "Defined alerts.", alerts);
  return out;
}

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

  Impl(AlertHub& h, std::uint16_t s) : hub(h), shard(s) {}

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
  if (I.snap->by_metric.empty()) return I.next_deadline();
  std::int64_t now = wall_ms();
  for (const auto& r : records) {
    SeriesAlerts& sa = I.lookup(r.sid);
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

// -- evaluator actors -----------------------------------------------------------------------------

using RecordsPtr = std::shared_ptr<const std::vector<LogRecord>>;

}  // namespace vigil::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(vigil::actors::RecordsPtr)

namespace vigil::actors {

namespace {

using eval_tick_atom = caf::atom_constant<caf::atom("evaltick")>;

struct EvaluatorState {
  std::unique_ptr<ShardAlerts> alerts;
  std::int64_t timer_at = 0;  // wall-clock ms of the armed absent timer, 0 if none
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
  return {
      [=](const RecordsPtr& records) { arm(self->state.alerts->on_apply(*records)); },
      [=](eval_tick_atom) {
        self->state.timer_at = 0;
        arm(self->state.alerts->on_timer());
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
