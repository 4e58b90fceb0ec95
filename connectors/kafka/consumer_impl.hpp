// The Kafka consumer's insides, private to connectors/kafka/ (the design is described in
// kafka.hpp). KafkaConsumer::Impl owns the librdkafka handles and the threads, and keeps the state
// of each concern in a struct of its own, with its own lock (and condition, where a thread waits):
//   Partitions  assignment state per partition, the paused flag          assignment.cpp, fetch.cpp
//   Prefetch    messages fetched and not yet parsed; the rewind handshake fetch.cpp, pipeline.cpp
//   SplitParse  the second parsing thread and the part of a batch it parses          pipeline.cpp
//   Handoff     the parsed batch on its way to the ingest thread                     pipeline.cpp
//   BadMessages bad messages by reason, their rate-limited log                   dead_letters.cpp
//   Counters    the atomic counters /metrics reports                      consumer_metrics.cpp
// Impl's member functions are defined in the file of their concern: client_config.cpp (librdkafka
// configuration), consumer.cpp (start, stop), assignment.cpp (rebalance, stored offsets),
// fetch.cpp (the fetch thread, pausing), pipeline.cpp (parse and write), dead_letters.cpp,
// consumer_metrics.cpp. The per-message path stays visible to the compiler: prepare, parse and
// format_of in pipeline.cpp, and what the fetch loop and the pipeline share (Prefetch::cost,
// offset_key, RateLimitedLog) inline in headers. Only the bad-message path leaves the file
// (dead_letter, in dead_letters.cpp).
//
// Lock order: Impl::process_mu, then Handoff::mu or Prefetch::mu (never both at once), then
// Partitions::mu. BadMessages::mu and the logs' locks are taken alone.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "actors/engine.hpp"
#include "connectors/kafka/handles.hpp"
#include "connectors/kafka/kafka.hpp"
#include "connectors/kafka/rate_limited_log.hpp"
#include "api/librato/lang/line_protocol.hpp"
#include "engine/storage/storage.hpp"

namespace vigil::connectors {

namespace kafka {

using Clock = std::chrono::steady_clock;

// -- client configuration (client_config.cpp) ------------------------------------------------

// librdkafka's own log lines, through spdlog.
void log_cb(const rd_kafka_t*, int level, const char* fac, const char* buf);

// Sets one property; false and `err` ("kafka property k=v: why") when librdkafka refuses it.
bool set_conf(rd_kafka_conf_t* conf, const std::string& k, const std::string& v, std::string& err);

// The consumer's configuration: Vigil's defaults, then opts.rdkafka; null and `err` on a property
// librdkafka refuses. The caller adds the opaque and the callbacks.
Conf consumer_conf(const KafkaOptions& opts, std::string& err);

// The dead-letter producer's configuration: the connection and security properties of
// opts.rdkafka apply to it too; null and `err` on a refused property.
Conf dead_letter_conf(const KafkaOptions& opts, std::string& err);

// Registers an interceptor lowering the priority of the broker threads of the handle `conf` will
// make to `*nice` (0: nothing to do). `nice` must outlive that handle.
void lower_broker_threads(rd_kafka_conf_t* conf, int* nice);

// -- partitions and stored offsets -----------------------------------------------------------

struct PartState {
  std::int64_t next = -1;    // next offset to consume; -1: from the beginning (no stored state)
  std::int64_t stored = -1;  // next offset as durably stored with the state
  bool assigned = false;
  bool touched = false;  // offset advanced in the current batch
  // The stored offset could not be read (a storage error): the partition is paused and its
  // messages dropped until a read succeeds; it never starts from 0 for want of its offset.
  bool offset_unknown = false;
  bool resume_after_seek = false;  // read at last: resumed once the rewind has put it there
};

// The meta-family key of a partition's next offset: "koff/<group>/<topic>/<partition>".
inline std::string offset_key(const std::string& group, std::string_view topic,
                              std::int32_t partition) {
  std::string k = "koff/";
  k += group;
  k += '/';
  k += topic;
  k += '/';
  k += std::to_string(partition);
  return k;
}

// Where a partition without stored state starts: offset 0, not RD_KAFKA_OFFSET_BEGINNING. The
// logical offset costs an offset lookup first, after which this librdkafka (2.0) often left the
// partition unfetched for half a second. A log whose start was removed by retention answers 0
// with "out of range", and auto.offset.reset (earliest by default) takes the consumer to its start.
constexpr std::int64_t kFromStart = 0;

// Partition state: written by the fetch thread (rebalances, rewinds, pausing) and the pipeline,
// read by metrics_text. Map nodes stay put and entries are never erased, so a PartState* taken
// under `mu` stays valid (the pipeline keeps such pointers from parse to write).
struct Partitions {
  std::mutex mu;
  std::map<std::string, std::map<std::int32_t, PartState>, std::less<>> parts;
  bool paused = false;  // written under mu by the fetch thread, which alone reads it without mu
  std::size_t offset_unknown = 0;  // partitions whose stored offset could not be read; under mu
};

// -- fetched messages ------------------------------------------------------------------------

// Messages taken off librdkafka's queue by the fetch thread, waiting for the process thread.
struct Prefetch {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Message> buffered;
  std::atomic<std::size_t> bytes{0};  // cost() of the buffered messages and those being processed
  bool process_stop = false;          // guarded by mu
  // A write failed: the ingest thread drops every batch until the fetch thread has put the
  // partitions back at their stored offsets (rewind_requested, on the fetch thread, which alone
  // consumes from librdkafka, so that nothing consumed before the seek reaches the buffer after).
  // Set under mu, so that the process thread, waiting there for messages, wakes up for it.
  std::atomic<bool> ingest_failed{false};
  bool rewind_requested = false;  // guarded by mu

