// KafkaConsumer::metrics_text: the consumer's counters, bad messages by reason, assigned and
// paused partitions, and each assigned partition's stored offset and lag, as Prometheus text.
#include "connectors/kafka/consumer_impl.hpp"
#include "engine/stats/prom_text.hpp"

namespace vigil::connectors {

std::string KafkaConsumer::metrics_text() {
  auto& I = *impl_;
  const auto& c = I.counters;
  std::string out;
  auto head = [&](const char* name, const char* type, const char* help) {
    prom::head(out, name, type, help);
  };
  auto one = [&](const char* name, const char* type, const char* help, std::uint64_t v) {
    prom::metric(out, name, type, help, v);
  };
  one("vigil_kafka_messages_total", "counter", "Kafka messages consumed (good and bad).",
      c.messages.load());
  one("vigil_kafka_samples_total", "counter", "Samples ingested from Kafka.", c.samples.load());
  one("vigil_kafka_batches_total", "counter",
      "Consumed batches written (samples and offsets in one write).", c.batches.load());
  one("vigil_kafka_dead_letters_total", "counter",
      "Bad messages produced to the dead-letter topic.", c.dead_letters.load());
  one("vigil_kafka_dead_letter_errors_total", "counter", "Dead letters that could not be produced.",
      c.dead_letter_errors.load());
  one("vigil_kafka_prefetch_bytes", "gauge",
      "Consumed messages waiting to be parsed (bytes, with overhead).", I.prefetch.bytes.load());
  one("vigil_kafka_split_batches_total", "counter",
      "Consumed batches parsed in two parts on two threads.", c.split_batches.load());
  one("vigil_kafka_rebalances_total", "counter", "Partition assignments and revocations.",
      c.rebalances.load());
  one("vigil_kafka_pauses_total", "counter", "Times the partitions were paused for backpressure.",
      c.pauses.load());
  one("vigil_kafka_stale_messages_total", "counter",
      "Messages skipped as already consumed or not assigned.", c.stale_skipped.load());
  one("vigil_kafka_consumer_errors_total", "counter", "Consumer errors reported by librdkafka.",
      c.consumer_errors.load());
  one("vigil_kafka_ingest_errors_total", "counter",
      "Batches whose write failed (rewound and retried).", c.ingest_errors.load());
  one("vigil_kafka_stale_series_rewinds_total", "counter",
      "Batches parsed again because series were removed meanwhile (rewound and retried).",
      c.stale_rewinds.load());
  one("vigil_kafka_offset_read_errors_total", "counter",
      "Failed reads of a partition's stored offset (the partition waits, paused, instead of starting from 0).",
      c.offset_read_errors.load());
  {
    std::lock_guard lock(I.partitions.mu);
    one("vigil_kafka_partitions_offset_unknown", "gauge",
        "Assigned partitions paused because their stored offset could not be read yet.", I.partitions.offset_unknown);
  }

  struct Row {
    std::string topic;
    std::int32_t partition;
    std::int64_t next;
  };
  std::vector<Row> rows;
  std::map<std::string, std::uint64_t> bad;
  bool paused = false;
  {
    std::lock_guard lock(I.partitions.mu);
    for (const auto& [topic, ps] : I.partitions.parts)
      for (const auto& [p, st] : ps)
        if (st.assigned) rows.push_back({topic, p, st.stored});
    paused = I.partitions.paused;
  }
  {
    std::lock_guard lock(I.bad.mu);
    bad = I.bad.by_reason;
  }
  head("vigil_kafka_bad_messages_total", "counter", "Bad messages by reason.");
  for (const char* r : {"bad_json", "bad_line_protocol", "invalid_measurement", "too_old", "empty", "series_limit"})
    prom::sample(out, "vigil_kafka_bad_messages_total", "reason", r, bad.count(r) ? bad[r] : 0);
  one("vigil_kafka_assigned_partitions", "gauge", "Partitions assigned to this engine.",
      rows.size());
  one("vigil_kafka_paused_partitions", "gauge", "Partitions paused for backpressure.",
      paused ? rows.size() : 0);
  head("vigil_kafka_partition_offset", "gauge",
       "Next offset to consume as stored with the state, per assigned partition.");
  for (const auto& r : rows)
    prom::sample(out, "vigil_kafka_partition_offset",
                 {{"topic", r.topic}, {"partition", std::to_string(r.partition)}},
                 static_cast<std::uint64_t>(r.next < 0 ? 0 : r.next));
  head("vigil_kafka_partition_lag", "gauge",
       "Messages behind the high watermark, per assigned partition.");
  for (const auto& r : rows) {
    int64_t lo = 0, hi = 0;
    if (rd_kafka_get_watermark_offsets(I.rk.get(), r.topic.c_str(), r.partition, &lo, &hi) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        hi < 0)
      continue;
    std::int64_t pos = r.next < 0 ? lo : r.next;
    prom::sample(out, "vigil_kafka_partition_lag",
                 {{"topic", r.topic}, {"partition", std::to_string(r.partition)}},
                 static_cast<std::uint64_t>(hi > pos ? hi - pos : 0));
  }
  return out;
}

}  // namespace vigil::connectors
