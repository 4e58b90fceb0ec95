// The metadata object of a metric as Librato renders it.
#pragma once

#include <nlohmann/json.hpp>

#include "engine/meta/catalog.hpp"

namespace vigil::api::librato {

// {"name","display_name","description","period","type","attributes"}: empty strings and an unset
// period are null; attributes is attributes_json parsed (an empty object if it is not an object).
nlohmann::json metric_json(const MetricInfo& info);

}  // namespace vigil::api::librato
