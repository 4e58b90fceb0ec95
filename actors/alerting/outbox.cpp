#include "actors/alerting/outbox.hpp"

#include "actors/alerting/outbox_json.hpp"

namespace vigil::actors {

using nlohmann::json;
using namespace vigil::alerting;

double as_double(const Number& n) {
  return std::visit([](auto v) { return static_cast<double>(v); }, n);
}

const char* to_string(OutboxKind k) {
  switch (k) {
    case OutboxKind::resolve: return "resolve";
    case OutboxKind::test: return "test";
    default: return "trigger";
  }
}

const char* to_string(OutboxState s) { return s == OutboxState::failed ? "failed" : "pending"; }

OutboxAlert outbox_alert(const Alert& a) {
  OutboxAlert o;
  o.id = a.id;
  o.name = a.name;
  o.description = a.description;
  o.runbook_url = a.runbook_url();
  o.rearm_seconds = a.rearm_seconds;
  for (const auto& c : a.conditions) {
    OutboxCondition oc;
    oc.id = c.id;
    oc.type = alerting::to_string(c.type);
    oc.metric_name = c.metric_name;
    if (c.has_threshold) oc.threshold = c.threshold;
    if (c.summary != SummaryFn::deflt) oc.summary_function = alerting::to_string(c.summary);
    if (c.duration > 0) oc.duration = c.duration;
    if (!c.source.empty()) oc.source = c.source;
    o.conditions.push_back(std::move(oc));
  }
  return o;
}

OutboxService outbox_service(const Service& s) {
  OutboxService o;
  o.id = s.id;
  o.type = s.type;
  o.title = s.title;
  json settings = json::parse(s.settings_json, nullptr, false);
  o.settings_json = settings.is_object() ? settings.dump() : "{}";
  return o;
}

std::string to_json(const OutboxRecord& r) {
  json conds = json::array();
  for (const auto& c : r.alert.conditions) conds.push_back(outbox_json::condition(c));
  json alert = {{"id", r.alert.id},
                {"name", r.alert.name},
                {"description", r.alert.description},
                {"runbook_url", r.alert.runbook_url},
                {"rearm_seconds", r.alert.rearm_seconds},
                {"conditions", conds}};
  json settings = json::parse(r.service.settings_json, nullptr, false);
  if (!settings.is_object()) settings = json::object();
  json service = {{"id", r.service.id}, {"type", r.service.type}, {"title", r.service.title}, {"settings", settings}};
  json j = {{"id", r.id},
            {"kind", to_string(r.kind)},
            {"idempotency_key", r.idempotency_key},
            {"alert", alert},
            {"service", service},
            {"stream", outbox_json::stream(r.stream)},
            {"stream_key", r.stream_key},
            {"condition_index", r.condition_index},
            {"values", outbox_json::values(r.values)},
            {"value", outbox_json::number(r.value)},
            {"reason", r.reason},
            {"triggered_at", r.triggered_at},
            {"resolved_at", r.resolved_at ? json(*r.resolved_at) : json(nullptr)},
            {"time", r.time},
            {"created_ms", r.created_ms},
            {"attempts", r.attempts},
            {"next_attempt_ms", r.next_attempt_ms},
            {"state", to_string(r.state)},
            {"last_error", r.last_error}};
  if (r.failed_ms) j["failed_ms"] = *r.failed_ms;
  return j.dump();
}

namespace {

// Reads the fields of one JSON object; the first missing or mistyped field is kept as the error.
class Reader {
 public:
  Reader(const json& j, std::string path, std::string& err) : j_(j), path_(std::move(path)), err_(err) {}

  bool ok() const { return err_.empty(); }

  const json* field(const char* key, bool (json::*is)() const noexcept, const char* what) {
    if (!ok()) return nullptr;
    auto it = j_.find(key);
    if (it == j_.end()) {
      fail(key, "is missing");
      return nullptr;
    }
    if (!((*it).*is)()) {
      fail(key, std::string("must be ") + what);
      return nullptr;
    }
    return &*it;
  }
  // A key that may be absent (optional fields of a condition).
  bool has(const char* key) const { return ok() && j_.contains(key); }

  void u64(const char* key, std::uint64_t& out) {
    if (auto* v = field(key, &json::is_number_unsigned, "a non-negative integer")) out = v->get<std::uint64_t>();
  }
  void i64(const char* key, std::int64_t& out) {
    if (auto* v = field(key, &json::is_number_integer, "an integer")) out = v->get<std::int64_t>();
  }
  void str(const char* key, std::string& out) {
    if (auto* v = field(key, &json::is_string, "a string")) out = v->get<std::string>();
  }
  // An integer, a double or null.
  void number(const char* key, std::optional<Number>& out) {
    if (!ok()) return;
    auto it = j_.find(key);
    if (it == j_.end()) return fail(key, "is missing");
    if (!read_number(*it, out)) fail(key, "must be a number or null");
  }
  const json* object(const char* key) { return field(key, &json::is_object, "an object"); }
  const json* array(const char* key) { return field(key, &json::is_array, "an array"); }

  void fail(const std::string& key, const std::string& why) {
    if (ok()) err_ = path_ + key + " " + why;
  }
  const std::string& path() const { return path_; }

