// What the load generators (http_load, kafka_load) share: the standard workload's value function
// (../shared/bench/WORKLOAD.md) and the generator's own CPU time.
#pragma once

#include <sys/resource.h>

#include <cstdint>

namespace vigil::bench {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  std::uint64_t z = x;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// splitmix64(seed) >> 11 scaled to [0, 100): the W1 value of seed sid * points + index.
inline double workload_value(std::uint64_t seed) {
  return static_cast<double>(splitmix64(seed) >> 11) * (100.0 / 9007199254740992.0);
}

// User + system CPU seconds of this process.
inline double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

}  // namespace vigil::bench
