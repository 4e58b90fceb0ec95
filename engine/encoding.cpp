#include "engine/encoding.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>

namespace vigil::enc {

// -- compact values -------------------------------------------------------------------------------

namespace {

constexpr double kPow10[10] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};
constexpr double kMantissaLimit = 9007199254740992.0;  // 2^53

std::uint64_t bits_of(double d) {
  std::uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}
// Doubles as integers in value order (-0.0 and 0.0 both map to 0): neighbours differ by 1.
std::int64_t ordered(double d) {
  auto b = static_cast<std::int64_t>(bits_of(d));
  return b >= 0 ? b : std::numeric_limits<std::int64_t>::min() - b;
}
double from_ordered(std::int64_t o) {
  std::uint64_t b = o >= 0 ? static_cast<std::uint64_t>(o)
                           : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::min() - o);
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}
// A single-sample aggregate: count 1, min = max = last = sum, sum_squares = sum².
bool single_entry(const Agg& a) {
  const std::uint64_t s = bits_of(a.sum);
  return a.count == 1 && bits_of(a.min) == s && bits_of(a.max) == s && bits_of(a.last) == s &&
         bits_of(a.sumsq) == bits_of(a.sum * a.sum);
}

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

double decimal_value(int k, int c, std::int64_t m) {
  double d = static_cast<double>(m) / kPow10[k];
  return c == 0 ? d : from_ordered(ordered(d) + c);
}

// A double's decimal form: m / 10^k moved by c units in the last place; ok false if none.
struct DecimalForm {
  std::int64_t m = 0;
  int k = 0, c = 0;
  bool ok = false;
};

// round-to-nearest of |x| < 2^51 without a call: adding 1.5 * 2^52 leaves no fraction bits.
inline double round_small(double x) {
  constexpr double kShift = 6755399441055744.0;  // 1.5 * 2^52
  return x >= 0 ? (x + kShift) - kShift : -((-x + kShift) - kShift);
}

// The decimal form of v at exactly k places, if it has one.
[[gnu::always_inline]] inline bool decimal_at(double v, int k, std::uint64_t want, std::int64_t ov, DecimalForm& f) {
  const double scaled = v * kPow10[k];
  const double mag = std::fabs(scaled);
  if (mag >= kMantissaLimit) return false;
  const double r = mag < 2251799813685248.0 ? round_small(scaled) : static_cast<double>(std::llround(scaled));
  // A decimal with k places scales to within a few units in the last place of an integer; a
  // fraction this far off needs more places (the checks below decide; this only skips work).
  if (std::fabs(scaled - r) > 1e-9 * (mag > 1 ? mag : 1)) return false;
  const auto m = static_cast<std::int64_t>(r);
  const double d = static_cast<double>(m) / kPow10[k];
  const std::int64_t od = ordered(d);
  const std::int64_t c = ov - od;
  if (c < -2 || c > 2) return false;
  // decimal_value(k, c, m), without dividing again
  if (bits_of(c == 0 ? d : from_ordered(od + c)) != want) return false;  // -0.0 and the like
  f.m = m;
  f.k = k;
  f.c = static_cast<int>(c);
  f.ok = true;
  return true;
}

// The decimal form of v with the fewest places, or (`any_places`) with `hint` places when it has
// one there: a column's values mostly share their places, one try instead of several. Without
// `any_places` a form at `hint` is still taken when its mantissa is not a multiple of 10 and below
// 2^50: fewer places would need a mantissa at least one unit of the last place away, which is more
// than the two units in the last place of the double that c allows.
DecimalForm decimal_form(double v, int hint = -1, bool any_places = false) {
  DecimalForm f;
  if (!(std::fabs(v) < kMantissaLimit)) return f;  // NaN, infinities, huge
  const std::uint64_t want = bits_of(v);
  const std::int64_t ov = ordered(v);
  if (hint >= 0 && decimal_at(v, hint, want, ov, f)) {
    if (any_places || hint == 0 || (f.m % 10 != 0 && f.m < (std::int64_t{1} << 50) && f.m > -(std::int64_t{1} << 50)))
      return f;
    f = DecimalForm{};
  }
  for (int k = 0; k < 10; ++k)
    if (k != hint && decimal_at(v, k, want, ov, f)) return f;
  return f;
}

int bytes_for(std::uint64_t z) {
  int w = 1;
  while (w < 8 && (z >> (8 * w)) != 0) ++w;
  return w;
}

}  // namespace

