#include "api/librato/lang/single_measurement.hpp"

#include <charconv>
#include <cstring>
#include <system_error>

namespace vigil {

namespace {

constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

struct NumberToken {
  std::string_view text;
  bool negative = false;
  bool integer = false;   // no fraction, no exponent
  bool exponent = false;
  std::uint64_t digits = 0;  // the digits without the point, as an integer
  std::size_t count = 0;     // how many digits
  std::size_t frac = 0;      // how many after the point
};

class Scanner {
 public:
  explicit Scanner(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  void ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  // The next token is `c` (after whitespace): consumes it.
  bool lit(char c) {
    ws();
    if (p_ < end_ && *p_ == c) {
      ++p_;
      return true;
    }
    return false;
  }

  // A string of printable ASCII without escapes.
  bool str(std::string_view& out) {
    if (!lit('"')) return false;
    const char* s = p_;
    for (; p_ < end_; ++p_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out = std::string_view(s, static_cast<std::size_t>(p_ - s));
        ++p_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) return false;
    }
    return false;
  }

  // A number by the JSON grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, with its
  // digits accumulated on the way (exact while there are at most 19).
  bool number(NumberToken& n) {
    ws();
    const char* s = p_;
    n.negative = p_ < end_ && *p_ == '-';
    if (n.negative) ++p_;
    if (p_ == end_) return false;
    n.digits = 0;
    n.count = 0;
    n.frac = 0;
    if (*p_ == '0') {
      ++p_;
      n.count = 1;
    } else if (*p_ >= '1' && *p_ <= '9') {
      accumulate(n);
    } else {
      return false;
    }
    n.integer = true;
    n.exponent = false;
    if (p_ < end_ && *p_ == '.') {
      n.integer = false;
      ++p_;
      const std::size_t before = n.count;
      accumulate(n);
      n.frac = n.count - before;
      if (n.frac == 0) return false;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      n.integer = false;
      n.exponent = true;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      const char* d = p_;
      while (p_ < end_ && is_digit(*p_)) ++p_;
      if (p_ == d) return false;
    }
    n.text = std::string_view(s, static_cast<std::size_t>(p_ - s));
    return true;
  }

  bool at_end() {
    ws();
    return p_ == end_;
  }

 private:
  void accumulate(NumberToken& n) {
    for (; p_ < end_ && is_digit(*p_); ++p_) {
      n.digits = n.digits * 10 + static_cast<std::uint64_t>(*p_ - '0');  // wraps beyond 19 digits: unused then
      ++n.count;
    }
  }

  const char* p_;
  const char* end_;
};

// Key comparison against a literal of compile-time length: a few integer compares, no call.
template <std::size_t N>
inline bool key_is(std::string_view k, const char (&lit)[N]) {
  return k.size() == N - 1 && std::memcmp(k.data(), lit, N - 1) == 0;
}

// An integer token as an int64; false outside its range.
bool to_int(const NumberToken& n, std::int64_t& out) {
  if (n.count <= 18) {  // exact, and within int64
    const auto v = static_cast<std::int64_t>(n.digits);
    out = n.negative ? -v : v;
    return true;
  }
  auto r = std::from_chars(n.text.data(), n.text.data() + n.text.size(), out);
  return r.ec == std::errc() && r.ptr == n.text.data() + n.text.size();
}

// Powers of ten that are exact doubles.
constexpr double kExactPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

// A non-integer token, correctly rounded. Plain decimals of at most 15 digits take the exact
// shortcut: digits / 10^k with both exact doubles is one correctly rounded division.
bool to_double(const NumberToken& n, double& out) {
  if (!n.exponent && n.count <= 15) {
    const double v = static_cast<double>(n.digits) / kExactPow10[n.frac];
    out = n.negative ? -v : v;
    return true;
  }
  auto r = std::from_chars(n.text.data(), n.text.data() + n.text.size(), out);
  return r.ec == std::errc() && r.ptr == n.text.data() + n.text.size();
}

// A number as simdjson reads it: an integer token as an int64 (the value as a double), the
// others as a double; out of those ranges, not recognized.
bool value_number(Scanner& s, double& out) {
  NumberToken n;
  if (!s.number(n)) return false;
  if (!n.integer) return to_double(n, out);
  std::int64_t i = 0;
  if (!to_int(n, i)) return false;
  out = static_cast<double>(i);
  return true;
}

}  // namespace

bool scan_single_measurement(std::string_view body, SingleMeasurementView& out) {
  Scanner s(body);
  out.has_time = false;
  out.has_tags = false;
  out.tag_count = 0;
  bool has_name = false, has_value = false;
  if (!s.lit('{')) return false;
  for (;;) {
    std::string_view key;
    if (!s.str(key) || !s.lit(':')) return false;
    if (key_is(key, "name")) {
      if (has_name || !s.str(out.name)) return false;
      has_name = true;
    } else if (key_is(key, "value")) {
      if (has_value || !value_number(s, out.value)) return false;
      has_value = true;
    } else if (key_is(key, "time")) {
      NumberToken n;
      if (out.has_time || !s.number(n)) return false;
      out.time_is_integer = n.integer;
      if (n.integer ? !to_int(n, out.time_int) : !to_double(n, out.time_double)) return false;
      out.has_time = true;
    } else if (key_is(key, "tags")) {
      if (out.has_tags || !s.lit('{')) return false;
      out.has_tags = true;
      if (!s.lit('}')) {
        for (;;) {
          if (out.tag_count == kMaxTagsPerMeasurement) return false;  // more: the full parser reports it
          auto& [name, value] = out.tags[out.tag_count++];
          if (!s.str(name) || !s.lit(':') || !s.str(value)) return false;
          if (s.lit(',')) continue;
          if (s.lit('}')) break;
          return false;
        }
      }
    } else {
      return false;
    }
    if (s.lit(',')) continue;
    if (s.lit('}')) break;
    return false;
  }
  return s.at_end() && has_name && has_value;
}

}  // namespace vigil
