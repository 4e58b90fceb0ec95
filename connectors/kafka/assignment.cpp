// Assignment and rebalance: on an assignment every partition is put at the offset stored with the
// state (or at its start without one); on a revoke the batches in progress are written, the
// buffered messages of the revoked partitions dropped and the engine flushed before the
// partitions go. Also the rewind to the stored offsets after a failed write, and the
// informational commit of the stored positions.
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "connectors/kafka/consumer_impl.hpp"

namespace vigil::connectors {

void KafkaConsumer::Impl::rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                       rd_kafka_topic_partition_list_t* list, void* opaque) {
  static_cast<Impl*>(opaque)->rebalance(rk, err, list);
}

bool KafkaConsumer::Impl::load_stored_offset(kafka::PartState& st, std::string_view topic,
                                             std::int32_t partition, std::string& scratch) {
  Status read = engine->storage().get(Cf::meta, kafka::offset_key(opts.group_id, topic, partition), scratch);
  if (read.is_error()) {
    // Not "no stored state": starting from 0 would count the partition's samples twice.
    counters.offset_read_errors.fetch_add(1);
    error_log.warn("kafka: cannot read the stored offset of {}[{}]: {}", topic, partition, read.to_string());
    return false;
  }
  st.touched = false;
  st.next = read.ok() ? std::strtoll(scratch.c_str(), nullptr, 10) : -1;
  st.stored = st.next;
  return true;
}

void KafkaConsumer::Impl::retry_unknown_offsets() {
  std::string value;
  std::vector<kafka::PartState*> readable;
  {
    std::lock_guard lock(partitions.mu);
    for (auto& [topic, ps] : partitions.parts)
      for (auto& [p, st] : ps) {
        if (!st.assigned || !st.offset_unknown) continue;
        kafka::PartState probe;
        if (!load_stored_offset(probe, topic, p, value)) continue;
        readable.push_back(&st);  // map nodes stay put
        spdlog::info("kafka: stored offset of {}[{}] read at last: {}", topic, p,
                     probe.next >= 0 ? std::to_string(probe.next) : std::string("none (from the beginning)"));
      }
  }
  if (readable.empty()) return;
  // The same path as after a failed write: batches in progress are dropped, every partition goes
  // back to its stored offset (read again by the rewind), the buffer is emptied, and the
  // recovered ones resume after the seek. The flag goes up before the partitions count as known
  // again, so that no batch holding their messages from before the seek is written: those
  // prepared from now on are dropped, and the rewind (on this thread) comes after.
  {
    std::lock_guard lock(prefetch.mu);
    prefetch.ingest_failed.store(true);
  }
  prefetch.cv.notify_all();
  std::lock_guard lock(partitions.mu);
  for (kafka::PartState* st : readable) {
    if (!st->assigned || !st->offset_unknown) continue;  // revoked meanwhile
    st->offset_unknown = false;
    st->resume_after_seek = true;
    st->touched = false;
    --partitions.offset_unknown;
  }
}