void put_varint(std::string& out, std::uint64_t v) {
  char b[10];
  int n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  out.append(b, static_cast<std::size_t>(n));
}

namespace {

// Varint decoding, inlined on the read paths: most values take one to three bytes.
[[gnu::always_inline]] inline bool varint(const char*& p, const char* end, std::uint64_t& v) {
  if (p < end && !(*p & 0x80)) {
    v = static_cast<unsigned char>(*p++);
    return true;
  }
  v = 0;
  for (int shift = 0; shift < 64 && p < end; shift += 7) {
    auto byte = static_cast<unsigned char>(*p++);
    v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

[[gnu::always_inline]] inline bool skip_varint(const char*& p, const char* end) {
  const char* limit = end - p > 10 ? p + 10 : end;
  while (p < limit)
    if (!(*p++ & 0x80)) return true;
  return false;
}

}  // namespace

bool get_varint(const char*& p, const char* end, std::uint64_t& v) { return varint(p, end, v); }

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
  const bool single = single_entry(a);
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
    if (!varint(p, end, n)) return false;
    a.count = static_cast<double>(n);
  }
  if (!read_double(p, end, a.sum)) return false;
  std::uint64_t z;
  if (!varint(p, end, z)) return false;
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

// -- columns ----------------------------------------------------------------------------------------

namespace {

int bit_width64(std::uint64_t v) { return v == 0 ? 0 : 64 - __builtin_clzll(v); }

// Appends values in `b` bits each, little-endian bit order.
class BitWriter {
 public:
  explicit BitWriter(std::string& out) : out_(out) {}
  void put(std::uint64_t v, int b) {
    if (b == 0) return;
    if (b < 64) v &= (std::uint64_t{1} << b) - 1;
    acc_ |= v << n_;
    const int room = 64 - n_;
    if (b >= room) {
      char buf[8];
      std::memcpy(buf, &acc_, 8);
      out_.append(buf, 8);
      acc_ = b > room ? v >> room : 0;
      n_ = b - room;
    } else {
      n_ += b;
    }
  }
  void finish() {
    char buf[8];
    std::memcpy(buf, &acc_, 8);
    out_.append(buf, static_cast<std::size_t>((n_ + 7) / 8));
    acc_ = 0;
    n_ = 0;
  }

 private:
  std::string& out_;
  std::uint64_t acc_ = 0;
  int n_ = 0;
};

std::size_t packed_bytes(std::size_t n, int b) { return (n * static_cast<std::size_t>(b) + 7) / 8; }

// Unpacks n values of b bits from [p, p + packed_bytes(n, b)), which the caller has checked, and
// stores base + each (wrapping).
[[gnu::always_inline]] inline void unpack_add(const char* p, std::size_t n, int b, std::uint64_t base,
                                              std::uint64_t* out) {
  if (b == 0) {
    std::fill(out, out + n, base);
    return;
  }
  const std::size_t bytes = packed_bytes(n, b);
  const std::uint64_t mask = b == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << b) - 1;
  std::size_t i = 0, bit = 0;
  if (b <= 56 && bytes >= 8) {
    // Values whose 8-byte load stays inside the packed bytes (b <= 56: never a ninth byte).
    const std::size_t fast = std::min(n, ((bytes - 8) * 8 + 7) / static_cast<std::size_t>(b) + 1);
    for (; i < fast; ++i, bit += static_cast<std::size_t>(b)) {
      std::uint64_t w;
      std::memcpy(&w, p + (bit >> 3), 8);
      out[i] = base + ((w >> (bit & 7)) & mask);
    }
  }
  for (; i < n; ++i, bit += static_cast<std::size_t>(b)) {
    const std::size_t at = bit >> 3;
    const int shift = static_cast<int>(bit & 7);
    std::uint64_t w = 0;
    if (at + 8 <= bytes) {
      std::memcpy(&w, p + at, 8);
    } else if (bytes >= 8) {
      // The last 8 bytes, moved down so that byte `at` is the lowest (the rest fills with zeros).
      std::memcpy(&w, p + bytes - 8, 8);
      const std::size_t skip = at - (bytes - 8);
      w = skip < 8 ? w >> (8 * skip) : 0;
    } else {
      std::memcpy(&w, p + at, bytes - at);
    }
    std::uint64_t v = w >> shift;
    if (shift + b > 64) v |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[at + 8])) << (64 - shift);
    out[i] = base + (v & mask);
  }
}

