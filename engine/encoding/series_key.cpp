#include "engine/encoding/series_key.hpp"

#include <cstring>

namespace vigil::enc {

void append_series_key(std::string& out, std::string_view metric_key, const Tags& tags) {
  // One resize, then plain copies (appending piece by piece checked the capacity each time).
  std::size_t n = metric_key.size() + 1;
  for (const auto& t : tags) n += t.first.size() + t.second.size() + 2;
  const std::size_t at = out.size();
  out.resize(at + n - (tags.empty() ? 0 : 1));
  char* p = out.data() + at;
  std::memcpy(p, metric_key.data(), metric_key.size());
  p += metric_key.size();
  *p++ = '\0';
  bool first = true;
  for (const auto& t : tags) {
    if (!first) *p++ = ',';
    first = false;
    std::memcpy(p, t.first.data(), t.first.size());
    p += t.first.size();
    *p++ = '=';
    std::memcpy(p, t.second.data(), t.second.size());
    p += t.second.size();
  }
}

std::string series_key(std::string_view metric_key, const Tags& tags) {
  std::string k;
  std::size_t n = metric_key.size() + 1;
  for (const auto& t : tags) n += t.first.size() + t.second.size() + 2;
  k.reserve(n);
  append_series_key(k, metric_key, tags);
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
