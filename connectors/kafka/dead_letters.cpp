// Dead letters: a bad message is counted by reason, logged with rate limiting and, with a
// dead-letter topic, produced there with headers reason, source_topic, source_partition and
// source_offset. Delivery failures are counted and logged; the pipeline flushes the producer
// before it stores the offsets of a batch with dead letters.
#include "connectors/kafka/consumer_impl.hpp"

namespace vigil::connectors {

void KafkaConsumer::Impl::delivery_cb(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  if (m->err) {
    auto* self = static_cast<Impl*>(opaque);
    self->counters.dead_letter_errors.fetch_add(1);
    self->error_log.warn("kafka: dead letter not delivered: {}", rd_kafka_err2str(m->err));
  }
}

void KafkaConsumer::Impl::dead_letter(const rd_kafka_message_t* m, const char* kind,
                                      const std::string& detail) {
  const char* topic = rd_kafka_topic_name(m->rkt);
  {
    std::lock_guard lock(bad.mu);
    ++bad.by_reason[kind];
  }
  std::string reason = std::string(kind) + ": " + detail;
  bad.log.warn("kafka: bad message {}[{}]@{}: {}", topic, m->partition, m->offset, reason);
  if (!dlq) return;
  std::string part = std::to_string(m->partition), off = std::to_string(m->offset);
  kafka::Headers h(rd_kafka_headers_new(4));
  rd_kafka_header_add(h.get(), "reason", -1, reason.data(), static_cast<ssize_t>(reason.size()));
  rd_kafka_header_add(h.get(), "source_topic", -1, topic, -1);
  rd_kafka_header_add(h.get(), "source_partition", -1, part.data(),
                      static_cast<ssize_t>(part.size()));
  rd_kafka_header_add(h.get(), "source_offset", -1, off.data(), static_cast<ssize_t>(off.size()));
  rd_kafka_resp_err_t e = rd_kafka_producev(
      dlq.get(), RD_KAFKA_V_TOPIC(opts.dead_letter_topic.c_str()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE(m->payload, m->len),
      RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_HEADERS(h.get()), RD_KAFKA_V_END);
  if (e) {  // the headers are still ours
    counters.dead_letter_errors.fetch_add(1);
    error_log.warn("kafka: cannot produce to {}: {}", opts.dead_letter_topic, rd_kafka_err2str(e));
    return;
  }
  h.release();  // the produced message owns them now
  counters.dead_letters.fetch_add(1);
}

}  // namespace vigil::connectors
