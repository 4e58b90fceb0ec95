// The wall clock, as every layer reads it: epoch seconds and milliseconds (UTC).
#pragma once

#include <chrono>
#include <cstdint>

namespace vigil {

inline std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline std::int64_t now_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace vigil