[[gnu::always_inline]] inline void unpack(const char* p, std::size_t n, int b, std::uint64_t* out) {
  unpack_add(p, n, b, 0, out);
}

// Integer column body: zigzag varint base, u8 width, packed offsets.
void put_int_body(std::string& out, const std::int64_t* v, std::size_t n) {
  std::int64_t lo = n ? v[0] : 0, hi = lo;
  for (std::size_t i = 1; i < n; ++i) {
    lo = std::min(lo, v[i]);
    hi = std::max(hi, v[i]);
  }
  const int b = bit_width64(static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo));
  put_varint(out, zigzag(lo));
  out.push_back(static_cast<char>(b));
  BitWriter w(out);
  for (std::size_t i = 0; i < n; ++i) w.put(static_cast<std::uint64_t>(v[i]) - static_cast<std::uint64_t>(lo), b);
  w.finish();
}

std::vector<std::uint64_t>& unpack_scratch(std::size_t n) {
  thread_local std::vector<std::uint64_t> s;
  if (s.size() < n) s.resize(n);
  return s;
}

bool get_int_body(const char*& p, const char* end, std::size_t n, std::int64_t* out) {
  std::uint64_t zb;
  if (!varint(p, end, zb) || p >= end) return false;
  const int b = static_cast<unsigned char>(*p++);
  if (b > 64 || static_cast<std::size_t>(end - p) < packed_bytes(n, b)) return false;
  static_assert(sizeof(std::int64_t) == sizeof(std::uint64_t));
  unpack_add(p, n, b, static_cast<std::uint64_t>(unzigzag(zb)), reinterpret_cast<std::uint64_t*>(out));
  p += packed_bytes(n, b);
  return true;
}

// The column body behind a varint length; [p, body_end) on success.
bool column_body(const char*& p, const char* end, const char*& body_end) {
  std::uint64_t len;
  if (!varint(p, end, len) || len > static_cast<std::uint64_t>(end - p)) return false;
  body_end = p + len;
  return true;
}

void put_with_length(std::string& out, const std::string& body) {
  put_varint(out, body.size());
  out.append(body);
}

constexpr std::int64_t kPow10i[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};
// 2^53 / 10^j: the mantissas that stay below 2^53 when scaled by 10^j.
constexpr std::int64_t kMantissaLimitOver[10] = {
    (std::int64_t{1} << 53) / 1,        (std::int64_t{1} << 53) / 10,        (std::int64_t{1} << 53) / 100,
    (std::int64_t{1} << 53) / 1000,     (std::int64_t{1} << 53) / 10000,     (std::int64_t{1} << 53) / 100000,
    (std::int64_t{1} << 53) / 1000000,  (std::int64_t{1} << 53) / 10000000,  (std::int64_t{1} << 53) / 100000000,
    (std::int64_t{1} << 53) / 1000000000};

struct ColumnScratch {
  std::vector<DecimalForm> form;
  std::vector<std::int64_t> m, d;
  std::vector<std::uint8_t> exc;
  std::string body;
};

}  // namespace

void put_int_column(std::string& out, const std::int64_t* v, std::size_t n) {
  thread_local std::string body;
  body.clear();
  put_int_body(body, v, n);
  put_with_length(out, body);
}

bool get_int_column(const char*& p, const char* end, std::size_t n, std::int64_t* out) {
  const char* body_end;
  if (!column_body(p, end, body_end)) return false;
  if (!get_int_body(p, body_end, n, out)) return false;
  return p == body_end;
}

void put_patched_column(std::string& out, const std::uint64_t* v, std::size_t n) {
  // The width that minimises the packed bits plus the exceptions' index gaps and varints.
  std::size_t count[65] = {};
  for (std::size_t i = 0; i < n; ++i) ++count[bit_width64(v[i])];
  int best = 64;
  std::size_t best_bits = SIZE_MAX;
  std::size_t above = 0, above_bits = 0;  // values wider than b, and their exception cost
  for (int b = 64; b >= 0; --b) {
    const std::size_t bits = n * static_cast<std::size_t>(b) + above_bits;
    if (bits <= best_bits) {
      best_bits = bits;
      best = b;
    }
    above += count[b];
    above_bits += count[b] * (16 + 8 * static_cast<std::size_t>((b + 6) / 7));
  }
  thread_local std::string body;
  body.clear();
  body.push_back(static_cast<char>(best));
  const std::uint64_t limit = best == 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << best) - 1;
  std::size_t ne = 0;
  for (std::size_t i = 0; i < n; ++i) ne += v[i] > limit;
  put_varint(body, ne);
  std::size_t next = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (v[i] <= limit) continue;
    put_varint(body, i - next);
    put_varint(body, v[i]);
    next = i + 1;
  }
  BitWriter w(body);
  for (std::size_t i = 0; i < n; ++i) w.put(v[i] <= limit ? v[i] : 0, best);
  w.finish();
  put_with_length(out, body);
}

