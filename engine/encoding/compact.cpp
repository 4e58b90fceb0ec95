#include "engine/encoding/compact.hpp"

#include <array>
#include <cmath>
#include <cstring>

#include "engine/encoding/decimal.hpp"

namespace vigil::enc {

using detail::decimal_form;
using detail::decimal_value;
using detail::DecimalForm;
using detail::kMantissaLimit;

namespace {

// Tag t < 250: k = t / 25 decimals, c = t % 25 / 5 - 2 units in the last place, w = t % 5 + 1
// bytes of zigzag mantissa, little-endian.
struct TagInfo {
  std::uint8_t k, w;
  std::int8_t c;
  bool ok;
};
constexpr std::array<TagInfo, 256> make_tags() {
  std::array<TagInfo, 256> t{};
  for (int i = 0; i < 250; ++i)
    t[static_cast<std::size_t>(i)] = TagInfo{static_cast<std::uint8_t>(i / 25), static_cast<std::uint8_t>(i % 5 + 1),
                                             static_cast<std::int8_t>(i % 25 / 5 - 2), true};
  return t;
}
constexpr std::array<TagInfo, 256> kTags = make_tags();

int bytes_for(std::uint64_t z) {
  int w = 1;
  while (w < 8 && (z >> (8 * w)) != 0) ++w;
  return w;
}

}  // namespace

unsigned char double_tag(double v, std::int64_t& mantissa, int hint) {
  const DecimalForm f = decimal_form(v, hint);
  if (!f.ok) return kRawDouble;
  const int w = bytes_for(zigzag(f.m));
  if (w > 5) return kRawDouble;
  mantissa = f.m;
  return static_cast<unsigned char>(f.k * 25 + (f.c + 2) * 5 + (w - 1));
}

int put_double(std::string& out, double v, int hint) {
  std::int64_t m = 0;
  unsigned char tag = double_tag(v, m, hint);
  out.push_back(static_cast<char>(tag));
  if (tag == kRawDouble) {
    put_f64(out, v);
    return -1;
  }
  std::uint64_t z = zigzag(m);
  char b[8];
  std::memcpy(b, &z, 8);
  out.append(b, kTags[tag].w);
  return kTags[tag].k;
}

namespace {

// The mantissa bytes of a tag; false when fewer are left.
[[gnu::always_inline]] inline bool mantissa(const char*& p, const char* end, int w, std::uint64_t& z) {
  if (end - p >= 8) {
    std::memcpy(&z, p, 8);
    z &= w == 8 ? ~std::uint64_t{0} : (std::uint64_t{1} << (8 * w)) - 1;
  } else {
    if (end - p < w) return false;
    z = 0;
    std::memcpy(&z, p, static_cast<std::size_t>(w));
  }
  p += w;
  return true;
}

[[gnu::always_inline]] inline bool double_after_tag(unsigned char tag, const char*& p, const char* end, double& v) {
  if (tag == kRawDouble) {
    if (end - p < 8) return false;
    v = get_f64(p);
    p += 8;
    return true;
  }
  const TagInfo& ti = kTags[tag];
  if (!ti.ok) return false;
  std::uint64_t z;
  if (!mantissa(p, end, ti.w, z)) return false;
  v = decimal_value(ti.k, ti.c, unzigzag(z));
  return true;
}

[[gnu::always_inline]] inline bool read_double(const char*& p, const char* end, double& v) {
  if (p >= end) return false;
  auto tag = static_cast<unsigned char>(*p++);
  return double_after_tag(tag, p, end, v);
}

// Steps over a double without computing it (left at zero).
[[gnu::always_inline]] inline bool get_field(const char*& p, const char* end, bool wanted, double& v) {
  if (wanted) return read_double(p, end, v);
  v = 0;
  if (p >= end) return false;
  auto tag = static_cast<unsigned char>(*p++);
  const std::ptrdiff_t n = tag == kRawDouble ? 8 : kTags[tag].w;
  if (tag != kRawDouble && !kTags[tag].ok) return false;
  if (end - p < n) return false;
  p += n;
  return true;
}

}  // namespace

bool get_double_after_tag(unsigned char tag, const char*& p, const char* end, double& v) {
  return double_after_tag(tag, p, end, v);
}

bool get_double(const char*& p, const char* end, double& v) { return read_double(p, end, v); }

void put_compact_agg(std::string& out, const Agg& a, std::int64_t ref) {
  const bool single = is_single_entry(a);
  const bool whole = a.count >= 0 && a.count < kMantissaLimit && a.count == std::floor(a.count) &&
                     !std::signbit(a.count);
  out.push_back(static_cast<char>((single ? 1 : 0) | (whole ? 0 : 2)));
  if (whole)
    put_varint(out, static_cast<std::uint64_t>(a.count));
  else
    put_double(out, a.count);
  const int k = put_double(out, a.sum);
  put_varint(out, zigzag(static_cast<std::int64_t>(static_cast<std::uint64_t>(a.last_time) - static_cast<std::uint64_t>(ref))));
  if (!single) {
    // The length of the four values first, so that readers that need none of them skip them at once.
    // Each value's decimal places are tried at its neighbour's first.
    const std::size_t at = out.size();
    out.push_back('\0');
    const int kmin = put_double(out, a.min, k);
    put_double(out, a.max, kmin);
    put_double(out, a.last, kmin);
    put_double(out, a.sumsq, kmin >= 0 && kmin <= 4 ? 2 * kmin : -1);
    out[at] = static_cast<char>(out.size() - at - 1);  // at most 4 x 9 bytes
  }
}

bool get_compact_agg(const char*& p, const char* end, std::int64_t ref, Agg& a, unsigned fields) {
  if (p >= end) return false;
  const auto flags = static_cast<unsigned char>(*p++);
  if (flags > 3) return false;
  if (flags & 2) {
    if (!read_double(p, end, a.count)) return false;
  } else {
    std::uint64_t n;
    if (!get_varint(p, end, n)) return false;
    a.count = static_cast<double>(n);
  }
  if (!read_double(p, end, a.sum)) return false;
  std::uint64_t z;
  if (!get_varint(p, end, z)) return false;
  a.last_time = static_cast<std::int64_t>(static_cast<std::uint64_t>(ref) + static_cast<std::uint64_t>(unzigzag(z)));
  if (flags & 1) {
    a.min = a.max = a.last = a.sum;
    a.sumsq = a.sum * a.sum;
    return true;
  }
  if (p >= end) return false;
  const auto len = static_cast<unsigned char>(*p++);
  if (end - p < len) return false;
  const char* values_end = p + len;
  if ((fields & kAllFields) == 0) {
    a.min = a.max = a.last = a.sumsq = 0;
    p = values_end;
    return true;
  }
  if (!get_field(p, values_end, fields & kMinField, a.min) || !get_field(p, values_end, fields & kMaxField, a.max) ||
      !get_field(p, values_end, fields & kLastField, a.last) || !get_field(p, values_end, fields & kSumsqField, a.sumsq))
    return false;
  return p == values_end;
}

}  // namespace vigil::enc
