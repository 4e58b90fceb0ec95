// The column and compact-number codecs every block is made of: integer, double and patched
// columns, skip, compact doubles and aggregates, varints. The first byte picks the codec and a
// count.
#include <cstdint>
#include <vector>

#include "engine/encoding/bytes.hpp"
#include "engine/encoding/columns.hpp"
#include "engine/encoding/compact.hpp"
#include "fuzz/fuzz.hpp"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t n = data[1] * 17u % 5000u;
  const char* p = reinterpret_cast<const char*>(data + 2);
  const char* end = reinterpret_cast<const char*>(data + size);
  switch (data[0] % 7) {
    case 0: {
      std::vector<std::int64_t> v(n);
      (void)enc::get_int_column(p, end, n, v.data());
      break;
    }
    case 1: {
      std::vector<double> v(n);
      (void)enc::get_double_column(p, end, n, v.data());
      break;
    }
    case 2: {
      std::vector<std::uint64_t> v(n);
      (void)enc::get_patched_column(p, end, n, v.data());
      break;
    }
    case 3:
      while (p < end && enc::skip_column(p, end)) {
      }
      break;
    case 4: {
      double d;
      while (p < end && enc::get_double(p, end, d)) {
      }
      break;
    }
    case 5: {
      Agg a;
      while (p < end && enc::get_compact_agg(p, end, 1699920000, a, data[1] & 15)) {
      }
      break;
    }
    default: {
      std::uint64_t v;
      while (p < end && enc::get_varint(p, end, v)) {
      }
      p = reinterpret_cast<const char*>(data + 2);
      while (p < end && enc::skip_varint(p, end)) {
      }
    }
  }
  VIGIL_FUZZ_CHECK(p <= end, "decoders stay inside their input");
  return 0;
}
