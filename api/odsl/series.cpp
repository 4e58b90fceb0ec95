#include "api/odsl/series.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>

#include "actors/engine.hpp"
#include "actors/pending_reader.hpp"
#include "engine/meta/catalog.hpp"
#include "engine/model/limits.hpp"
#include "engine/model/text.hpp"
#include "engine/query/tag_filter.hpp"

namespace vigil::api::odsl {

namespace {

using nlohmann::json;

constexpr std::int64_t kTimeMax = kSampleTimeMax;  // 9999-12-31T23:59:59Z
constexpr std::size_t kMaxPeriods = 200000;
constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::max();

json number(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 9007199254740992.0)
    return static_cast<std::int64_t>(v);
  return v;
}

// What one period accumulates.
struct Acc {
  Agg agg;
  // end: the latest sample (ties: the later arrival within a series, the higher series id)
  std::int64_t end_t = std::numeric_limits<std::int64_t>::min();
  std::uint64_t end_sid = 0;
  double end_v = 0;
  // beginning: the earliest sample (ties: the first arrival, the lower series id)
  std::int64_t beg_t = kNone;
  std::uint64_t beg_sid = 0;
  double beg_v = 0;
  // rollup path: the period's earliest bucket and the series that have samples in it
  std::int64_t first_bucket = kNone;
  std::vector<std::pair<std::size_t, Agg>> first;

  void end_candidate(std::int64_t t, std::uint64_t sid, double v) {
    if (t > end_t || (t == end_t && sid >= end_sid)) {
      end_t = t;
      end_sid = sid;
      end_v = v;
    }
  }
  void begin_candidate(std::int64_t t, std::uint64_t sid, double v) {
    if (t < beg_t || (t == beg_t && sid < beg_sid)) {
      beg_t = t;
      beg_sid = sid;
      beg_v = v;
    }
  }
};

double observe(const Acc& a, Observed o) {
  switch (o) {
    case Observed::summed: return a.agg.sum;
    case Observed::averaged: return a.agg.mean();
    case Observed::high: return a.agg.max;
    case Observed::low: return a.agg.min;
    case Observed::beginning: return a.beg_v;
    case Observed::end: return a.end_v;
  }
  return a.agg.sum;
}

// The index of the period holding time t (periods ordered, not overlapping), or -1.
std::ptrdiff_t period_index(const std::vector<Period>& ps, std::int64_t t) {
  auto it = std::upper_bound(ps.begin(), ps.end(), t, [](std::int64_t v, const Period& p) { return v < p.start; });
  if (it == ps.begin()) return -1;
  --it;
  if (t >= it->end) return -1;
  return it - ps.begin();
}

}  // namespace

std::int64_t aligned_resolution(const std::vector<Period>& ps) {
  for (int i = kResolutionCount - 1; i >= 0; --i) {
    std::int64_t r = kResolutions[i];
    bool ok = true;
    for (const auto& p : ps)
      if (p.start % r != 0 || p.end % r != 0) {
        ok = false;
        break;
      }
    if (ok) return r;
  }
  return 0;
}

// -- filters --------------------------------------------------------------------------------------

std::string normalize_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (!is_plain_char(c)) continue;
    out.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return out;
}

void Filter::add(std::string_view field, std::string_view value) {
  std::string name = ascii_lower(field);
  std::string v = normalize_value(value);
  if (name == "provider" || name == "metric") {
    std::string l = ascii_lower(value);
    std::optional<std::string>& slot = name == "provider" ? provider : metric;
    if (slot && *slot != l) nothing = true;
    slot = l;
    return;
  }
  if (v.empty() || v.size() > kMaxTagValueLength) nothing = true;
  for (const auto& [n, old] : tags)
    if (n == name && old != v) nothing = true;
  tags.emplace_back(std::move(name), std::move(v));
}

bool parse_filter(std::string_view text, Filter& out, std::string& err) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    err = "must be a JSON object of field names and values, e.g. {\"application\":\"api\"}";
    return false;
  }
  for (const auto& [k, v] : j.items()) {
    std::string lk = ascii_lower(k);
    if (lk == "_id" || lk == "value" || lk == "timestamp" || lk == "_type") {
      err = "cannot filter on '" + k + "': filters select tag fields (service, application, user, ...)";
      return false;
    }
    if (!is_plain_name(k, kMaxTagNameLength)) {
      err = "'" + k + "' is not a field name";
      return false;
    }
    if (v.is_string()) out.add(k, v.get<std::string>());
    else if (v.is_number_integer() || v.is_number_unsigned()) out.add(k, v.dump());
    else if (v.is_number_float()) out.add(k, number(v.get<double>()).dump());
    else if (v.is_boolean()) out.add(k, v.get<bool>() ? "true" : "false");
    else {
      err = "the value of '" + k + "' must be a string, number or boolean";
      return false;
    }
  }
  return true;
}

