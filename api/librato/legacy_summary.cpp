#include "api/librato/legacy_summary.hpp"

#include <algorithm>

namespace vigil {

namespace {

LegacyRecord merge(const std::vector<const LegacyRecord*>& rs) {
  LegacyRecord out;
  out.time = rs.front()->time;
  out.min = rs.front()->min;
  out.max = rs.front()->max;
  for (const auto* r : rs) {
    out.count += r->count;
    out.sum += r->sum;
    out.min = std::min(out.min, r->min);
    out.max = std::max(out.max, r->max);
  }
  out.value = out.count > 0 ? out.sum / out.count : 0;
  return out;
}

double group_value(LegacyGroup g, const std::vector<double>& xs) {
  double acc = xs.front();
  switch (g) {
    case LegacyGroup::min:
      for (double x : xs) acc = std::min(acc, x);
      return acc;
    case LegacyGroup::max:
      for (double x : xs) acc = std::max(acc, x);
      return acc;
    case LegacyGroup::sum:
    case LegacyGroup::mean: {
      double s = 0;
      for (double x : xs) s += x;
      return g == LegacyGroup::sum ? s : s / static_cast<double>(xs.size());
    }
    case LegacyGroup::count: return static_cast<double>(xs.size());
    case LegacyGroup::none: break;
  }
  return acc;
}

// The `all` record of the records of several sources at one time.
LegacyRecord combine(const std::vector<const LegacyRecord*>& rs, LegacyGroup g) {
  LegacyRecord out = merge(rs);
  out.summarized = rs.size();
  if (g == LegacyGroup::none) return out;
  std::vector<double> mins, maxs, sums, values;
  for (const auto* r : rs) {
    mins.push_back(r->min);
    maxs.push_back(r->max);
    sums.push_back(r->sum);
    values.push_back(r->value);
  }
  out.min = group_value(g, mins);
  out.max = group_value(g, maxs);
  out.sum = group_value(g, sums);
  out.value = group_value(g, values);
  return out;  // count stays the total number of samples
}

// Counter values -> their deltas (a negative difference is a reset: the new value counts).
std::vector<LegacyRecord> deltas(const std::vector<LegacyRecord>& rs) {
  std::vector<LegacyRecord> out;
  for (std::size_t i = 1; i < rs.size(); ++i) {
    double d = rs[i].value - rs[i - 1].value;
    if (d < 0) d = rs[i].value;
    LegacyRecord r;
    r.time = rs[i].time;
    r.count = 1;
    r.sum = r.min = r.max = r.value = d;
    out.push_back(r);
  }
  return out;
}

}  // namespace

std::optional<LegacyGroup> parse_legacy_group(const std::string& s) {
  if (s == "min") return LegacyGroup::min;
  if (s == "max") return LegacyGroup::max;
  if (s == "mean" || s == "average") return LegacyGroup::mean;
  if (s == "sum") return LegacyGroup::sum;
  if (s == "count") return LegacyGroup::count;
  return std::nullopt;
}

void summarize_legacy(std::map<std::string, std::vector<LegacyRecord>>& by_source, const LegacySummary& opts) {
  if (!opts.summarize_time && !opts.summarize_sources) return;
  if (opts.counter)
    for (auto& [src, rs] : by_source) rs = deltas(rs);
  if (opts.summarize_time) {
    for (auto& [src, rs] : by_source) {
      if (rs.empty()) continue;
      std::vector<const LegacyRecord*> ptrs;
      for (const auto& r : rs) ptrs.push_back(&r);
      LegacyRecord one = merge(ptrs);
      rs = {one};
    }
  }
  if (!opts.summarize_sources) return;
  std::map<std::int64_t, std::vector<const LegacyRecord*>> at;
  for (const auto& [src, rs] : by_source)
    for (const auto& r : rs) at[opts.summarize_time ? 0 : r.time].push_back(&r);
  std::vector<LegacyRecord> all;
  for (auto& [t, rs] : at) {
    if (opts.summarize_time) {
      // one record across sources and time, at the earliest source's time
      std::sort(rs.begin(), rs.end(), [](const LegacyRecord* a, const LegacyRecord* b) { return a->time < b->time; });
    }
    all.push_back(combine(rs, opts.group));
  }
  if (!opts.breakout_sources) by_source.clear();
  by_source["all"] = std::move(all);
}

}  // namespace vigil
