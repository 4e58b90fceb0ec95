// Kafka ingestion: a librdkafka consumer in a consumer group feeding actors::Engine::ingest, and
// librdkafka's mock cluster as an embedded broker. librdkafka stays out of this header; the
// implementation is the rest of connectors/kafka/, one concern per file (consumer_impl.hpp maps
// them).
//
// Exactly-once state: the next offset of every partition touched by a consumed batch is written
// to the meta column family (key "koff/<group>/<topic>/<partition>", decimal text) in the same
// RocksDB WriteBatch as the batch's samples. On every assignment the consumer seeks to the stored
// offsets (or to the beginning of a partition it has no state for, rebuilding that partition's
// series from the log); commits to Kafka are informational (lag monitoring). Before partitions are
// released on a revoke, the engine applies and flushes everything accepted.
//
// Bad messages (unparseable, invalid, or with samples older than max_sample_age_s) are never
// retried: they are counted, logged with rate limiting, produced to the dead-letter topic with
// headers reason, source_topic, source_partition, source_offset, and their offset is consumed.
//
// Backpressure: when the engine's queue of accepted-but-unapplied samples passes
// pause_high_water, every assigned partition is paused; they resume at resume_low_water.
//
// Threads: a fetch thread takes messages off librdkafka's queue as soon as they arrive (so that
// librdkafka's own prefetch bound, after which this librdkafka waits a whole second before
// fetching a partition again, is never reached) into a buffer of at most prefetch_bytes, and runs
// the rebalance callbacks; a process thread parses the buffered messages in batches of batch_size
// (large batches in two halves, with a second parsing thread) and hands each batch to an ingest
// thread, which writes it while the next one is parsed. A revoke waits for the batch being parsed
// and the one being written, and drops the buffered messages of the partitions it takes away. A
// failed write drops the batches parsed after it, and the fetch thread seeks every partition back
// to its stored offset.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil::actors {
class Engine;
}

namespace vigil::connectors {

struct KafkaOptions {
  std::string bootstrap_servers;
  std::vector<std::string> topics{"measurements"};
  std::string group_id = "vigil";
  // Kafka's group.instance.id (static membership): a restarted consumer rejoins as the member it
  // was. Empty: a dynamic member.
  std::string group_instance_id;
  std::string dead_letter_topic = "measurements.dlq";  // empty: count and log only
  std::string timestamp_precision = "ns";              // line protocol: ns|us|ms|s
  std::size_t batch_size = 5000;                       // messages per consume call
  std::size_t pause_high_water = 500'000;
  std::size_t resume_low_water = 100'000;
  // Consumed messages waiting to be parsed (payload bytes plus a per-message overhead); above it
  // every assigned partition is paused until half of it is left.
  std::size_t prefetch_bytes = std::size_t{256} << 20;
  // The bound while the store delays or stops writes (RocksDB's write stall); at or above
  // prefetch_bytes (the default) it changes nothing.
  std::size_t prefetch_stalled_bytes = std::size_t{256} << 20;
  // Nice value of librdkafka's broker threads (0..19): fetching yields to parsing and writing.
  int broker_thread_nice = 10;
  std::int64_t max_sample_age_s = 0;  // 0: no limit
  // librdkafka properties applied after Vigil's defaults (so they win).
  std::vector<std::pair<std::string, std::string>> rdkafka;
};

// The default group.instance.id of a node: "vigil-<host>-<16 hex digits of a hash of the absolute
// data directory>", with the host name cut to 64 characters of [A-Za-z0-9._-] (others become
// '-'). Stable across restarts of one node; two nodes differ in host or directory (two processes
// cannot share a data directory).
std::string default_group_instance_id(std::string_view host, std::string_view abs_data_dir);

class KafkaConsumer {
 public:
  // Creates the consumer, subscribes and starts its thread. nullptr and `err` on a bad
  // configuration (e.g. an unknown librdkafka property).
  static std::unique_ptr<KafkaConsumer> start(actors::Engine& engine, const KafkaOptions& opts,
                                              std::string& err);
  ~KafkaConsumer();

  // Leaves the group (the revoke flushes the engine first) and stops the thread. Idempotent.
  void stop();

  // Prometheus text: messages, samples, bad messages by reason, dead letters, paused and
  // assigned partitions, per-partition offset and lag.
  std::string metrics_text();

 private:
  KafkaConsumer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// librdkafka's protocol-level mock cluster (one broker on a loopback port), for the quick start
// and tests. Never a production broker.
class MockCluster {
 public:
  static std::unique_ptr<MockCluster> start(const std::vector<std::string>& topics, int partitions,
                                            std::string& err);
  ~MockCluster();
  // "127.0.0.1:PORT", for bootstrap.servers.
  const std::string& bootstrap() const;
  // Creates one more topic; false and `err` on failure.
  bool create_topic(const std::string& topic, int partitions, std::string& err);

 private:
  MockCluster();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::connectors
