// Equality and order of short texts (metric names, tag names and values) in a loop instead of a
// call to memcmp: the hot paths compare such texts once or twice per sample.
#pragma once

#include <algorithm>
#include <cstring>
#include <string_view>

namespace vigil {

inline bool same_text(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.size() > 16) return std::memcmp(a.data(), b.data(), a.size()) == 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// The order of std::string::compare (bytes as unsigned): negative, zero or positive.
inline int compare_text(std::string_view a, std::string_view b) {
  const std::size_t n = std::min(a.size(), b.size());
  if (n > 16) {
    if (int c = std::memcmp(a.data(), b.data(), n); c != 0) return c;
  } else {
    for (std::size_t i = 0; i < n; ++i)
      if (a[i] != b[i]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]) ? -1 : 1;
  }
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

}  // namespace vigil
