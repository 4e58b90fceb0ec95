// What the dialect's route files share beyond resources.hpp.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http/message.hpp"
#include "api/odsl/resources.hpp"

namespace vigil::api::odsl {

using Params = std::vector<std::pair<std::string, std::string>>;

// The last value of query parameter `key`, or nullptr.
inline const std::string* param(const Params& q, std::string_view key) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : q)
    if (k == key) found = &v;
  return found;
}

// A virtual metric time series (`_metric`, `_calendar`, `_observed`, `_range`, `_filter` of the
// query string), with the service path's selection `path` (field, value) added to the filter.
Response virtual_series(Resources& res, const Request& req,
                        const std::vector<std::pair<std::string, std::string>>& path);

}  // namespace vigil::api::odsl
