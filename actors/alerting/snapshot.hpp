// The shards' view of the alert definitions: an immutable snapshot the hub rebuilds when alerts
// change (AlertHub::snapshot) and every ShardAlerts reads without a lock. Internal to
// actors/alerting/.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/alerting/alert_model.hpp"
#include "engine/query/tag_filter.hpp"

namespace vigil::actors {

// One condition of an active alert, with the tag filter its series must match.
struct CondRef {
  std::shared_ptr<const alerting::Alert> alert;
  std::uint64_t generation = 0;  // trackers restart when the alert's generation changes
  std::uint32_t cond = 0;        // index into alert->conditions
  TagFilter filter;
};

struct AlertSnapshot {
  std::uint64_t version = 0;
  std::unordered_map<std::string, std::vector<CondRef>> by_metric;  // metric key -> conditions
};

}  // namespace vigil::actors