  // A batch also ends after this many payload bytes: with large messages (a hundred measurements
  // each), batch_size messages would be parsed into half a million measurements, three batches of
  // which (parsed, handed over, being written) are in memory at once.
  static constexpr std::size_t kBatchPayload = std::size_t{4} << 20;
  static constexpr std::size_t kMessageOverhead = 256;  // librdkafka's bookkeeping per message
  static std::size_t cost(const rd_kafka_message_t* m) {
    return m->len + m->key_len + kMessageOverhead;
  }
};

// -- parsing and writing ---------------------------------------------------------------------

enum class Format { json, line };

// A bad message found while parsing: dead-lettered once the whole batch is parsed, so that the
// dead letters of a batch parsed in two parts go out in message order.
struct Rejected {
  const rd_kafka_message_t* m;
  const char* kind;
  std::string detail;
};

// A second parsing thread: the process thread hands it the first part of a large batch and
// parses the rest itself, then ingests both parts in order. The fields below `cv` are guarded by
// `mu` while `pending` is true; once it is false, `out` and `rejected` are the process thread's.
// The messages of a parsed batch, in order: (the end of the message's measurements in the batch,
// the message), for the messages that gave measurements. A measurement the engine refuses (a series
// limit) is traced back to its message, which is dead-lettered whole.
using MessageEnds = std::vector<std::pair<std::size_t, const rd_kafka_message_t*>>;

struct SplitParse {
  std::thread thread;
  std::mutex mu;
  std::condition_variable cv;
  rd_kafka_message_t* const* msgs = nullptr;  // the part to parse
  std::size_t n = 0;
  std::size_t total = 0;  // the whole batch: the helper's output becomes the batch
  std::int64_t now = 0;
  std::uint64_t generation = 0;  // the series index's, when the batch was taken
  bool pending = false, stop = false;
  std::vector<Measurement> out;  // the part's measurements
  // Written measurements whose tag vectors the parse thread takes for its parser first: each
  // thread's parser reuses the vectors recycled on that thread (see recycle()).
  std::span<Measurement> recycle;
  std::vector<Rejected> rejected;  // the part's bad messages, read with `out`
  MessageEnds ends;                // the part's messages, read with `out`