// -- ids ------------------------------------------------------------------------------------------

std::string entity_id(std::int64_t time, std::uint64_t sid, std::uint64_t ordinal) {
  char buf[48];
  auto t = static_cast<unsigned long long>(time) & 0xffffffffULL;
  if (sid < (1ULL << 40) && ordinal < (1ULL << 24))
    std::snprintf(buf, sizeof buf, "%08llx%010llx%06llx", t, static_cast<unsigned long long>(sid),
                  static_cast<unsigned long long>(ordinal));
  else
    std::snprintf(buf, sizeof buf, "%08llx%016llx%016llx", t, static_cast<unsigned long long>(sid),
                  static_cast<unsigned long long>(ordinal));
  return buf;
}

bool parse_entity_id(std::string_view id, std::int64_t& time, std::uint64_t& sid, std::uint64_t& ordinal) {
  if (id.size() != 24 && id.size() != 40) return false;
  auto hex = [&](std::size_t from, std::size_t n, std::uint64_t& v) {
    v = 0;
    for (std::size_t i = from; i < from + n; ++i) {
      char c = id[i];
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return false;
      v = (v << 4) | static_cast<std::uint64_t>(d);
    }
    return true;
  };
  std::uint64_t t = 0;
  bool wide = id.size() == 40;
  if (!hex(0, 8, t) || !hex(8, wide ? 16 : 10, sid) || !hex(wide ? 24 : 18, wide ? 16 : 6, ordinal)) return false;
  time = static_cast<std::int64_t>(t);
  return true;
}

// -- evaluation -----------------------------------------------------------------------------------

