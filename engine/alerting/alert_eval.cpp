#include "engine/alerting/alert_eval.hpp"

#include <nlohmann/json.hpp>

#include "engine/encoding/series_key.hpp"

namespace vigil::alerting {

using nlohmann::json;

std::optional<double> sample_value(const Condition& c, MetricType type, Tracker& t, const Agg& agg,
                                   std::int64_t time) {
  switch (resolve(c.summary, type)) {
    case SummaryFn::min: return agg.min;
    case SummaryFn::max: return agg.max;
    case SummaryFn::sum: return agg.sum;
    case SummaryFn::count: return agg.count;
    case SummaryFn::absolute_value: return agg.last;
    case SummaryFn::derivative: {
      std::optional<double> d;
      if (t.has_prev) {
        double delta = agg.last - t.prev;
        if (c.detect_reset && delta < 0) delta = 0;
        d = delta;
      }
      t.has_prev = true;
      t.prev = agg.last;
      t.prev_time = time;
      return d;
    }
    default: return agg.mean();
  }
}

std::optional<bool> observe(const Condition& c, MetricType type, Tracker& t, const Agg& agg,
                            std::int64_t time, double& value) {
  auto v = sample_value(c, type, t, agg, time);
  if (!v) return std::nullopt;
  value = *v;
  bool beyond = c.type == CondType::below ? *v < c.threshold : *v > c.threshold;
  if (!beyond) {
    t.beyond_since = kNoTime;
    return false;
  }
  if (c.duration <= 0) return true;
  if (t.beyond_since == kNoTime || time < t.beyond_since) t.beyond_since = time;
  if (time - t.beyond_since >= c.duration) return true;
  return std::nullopt;
}

std::string encode(const StreamState& s) {
  json j = {{"conds", s.conds},
            {"values", s.values},
            {"firing", s.firing},
            {"notified", s.notified},
            {"triggered_at", s.triggered_at},
            {"cleared_at", s.cleared_at},
            {"notified_at", s.notified_at}};
  return j.dump();
}

bool decode(std::string_view text, StreamState& s) {
  auto j = json::parse(text, nullptr, false);
  if (!j.is_object()) return false;
  // A stored state is read strictly: members of another type (a double where an integer was
  // written, which a conversion would turn into undefined behaviour) make it malformed.
  auto integer = [&](const char* key, std::int64_t& out) {
    auto it = j.find(key);
    if (it == j.end()) return (out = 0, true);
    if (!it->is_number_integer()) return false;
    out = it->get<std::int64_t>();
    return true;
  };
  auto boolean = [&](const char* key, bool& out) {
    auto it = j.find(key);
    if (it == j.end()) return (out = false, true);
    if (!it->is_boolean()) return false;
    out = it->get<bool>();
    return true;
  };
  StreamState r;
  if (auto it = j.find("conds"); it != j.end()) {
    if (!it->is_array()) return false;
    for (const auto& c : *it) {
      if (!c.is_number_integer() || c.get<std::int64_t>() < -1 || c.get<std::int64_t>() > 1) return false;
      r.conds.push_back(static_cast<std::int8_t>(c.get<std::int64_t>()));
    }
  }
  if (auto it = j.find("values"); it != j.end()) {
    if (!it->is_array()) return false;
    for (const auto& v : *it) {
      if (!v.is_number()) return false;
      r.values.push_back(v.get<double>());
    }
  }
  if (!boolean("firing", r.firing) || !boolean("notified", r.notified) || !integer("triggered_at", r.triggered_at) ||
      !integer("cleared_at", r.cleared_at) || !integer("notified_at", r.notified_at))
    return false;
  s = std::move(r);
  return true;
}

void AlertBook::define(std::uint64_t id, const AlertInfo& info) {
  auto it = alerts_.find(id);
  bool reset = it == alerts_.end() || it->second.generation != info.generation ||
               it->second.conditions != info.conditions;
  alerts_[id] = info;
  auto& streams = streams_[id];
  for (auto& [key, st] : streams) {
    if (reset || st.conds.size() != info.conditions) st.conds.assign(info.conditions, -1);
    st.values.resize(info.conditions, 0);
  }
}

void AlertBook::remove(std::uint64_t id) {
  alerts_.erase(id);
  streams_.erase(id);
}

const AlertBook::AlertInfo* AlertBook::info(std::uint64_t id) const {
  auto it = alerts_.find(id);
  return it == alerts_.end() ? nullptr : &it->second;
}

namespace {

AlertEvent make_event(AlertEvent::Kind kind, std::uint64_t id, const std::string& stream, const StreamState& st,
                      std::int64_t now_ms, std::int64_t triggered_at_ms, bool notify, std::string reason) {
  AlertEvent e;
  e.kind = kind;
  e.alert_id = id;
  e.stream = stream;
  e.values = st.values;
  e.time_ms = now_ms;
  e.triggered_at_ms = triggered_at_ms;
  e.notify = notify;
  e.reason = std::move(reason);
  return e;
}

// Ends a firing stream: its clear event is notified when its trigger was.
AlertEvent clear_stream(std::uint64_t id, const std::string& stream, StreamState& st, std::int64_t now_ms,
                        std::string reason) {
  AlertEvent e = make_event(AlertEvent::Kind::clear, id, stream, st, now_ms, st.triggered_at, st.notified,
                            std::move(reason));
  st.firing = false;
  st.notified = false;
  st.cleared_at = now_ms;
  return e;
}

}  // namespace

std::vector<AlertEvent> AlertBook::apply(const std::vector<Transition>& ts, std::int64_t now_ms, Dirty& dirty) {
  std::vector<AlertEvent> events;
  for (const auto& t : ts) {
    auto ai = alerts_.find(t.alert_id);
    if (ai == alerts_.end() || !ai->second.active || ai->second.generation != t.generation) continue;
    const AlertInfo& info = ai->second;
    if (t.cond >= info.conditions) continue;
    StreamState& st = streams_[t.alert_id][t.stream];
    if (st.conds.size() != info.conditions) {
      st.conds.resize(info.conditions, -1);
      st.values.resize(info.conditions, 0);
    }
    st.conds[t.cond] = t.holds ? 1 : 0;
    st.values[t.cond] = t.value;
    st.touched_ms = now_ms;
    dirty.emplace(t.alert_id, t.stream);
    bool all = true, any_false = false;
    for (auto v : st.conds) {
      if (v != 1) all = false;
      if (v == 0) any_false = true;
    }
    if (!st.firing && all) {
      const bool rearmed = st.notified_at == 0 || now_ms - st.notified_at >= info.rearm_seconds * 1000;
      st.firing = true;
      st.triggered_at = now_ms;
      st.notified = rearmed;
      if (rearmed) st.notified_at = now_ms;
      events.push_back(make_event(AlertEvent::Kind::trigger, t.alert_id, t.stream, st, now_ms, now_ms, rearmed,
                                  rearmed ? "conditions met"
                                          : "conditions met; notification suppressed until rearm_seconds elapse"));
    } else if (st.firing && all && t.holds && info.rearm_seconds > 0 &&
               now_ms - st.notified_at >= info.rearm_seconds * 1000) {
      st.notified = true;
      st.notified_at = now_ms;
      events.push_back(make_event(AlertEvent::Kind::trigger, t.alert_id, t.stream, st, now_ms, st.triggered_at, true,
                                  "still firing after rearm_seconds"));
    } else if (st.firing && any_false) {
      events.push_back(clear_stream(t.alert_id, t.stream, st, now_ms, "condition no longer met"));
    }
  }
  return events;
}

std::vector<AlertEvent> AlertBook::clear(std::uint64_t id, std::int64_t now_ms, const std::string& reason,
                                         Dirty& dirty) {
  std::vector<AlertEvent> events;
  auto it = streams_.find(id);
  if (it == streams_.end()) return events;
  for (auto& [key, st] : it->second) {
    if (st.firing) events.push_back(clear_stream(id, key, st, now_ms, reason));
    std::fill(st.conds.begin(), st.conds.end(), -1);
    st.touched_ms = now_ms;
    dirty.emplace(id, key);
  }
  return events;
}

void AlertBook::restore(std::uint64_t id, const std::string& stream, StreamState s) {
  streams_[id][stream] = std::move(s);
}

void AlertBook::erase(std::uint64_t id, const std::string& stream) {
  auto it = streams_.find(id);
  if (it == streams_.end()) return;
  it->second.erase(stream);
}

std::vector<std::pair<std::uint64_t, std::string>> AlertBook::idle(std::int64_t now_ms, std::int64_t idle_ms) const {
  std::vector<std::pair<std::uint64_t, std::string>> out;
  for (const auto& [id, streams] : streams_) {
    auto ai = alerts_.find(id);
    const std::int64_t rearm_ms = ai == alerts_.end() ? 0 : ai->second.rearm_seconds * 1000;
    for (const auto& [key, st] : streams) {
      if (st.firing || now_ms - st.touched_ms < idle_ms) continue;
      if (st.notified_at != 0 && now_ms - st.notified_at < rearm_ms) continue;
      bool holding = false;
      for (auto v : st.conds) holding = holding || v == 1;
      if (!holding) out.emplace_back(id, key);
    }
  }
  return out;
}

std::size_t AlertBook::stream_count() const {
  std::size_t n = 0;
  for (const auto& [id, streams] : streams_) n += streams.size();
  return n;
}

const std::map<std::string, StreamState>* AlertBook::streams(std::uint64_t id) const {
  auto it = streams_.find(id);
  return it == streams_.end() ? nullptr : &it->second;
}

const StreamState* AlertBook::stream(std::uint64_t id, const std::string& stream) const {
  auto it = streams_.find(id);
  if (it == streams_.end()) return nullptr;
  auto s = it->second.find(stream);
  return s == it->second.end() ? nullptr : &s->second;
}

Tags parse_stream(std::string_view rest) {
  Tags tags;
  // Names or values with escaped bytes (engine/encoding/series_key.hpp): the exact inverse.
  if (rest.find('\\') != std::string_view::npos && enc::parse_tags_key(rest, tags)) return tags;
  tags.clear();
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view pair = rest.substr(0, comma);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos) tags.emplace_back(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return tags;
}

}  // namespace vigil::alerting
