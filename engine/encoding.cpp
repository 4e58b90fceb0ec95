#include "engine/encoding.hpp"

#include <array>
#include <cmath>
#include <limits>

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
std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t z) { return static_cast<std::int64_t>(z >> 1) ^ -static_cast<std::int64_t>(z & 1); }

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

unsigned char double_tag(double v, std::int64_t& mantissa) {
  if (!std::isfinite(v) || std::fabs(v) >= kMantissaLimit) return kRawDouble;
  const std::uint64_t want = bits_of(v);
  for (int k = 0; k < 10; ++k) {
    const double scaled = v * kPow10[k];
    if (std::fabs(scaled) >= kMantissaLimit) break;
    const auto m = static_cast<std::int64_t>(std::llround(scaled));
    const double d = static_cast<double>(m) / kPow10[k];
    const std::int64_t c = ordered(v) - ordered(d);
    if (c < -2 || c > 2) continue;
    if (bits_of(decimal_value(k, static_cast<int>(c), m)) != want) continue;  // -0.0 and the like
    const int w = bytes_for(zigzag(m));
    if (w > 5) return kRawDouble;
    mantissa = m;
    return static_cast<unsigned char>(k * 25 + (static_cast<int>(c) + 2) * 5 + (w - 1));
  }
  return kRawDouble;
}

void put_double(std::string& out, double v) {
  std::int64_t m = 0;
  unsigned char tag = double_tag(v, m);
  out.push_back(static_cast<char>(tag));
  if (tag == kRawDouble) {
    put_f64(out, v);
    return;
  }
  std::uint64_t z = zigzag(m);
  char b[8];
  std::memcpy(b, &z, 8);
  out.append(b, kTags[tag].w);
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
  const std::uint64_t s = bits_of(a.sum);
  const bool single = a.count == 1 && bits_of(a.min) == s && bits_of(a.max) == s && bits_of(a.last) == s &&
                      bits_of(a.sumsq) == bits_of(a.sum * a.sum);
  const bool whole = a.count >= 0 && a.count < kMantissaLimit && a.count == std::floor(a.count) &&
                     !std::signbit(a.count);
  out.push_back(static_cast<char>((single ? 1 : 0) | (whole ? 0 : 2)));
  if (whole)
    put_varint(out, static_cast<std::uint64_t>(a.count));
  else
    put_double(out, a.count);
  put_double(out, a.sum);
  put_varint(out, zigzag(static_cast<std::int64_t>(static_cast<std::uint64_t>(a.last_time) - static_cast<std::uint64_t>(ref))));
  if (!single) {
    // The length of the four values first, so that readers that need none of them skip them at once.
    const std::size_t at = out.size();
    out.push_back('\0');
    put_double(out, a.min);
    put_double(out, a.max);
    put_double(out, a.last);
    put_double(out, a.sumsq);
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

// -- rollup blocks ---------------------------------------------------------------------------------

void RollupBlockWriter::add(std::uint16_t index, const Agg& a) {
  put_varint(out_, static_cast<std::uint64_t>(index - prev_ - 1));
  prev_ = index;
  put_compact_agg(out_, a, chunk_ + static_cast<std::int64_t>(index) * res_);
}

bool next_rollup_entry(const char*& p, const char* end, std::int64_t chunk, std::int64_t res, int& index, Agg& a,
                       unsigned fields) {
  std::uint64_t gap;
  if (!varint(p, end, gap) || gap >= static_cast<std::uint64_t>(kRollupChunkBuckets)) return false;
  index += static_cast<int>(gap) + 1;
  if (index >= kRollupChunkBuckets) return false;
  return get_compact_agg(p, end, chunk + static_cast<std::int64_t>(index) * res, a, fields);
}

// -- raw blocks -------------------------------------------------------------------------------------

void RawBlockWriter::add(std::int64_t t, const Agg& a) {
  const auto delta = static_cast<std::int64_t>(static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(prev_));
  const auto dod = static_cast<std::int64_t>(static_cast<std::uint64_t>(delta) - static_cast<std::uint64_t>(delta_));
  prev_ = t;
  delta_ = delta;
  const unsigned char spacing = dod != 0 ? 0x80 : 0;
  if (!is_single_value(a, t)) {
    out_.push_back(static_cast<char>(spacing | kRawAggregate));
    if (dod != 0) put_varint(out_, zigzag(dod));
    put_compact_agg(out_, a, t);
    return;
  }
  out_.push_back(static_cast<char>(spacing));
  if (dod != 0) put_varint(out_, zigzag(dod));
  put_double(out_, a.sum);
}

bool RawBlockReader::next(std::int64_t& t, Agg& a) {
  if (p_ >= end_) return false;
  const auto head = static_cast<unsigned char>(*p_++);
  std::int64_t dod = 0;
  if (head & 0x80) {
    std::uint64_t z;
    if (!varint(p_, end_, z)) return false;
    dod = unzigzag(z);
  }
  delta_ = static_cast<std::int64_t>(static_cast<std::uint64_t>(delta_) + static_cast<std::uint64_t>(dod));
  prev_ = static_cast<std::int64_t>(static_cast<std::uint64_t>(prev_) + static_cast<std::uint64_t>(delta_));
  t = prev_;
  const unsigned char form = head & 0x7f;
  if (form == kRawAggregate) return get_compact_agg(p_, end_, t, a);
  if (form != 0) return false;
  double v;
  if (!read_double(p_, end_, v)) return false;
  a = Agg::of_value(v, t);
  return true;
}

std::string series_key(std::string_view metric_key, const Tags& tags) {
  std::string k;
  std::size_t n = metric_key.size() + 1;
  for (const auto& t : tags) n += t.first.size() + t.second.size() + 2;
  k.reserve(n);
  k.append(metric_key);
  k.push_back('\0');
  bool first = true;
  for (const auto& t : tags) {
    if (!first) k.push_back(',');
    first = false;
    k.append(t.first);
    k.push_back('=');
    k.append(t.second);
  }
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
