#include "actors/runtime.hpp"

#include <caf/all.hpp>
#include <thread>

namespace vigil::actors {

int default_scheduler_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 2 : static_cast<int>(n);
}

}  // namespace vigil::actors
