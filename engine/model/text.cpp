#include "engine/model/text.hpp"

namespace vigil {

bool is_plain_name(std::string_view name, std::size_t max_len) {
  if (name.empty() || name.size() > max_len) return false;
  for (char c : name)
    if (!is_plain_char(c)) return false;
  return true;
}

void ascii_lower_in_place(std::string& s) {
  for (char& c : s) c = ascii_lower(c);
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  ascii_lower_in_place(out);
  return out;
}

}  // namespace vigil
