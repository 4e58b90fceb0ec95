// The fetch thread: takes messages off librdkafka's queue as soon as they arrive into the
// prefetch buffer (and runs the rebalance callbacks, which librdkafka calls from this poll),
// pauses every assigned partition while the engine's backlog or the buffer is above its bound,
// rewinds after a failed write, commits positions once a second, and on stop leaves the group and
// stops the other threads.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "connectors/kafka/consumer_impl.hpp"

namespace vigil::connectors {

namespace {

// After resuming partitions, this librdkafka's broker thread only notices them when it next
// wakes up (up to a second later, measured at about 0.3 s). Any request through that thread wakes
// it: a watermark query for one partition, answered in about a millisecond.
void wake_broker_thread(rd_kafka_t* rk, const rd_kafka_topic_partition_list_t* list) {
  if (list->cnt == 0) return;
  int64_t lo = 0, hi = 0;
  rd_kafka_query_watermark_offsets(rk, list->elems[0].topic, list->elems[0].partition, &lo, &hi,
                                   100);
}

}  // namespace

void KafkaConsumer::Impl::set_paused(bool pause) {
  rd_kafka_topic_partition_list_t* assigned = nullptr;
  const rd_kafka_resp_err_t e = rd_kafka_assignment(rk.get(), &assigned);
  kafka::PartitionList list(assigned);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  {
    std::lock_guard lock(partitions.mu);
    partitions.paused = pause;
  }
  if (pause) {
    rd_kafka_pause_partitions(rk.get(), list.get());
    counters.pauses.fetch_add(1);
    spdlog::info("kafka: paused {} partition(s): {} samples waiting to be applied", list->cnt,
                 engine->queue_depth());
  } else {
    // Partitions whose stored offset is unknown stay paused (retry_unknown_offsets).
    {
      std::lock_guard lock(partitions.mu);
      if (partitions.offset_unknown > 0) {
        kafka::PartitionList known(rd_kafka_topic_partition_list_new(list->cnt));
        for (int i = 0; i < list->cnt; ++i) {
          auto t = partitions.parts.find(std::string_view(list->elems[i].topic));
          bool unknown = false;
          if (t != partitions.parts.end())
            if (auto it = t->second.find(list->elems[i].partition); it != t->second.end())
              unknown = it->second.offset_unknown;
          if (!unknown) rd_kafka_topic_partition_list_add(known.get(), list->elems[i].topic, list->elems[i].partition);
        }
        list = std::move(known);
      }
    }
    rd_kafka_resume_partitions(rk.get(), list.get());
    wake_broker_thread(rk.get(), list.get());
    spdlog::info("kafka: resumed {} partition(s)", list->cnt);
  }
}

void KafkaConsumer::Impl::run() {
  std::vector<rd_kafka_message_t*> msgs(std::max<std::size_t>(opts.batch_size, 1000));
  while (!stopping.load()) {
    if (dlq) rd_kafka_poll(dlq.get(), 0);
    bool rewinding;
    {
      std::lock_guard lock(prefetch.mu);
      rewinding = prefetch.rewind_requested;
    }
    if (rewinding) {
      // A write failed: back to the stored offsets, and what was fetched beyond them goes.
      rewind();
      drop_buffered();
      {
        std::lock_guard lock(prefetch.mu);
        prefetch.rewind_requested = false;
      }
      prefetch.cv.notify_all();
    }
    if (kafka::Clock::now() - last_offset_retry > std::chrono::milliseconds(500)) {
      bool unknown;
      {
        std::lock_guard lock(partitions.mu);
        unknown = partitions.offset_unknown > 0;
      }
      if (unknown) retry_unknown_offsets();
      last_offset_retry = kafka::Clock::now();
    }
    if (kafka::Clock::now() - last_store_check > std::chrono::milliseconds(100)) {
      store_delayed = engine->storage().writes_delayed();
      last_store_check = kafka::Clock::now();
    }
    // While the store delays writes, nothing drains the buffer fast: a smaller bound keeps what
    // waits for the store (and the memory it holds) small until the stall is over.
    const std::size_t limit = store_delayed ? std::min(opts.prefetch_stalled_bytes, opts.prefetch_bytes)
                                            : opts.prefetch_bytes;
    const std::size_t depth = engine->queue_depth();
    const std::size_t bytes = prefetch.bytes.load();
    const bool paused = partitions.paused;  // only this thread writes it
    if (!paused && (depth > opts.pause_high_water || bytes > limit))
      set_paused(true);
    else if (paused && depth <= opts.resume_low_water && bytes <= limit / 2)
      set_paused(false);
    ssize_t n = rd_kafka_consume_batch_queue(queue.get(), partitions.paused ? 50 : 10, msgs.data(),
                                             msgs.size());
    if (n < 0) {
      counters.consumer_errors.fetch_add(1);
      error_log.warn("kafka: consume failed: {}", rd_kafka_err2str(rd_kafka_last_error()));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (n > 0) {
      std::size_t added = 0;
      {
        std::lock_guard lock(prefetch.mu);
        for (ssize_t i = 0; i < n; ++i) {
          rd_kafka_message_t* m = msgs[static_cast<std::size_t>(i)];
          prefetch.buffered.emplace_back(m);
          added += kafka::Prefetch::cost(m);
        }
        prefetch.bytes.fetch_add(added);
      }
      prefetch.cv.notify_one();
    }
    if (kafka::Clock::now() - last_commit > std::chrono::seconds(1)) {
      commit_positions();
      last_commit = kafka::Clock::now();
    }
  }
  // Leaving the group runs the revoke callback: the batch in progress ends, the buffered
  // messages are dropped, and the engine flushes before the partitions go.
  rd_kafka_consumer_close(rk.get());
  {
    std::lock_guard lock(prefetch.mu);
    prefetch.process_stop = true;
  }
  prefetch.cv.notify_all();
  if (process_thread.joinable()) process_thread.join();
  {
    std::lock_guard lock(split.mu);
    split.stop = true;
  }
  split.cv.notify_all();
  if (split.thread.joinable()) split.thread.join();
  {
    std::lock_guard lock(handoff.mu);
    handoff.stop = true;  // after what was handed over
  }
  handoff.cv.notify_all();
  if (handoff.thread.joinable()) handoff.thread.join();
  drop_buffered();
  if (dlq) rd_kafka_flush(dlq.get(), 5000);
}

void KafkaConsumer::Impl::drop_buffered() {
  std::lock_guard lock(prefetch.mu);
  prefetch.buffered.clear();
  prefetch.bytes.store(0);
}

}  // namespace vigil::connectors
