// Live samples for the web console: the engine's apply listener fans each applied batch out to
// the open Server-Sent Events streams (GET /console/live), each following one metric.
//
// The shard thread's part is cheap and never blocks for long: with no subscriber the hub is not
// the engine's apply listener at all (an apply costs one atomic load more); otherwise the batch (shared, not copied) is queued on each subscriber, whose
// queue is bounded (kMaxQueuedBatches; the oldest are dropped and a `gap` event says so). The
// filtering by metric and the JSON are done on the subscriber's HTTP I/O thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/engine.hpp"
#include "api/http/message.hpp"

namespace vigil::api::console {

class LiveHub : public actors::ApplyListener, public std::enable_shared_from_this<LiveHub> {
 public:
  static constexpr std::size_t kMaxQueuedBatches = 256;
  static constexpr std::size_t kMaxSubscribers = 256;

  // The hub installs itself as `engine`'s apply listener while a stream is open.
  explicit LiveHub(actors::Engine& engine);

  void applied(std::shared_ptr<const std::vector<LogRecord>> records) override;

  // A stream of the samples of `metric` (its name as submitted) applied from now on; nullptr when
  // kMaxSubscribers streams are open.
  std::shared_ptr<BodyStream> subscribe(const std::string& metric);

  std::size_t subscribers() const { return count_.load(); }

  struct Subscriber;

 private:
  friend struct Subscriber;
  void remove(Subscriber* s);

  actors::Engine& engine_;
  const SeriesIndex& series_;
  std::mutex mu_;
  std::vector<std::shared_ptr<Subscriber>> subs_;
  std::atomic<std::size_t> count_{0};
};

}  // namespace vigil::api::console