void KafkaConsumer::Impl::rebalance(rd_kafka_t* k, rd_kafka_resp_err_t err,
                                    rd_kafka_topic_partition_list_t* list) {
  counters.rebalances.fetch_add(1);
  const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(k)) == "COOPERATIVE";
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    std::string value;
    kafka::PartitionList unknown(rd_kafka_topic_partition_list_new(1));
    {
      std::lock_guard lock(partitions.mu);
      for (int i = 0; i < list->cnt; ++i) {
        auto& tp = list->elems[i];
        auto& st = partitions.parts[tp.topic][tp.partition];
        st.assigned = true;
        if (st.offset_unknown) --partitions.offset_unknown;
        st.offset_unknown = false;
        st.resume_after_seek = false;
        // A failed read is tried again at once, twice; then the partition waits, paused, for
        // the fetch thread's next attempts (retry_unknown_offsets).
        bool read = false;
        for (int attempt = 0; attempt < 3 && !read; ++attempt) {
          if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
          read = load_stored_offset(st, tp.topic, tp.partition, value);
        }
        if (!read) {
          st.offset_unknown = true;
          st.next = st.stored = -1;
          st.touched = false;
          ++partitions.offset_unknown;
          tp.offset = RD_KAFKA_OFFSET_INVALID;  // never fetched: paused below, its messages dropped
          rd_kafka_topic_partition_list_add(unknown.get(), tp.topic, tp.partition);
          spdlog::error("kafka: assigned {}[{}] paused: its stored offset cannot be read (retried every 500 ms)",
                        tp.topic, tp.partition);
          continue;
        }
        tp.offset = st.next >= 0 ? st.next : kafka::kFromStart;
        spdlog::info(
            "kafka: assigned {}[{}] from offset {}", tp.topic, tp.partition,
            st.next >= 0 ? std::to_string(st.next) : std::string("beginning (no stored state)"));
      }
    }
    rd_kafka_resp_err_t e;
    if (cooperative) {
      kafka::Error ce(rd_kafka_incremental_assign(k, list));
      e = ce ? rd_kafka_error_code(ce.get()) : RD_KAFKA_RESP_ERR_NO_ERROR;
    } else {
      e = rd_kafka_assign(k, list);
    }
    if (e) spdlog::error("kafka: assign failed: {}", rd_kafka_err2str(e));
    if (partitions.paused) rd_kafka_pause_partitions(k, list);
    else if (unknown->cnt > 0) rd_kafka_pause_partitions(k, unknown.get());
    return;
  }
  // Revoke (or a rebalance error): no batch is in progress, the buffered messages of the
  // partitions going away are dropped (their offsets were not stored: the next owner reads them
  // again), and everything accepted so far is applied and flushed before they go.
  std::lock_guard processing(process_mu);
  {
    // The batch handed over (consumed while these partitions were ours) is written first.
    std::unique_lock lock(handoff.mu);
    handoff.cv.wait(lock, [&] { return !handoff.handed && !handoff.ingesting; });
  }
  {
    std::lock_guard lock(prefetch.mu);
    std::deque<Message> keep;
    for (Message& m : prefetch.buffered) {
      bool revoked = false;
      for (int i = 0; i < list->cnt && !revoked; ++i)
        revoked = m->partition == list->elems[i].partition &&
                  (m->rkt == nullptr ||
                   std::strcmp(rd_kafka_topic_name(m->rkt), list->elems[i].topic) == 0);
      if (revoked)  // `m` stays in the old buffer, destroyed below
        prefetch.bytes.fetch_sub(kafka::Prefetch::cost(m.get()));
      else
        keep.push_back(std::move(m));
    }
    prefetch.buffered.swap(keep);
  }
  if (!engine->sync())
    spdlog::error("kafka: flushing the engine before releasing partitions failed");
  {
    std::lock_guard lock(partitions.mu);
    for (int i = 0; i < list->cnt; ++i) {
      auto& st = partitions.parts[list->elems[i].topic][list->elems[i].partition];
      st.assigned = false;
      st.touched = false;
      if (st.offset_unknown) --partitions.offset_unknown;
      st.offset_unknown = false;
      st.resume_after_seek = false;
      spdlog::info("kafka: released {}[{}] at offset {}", list->elems[i].topic,
                   list->elems[i].partition, st.next);
    }
  }
  if (cooperative) {
    kafka::Error ignored(rd_kafka_incremental_unassign(k, list));
  } else {
    rd_kafka_assign(k, nullptr);
  }
}

void KafkaConsumer::Impl::rewind() {
  kafka::PartitionList list(rd_kafka_topic_partition_list_new(8));
  kafka::PartitionList pause(rd_kafka_topic_partition_list_new(1));
  kafka::PartitionList resume(rd_kafka_topic_partition_list_new(1));
  std::string value;
  bool all_paused;
  {
    std::lock_guard lock(partitions.mu);
    all_paused = partitions.paused;
    for (auto& [topic, ps] : partitions.parts)
      for (auto& [p, st] : ps) {
        if (!st.assigned || st.offset_unknown) continue;
        if (!load_stored_offset(st, topic, p, value)) {
          if (st.stored >= 0) {
            // What this run wrote last is the stored offset: the read is not needed.
            st.next = st.stored;
            st.touched = false;
          } else {
            st.offset_unknown = true;
            st.resume_after_seek = false;
            ++partitions.offset_unknown;
            rd_kafka_topic_partition_list_add(pause.get(), topic.c_str(), p);
            continue;
          }
        }
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset =
            st.next >= 0 ? st.next : kafka::kFromStart;
        if (st.resume_after_seek) {
          st.resume_after_seek = false;
          rd_kafka_topic_partition_list_add(resume.get(), topic.c_str(), p);
        }
      }
  }
  if (pause->cnt > 0) rd_kafka_pause_partitions(rk.get(), pause.get());
  if (list->cnt > 0) {
    kafka::Error e(rd_kafka_seek_partitions(rk.get(), list.get(), 5000));
    if (e) spdlog::error("kafka: seek failed: {}", rd_kafka_error_string(e.get()));
  }
  if (resume->cnt > 0 && !all_paused) rd_kafka_resume_partitions(rk.get(), resume.get());
}

void KafkaConsumer::Impl::commit_positions() {
  kafka::PartitionList list(rd_kafka_topic_partition_list_new(8));
  {
    std::lock_guard lock(partitions.mu);
    for (auto& [topic, ps] : partitions.parts)
      for (auto& [p, st] : ps)
        if (st.assigned && st.stored >= 0)
          rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset = st.stored;
  }
  if (list->cnt > 0) rd_kafka_commit(rk.get(), list.get(), 1);
}

}  // namespace vigil::connectors
