// What the load generators (http_load, kafka_load) share: the standard workload's value function
// (../shared/bench/WORKLOAD.md), the generator's own CPU time and its command-line reading.
#pragma once

#include <sys/resource.h>

#include <cstdint>
#include <cstdlib>
#include <string>

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

// The command line as flags, some followed by a value. A flag without its value, or one the caller
// does not know (bad()), prints the usage and ends the process with status 2.
class Args {
 public:
  Args(int argc, char** argv, void (*usage)()) : argc_(argc), argv_(argv), usage_(usage) {}
  // Moves to the next flag; false after the last.
  bool next() {
    if (++i_ >= argc_) return false;
    flag_ = argv_[i_];
    return true;
  }
  bool is(const char* flag) const { return flag_ == flag; }
  std::string value() {
    if (i_ + 1 >= argc_) bad();
    return argv_[++i_];
  }
  long long integer() { return std::atoll(value().c_str()); }
  double number() { return std::atof(value().c_str()); }
  [[noreturn]] void bad() const {
    usage_();
    std::exit(2);
  }

 private:
  int argc_;
  char** argv_;
  void (*usage_)();
  int i_ = 0;
  std::string flag_;
};

}  // namespace vigil::bench