  static bool read_number(const json& v, std::optional<Number>& out) {
    if (v.is_null()) out.reset();
    else if (v.is_number_integer()) out = v.get<std::int64_t>();
    else if (v.is_number_float()) out = v.get<double>();
    else return false;
    return true;
  }

 private:
  const json& j_;
  std::string path_;
  std::string& err_;
};

void read_condition(const json& j, const std::string& path, OutboxCondition& c, std::string& err) {
  if (!j.is_object()) {
    err = path + " must be an object";
    return;
  }
  Reader r(j, path + ".", err);
  r.u64("id", c.id);
  r.str("type", c.type);
  r.str("metric_name", c.metric_name);
  if (r.has("threshold")) {
    r.number("threshold", c.threshold);
    if (r.ok() && !c.threshold) r.fail("threshold", "must be a number");
  }
  if (r.has("summary_function")) r.str("summary_function", c.summary_function.emplace());
  if (r.has("duration")) r.i64("duration", c.duration.emplace());
  if (r.has("source")) r.str("source", c.source.emplace());
}

void read_alert(const json& j, OutboxAlert& a, std::string& err) {
  Reader r(j, "alert.", err);
  r.u64("id", a.id);
  r.str("name", a.name);
  r.str("description", a.description);
  r.str("runbook_url", a.runbook_url);
  r.i64("rearm_seconds", a.rearm_seconds);
  const json* conds = r.array("conditions");
  if (!conds) return;
  for (std::size_t i = 0; i < conds->size() && err.empty(); ++i)
    read_condition((*conds)[i], "alert.conditions[" + std::to_string(i) + "]", a.conditions.emplace_back(), err);
}

void read_service(const json& j, OutboxService& s, std::string& err) {
  Reader r(j, "service.", err);
  r.u64("id", s.id);
  r.str("type", s.type);
  r.str("title", s.title);
  if (const json* settings = r.object("settings")) s.settings_json = settings->dump();
}

void read_stream(const json& j, Tags& tags, std::string& err) {
  Reader r(j, "stream.", err);
  const json* t = r.object("tags");
  if (!t) return;
  for (const auto& [k, v] : t->items()) {
    if (!v.is_string()) return r.fail("tags." + k, "must be a string");
    tags.emplace_back(k, v.get<std::string>());
  }
}

}  // namespace

bool from_json(std::string_view text, OutboxRecord& out, std::string& err) {
  err.clear();
  json j = json::parse(text, nullptr, false);
  if (!j.is_object()) {
    err = "not a JSON object";
    return false;
  }
  OutboxRecord rec;
  Reader r(j, "", err);
  r.u64("id", rec.id);
  std::string kind;
  r.str("kind", kind);
  if (r.ok()) {
    if (kind == "trigger") rec.kind = OutboxKind::trigger;
    else if (kind == "resolve") rec.kind = OutboxKind::resolve;
    else if (kind == "test") rec.kind = OutboxKind::test;
    else r.fail("kind", "must be trigger, resolve or test");
  }
  r.str("idempotency_key", rec.idempotency_key);
  if (const json* a = r.object("alert")) read_alert(*a, rec.alert, err);
  if (const json* s = r.object("service")) read_service(*s, rec.service, err);
  if (const json* s = r.object("stream")) read_stream(*s, rec.stream, err);
  r.str("stream_key", rec.stream_key);
  std::uint64_t ci = 0;
  r.u64("condition_index", ci);
  rec.condition_index = static_cast<std::size_t>(ci);
  if (const json* vs = r.array("values"))
    for (std::size_t i = 0; i < vs->size() && r.ok(); ++i)
      if (!Reader::read_number((*vs)[i], rec.values.emplace_back()))
        r.fail("values[" + std::to_string(i) + "]", "must be a number or null");
  r.number("value", rec.value);
  r.str("reason", rec.reason);
  r.i64("triggered_at", rec.triggered_at);
  if (r.ok()) {
    auto it = j.find("resolved_at");
    if (it == j.end()) r.fail("resolved_at", "is missing");
    else if (it->is_number_integer()) rec.resolved_at = it->get<std::int64_t>();
    else if (!it->is_null()) r.fail("resolved_at", "must be an integer or null");
  }
  r.i64("time", rec.time);
  r.i64("created_ms", rec.created_ms);
  std::int64_t attempts = 0;
  r.i64("attempts", attempts);
  rec.attempts = static_cast<int>(attempts);
  r.i64("next_attempt_ms", rec.next_attempt_ms);
  std::string state;
  r.str("state", state);
  if (r.ok()) {
    if (state == "pending") rec.state = OutboxState::pending;
    else if (state == "failed") rec.state = OutboxState::failed;
    else r.fail("state", "must be pending or failed");
  }
  r.str("last_error", rec.last_error);
  if (r.ok()) {
    auto it = j.find("failed_ms");
    if (it != j.end()) {
      if (it->is_number_integer()) rec.failed_ms = it->get<std::int64_t>();
      else r.fail("failed_ms", "must be an integer");
    }
  }
  if (!r.ok()) return false;
  out = std::move(rec);
  return true;
}

}  // namespace vigil::actors