bool get_patched_column(const char*& p, const char* end, std::size_t n, std::uint64_t* out) {
  const char* body_end;
  if (!column_body(p, end, body_end)) return false;
  end = body_end;
  std::uint64_t ne;
  if (p >= end) return false;
  const int b = static_cast<unsigned char>(*p++);
  if (b > 64 || !varint(p, end, ne) || ne > n) return false;
  const char* exceptions = p;
  for (std::uint64_t e = 0; e < ne; ++e)
    if (!skip_varint(p, end) || !skip_varint(p, end)) return false;
  if (static_cast<std::size_t>(end - p) != packed_bytes(n, b)) return false;
  unpack(p, n, b, out);
  p = end;
  std::size_t at = 0;
  for (std::uint64_t e = 0; e < ne; ++e) {
    std::uint64_t gap, value;
    varint(exceptions, end, gap);
    varint(exceptions, end, value);
    if (gap >= n - at) return false;
    at += gap;
    out[at++] = value;
  }
  return true;
}

bool skip_column(const char*& p, const char* end) {
  const char* body_end;
  if (!column_body(p, end, body_end)) return false;
  p = body_end;
  return true;
}

void put_double_column(std::string& out, const double* v, std::size_t n) {
  thread_local ColumnScratch s;
  s.form.resize(n);
  std::size_t per_k[10] = {};  // values per decimal count
  // Each value's places: the most seen so far first (a value with fewer places has a form there
  // too, and taking it does not change the most places any value needs).
  int seen = -1;
  for (std::size_t i = 0; i < n; ++i) {
    s.form[i] = decimal_form(v[i], seen, true);
    if (s.form[i].ok) {
      ++per_k[s.form[i].k];
      seen = std::max(seen, s.form[i].k);
    }
  }
  // Two candidates for the common K: the most places any value needs, and the fewest that leave
  // at most 1/16 of the values as exceptions. Cost in bits: mantissa and c widths over the values
  // that have a form at K, and 72 bits per other value. The cheapest wins, against 64 bits per
  // value raw.
  int kmax = -1;
  for (int k = 0; k < 10; ++k)
    if (per_k[k]) kmax = k;
  int kcover = kmax;
  for (int k = kmax, above = 0; k >= 0; --k) {
    if (static_cast<std::size_t>(above) > n / 16) break;
    kcover = k;
    above += static_cast<int>(per_k[k]);
  }
  std::size_t best_bits = 64 * n;
  int best_k = -1;
  bool best_delta = false;
  s.m.resize(n);
  s.d.resize(n);
  s.exc.resize(n);
  auto prepare = [&](int K) {  // fills m (exceptions carry the previous mantissa), exc; returns exception count
    std::size_t ne = 0;
    std::int64_t prev = 0;
    bool have = false;
    for (std::size_t i = 0; i < n; ++i) {
      const DecimalForm& f = s.form[i];
      bool ok = f.ok && f.k <= K;
      std::int64_t m = 0;
      if (ok) {
        const std::int64_t lim = kMantissaLimitOver[K - f.k];
        ok = f.m < lim && f.m > -lim;
        if (ok) m = f.m * kPow10i[K - f.k];
      }
      s.exc[i] = !ok;
      if (!ok) {
        ++ne;
        m = prev;
      } else if (!have) {
        // Exceptions before the first value take its mantissa.
        for (std::size_t j = 0; j < i; ++j) s.m[j] = m;
        have = true;
      }
      s.m[i] = m;
      prev = m;
    }
    return ne;
  };
  auto widths = [&](int& mb, int& db, int& cb, int& clo) {
    std::int64_t lo = s.m[0], hi = s.m[0];
    int chi = -2;
    clo = 2;
    for (std::size_t i = 0; i < n; ++i) {
      lo = std::min(lo, s.m[i]);
      hi = std::max(hi, s.m[i]);
      const int c = s.exc[i] ? 0 : s.form[i].c;
      clo = std::min(clo, c);
      chi = std::max(chi, c);
    }
    mb = bit_width64(static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo));
    cb = bit_width64(static_cast<std::uint64_t>(chi - clo));
    std::int64_t dlo = 0, dhi = 0;
    for (std::size_t i = 1; i < n; ++i) {
      const std::int64_t d = s.m[i] - s.m[i - 1];
      if (i == 1 || d < dlo) dlo = d;
      if (i == 1 || d > dhi) dhi = d;
    }
    db = bit_width64(static_cast<std::uint64_t>(dhi) - static_cast<std::uint64_t>(dlo));
  };
  int prepared = -1;
  int mb = 0, db = 0, cb = 0, clo = 0;  // the widths and the least c at `prepared`
  std::size_t ne = 0;                   // its exceptions
  const int candidates[2] = {kcover, kmax};
  for (int K : candidates) {
    if (K < 0 || K == prepared || n == 0) continue;
    ne = prepare(K);
    prepared = K;
    widths(mb, db, cb, clo);
    const bool delta = n * static_cast<std::size_t>(db) + 64 < n * static_cast<std::size_t>(mb);  // + the first mantissa
    const std::size_t bits = n * static_cast<std::size_t>((delta ? db : mb) + cb) + 72 * ne + 64;
    if (bits < best_bits) {
      best_bits = bits;
      best_k = K;
      best_delta = delta;
    }
  }
  std::string& body = s.body;
  body.clear();
  if (best_k < 0) {
    body.push_back(static_cast<char>(kColumnRaw));
    for (std::size_t i = 0; i < n; ++i) put_f64(body, v[i]);
    put_with_length(out, body);
    return;
  }
  const int K = best_k;
  if (prepared != K) {
    ne = prepare(K);
    widths(mb, db, cb, clo);
  }
  const bool has_c = cb > 0 || clo != 0;
  body.push_back(static_cast<char>((best_delta ? kColumnDelta : kColumnDecimal) | (K << 2) | (has_c ? 0x40 : 0) |
                                   (ne ? 0x80 : 0)));
  if (has_c) body.push_back(static_cast<char>((clo + 2) | (cb << 3)));
  if (ne) put_varint(body, ne);
  std::size_t next = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!s.exc[i]) continue;
    put_varint(body, i - next);
    put_f64(body, v[i]);
    next = i + 1;
  }
  if (best_delta) {
    put_varint(body, zigzag(s.m[0]));
    for (std::size_t i = 1; i < n; ++i) s.d[i - 1] = s.m[i] - s.m[i - 1];
    put_int_body(body, s.d.data(), n - 1);
  } else {
    put_int_body(body, s.m.data(), n);
  }
  BitWriter w(body);
  for (std::size_t i = 0; i < n; ++i)
    w.put(static_cast<std::uint64_t>(static_cast<std::int64_t>(s.exc[i] ? 0 : s.form[i].c) - clo), cb);
  w.finish();
  put_with_length(out, body);
}