  static constexpr std::size_t kParallelParse = 256;  // messages; fewer are parsed in one thread
  // The parse thread's share of a split batch: three fifths, the process thread having prepared it.
  static std::size_t share(std::size_t n) { return n * 3 / 5; }
};

// A parsed batch on its way to the ingest thread, which writes it while the process thread
// parses the next one.
struct Parsed {
  std::vector<Message> msgs;  // destroyed once the batch is written (or dropped)
  std::size_t bytes = 0;      // their share of Prefetch::bytes
  std::vector<Measurement> batch;
  MessageEnds ends;                                        // the messages of `batch`
  Storage::Batch offsets;                                  // next offsets of the touched partitions
  std::vector<std::pair<PartState*, std::int64_t>> marks;  // become `stored` once written
  std::size_t consumed = 0;
  bool any_dead = false;
  std::int64_t now = 0;
};

struct Handoff {
  std::thread thread;  // the ingest thread
  std::mutex mu;
  std::condition_variable cv;
  std::unique_ptr<Parsed> handed;              // the next batch to write; guarded by mu
  std::vector<std::unique_ptr<Parsed>> spare;  // written batches, for reuse; guarded by mu
  bool ingesting = false, stop = false;        // guarded by mu
};

// -- bad messages and counters ---------------------------------------------------------------

struct BadMessages {
  std::mutex mu;
  std::map<std::string, std::uint64_t> by_reason;  // guarded by mu
  RateLimitedLog log;
};

struct Counters {
  std::atomic<std::uint64_t> messages{0}, samples{0}, batches{0}, dead_letters{0},
      dead_letter_errors{0}, rebalances{0}, pauses{0}, stale_skipped{0}, consumer_errors{0},
      ingest_errors{0}, split_batches{0}, stale_rewinds{0}, offset_read_errors{0};
};

}  // namespace kafka

struct KafkaConsumer::Impl {
  using Message = kafka::Message;
  using Parsed = kafka::Parsed;
  using Rejected = kafka::Rejected;

  actors::Engine* engine = nullptr;
  KafkaOptions opts;
  TimePrecision precision = TimePrecision::ns;
  kafka::Client rk;
  kafka::Client dlq;  // producer for dead letters; null without a dead-letter topic
  kafka::Queue queue;
  std::thread thread;          // fetch: librdkafka's queue -> prefetch, rebalances, pauses
  std::thread process_thread;  // parse + ingest of the buffered messages
  std::atomic<bool> stopping{false};
  bool stopped = false;
  // The process thread holds process_mu while it takes, parses and hands over a batch, so that a
  // revoke can wait for the batch in progress.
  std::mutex process_mu;

  kafka::Partitions partitions;
  kafka::Prefetch prefetch;
  kafka::SplitParse split;
  kafka::Handoff handoff;
  kafka::BadMessages bad;
  kafka::Counters counters;
  kafka::RateLimitedLog error_log;
  kafka::Clock::time_point last_commit{};
  // Whether the store delays writes, as last read (every 100 ms) by the fetch thread.
  bool store_delayed = false;
  kafka::Clock::time_point last_store_check{};

  // -- assignment.cpp: rebalancing and stored offsets ------------------------------------------

  static void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                           rd_kafka_topic_partition_list_t* list, void* opaque);
  void rebalance(rd_kafka_t* k, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list);
  // Sets `st` to the offset stored for its partition (-1: none); under partitions.mu. False
  // (counted, `st` unchanged) when the stored offset could not be read.
  bool load_stored_offset(kafka::PartState& st, std::string_view topic, std::int32_t partition,
                          std::string& scratch);
  // Reads again the stored offsets that could not be read (fetch thread, every 500 ms while
  // some are unknown); once one is read, every partition is rewound to its stored offset and
  // that one resumed.
  void retry_unknown_offsets();
  kafka::Clock::time_point last_offset_retry{};
  // Puts every assigned partition back at its stored offset (after a failed write).
  void rewind();
  // Informational commit of the consumed positions (lag tools read them); the truth is in RocksDB.
  void commit_positions();

  // -- fetch.cpp: the fetch thread and backpressure --------------------------------------------

  void run();
  void set_paused(bool pause);
  void drop_buffered();

  // -- dead_letters.cpp ------------------------------------------------------------------------

  static void delivery_cb(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque);
  void dead_letter(const rd_kafka_message_t* m, const char* kind, const std::string& detail);

  // -- pipeline.cpp: parse and write -----------------------------------------------------------

  kafka::Format format_of(const rd_kafka_message_t* m);
  void parse(const rd_kafka_message_t* m, std::int64_t now, std::uint64_t generation,
             std::vector<Measurement>& out, std::vector<Rejected>& rejected);
  void parse_loop();
  bool parse_batch(const std::vector<rd_kafka_message_t*>& todo, std::int64_t now,
                   std::vector<Measurement>& batch, std::vector<Measurement>& written, kafka::MessageEnds& ends);
  // Dead-letters the messages of the measurements the engine refused (`refused`: indices into
  // p.batch) and takes all their measurements out of p.batch.
  void drop_refused(Parsed& p, const std::vector<SeriesRefusal>& refused);
  void prepare(Parsed& p);
  void write(Parsed& p);
  void release(Parsed& p);
  void ingest_loop();
  void process_loop();
};

}  // namespace vigil::connectors
