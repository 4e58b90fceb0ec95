// Raw blocks (the value of a raw key): skip and decode, at a reference time from the input.
#include <string_view>
#include <utility>
#include <vector>

#include "engine/encoding/raw_block.hpp"
#include "fuzz/fuzz.hpp"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::int64_t ref = (data[0] & 1) ? 1699920000 : -86400LL * (data[0] >> 1) * 1000;
  std::string_view value = fuzz::text(data + 1, size - 1);
  std::vector<std::pair<std::int64_t, Agg>> out;
  bool ok = enc::get_raw_records(value, ref, out);
  VIGIL_FUZZ_CHECK(ok || out.empty(), "a malformed value appends nothing");
  const char* p = value.data();
  const char* end = p + value.size();
  std::size_t total = 0;
  while (p < end) {
    std::size_t n = 0;
    if (!enc::skip_raw_block(p, end, n)) break;
    VIGIL_FUZZ_CHECK(p <= end, "skip stays inside the value");
    total += n;
  }
  if (ok) VIGIL_FUZZ_CHECK(total == out.size(), "skip counts the records decode gives");
  return 0;
}
