// Alert evaluation, the pure part: per-series condition trackers fed sample by sample (owned by
// the series' shard), and the alert book that combines condition verdicts per stream, decides
// trigger / clear and whether to notify (rearm), and holds the state that is persisted.
//
// A stream is a tag set (the tags part of the canonical series key, e.g. "host=a,region=x"). A
// condition is evaluated on the series (condition metric, stream tags); an alert fires for a
// stream when every condition holds on it, and clears when one no longer holds.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/alerting/alert_model.hpp"
#include "engine/model/model.hpp"

namespace vigil::alerting {

inline constexpr std::int64_t kNoTime = std::numeric_limits<std::int64_t>::min();

// Evaluation state of one condition on one series.
struct Tracker {
  std::int8_t verdict = -1;                // last verdict reported: -1 none, 0 false, 1 true
  std::int64_t beyond_since = kNoTime;     // time of the first sample of the current run beyond the threshold
  bool has_prev = false;                   // derivative: previous sample value
  double prev = 0;
  std::int64_t prev_time = kNoTime;
  std::int64_t last_seen_ms = 0;           // absent: wall-clock arrival of the last sample
  std::int64_t deadline_ms = 0;            // absent: when the condition will hold if nothing arrives
  std::int64_t reported_ms = 0;            // when a true verdict was last reported (rearm re-assertion)
};

// The value a condition looks at for one sample (summary function over the sample's aggregate;
// derivative = difference with the previous sample's `last`, 0 on a reset when detect_reset).
// nullopt when there is none yet (first sample of a derivative). Updates the derivative state.
std::optional<double> sample_value(const Condition& c, MetricType type, Tracker& t, const Agg& agg,
                                   std::int64_t time);

// Feeds one sample (sample time `time`) to an above/below tracker. Returns the verdict after it:
// true = the condition holds, false = it does not, nullopt = undecided (no value yet, or every
// sample is beyond the threshold but the run does not cover `duration` yet). `value` gets the
// evaluated value when there is one.
std::optional<bool> observe(const Condition& c, MetricType type, Tracker& t, const Agg& agg,
                            std::int64_t time, double& value);

// A change of a condition's verdict on one stream, reported by a shard.
struct Transition {
  std::uint64_t alert_id = 0;
  std::uint64_t generation = 0;  // the alert definition the tracker evaluated
  std::uint32_t cond = 0;
  std::string stream;            // tags key
  bool holds = false;
  double value = 0;
  std::int64_t sample_time = 0;
};

struct StreamState {
  std::vector<std::int8_t> conds;  // per condition: -1 unknown, 0, 1
  std::vector<double> values;      // last value seen per condition
  bool firing = false;
  bool notified = false;           // the trigger of the current (or last) episode was notified
  std::int64_t triggered_at = 0;   // ms
  std::int64_t cleared_at = 0;     // ms
  std::int64_t notified_at = 0;    // ms of the last trigger notification (rearm)
  // In memory only (not encoded): the last change (ms), for the release of idle streams.
  std::int64_t touched_ms = 0;
};
std::string encode(const StreamState& s);
bool decode(std::string_view text, StreamState& s);

struct AlertEvent {
  enum class Kind { trigger, clear } kind = Kind::trigger;
  std::uint64_t alert_id = 0;
  std::string stream;
  bool notify = false;
  std::string reason;              // why: "conditions met", "condition no longer met", "cleared by hand", ...
  std::vector<double> values;
  std::int64_t time_ms = 0;
  std::int64_t triggered_at_ms = 0;
};

class AlertBook {
 public:
  struct AlertInfo {
    std::uint64_t generation = 0;
    std::size_t conditions = 0;
    std::int64_t rearm_seconds = 600;
    bool active = true;
  };
  using Dirty = std::set<std::pair<std::uint64_t, std::string>>;

  // Defines or redefines an alert. Verdicts are kept when the generation is unchanged, reset
  // otherwise (firing streams stay firing until a verdict clears them or clear() is called).
  void define(std::uint64_t id, const AlertInfo& info);
  void remove(std::uint64_t id);
  const AlertInfo* info(std::uint64_t id) const;

  // Applies transitions; returns trigger / clear events; `dirty` collects changed streams. A
  // true verdict for a stream already firing re-notifies its trigger when the last trigger
  // notification is at least rearm_seconds old (rearm_seconds 0: never while it keeps firing).
  std::vector<AlertEvent> apply(const std::vector<Transition>& ts, std::int64_t now_ms, Dirty& dirty);
  // Clears every firing stream of an alert (resolve notified when its trigger was), and resets
  // the verdicts of all its streams.
  std::vector<AlertEvent> clear(std::uint64_t id, std::int64_t now_ms, const std::string& reason, Dirty& dirty);

  // Restores a persisted stream state (at start), or a stream's state as it was before a change
  // that could not be persisted.
  void restore(std::uint64_t id, const std::string& stream, StreamState s);
  // Forgets a stream (a change that could not be persisted created it, or it was released).
  void erase(std::uint64_t id, const std::string& stream);
  // Streams that can be forgotten without changing any later decision: not firing, no condition
  // holding (a verdict of 1 would be lost), no change for `idle_ms`, and past their alert's
  // rearm period since the last notification.
  std::vector<std::pair<std::uint64_t, std::string>> idle(std::int64_t now_ms, std::int64_t idle_ms) const;
  std::size_t stream_count() const;
  const std::map<std::string, StreamState>* streams(std::uint64_t id) const;
  const StreamState* stream(std::uint64_t id, const std::string& stream) const;

 private:
  std::map<std::uint64_t, AlertInfo> alerts_;
  std::map<std::uint64_t, std::map<std::string, StreamState>> streams_;
};

// "host=a,region=x" -> tags; the inverse of enc::append_tags_key (the tags part of a series key).
Tags parse_stream(std::string_view stream);

}  // namespace vigil::alerting
