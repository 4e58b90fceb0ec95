#include "engine/catalog.hpp"

namespace vigil {

std::string metric_key(std::string_view name) {
  std::string k(name);
  for (auto& c : k)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return k;
}

}  // namespace vigil
