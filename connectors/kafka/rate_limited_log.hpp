// A warning log line of one kind at most once per second; the lines in between are counted and
// reported with the next one that goes out. Private to connectors/kafka/. Safe to call from
// several threads (the consumer's threads all report errors).
#pragma once

#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <utility>

namespace vigil::connectors::kafka {

struct RateLimitedLog {
  using Clock = std::chrono::steady_clock;
  std::mutex mu;
  Clock::time_point last{};
  std::uint64_t suppressed = 0;

  template <class... Args>
  void warn(fmt::format_string<Args...> f, Args&&... args) {
    std::lock_guard lock(mu);
    auto now = Clock::now();
    if (now - last < std::chrono::seconds(1)) {
      ++suppressed;
      return;
    }
    std::string msg = fmt::format(f, std::forward<Args>(args)...);
    if (suppressed > 0) msg += fmt::format(" ({} similar lines suppressed)", suppressed);
    spdlog::warn("{}", msg);
    last = now;
    suppressed = 0;
  }
};

}  // namespace vigil::connectors::kafka
