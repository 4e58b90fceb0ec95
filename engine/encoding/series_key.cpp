#include "engine/encoding/series_key.hpp"

#include <array>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace vigil::enc {

namespace {

constexpr std::array<unsigned char, 256> make_special() {
  std::array<unsigned char, 256> t{};
  t[static_cast<unsigned char>('\\')] = 1;
  t[0] = 1;
  t[static_cast<unsigned char>('=')] = 1;
  t[static_cast<unsigned char>(',')] = 1;
  return t;
}
constexpr std::array<unsigned char, 256> kSpecial = make_special();

std::size_t count_special_bytes(const char* p, std::size_t n) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < n; ++i) count += kSpecial[static_cast<unsigned char>(p[i])];
  return count;
}

// 16 zero bytes, then 16 bytes 0xFF: loaded at offset r, a mask of the last r bytes of 16.
alignas(16) constexpr unsigned char kLastBytes[32] = {0,    0,    0,    0,    0,    0,    0,    0,    0,    0,    0,
                                                      0,    0,    0,    0,    0,    0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
                                                      0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};

// The number of '\', NUL, '=' and ',' bytes in [p, p + n). `base` is where the buffer holding
// them starts: the last 16 bytes are loaded in one go when they lie inside it, even if some of
// them come before p (masked off). Branch-free per byte: 16 bytes a step, counted in byte lanes
// and summed once at the end.
std::size_t count_special(const char* base, const char* p, std::size_t n) {
#if defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  const __m128i backslash = _mm_set1_epi8('\\'), equals = _mm_set1_epi8('='), comma = _mm_set1_epi8(',');
  auto matches = [&](const char* at) {  // 0xFF (-1) in each lane holding one of the four bytes
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
    return _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, zero), _mm_cmpeq_epi8(v, backslash)),
                        _mm_or_si128(_mm_cmpeq_epi8(v, equals), _mm_cmpeq_epi8(v, comma)));
  };
  __m128i total = zero;  // two 64-bit sums
  __m128i lanes = zero;  // per-lane counts, at most 255 steps before they are summed
  std::size_t i = 0, steps = 0;
  for (; i + 16 <= n; i += 16) {
    lanes = _mm_sub_epi8(lanes, matches(p + i));
    if (++steps == 255) {
      total = _mm_add_epi64(total, _mm_sad_epu8(lanes, zero));
      lanes = zero;
      steps = 0;
    }
  }
  std::size_t extra = 0;
  if (const std::size_t rest = n - i; rest != 0) {
    if (p + n - base >= 16) {
      const __m128i last = _mm_loadu_si128(reinterpret_cast<const __m128i*>(kLastBytes + rest));
      lanes = _mm_sub_epi8(lanes, _mm_and_si128(matches(p + n - 16), last));
    } else {
      extra = count_special_bytes(p + i, rest);
    }
  }
  total = _mm_add_epi64(total, _mm_sad_epu8(lanes, zero));
  return static_cast<std::size_t>(_mm_cvtsi128_si64(total)) +
         static_cast<std::size_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(total, total))) + extra;
#else
  (void)base;
  return count_special_bytes(p, n);
#endif
}

char escape_of(char c) { return c == '\0' ? '0' : c; }

// Reads one text of a key from p up to the first raw byte of `stops` (or the end), unescaping;
// false on a '\' not followed by an escaped byte.
bool read_text(const char*& p, const char* end, const char* stops, std::string& out) {
  out.clear();
  while (p < end) {
    const char c = *p;
    if (c == '\\') {
      if (end - p < 2) return false;
      const char e = p[1];
      if (e == '0')
        out.push_back('\0');
      else if (e == '\\' || e == '=' || e == ',')
        out.push_back(e);
      else
        return false;
      p += 2;
      continue;
    }
    if (std::strchr(stops, c) != nullptr && c != '\0') return true;
    out.push_back(c);
    ++p;
  }
  return true;
}

// The tags part, without escapes (the keys of Librato's character set, and every key written
// before escapes existed).
bool parse_plain_tags(std::string_view rest, Tags& tags) {
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

// The tags part with escapes; a raw '=' inside a value is taken as it is, as parse_plain_tags does.
bool parse_escaped_tags(std::string_view rest, Tags& tags) {
  const char* p = rest.data();
  const char* end = p + rest.size();
  std::string name, value;
  while (p < end) {
    if (!read_text(p, end, "=,", name) || p == end || *p != '=' || name.empty()) return false;
    ++p;
    if (!read_text(p, end, ",", value)) return false;
    tags.emplace_back(std::move(name), std::move(value));
    if (p == end) break;
    ++p;  // ','
  }
  return true;
}

void append_escaped_series_key(std::string& out, std::string_view metric_key, const Tags& tags) {
  append_key_text(out, metric_key);
  out.push_back('\0');
  append_tags_key(out, tags);
}

}  // namespace

bool is_plain_key_text(std::string_view text) {
  return count_special(text.data(), text.data(), text.size()) == 0;
}

void append_key_text(std::string& out, std::string_view text) {
  if (is_plain_key_text(text)) {
    out.append(text);
    return;
  }
  for (char c : text) {
    if (kSpecial[static_cast<unsigned char>(c)]) out.push_back('\\');
    out.push_back(escape_of(c));
  }
}

void append_tags_key(std::string& out, const Tags& tags) {
  bool first = true;
  for (const auto& t : tags) {
    if (!first) out.push_back(',');
    first = false;
    append_key_text(out, t.first);
    out.push_back('=');
    append_key_text(out, t.second);
  }
}

void append_series_key(std::string& out, std::string_view metric_key, const Tags& tags) {
  // One resize, then plain copies (appending piece by piece checked the capacity each time).
  std::size_t n = metric_key.size() + 1;
  for (const auto& t : tags) n += t.first.size() + t.second.size() + 2;
  n -= tags.empty() ? 0 : 1;
  const std::size_t at = out.size();
  out.resize(at + n);
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
  // The key holds its own NUL, one '=' per tag and a ',' between tags; any other of the four
  // bytes came from a name or value, which is then written again with escapes (rare: never for
  // Librato's character set).
  const std::size_t separators = tags.empty() ? 1 : 2 * tags.size();
  if (count_special(out.data(), out.data() + at, n) == separators) return;
  out.resize(at);
  append_escaped_series_key(out, metric_key, tags);
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
  tags.clear();
  if (key.find('\\') == std::string_view::npos) {
    metric_key.assign(key.substr(0, nul));
    return parse_plain_tags(key.substr(nul + 1), tags);
  }
  const char* p = key.data();
  if (!read_text(p, key.data() + nul, "", metric_key) || metric_key.empty()) return false;
  return parse_escaped_tags(key.substr(nul + 1), tags);
}

bool parse_tags_key(std::string_view text, Tags& tags) {
  tags.clear();
  if (text.find('\\') == std::string_view::npos) return parse_plain_tags(text, tags);
  return parse_escaped_tags(text, tags);
}

}  // namespace vigil::enc