bool get_double_column(const char*& p, const char* end, std::size_t n, double* out) {
  const char* body_end;
  if (!column_body(p, end, body_end)) return false;
  end = body_end;
  if (p >= end) return false;
  const auto mode = static_cast<unsigned char>(*p++);
  if (mode == kColumnRaw) {
    if (static_cast<std::size_t>(end - p) != 8 * n) return false;
    std::memcpy(out, p, 8 * n);
    p = end;
    return true;
  }
  const int form = mode & 3;
  if (form != kColumnDecimal && form != kColumnDelta) return false;
  const int K = (mode >> 2) & 15;
  if (K > 9) return false;
  std::int64_t clo = 0;
  int cb = 0;
  if (mode & 0x40) {
    if (p >= end) return false;
    const auto cbyte = static_cast<unsigned char>(*p++);
    clo = static_cast<std::int64_t>(cbyte & 7) - 2;
    cb = cbyte >> 3;
    if (clo > 2 || cb > 3) return false;
  }
  std::uint64_t ne = 0;
  if ((mode & 0x80) && (!varint(p, end, ne) || ne == 0 || ne > n || ne > static_cast<std::uint64_t>(end - p) / 9))
    return false;
  const char* exceptions = p;
  for (std::uint64_t e = 0; e < ne; ++e) {
    if (!skip_varint(p, end) || end - p < 8) return false;
    p += 8;
  }
  thread_local std::vector<std::int64_t> mantissas;
  if (mantissas.size() < n) mantissas.resize(n);
  std::int64_t* m = mantissas.data();
  if (form == kColumnDelta) {
    std::uint64_t z0;
    if (n == 0 || !varint(p, end, z0)) return false;
    m[0] = unzigzag(z0);
    if (!get_int_body(p, end, n - 1, m + 1)) return false;
    auto acc = static_cast<std::uint64_t>(m[0]);
    for (std::size_t i = 1; i < n; ++i) m[i] = static_cast<std::int64_t>(acc += static_cast<std::uint64_t>(m[i]));
  } else if (!get_int_body(p, end, n, m)) {
    return false;
  }
  if (K == 0) {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<double>(m[i]);
  } else {
    const double scale = kPow10[K];
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<double>(m[i]) / scale;
  }
  if (cb > 0) {
    if (static_cast<std::size_t>(end - p) < packed_bytes(n, cb)) return false;
    auto& c = unpack_scratch(n);
    unpack(p, n, cb, c.data());
    p += packed_bytes(n, cb);
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t ci = clo + static_cast<std::int64_t>(c[i]);
      if (ci != 0) out[i] = from_ordered(ordered(out[i]) + ci);
    }
  } else if (clo != 0) {
    for (std::size_t i = 0; i < n; ++i) out[i] = from_ordered(ordered(out[i]) + clo);
  }
  if (p != end) return false;
  std::size_t at = 0;
  for (std::uint64_t e = 0; e < ne; ++e) {
    std::uint64_t gap;
    varint(exceptions, end, gap);
    if (gap >= n - at) return false;
    at += gap;
    out[at] = get_f64(exceptions);
    exceptions += 8;
    ++at;
  }
  return true;
}

