// Small text predicates and conversions the dialects build their naming rules from.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace vigil {

// True for the characters of /[-.:_\w]/ (ASCII \w: [A-Za-z0-9_]): a "plain" name character.
constexpr bool is_plain_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == ':';
}

// 1..max_len plain characters.
bool is_plain_name(std::string_view name, std::size_t max_len);

constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c; }

// ASCII lower-casing in place / into a copy.
void ascii_lower_in_place(std::string& s);
std::string ascii_lower(std::string_view s);

}  // namespace vigil
