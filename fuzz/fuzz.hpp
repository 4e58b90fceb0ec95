// What the fuzz targets share: the input as text, a check that aborts (a finding), and a
// time in the middle of the range every parser accepts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace vigil::fuzz {

inline constexpr std::int64_t kNow = 1700000000;  // 2023-11-14

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// A property that must hold: libFuzzer records the input that breaks it.
#define VIGIL_FUZZ_CHECK(cond, what)                                                   \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "fuzz check failed: %s (%s:%d): %s\n", #cond, __FILE__,    \
                   __LINE__, what);                                                    \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

inline bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace vigil::fuzz