Response evaluate_series(Resources& res, const SeriesSpec& spec) {
  const Range& range = spec.range;
  const Zone& zone = range.zone;
  const std::string full = spec.provider + "." + spec.metric;
  json body = {{"_type", "VarTimeSeries"},
               {"_id", spec.id},
               {"calendar", spec.calendar.code},
               {"timezone", zone.name()},
               {"observed", observed_name(spec.observed)},
               {"start", nullptr},
               {"data", json::array()}};
  auto answer = [&]() { return json_answer(200, body.dump()); };

  const Filter& f = spec.filter;
  if (f.nothing || (f.provider && *f.provider != ascii_lower(spec.provider)) ||
      (f.metric && *f.metric != ascii_lower(spec.metric)))
    return answer();
  TagFilter tf;
  for (const auto& [n, v] : f.tags) tf.add(n, v);
  QueryBudget budget = res.engine.queries().begin();  // the query limits (engine/query/budget.hpp)
  actors::PendingReader reader(res.engine, &budget);
  auto refs = reader.series_matching(metric_key(full), tf);
  if (refs.empty()) return answer();
  std::vector<std::uint64_t> ids;
  for (const auto& r : refs) ids.push_back(r.id);
  budget.plan_points(ids.size(), 0);  // the series; the points once the periods are known

  // The periods that overlap the range: from the one holding its start (for within(datetime),
  // that one alone) to the last one starting at or before its end.
  std::int64_t lo = 0, hi = kTimeMax;
  if (range.kind == Range::since || range.kind == Range::between || range.kind == Range::within) {
    lo = period_of(spec.calendar, zone, range.from).start;
    if (range.kind != Range::since) hi = range.point ? lo : range.to;
  }
  // ... narrowed to the days that hold samples (the daily rollups), so that a wide range does not
  // build periods over years without data.
  std::int64_t first_day = kNone, last_day = std::numeric_limits<std::int64_t>::min();
  {
    const std::int64_t scan_lo = lo;
    // The last period starting at or before `hi` can reach a month past it.
    std::int64_t scan_hi = hi >= kTimeMax - 40 * 86400 ? kTimeMax : hi + 40 * 86400;
    reader.read_rollups(ids, 86400, floor_to(scan_lo, 86400), scan_hi, [&](std::size_t, std::int64_t t, const Agg& a) {
      if (a.empty()) return;
      first_day = std::min(first_day, t);
      last_day = std::max(last_day, t);
    }, 0);
    if (!reader.status().ok()) return error_body(500, "storage error: " + reader.status().to_string());
  }
  if (first_day == kNone) return answer();
  const std::int64_t data_from = first_day, data_to = last_day + 86399;
  std::int64_t from = std::max(lo, period_of(spec.calendar, zone, data_from).start);
  std::int64_t to = std::min(hi, data_to);
  if (to < from) return answer();

  std::vector<Period> ps;
  if (!periods(spec.calendar, zone, from, to, kMaxPeriods, ps)) {
    res.rejects.bad_query.fetch_add(1);
    return error_body(400,
                      "_range: the range holds more than " + std::to_string(kMaxPeriods) + " periods of " +
                          spec.calendar.code + "; narrow it",
                      "_range");
  }
  if (ps.empty()) return answer();
  std::vector<Acc> acc(ps.size());
  const std::int64_t r = aligned_resolution(ps);
  const bool beginning = spec.observed == Observed::beginning;
  const std::int64_t read_from = ps.front().start, read_to = ps.back().end - 1;
  // The buckets (or raw samples, at one a second) of the periods, before reading them.
  budget.plan_points(0, estimate_points(ids.size(), r > 0 ? r : 1, read_from, read_to));

  if (r > 0) {
    unsigned fields = 0;
    if (spec.observed == Observed::high) fields = kMaxField;
    if (spec.observed == Observed::low) fields = kMinField;
    if (spec.observed == Observed::end || beginning) fields = kLastField;
    reader.read_rollups(ids, r, read_from, read_to - (r - 1), [&](std::size_t i, std::int64_t t, const Agg& a) {
      if (a.empty()) return;
      auto k = period_index(ps, t);
      if (k < 0) return;
      Acc& c = acc[static_cast<std::size_t>(k)];
      c.agg.merge(a);
      c.end_candidate(a.last_time, ids[i], a.last);
      if (beginning) {
        if (t < c.first_bucket) {
          c.first_bucket = t;
          c.first.clear();
        }
        if (t == c.first_bucket) c.first.emplace_back(i, a);
      }
    }, fields);
    if (!reader.status().ok()) return error_body(500, "storage error: " + reader.status().to_string());
    if (beginning) {
      // The first value of a period: a first bucket of one sample is that sample; otherwise the
      // series' raw samples of that bucket are read (the earliest, the first to arrive).
      std::map<std::size_t, std::vector<std::pair<std::int64_t, std::size_t>>> need;  // series -> (bucket, period)
      for (std::size_t k = 0; k < acc.size(); ++k) {
        for (const auto& [i, a] : acc[k].first) {
          if (a.count == 1) acc[k].begin_candidate(a.last_time, ids[i], a.last);
          else need[i].emplace_back(acc[k].first_bucket, k);
        }
      }
      for (auto& [i, buckets] : need) {
        std::sort(buckets.begin(), buckets.end());
        auto take = [&](std::int64_t bfrom, std::int64_t bto, std::size_t& pos) {
          // samples of [bfrom, bto], in time order; the first sample of each needed bucket counts
          std::int64_t done_bucket = kNone;
          reader.read_raw(ids[i], bfrom, bto, [&](std::int64_t t, const Agg& a) {
            while (pos < buckets.size() && buckets[pos].first + r <= t) ++pos;
            if (pos >= buckets.size() || t < buckets[pos].first || buckets[pos].first == done_bucket) return;
            acc[buckets[pos].second].begin_candidate(t, ids[i], a.last);
            done_bucket = buckets[pos].first;
          });
        };
        if (buckets.size() > 32) {
          std::size_t pos = 0;
          take(buckets.front().first, buckets.back().first + r - 1, pos);
        } else {
          for (std::size_t b = 0; b < buckets.size(); ++b) {
            std::size_t pos = b;
            take(buckets[b].first, buckets[b].first + r - 1, pos);
          }
        }
      }
      if (!reader.status().ok()) return error_body(500, "storage error: " + reader.status().to_string());
    }
  } else {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      reader.read_raw(ids[i], read_from, read_to, [&](std::int64_t t, const Agg& a) {
        auto k = period_index(ps, t);
        if (k < 0) return;
        Acc& c = acc[static_cast<std::size_t>(k)];
        c.agg.merge(a);
        c.end_candidate(t, ids[i], a.last);
        c.begin_candidate(t, ids[i], a.last);
      });
    }
    if (!reader.status().ok()) return error_body(500, "storage error: " + reader.status().to_string());
  }

  std::vector<std::size_t> shown;
  for (std::size_t k = 0; k < acc.size(); ++k)
    if (!acc[k].agg.empty()) shown.push_back(k);
  if (range.kind == Range::last && shown.size() > range.last_n)
    shown.erase(shown.begin(), shown.end() - static_cast<std::ptrdiff_t>(range.last_n));
  json& data = body["data"];
  for (std::size_t k : shown)
    data.push_back({{"time", format_time(ps[k].start, zone)}, {"value", number(observe(acc[k], spec.observed))},
                    {"_type", "TimeValue"}});
  if (!shown.empty()) body["start"] = format_time(ps[shown.front()].start, zone);
  return answer();
}

}  // namespace vigil::api::odsl
