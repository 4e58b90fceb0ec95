#include "api/console/live.hpp"

#include <deque>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_map>

#include "engine/encoding/series_key.hpp"
#include "engine/meta/catalog.hpp"
#include "engine/shard/shard_state.hpp"
#include "engine/storage/series_index.hpp"

namespace vigil::api::console {

using Batch = std::shared_ptr<const std::vector<LogRecord>>;

struct LiveHub::Subscriber : BodyStream {
  std::weak_ptr<LiveHub> hub;
  const SeriesIndex* series = nullptr;
  std::string name;        // as the client asked
  std::string metric_key;  // lower-cased

  // Shared with the shard threads.
  std::mutex mu;
  std::deque<Batch> queue;
  bool dropped = false;
  bool closed = false;
  std::function<void()> wake;

  // The I/O thread's own.
  bool greeted = false;
  std::unordered_map<std::uint64_t, std::optional<Tags>> known;  // series id -> its tags, if of this metric

  void open(std::function<void()> w) override {
    std::lock_guard lock(mu);
    wake = std::move(w);
    if (!queue.empty() || !greeted) wake();
  }

  // On a shard thread: queues the batch (dropping the oldest when full) and wakes the stream's
  // I/O thread when the queue was empty (it drains everything queued at once).
  void push(const Batch& b) {
    std::function<void()> w;
    {
      std::lock_guard lock(mu);
      if (closed) return;
      const bool was_empty = queue.empty();
      if (queue.size() >= kMaxQueuedBatches) {
        queue.pop_front();
        dropped = true;
      }
      queue.push_back(b);
      if (was_empty && wake) w = wake;
    }
    if (w) w();
  }

  const std::optional<Tags>& tags_of(std::uint64_t sid) {
    auto it = known.find(sid);
    if (it != known.end()) return it->second;
    if (known.size() > 100'000) known.clear();
    std::optional<Tags> tags;
    std::string key = series->key_of(sid), mkey;
    Tags t;
    if (!key.empty() && enc::parse_series_key(key, mkey, t) && mkey == metric_key) tags = std::move(t);
    return known.emplace(sid, std::move(tags)).first->second;
  }

  std::string take(bool& done) override {
    done = false;
    std::string out;
    if (!greeted) {
      greeted = true;
      out = "retry: 1000\nevent: ready\ndata: " + nlohmann::json{{"name", name}}.dump() + "\n\n";
    }
    std::deque<Batch> batches;
    bool gap = false;
    {
      std::lock_guard lock(mu);
      batches.swap(queue);
      gap = dropped;
      dropped = false;
    }
    if (gap) out += "event: gap\ndata: {}\n\n";
    nlohmann::json points = nlohmann::json::array();
    for (const auto& b : batches)
      for (const LogRecord& r : *b) {
        const auto& tags = tags_of(r.sid);
        if (!tags) continue;
        nlohmann::json tj = nlohmann::json::object();
        for (const auto& tag : *tags) tj[tag.first] = tag.second;
        const double v = r.agg.count == 1 ? r.agg.last : r.agg.sum / (r.agg.count > 0 ? r.agg.count : 1);
        points.push_back({{"time", r.time}, {"value", v}, {"count", r.agg.count}, {"tags", std::move(tj)}});
      }
    if (!points.empty())
      out += "event: samples\ndata: " + nlohmann::json{{"name", name}, {"points", std::move(points)}}.dump() + "\n\n";
    return out;
  }

  void close() override {
    {
      std::lock_guard lock(mu);
      if (closed) return;
      closed = true;
      wake = nullptr;
      queue.clear();
    }
    if (auto h = hub.lock()) h->remove(this);
  }
};

LiveHub::LiveHub(actors::Engine& engine) : engine_(engine), series_(engine.series()) {}

void LiveHub::applied(Batch records) {
  if (count_.load(std::memory_order_relaxed) == 0) return;
  std::vector<std::shared_ptr<Subscriber>> subs;
  {
    std::lock_guard lock(mu_);
    subs = subs_;
  }
  for (const auto& s : subs) s->push(records);
}

std::shared_ptr<BodyStream> LiveHub::subscribe(const std::string& metric) {
  auto s = std::make_shared<Subscriber>();
  s->hub = weak_from_this();
  s->series = &series_;
  s->name = metric;
  s->metric_key = metric_key(metric);
  std::lock_guard lock(mu_);
  if (subs_.size() >= kMaxSubscribers) return nullptr;
  subs_.push_back(s);
  count_.store(subs_.size());
  if (subs_.size() == 1) engine_.set_apply_listener(shared_from_this());
  return s;
}

void LiveHub::remove(Subscriber* s) {
  std::lock_guard lock(mu_);
  for (auto it = subs_.begin(); it != subs_.end(); ++it)
    if (it->get() == s) {
      subs_.erase(it);
      break;
    }
  count_.store(subs_.size());
  if (subs_.empty()) engine_.set_apply_listener(nullptr);
}

}  // namespace vigil::api::console
