#include "engine/encoding/columns.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "engine/encoding/bytes.hpp"
#include "engine/encoding/decimal.hpp"

namespace vigil::enc {

using detail::decimal_form;
using detail::DecimalForm;
using detail::from_ordered;
using detail::kPow10;
using detail::ordered;

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
  if (!get_varint(p, end, zb) || p >= end) return false;
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
  if (!get_varint(p, end, len) || len > static_cast<std::uint64_t>(end - p)) return false;
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
  if (b > 64 || !get_varint(p, end, ne) || ne > n) return false;
  const char* exceptions = p;
  for (std::uint64_t e = 0; e < ne; ++e)
    if (!skip_varint(p, end) || !skip_varint(p, end)) return false;
  if (static_cast<std::size_t>(end - p) != packed_bytes(n, b)) return false;
  unpack(p, n, b, out);
  p = end;
  std::size_t at = 0;
  for (std::uint64_t e = 0; e < ne; ++e) {
    std::uint64_t gap, value;
    get_varint(exceptions, end, gap);
    get_varint(exceptions, end, value);
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
    if (n != 0) std::memcpy(out, p, 8 * n);  // `out` may be null for no values
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
  if ((mode & 0x80) && (!get_varint(p, end, ne) || ne == 0 || ne > n || ne > static_cast<std::uint64_t>(end - p) / 9))
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
    if (n == 0 || !get_varint(p, end, z0)) return false;
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
    get_varint(exceptions, end, gap);
    if (gap >= n - at) return false;
    at += gap;
    out[at] = get_f64(exceptions);
    exceptions += 8;
    ++at;
  }
  return true;
}

}  // namespace vigil::enc
