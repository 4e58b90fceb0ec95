// The summarizing options of the legacy GET /v1/metrics/:name: summarize_time, summarize_sources,
// breakout_sources and group_by, applied to the per-source point lists of a legacy query.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace vigil {

struct LegacyRecord {
  std::int64_t time = 0;
  double count = 0, sum = 0, min = 0, max = 0;
  double value = 0;       // the mean (sum / count) unless a group function set it
  std::size_t summarized = 0;  // for `all` records: how many source records were combined; 0 = not shown
};

enum class LegacyGroup { none, min, max, mean, sum, count };
std::optional<LegacyGroup> parse_legacy_group(const std::string& s);

struct LegacySummary {
  bool summarize_time = false;     // one record per source: count, sum, min, max over the interval
  bool summarize_sources = false;  // add source `all`: the sources combined per point in time
  bool breakout_sources = true;    // keep the individual sources next to `all`
  LegacyGroup group = LegacyGroup::none;  // `all` applies this function to each statistic
  bool counter = false;  // summarize the deltas of the counter values (a reset counts its new value)
};

// Applies the options to `by_source` (records ascending by time per source), in place.
void summarize_legacy(std::map<std::string, std::vector<LegacyRecord>>& by_source, const LegacySummary& opts);

}  // namespace vigil
