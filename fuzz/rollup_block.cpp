// Rollup blocks (the value of a rollup key) at each stored resolution, all fields or a few.
#include <string_view>

#include "engine/encoding/rollup_block.hpp"
#include "fuzz/fuzz.hpp"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static constexpr std::int64_t kRes[] = {60, 900, 3600, 86400};
  const std::int64_t res = kRes[data[0] & 3];
  const unsigned fields = (data[0] >> 2) & 15;
  const std::int64_t chunk = 1699920000 - 1699920000 % (res * 1440);
  std::string_view block = fuzz::text(data + 1, size - 1);
  enc::RollupColumns cols;
  if (enc::decode_rollup_block(block, chunk, res, cols, fields)) {
    VIGIL_FUZZ_CHECK(cols.n <= cols.index.size() && cols.n <= cols.count.size(), "columns hold n entries");
    for (std::size_t i = 1; i < cols.n; ++i) VIGIL_FUZZ_CHECK(cols.index[i - 1] < cols.index[i], "indices ascend");
  }
  std::size_t calls = 0;
  (void)enc::for_each_rollup_entry(block, chunk, res, [&](std::uint16_t, const Agg&) { ++calls; }, fields);
  return 0;
}
