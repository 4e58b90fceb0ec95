#include "engine/encoding.hpp"

namespace vigil::enc {

std::string series_key(std::string_view metric_key, const Tags& tags) {
  std::string k;
  std::size_t n = metric_key.size() + 1;
  for (const auto& t : tags) n += t.first.size() + t.second.size() + 2;
  k.reserve(n);
  k.append(metric_key);
  k.push_back('\0');
  bool first = true;
  for (const auto& t : tags) {
    if (!first) k.push_back(',');
    first = false;
    k.append(t.first);
    k.push_back('=');
    k.append(t.second);
  }
  return k;
}

bool parse_series_key(std::string_view key, std::string& metric_key, Tags& tags) {
  auto nul = key.find('\0');
  if (nul == std::string_view::npos || nul == 0) return false;
  metric_key.assign(key.substr(0, nul));
  tags.clear();
  std::string_view rest = key.substr(nul + 1);
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view pair = rest.substr(0, comma);
    auto eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) return false;
    tags.emplace_back(std::string(pair.substr(0, eq)), std::string(pair.substr(eq + 1)));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return true;
}

}  // namespace vigil::enc
