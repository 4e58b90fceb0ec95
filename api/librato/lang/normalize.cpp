#include "api/librato/lang/normalize.hpp"

namespace vigil {

namespace {

// The lower-cased form of each tag character, 0 for the characters a tag may not hold.
struct TagCharTable {
  char to[256];
  constexpr TagCharTable() : to() {
    for (int c = 0; c < 256; ++c) {
      const char ch = static_cast<char>(c);
      to[c] = is_tag_char(ch) ? ascii_lower(ch) : '\0';
    }
  }
};
constexpr TagCharTable kTagChars;

// Lower-cases `in` into `out` and checks the tag charset and length bounds.
std::string normalize_tag_text(std::string_view in, std::string& out, std::size_t max_len,
                               const char* what) {
  out.resize(in.size());
  char* o = out.data();
  unsigned char bad = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = kTagChars.to[static_cast<unsigned char>(in[i])];
    bad |= c == '\0';
    o[i] = c != '\0' ? c : in[i];
  }
  if (in.empty()) return std::string(what) + " must not be empty";
  if (in.size() > max_len)
    return std::string(what) + " must be at most " + std::to_string(max_len) + " characters";
  if (bad) return std::string(what) + " may only contain A-Za-z0-9 and '.:_-'";
  return {};
}

}  // namespace

std::string normalize_tag_name(std::string_view in, std::string& out) {
  return normalize_tag_text(in, out, kMaxTagNameLength, "tag name");
}

std::string normalize_tag_value(std::string_view in, std::string& out) {
  return normalize_tag_text(in, out, kMaxTagValueLength, "tag value");
}

std::string normalize_source(std::string_view in, std::string& out) {
  std::string err = normalize_tag_text(in, out, kMaxSourceLength, "source");
  if (!err.empty()) return err;
  if (out == "all") return "source 'all' is reserved";
  return {};
}

std::string check_tag_count(std::size_t n) {
  if (n > kMaxTagsPerMeasurement)
    return "at most " + std::to_string(kMaxTagsPerMeasurement) + " tags per measurement, got " +
           std::to_string(n);
  return {};
}

}  // namespace vigil