// -- rollup blocks ---------------------------------------------------------------------------------

namespace {

struct WriterScratch {
  std::vector<double> col;
  std::vector<std::int64_t> ints;
  std::vector<std::uint64_t> zz;
};
WriterScratch& writer_scratch() {
  thread_local WriterScratch s;
  return s;
}

}  // namespace

void RollupBlockWriter::finish() {
  const std::size_t n = index_.size();
  if (n == 0) return;
  bool single = true, dense = true;
  for (std::size_t i = 0; i < n; ++i) {
    single = single && single_entry(agg_[i]);
    dense = dense && (i == 0 || index_[i] == index_[i - 1] + 1);
  }
  put_varint(out_, n);
  if (n <= kRollupEntryWise) {
    // A column's head costs more than a few entries' worth: entry by entry.
    out_.push_back(4);
    int prev = -1;
    for (std::size_t i = 0; i < n; ++i) {
      put_varint(out_, static_cast<std::uint64_t>(index_[i] - prev - 1));
      prev = index_[i];
      put_compact_agg(out_, agg_[i], chunk_ + static_cast<std::int64_t>(index_[i]) * res_);
    }
    index_.clear();
    agg_.clear();
    return;
  }
  out_.push_back(static_cast<char>((single ? 1 : 0) | (dense ? 2 : 0)));
  auto& s = writer_scratch();
  s.ints.resize(n);
  s.col.resize(n);
  if (dense) {
    put_varint(out_, index_[0]);
  } else {
    for (std::size_t i = 0; i < n; ++i) s.ints[i] = index_[i];
    put_int_column(out_, s.ints.data(), n);
  }
  auto column = [&](double Agg::*field) {
    for (std::size_t i = 0; i < n; ++i) s.col[i] = agg_[i].*field;
    put_double_column(out_, s.col.data(), n);
  };
  column(&Agg::count);
  column(&Agg::sum);
  for (std::size_t i = 0; i < n; ++i)
    s.ints[i] = static_cast<std::int64_t>(static_cast<std::uint64_t>(agg_[i].last_time) -
                                          static_cast<std::uint64_t>(chunk_ + static_cast<std::int64_t>(index_[i]) * res_));
  put_int_column(out_, s.ints.data(), n);
  if (!single) {
    column(&Agg::min);
    column(&Agg::max);
    column(&Agg::last);
    column(&Agg::sumsq);
  }
  index_.clear();
  agg_.clear();
}

