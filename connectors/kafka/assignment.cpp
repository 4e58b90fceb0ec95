// Assignment and rebalance: on an assignment every partition is put at the offset stored with the
// state (or at its start without one); on a revoke the batches in progress are written, the
// buffered messages of the revoked partitions dropped and the engine flushed before the
// partitions go. Also the rewind to the stored offsets after a failed write, and the
// informational commit of the stored positions.
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <cstring>

#include "connectors/kafka/consumer_impl.hpp"

namespace vigil::connectors {

void KafkaConsumer::Impl::rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                       rd_kafka_topic_partition_list_t* list, void* opaque) {
  static_cast<Impl*>(opaque)->rebalance(rk, err, list);
}

void KafkaConsumer::Impl::load_stored_offset(kafka::PartState& st, std::string_view topic,
                                             std::int32_t partition, std::string& scratch) {
  st.touched = false;
  st.next = -1;
  st.stored = -1;
  if (engine->storage().get(Cf::meta, kafka::offset_key(opts.group_id, topic, partition), scratch).ok())
    st.next = std::strtoll(scratch.c_str(), nullptr, 10);
  st.stored = st.next;
}

void KafkaConsumer::Impl::rebalance(rd_kafka_t* k, rd_kafka_resp_err_t err,
                                    rd_kafka_topic_partition_list_t* list) {
  counters.rebalances.fetch_add(1);
  const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(k)) == "COOPERATIVE";
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    std::string value;
    {
      std::lock_guard lock(partitions.mu);
      for (int i = 0; i < list->cnt; ++i) {
        auto& tp = list->elems[i];
        auto& st = partitions.parts[tp.topic][tp.partition];
        st.assigned = true;
        load_stored_offset(st, tp.topic, tp.partition, value);
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
  std::string value;
  {
    std::lock_guard lock(partitions.mu);
    for (auto& [topic, ps] : partitions.parts)
      for (auto& [p, st] : ps) {
        if (!st.assigned) continue;
        load_stored_offset(st, topic, p, value);
        rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p)->offset =
            st.next >= 0 ? st.next : kafka::kFromStart;
      }
  }
  if (list->cnt > 0) {
    kafka::Error e(rd_kafka_seek_partitions(rk.get(), list.get(), 5000));
    if (e) spdlog::error("kafka: seek failed: {}", rd_kafka_error_string(e.get()));
  }
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