bool decode_rollup_block(std::string_view block, std::int64_t chunk, std::int64_t res, RollupColumns& c,
                         unsigned fields) {
  const char* p = block.data();
  const char* end = p + block.size();
  c.n = 0;
  std::uint64_t n;
  if (!varint(p, end, n) || n == 0 || n > static_cast<std::uint64_t>(kRollupChunkBuckets) || p >= end) return false;
  const auto flags = static_cast<unsigned char>(*p++);
  if (flags > 4) return false;
  if (c.index.size() < n) {
    c.index.resize(n);
    c.count.resize(n);
    c.sum.resize(n);
    c.min.resize(n);
    c.max.resize(n);
    c.last.resize(n);
    c.sumsq.resize(n);
    c.last_time.resize(n);
  }
  std::int64_t* ints = c.last_time.data();  // indices first go through the time column
  if (flags == 4) {
    int index = -1;
    Agg a;
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t gap;
      if (!varint(p, end, gap) || gap >= static_cast<std::uint64_t>(kRollupChunkBuckets - 1 - index)) return false;
      index += static_cast<int>(gap) + 1;
      if (!get_compact_agg(p, end, chunk + static_cast<std::int64_t>(index) * res, a, fields)) return false;
      c.index[i] = static_cast<std::uint16_t>(index);
      c.count[i] = a.count;
      c.sum[i] = a.sum;
      c.last_time[i] = a.last_time;
      c.min[i] = a.min;
      c.max[i] = a.max;
      c.last[i] = a.last;
      c.sumsq[i] = a.sumsq;
    }
    if (p != end) return false;
    c.n = n;
    return true;
  }
  if (flags & 2) {
    std::uint64_t first;
    if (!varint(p, end, first) || first + n > static_cast<std::uint64_t>(kRollupChunkBuckets)) return false;
    for (std::size_t i = 0; i < n; ++i) c.index[i] = static_cast<std::uint16_t>(first + i);
  } else {
    if (!get_int_column(p, end, n, ints)) return false;
    for (std::size_t i = 0; i < n; ++i) {
      if (ints[i] < 0 || ints[i] >= kRollupChunkBuckets || (i > 0 && ints[i] <= ints[i - 1])) return false;
      c.index[i] = static_cast<std::uint16_t>(ints[i]);
    }
  }
  if (!get_double_column(p, end, n, c.count.data()) || !get_double_column(p, end, n, c.sum.data()) ||
      !get_int_column(p, end, n, ints))
    return false;
  for (std::size_t i = 0; i < n; ++i)
    ints[i] = static_cast<std::int64_t>(static_cast<std::uint64_t>(ints[i]) +
                                        static_cast<std::uint64_t>(chunk + static_cast<std::int64_t>(c.index[i]) * res));
  if (flags & 1) {
    if (p != end) return false;
    for (std::size_t i = 0; i < n; ++i) {
      c.min[i] = c.max[i] = c.last[i] = c.sum[i];
      c.sumsq[i] = c.sum[i] * c.sum[i];
    }
    c.n = n;
    return true;
  }
  // Columns not asked for are skipped; zeroed only when the caller reads some of the four.
  const bool any = (fields & kAllFields) != 0;
  auto field = [&](unsigned bit, std::vector<double>& col) {
    if (fields & bit) return get_double_column(p, end, n, col.data());
    if (any) std::fill(col.begin(), col.begin() + static_cast<std::ptrdiff_t>(n), 0.0);
    return skip_column(p, end);
  };
  if (!field(kMinField, c.min) || !field(kMaxField, c.max) || !field(kLastField, c.last) ||
      !field(kSumsqField, c.sumsq) || p != end)
    return false;
  c.n = n;
  return true;
}

namespace {
struct RollupPool {
  std::vector<std::unique_ptr<RollupColumns>> cols;
  std::size_t depth = 0;
};
RollupPool& rollup_pool() {
  thread_local RollupPool pool;
  return pool;
}
RollupColumns& take_columns() {
  auto& pool = rollup_pool();
  if (pool.depth == pool.cols.size()) pool.cols.push_back(std::make_unique<RollupColumns>());
  return *pool.cols[pool.depth++];
}
}  // namespace

RollupScratch::RollupScratch() : cols(take_columns()) {}
RollupScratch::~RollupScratch() { --rollup_pool().depth; }

// -- raw blocks -------------------------------------------------------------------------------------

void RawBlockWriter::finish() {
  std::size_t next_agg = 0;
  for (std::size_t at = 0; at < time_.size(); at += kRawBlockRecords)
    put_block(at, std::min(time_.size() - at, kRawBlockRecords), next_agg);
  time_.clear();
  value_.clear();
  aggs_.clear();
}

void RawBlockWriter::put_block(std::size_t from, std::size_t n, std::size_t& next_agg) {
  const std::int64_t* time = time_.data() + from;
  std::size_t agg_end = next_agg;
  while (agg_end < aggs_.size() && aggs_[agg_end].first < from + n) ++agg_end;
  const std::size_t aggs = agg_end - next_agg;
  put_varint(out_, n);
  out_.push_back(static_cast<char>(aggs ? 1 : 0));
  put_varint(out_, zigzag(static_cast<std::int64_t>(static_cast<std::uint64_t>(time[0]) - static_cast<std::uint64_t>(ref_))));
  auto& s = writer_scratch();
  // The first delta, then the times as delta-of-delta: zero for regular spacing.
  s.zz.resize(n);
  std::uint64_t prev_delta = 0;
  for (std::size_t i = 1; i < n; ++i) {
    const std::uint64_t delta = static_cast<std::uint64_t>(time[i]) - static_cast<std::uint64_t>(time[i - 1]);
    s.zz[i - 1] = zigzag(static_cast<std::int64_t>(delta - prev_delta));
    prev_delta = delta;
  }
  if (n > 1) {
    put_varint(out_, s.zz[0]);
    put_patched_column(out_, s.zz.data() + 1, n - 2);
  }
  put_double_column(out_, value_.data() + from, n);
  if (aggs) {
    put_varint(out_, aggs);
    std::size_t next = 0;
    for (; next_agg < agg_end; ++next_agg) {
      const std::size_t i = aggs_[next_agg].first - from;
      put_varint(out_, i - next);
      put_compact_agg(out_, aggs_[next_agg].second, time[i]);
      next = i + 1;
    }
  }
}

namespace {

// Decodes the raw block at p (advancing it), appending its records to `out`.
bool decode_raw_block(const char*& p, const char* end, std::int64_t ref, std::vector<std::pair<std::int64_t, Agg>>& out) {
  std::uint64_t n, z0;
  if (!varint(p, end, n) || n == 0 || n > kRawBlockRecords || p >= end) return false;
  const auto flags = static_cast<unsigned char>(*p++);
  if (flags > 1 || !varint(p, end, z0)) return false;
  std::int64_t times[kRawBlockRecords];
  double values[kRawBlockRecords];
  std::uint64_t dod[kRawBlockRecords];
  if (n > 1 && (!varint(p, end, dod[0]) || !get_patched_column(p, end, n - 2, dod + 1))) return false;
  auto t = static_cast<std::uint64_t>(ref) + static_cast<std::uint64_t>(unzigzag(z0));
  times[0] = static_cast<std::int64_t>(t);
  std::uint64_t delta = 0;
  for (std::size_t i = 1; i < n; ++i) {
    delta += static_cast<std::uint64_t>(unzigzag(dod[i - 1]));
    times[i] = static_cast<std::int64_t>(t += delta);
  }
  if (!get_double_column(p, end, n, values)) return false;
  const std::size_t first = out.size();
  for (std::size_t i = 0; i < n; ++i) out.emplace_back(times[i], Agg::of_value(values[i], times[i]));
  if (flags & 1) {
    std::uint64_t na;
    if (!varint(p, end, na) || na == 0 || na > n) return false;
    std::size_t at = 0;
    for (std::uint64_t k = 0; k < na; ++k) {
      std::uint64_t gap;
      if (!varint(p, end, gap) || gap >= n - at) return false;
      at += gap;
      if (!get_compact_agg(p, end, times[at], out[first + at].second)) return false;
      ++at;
    }
  }
  return true;
}

}  // namespace

bool skip_raw_block(const char*& p, const char* end, std::size_t& n) {
  std::uint64_t count, z;
  if (!varint(p, end, count) || count == 0 || count > kRawBlockRecords || p >= end) return false;
  const auto flags = static_cast<unsigned char>(*p++);
  if (flags > 1 || !varint(p, end, z)) return false;
  if (count > 1 && (!varint(p, end, z) || !skip_column(p, end))) return false;
  if (!skip_column(p, end)) return false;
  if (flags & 1) {
    std::uint64_t na;
    if (!varint(p, end, na) || na == 0 || na > count) return false;
    Agg a;
    for (std::uint64_t k = 0; k < na; ++k)
      if (!varint(p, end, z) || !get_compact_agg(p, end, 0, a)) return false;
  }
  n = count;
  return true;
}

bool get_raw_records(std::string_view value, std::int64_t ref, std::vector<std::pair<std::int64_t, Agg>>& out) {
  const char* p = value.data();
  const char* end = p + value.size();
  const std::size_t before = out.size();
  if (p >= end) return false;
  while (p < end)
    if (!decode_raw_block(p, end, ref, out)) {
      out.resize(before);
      return false;
    }
  return true;
}


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
