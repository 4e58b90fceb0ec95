#include "connectors/kafka/kafka.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <ctime>
#include <map>
#include <mutex>
#include <span>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <thread>

#include "actors/engine.hpp"
#include "engine/ingest_parser.hpp"
#include "engine/line_protocol.hpp"
#include "engine/prom_text.hpp"
#include "engine/storage.hpp"

namespace vigil::connectors {

namespace {

using Clock = std::chrono::steady_clock;

// librdkafka's own log lines, through spdlog.
void log_cb(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  if (level <= 3)
    spdlog::error("kafka: {}: {}", fac, buf);
  else if (level <= 4)
    spdlog::warn("kafka: {}: {}", fac, buf);
  else if (level <= 6)
    spdlog::info("kafka: {}: {}", fac, buf);
  else
    spdlog::debug("kafka: {}: {}", fac, buf);
}

bool set_conf(rd_kafka_conf_t* conf, const std::string& k, const std::string& v, std::string& err) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    err = "kafka property " + k + "=" + v + ": " + errstr;
    return false;
  }
  return true;
}

// At most one log line per second per kind; the lines in between are counted and reported.
struct RateLimitedLog {
  std::mutex mu;  // several threads report errors
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

struct PartState {
  std::int64_t next = -1;    // next offset to consume; -1: from the beginning (no stored state)
  std::int64_t stored = -1;  // next offset as durably stored with the state
  bool assigned = false;
  bool touched = false;  // offset advanced in the current batch
};

std::string offset_key(const std::string& group, std::string_view topic, std::int32_t partition) {
  std::string k = "koff/";
  k += group;
  k += '/';
  k += topic;
  k += '/';
  k += std::to_string(partition);
  return k;
}

enum class Format { json, line };

// Where a partition without stored state starts: offset 0, not RD_KAFKA_OFFSET_BEGINNING. The
// logical offset costs an offset lookup first, after which this librdkafka (2.0) often left the
// partition unfetched for half a second. A log whose start was removed by retention answers 0
// with "out of range", and auto.offset.reset (earliest by default) takes the consumer to its start.
constexpr std::int64_t kFromStart = 0;

// After resuming partitions, this librdkafka's broker thread only notices them when it next
// wakes up (up to a second later, measured at about 0.3 s). Any request through that thread wakes
// it: a watermark query for one partition, answered in about a millisecond.
void wake_broker_thread(rd_kafka_t* rk, const rd_kafka_topic_partition_list_t* list) {
  if (list->cnt == 0) return;
  int64_t lo = 0, hi = 0;
  rd_kafka_query_watermark_offsets(rk, list->elems[0].topic, list->elems[0].partition, &lo, &hi, 100);
}

// librdkafka's broker threads (fetching, for a consumer) start at a lower scheduling priority
// (KafkaOptions::broker_thread_nice): on cores kept busy by the consumer's own threads, fetching
// runs when parsing and writing leave room, rather than filling the prefetch buffer ahead of them.
rd_kafka_resp_err_t on_thread_start(rd_kafka_t*, rd_kafka_thread_type_t type, const char* name, void* opaque) {
  const int nice = *static_cast<const int*>(opaque);
  if (type == RD_KAFKA_THREAD_BROKER && nice > 0 &&
      setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice) != 0)
    spdlog::debug("kafka: cannot lower the priority of {}: {}", name, std::strerror(errno));
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

rd_kafka_resp_err_t on_new(rd_kafka_t* rk, const rd_kafka_conf_t*, void* opaque, char*, size_t) {
  return rd_kafka_interceptor_add_on_thread_start(rk, "vigil-broker-nice", on_thread_start, opaque);
}

// Registers on_thread_start on the handle that `conf` will make, at `*nice` (0: nothing to do).
void lower_broker_threads(rd_kafka_conf_t* conf, int* nice) {
  if (*nice > 0) rd_kafka_conf_interceptor_add_on_new(conf, "vigil-broker-nice", on_new, nice);
}

}  // namespace

struct KafkaConsumer::Impl {
  actors::Engine* engine = nullptr;
  KafkaOptions opts;
  TimePrecision precision = TimePrecision::ns;
  rd_kafka_t* rk = nullptr;
  rd_kafka_t* dlq = nullptr;  // producer for dead letters; null without a dead-letter topic
  rd_kafka_queue_t* queue = nullptr;
  std::thread thread;          // fetch: librdkafka's queue -> `buffered`, rebalances, pauses
  std::thread process_thread;  // parse + ingest of the buffered messages
  // A second parsing thread: the process thread hands it the first part of a large batch and
  // parses the rest itself, then ingests both parts in order.
  std::thread parse_thread;
  std::mutex parse_mu;
  std::condition_variable parse_cv;
  rd_kafka_message_t* const* parse_msgs = nullptr;  // the part to parse; guarded by parse_mu
  std::size_t parse_n = 0;
  std::size_t parse_total = 0;  // the whole batch: the helper's output becomes the batch
  std::int64_t parse_now = 0;
  std::uint64_t parse_generation = 0;  // the series index's, when the batch was taken
  bool parse_pending = false, parse_stop = false;
  std::vector<Measurement> parse_out;  // the part's measurements, read once parse_pending is false
  // Written measurements whose tag vectors the parse thread takes for its parser first: each
  // thread's parser reuses the vectors recycled on that thread (see recycle()).
  std::span<Measurement> parse_recycle;
  // A bad message found while parsing: dead-lettered once the whole batch is parsed, so that the
  // dead letters of a batch parsed in two parts go out in message order.
  struct Rejected {
    const rd_kafka_message_t* m;
    const char* kind;
    std::string detail;
  };
  std::vector<Rejected> parse_rejected;  // the part's bad messages, read with parse_out
  static constexpr std::size_t kParallelParse = 256;  // messages; fewer are parsed in one thread
  // The parse thread's share of a split batch: three fifths, the process thread having prepared it.
  static std::size_t parse_thread_share(std::size_t n) { return n * 3 / 5; }
  std::atomic<bool> stopping{false};
  bool stopped = false;

  // Messages taken off librdkafka's queue, waiting to be parsed. Lock order: process_mu, then
  // buf_mu. The process thread holds process_mu while it takes, parses and hands over a batch, so
  // that a revoke can wait for the batch in progress.
  std::mutex buf_mu;
  std::condition_variable buf_cv;
  std::deque<rd_kafka_message_t*> buffered;
  std::atomic<std::size_t> buffered_bytes{0};
  bool process_stop = false;  // guarded by buf_mu
  std::mutex process_mu;

  // A parsed batch on its way to the ingest thread, which writes it while the process thread
  // parses the next one.
  struct Parsed {
    std::vector<rd_kafka_message_t*> msgs;  // destroyed once the batch is written (or dropped)
    std::size_t bytes = 0;                  // their share of buffered_bytes
    std::vector<Measurement> batch;
    Storage::Batch offsets;                               // next offsets of the touched partitions
    std::vector<std::pair<PartState*, std::int64_t>> marks;  // become `stored` once written
    std::size_t consumed = 0;
    bool any_dead = false;
    std::int64_t now = 0;
  };
  std::thread ingest_thread;
  std::mutex ingest_mu;
  std::condition_variable ingest_cv;
  std::unique_ptr<Parsed> handed;              // the next batch to write; guarded by ingest_mu
  std::vector<std::unique_ptr<Parsed>> spare;  // written batches, for reuse; guarded by ingest_mu
  bool ingesting = false, ingest_stop = false;  // guarded by ingest_mu
  // A write failed: the ingest thread drops every batch until the fetch thread has put the
  // partitions back at their stored offsets (rewind_requested, on the fetch thread, which alone
  // consumes from librdkafka, so that nothing consumed before the seek reaches the buffer after).
  // Set under buf_mu, so that the process thread, waiting there for messages, wakes up for it.
  std::atomic<bool> ingest_failed{false};
  bool rewind_requested = false;  // guarded by buf_mu
  // A batch also ends after this many payload bytes: with large messages (a hundred measurements
  // each), batch_size messages would be parsed into half a million measurements, three batches of
  // which (parsed, handed over, being written) are in memory at once.
  static constexpr std::size_t kBatchPayload = std::size_t{4} << 20;
  static constexpr std::size_t kMessageOverhead = 256;  // librdkafka's bookkeeping per message
  static std::size_t cost(const rd_kafka_message_t* m) { return m->len + m->key_len + kMessageOverhead; }

  // Partition state: touched by the consumer thread, read by metrics_text.
  std::mutex mu;
  std::map<std::string, std::map<std::int32_t, PartState>, std::less<>> parts;
  bool paused = false;

  std::atomic<std::uint64_t> messages{0}, samples{0}, batches{0}, dead_letters{0}, dead_letter_errors{0},
      rebalances{0}, pauses{0}, stale_skipped{0}, consumer_errors{0}, ingest_errors{0}, split_batches{0},
      stale_rewinds{0};
  std::map<std::string, std::uint64_t> bad_by_reason;  // guarded by mu
  RateLimitedLog bad_log, error_log;
  Clock::time_point last_commit{};

  // -- rebalancing ---------------------------------------------------------------------------

  static void rebalance_cb(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list,
                           void* opaque) {
    static_cast<Impl*>(opaque)->rebalance(rk, err, list);
  }

  void rebalance(rd_kafka_t* k, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list) {
    rebalances.fetch_add(1);
    const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(k)) == "COOPERATIVE";
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      std::string value;
      {
        std::lock_guard lock(mu);
        for (int i = 0; i < list->cnt; ++i) {
          auto& tp = list->elems[i];
          auto& st = parts[tp.topic][tp.partition];
          st.assigned = true;
          st.touched = false;
          st.next = -1;
          st.stored = -1;
          if (engine->storage().get(Cf::meta, offset_key(opts.group_id, tp.topic, tp.partition), value))
            st.next = std::strtoll(value.c_str(), nullptr, 10);
          st.stored = st.next;
          tp.offset = st.next >= 0 ? st.next : kFromStart;
          spdlog::info("kafka: assigned {}[{}] from offset {}", tp.topic, tp.partition,
                       st.next >= 0 ? std::to_string(st.next) : std::string("beginning (no stored state)"));
        }
      }
      rd_kafka_resp_err_t e;
      if (cooperative) {
        rd_kafka_error_t* ce = rd_kafka_incremental_assign(k, list);
        e = ce ? rd_kafka_error_code(ce) : RD_KAFKA_RESP_ERR_NO_ERROR;
        if (ce) rd_kafka_error_destroy(ce);
      } else {
        e = rd_kafka_assign(k, list);
      }
      if (e) spdlog::error("kafka: assign failed: {}", rd_kafka_err2str(e));
      if (paused) rd_kafka_pause_partitions(k, list);
      return;
    }
    // Revoke (or a rebalance error): no batch is in progress, the buffered messages of the
    // partitions going away are dropped (their offsets were not stored: the next owner reads them
    // again), and everything accepted so far is applied and flushed before they go.
    std::lock_guard processing(process_mu);
    {
      // The batch handed over (consumed while these partitions were ours) is written first.
      std::unique_lock lock(ingest_mu);
      ingest_cv.wait(lock, [&] { return !handed && !ingesting; });
    }
    {
      std::lock_guard lock(buf_mu);
      std::deque<rd_kafka_message_t*> keep;
      for (rd_kafka_message_t* m : buffered) {
        bool revoked = false;
        for (int i = 0; i < list->cnt && !revoked; ++i)
          revoked = m->partition == list->elems[i].partition &&
                    (m->rkt == nullptr || std::strcmp(rd_kafka_topic_name(m->rkt), list->elems[i].topic) == 0);
        if (revoked) {
          buffered_bytes.fetch_sub(cost(m));
          rd_kafka_message_destroy(m);
        } else {
          keep.push_back(m);
        }
      }
      buffered.swap(keep);
    }
    if (!engine->sync()) spdlog::error("kafka: flushing the engine before releasing partitions failed");
    {
      std::lock_guard lock(mu);
      for (int i = 0; i < list->cnt; ++i) {
        auto& st = parts[list->elems[i].topic][list->elems[i].partition];
        st.assigned = false;
        st.touched = false;
        spdlog::info("kafka: released {}[{}] at offset {}", list->elems[i].topic, list->elems[i].partition,
                     st.next);
      }
    }
    if (cooperative) {
      rd_kafka_error_t* ce = rd_kafka_incremental_unassign(k, list);
      if (ce) rd_kafka_error_destroy(ce);
    } else {
      rd_kafka_assign(k, nullptr);
    }
  }

  // -- dead letters --------------------------------------------------------------------------

  static void delivery_cb(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    if (m->err) {
      auto* self = static_cast<Impl*>(opaque);
      self->dead_letter_errors.fetch_add(1);
      self->error_log.warn("kafka: dead letter not delivered: {}", rd_kafka_err2str(m->err));
    }
  }

  void dead_letter(const rd_kafka_message_t* m, const char* kind, const std::string& detail) {
    const char* topic = rd_kafka_topic_name(m->rkt);
    {
      std::lock_guard lock(mu);
      ++bad_by_reason[kind];
    }
    std::string reason = std::string(kind) + ": " + detail;
    bad_log.warn("kafka: bad message {}[{}]@{}: {}", topic, m->partition, m->offset, reason);
    if (!dlq) return;
    std::string part = std::to_string(m->partition), off = std::to_string(m->offset);
    rd_kafka_headers_t* h = rd_kafka_headers_new(4);
    rd_kafka_header_add(h, "reason", -1, reason.data(), static_cast<ssize_t>(reason.size()));
    rd_kafka_header_add(h, "source_topic", -1, topic, -1);
    rd_kafka_header_add(h, "source_partition", -1, part.data(), static_cast<ssize_t>(part.size()));
    rd_kafka_header_add(h, "source_offset", -1, off.data(), static_cast<ssize_t>(off.size()));
    rd_kafka_resp_err_t e = rd_kafka_producev(
        dlq, RD_KAFKA_V_TOPIC(opts.dead_letter_topic.c_str()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(m->payload, m->len), RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_HEADERS(h),
        RD_KAFKA_V_END);
    if (e) {
      rd_kafka_headers_destroy(h);
      dead_letter_errors.fetch_add(1);
      error_log.warn("kafka: cannot produce to {}: {}", opts.dead_letter_topic, rd_kafka_err2str(e));
      return;
    }
    dead_letters.fetch_add(1);
  }

  // -- consuming -----------------------------------------------------------------------------

  Format format_of(const rd_kafka_message_t* m) {
    rd_kafka_headers_t* hdrs = nullptr;
    if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
      const void* v = nullptr;
      size_t n = 0;
      if (rd_kafka_header_get_last(hdrs, "content-type", &v, &n) == RD_KAFKA_RESP_ERR_NO_ERROR && v) {
        std::string ct(static_cast<const char*>(v), n);
        for (auto& c : ct) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (ct.find("json") != std::string::npos) return Format::json;
        if (ct.find("text/plain") != std::string::npos || ct.find("influx") != std::string::npos ||
            ct.find("line") != std::string::npos)
          return Format::line;
      }
    }
    const char* p = static_cast<const char*>(m->payload);
    for (std::size_t i = 0; i < m->len; ++i) {
      char c = p[i];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') continue;
      return (c == '{' || c == '[') ? Format::json : Format::line;
    }
    return Format::line;
  }

  // Parses one message onto the end of `out`, or, when it is bad, into `rejected`.
  void parse(const rd_kafka_message_t* m, std::int64_t now, std::uint64_t generation, std::vector<Measurement>& out,
             std::vector<Rejected>& rejected) {
    if (!m->payload || m->len == 0) {
      rejected.push_back({m, "empty", "the message has no value"});
      return;
    }
    std::string_view body(static_cast<const char*>(m->payload), m->len);
    Format f = format_of(m);
    CompositeRefusal composites(engine->catalog());  // composite metrics are computed, never stored
    const std::size_t before = out.size();
    // The message's measurements go straight to the end of `out` (JSON is parsed in place there:
    // a message of one measurement would otherwise cost a vector of its own); a bad message takes
    // them out again.
    auto reject = [&](const char* reason, const std::string& detail) {
      out.erase(out.begin() + static_cast<std::ptrdiff_t>(before), out.end());
      rejected.push_back({m, reason, detail});
    };
    thread_local ParseOutcome json_outcome;  // its measurements vector is empty between calls
    ParseOutcome line_outcome;
    ParseOutcome* r = &json_outcome;
    if (f == Format::json) {
      json_outcome.measurements.swap(out);
      parse_measurement_message(body, now, &composites, generation, json_outcome);
      json_outcome.measurements.swap(out);
    } else {
      line_outcome = parse_line_protocol(body, now, precision, &composites);
      r = &line_outcome;
      for (auto& ms : line_outcome.measurements) out.push_back(std::move(ms));
    }
    if (!r->request_error.empty())
      return reject(f == Format::json ? "bad_json" : "bad_line_protocol", r->request_error);
    if (!r->errors.empty()) {
      std::string detail = r->errors[0].param + ": " + r->errors[0].message;
      if (r->errors.size() > 1) detail += " (and " + std::to_string(r->errors.size() - 1) + " more)";
      return reject("invalid_measurement", detail);
    }
    if (out.size() == before) return reject("empty", "no measurements");
    if (opts.max_sample_age_s > 0) {
      const std::int64_t oldest = now - opts.max_sample_age_s;
      for (std::size_t i = before; i < out.size(); ++i)
        if (out[i].time < oldest)
          return reject("too_old", "sample time " + std::to_string(out[i].time) + " is older than " +
                                       std::to_string(opts.max_sample_age_s) + " s (kafka.max_sample_age_s)");
    }
  }

  // Puts every assigned partition back at its stored offset (after a failed write).
  void rewind() {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(8);
    std::string value;
    {
      std::lock_guard lock(mu);
      for (auto& [topic, ps] : parts)
        for (auto& [p, st] : ps) {
          if (!st.assigned) continue;
          st.touched = false;
          st.next = -1;
          st.stored = -1;
          if (engine->storage().get(Cf::meta, offset_key(opts.group_id, topic, p), value))
            st.next = std::strtoll(value.c_str(), nullptr, 10);
          st.stored = st.next;
          rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset =
              st.next >= 0 ? st.next : kFromStart;
        }
    }
    if (list->cnt > 0) {
      rd_kafka_error_t* e = rd_kafka_seek_partitions(rk, list, 5000);
      if (e) {
        spdlog::error("kafka: seek failed: {}", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
      }
    }
    rd_kafka_topic_partition_list_destroy(list);
  }

  void parse_loop() {
    std::unique_lock lock(parse_mu);
    for (;;) {
      parse_cv.wait(lock, [&] { return parse_pending || parse_stop; });
      if (parse_stop) return;
      rd_kafka_message_t* const* msgs = parse_msgs;
      const std::size_t n = parse_n;
      const std::size_t total = parse_total;
      const std::int64_t now = parse_now;
      const std::uint64_t generation = parse_generation;
      const std::span<Measurement> to_recycle = parse_recycle;
      lock.unlock();
      learn_series(to_recycle);
      parse_out.clear();
      parse_out.reserve(total);
      parse_rejected.clear();
      for (std::size_t i = 0; i < n; ++i) parse(msgs[i], now, generation, parse_out, parse_rejected);
      lock.lock();
      parse_pending = false;
      parse_cv.notify_all();
    }
  }

  // Parses `todo` into `batch` (empty) in order, and dead-letters the bad messages in order;
  // false if there was any. `written` is a batch already written: its tag vectors go back to
  // the parsers of both threads, and its storage becomes the parse thread's next output.
  bool parse_batch(const std::vector<rd_kafka_message_t*>& todo, std::int64_t now, std::vector<Measurement>& batch,
                   std::vector<Measurement>& written) {
    std::size_t own = 0;  // the first message this thread parses
    std::span<Measurement> mine_to_recycle(written);
    const std::uint64_t generation = engine->series_generation();
    if (todo.size() >= kParallelParse && parse_thread.joinable()) {
      own = parse_thread_share(todo.size());
      split_batches.fetch_add(1);
      std::lock_guard lock(parse_mu);
      // The written batch's tag vectors in the same shares as the parsing.
      const std::size_t theirs = parse_thread_share(written.size());
      parse_recycle = mine_to_recycle.first(theirs);
      mine_to_recycle = mine_to_recycle.subspan(theirs);
      parse_msgs = todo.data();
      parse_n = own;
      parse_total = todo.size();
      parse_now = now;
      parse_generation = generation;
      parse_pending = true;
      parse_cv.notify_all();
    }
    learn_series(mine_to_recycle);
    thread_local std::vector<Measurement> tail;
    std::vector<Measurement>& mine = own > 0 ? tail : batch;
    mine.clear();
    mine.reserve(todo.size() - own);
    thread_local std::vector<Rejected> rejected;
    rejected.clear();
    for (std::size_t i = own; i < todo.size(); ++i) parse(todo[i], now, generation, mine, rejected);
    bool any_dead = !rejected.empty();
    if (own > 0) {
      {
        std::unique_lock lock(parse_mu);
        parse_cv.wait(lock, [&] { return !parse_pending; });
      }
      // The parse thread is idle until the next batch: its output is this thread's to read.
      written.clear();
      batch.swap(parse_out);
      parse_out.swap(written);
      batch.insert(batch.end(), std::make_move_iterator(tail.begin()), std::make_move_iterator(tail.end()));
      tail.clear();
      any_dead = any_dead || !parse_rejected.empty();
      for (const Rejected& r : parse_rejected) dead_letter(r.m, r.kind, r.detail);  // the first part's
    }
    for (const Rejected& r : rejected) dead_letter(r.m, r.kind, r.detail);
    return !any_dead;
  }

  // Process thread: the messages of `p.msgs` that are new for an assigned partition are parsed
  // into `p.batch`, and the partitions' next offsets recorded for the same write.
  void prepare(Parsed& p) {
    p.now = static_cast<std::int64_t>(std::time(nullptr));
    thread_local std::vector<Measurement> written;
    written.swap(p.batch);  // recycled while the next batch is parsed
    p.offsets = Storage::Batch();
    p.marks.clear();
    p.consumed = 0;
    thread_local std::vector<rd_kafka_message_t*> todo;
    todo.clear();
    std::unique_lock lock(mu);
    // Messages come in runs of one partition: its state is looked up once per run.
    const rd_kafka_topic_t* run_topic = nullptr;
    std::int32_t run_partition = -1;
    PartState* run_state = nullptr;
    for (rd_kafka_message_t* m : p.msgs) {
      if (m->err) {
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
        consumer_errors.fetch_add(1);
        error_log.warn("kafka: consumer error: {}", rd_kafka_message_errstr(m));
        continue;
      }
      if (m->rkt != run_topic || m->partition != run_partition) {
        run_topic = m->rkt;
        run_partition = m->partition;
        run_state = nullptr;
        if (auto t = parts.find(std::string_view(rd_kafka_topic_name(m->rkt))); t != parts.end())
          if (auto it = t->second.find(m->partition); it != t->second.end()) run_state = &it->second;
      }
      if (run_state == nullptr || !run_state->assigned) {
        stale_skipped.fetch_add(1);
        continue;
      }
      PartState& st = *run_state;
      if (st.next >= 0 && m->offset < st.next) {  // already in the state: never count twice
        stale_skipped.fetch_add(1);
        continue;
      }
      st.next = m->offset + 1;
      st.touched = true;
      ++p.consumed;
      todo.push_back(m);
    }
    lock.unlock();
    p.any_dead = !parse_batch(todo, p.now, p.batch, written);
    written.clear();
    // The offsets go into the same atomic write as the samples they produced.
    lock.lock();
    for (auto& [topic, ps] : parts)
      for (auto& [part, st] : ps)
        if (st.touched) {
          p.offsets.put(Cf::meta, offset_key(opts.group_id, topic, part), std::to_string(st.next));
          p.marks.emplace_back(&st, st.next);  // map nodes stay put; entries are never erased
          st.touched = false;
        }
  }

  // Ingest thread: writes a prepared batch (samples and offsets in one write).
  void write(Parsed& p) {
    if (p.marks.empty()) return;
    // Dead letters are delivered (at least once) before their offsets are stored.
    if (p.any_dead && dlq) {
      if (rd_kafka_flush(dlq, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        dead_letter_errors.fetch_add(1);
        error_log.warn("kafka: dead letters not confirmed within 10 s; going on");
      }
    }
    // Backpressure reaches the buffered messages too: nothing more goes into the engine while
    // its backlog is above the high-water mark (the partitions are paused meanwhile, and the
    // process thread parses at most the batch after this one).
    while (engine->queue_depth() > opts.pause_high_water && !stopping.load())
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    // The measurements learn their series ids, which the parsers remember (learn_series).
    auto res = engine->ingest_learning(p.batch, p.now, &p.offsets);
    if (!res.ok) {
      if (res.stale_series) {
        // Series were removed after the batch was parsed with the ids of known series: it is
        // consumed and parsed again, from the stored offsets.
        stale_rewinds.fetch_add(1);
        spdlog::info("kafka: {}; rewinding to the stored offsets", res.error);
      } else {
        ingest_errors.fetch_add(1);
        spdlog::error("kafka: storing a batch failed ({}); rewinding to the stored offsets", res.error);
      }
      {
        std::lock_guard lock(buf_mu);
        ingest_failed.store(true);
      }
      buf_cv.notify_all();
      if (!res.stale_series) std::this_thread::sleep_for(std::chrono::seconds(1));
      return;
    }
    {
      std::lock_guard lock(mu);
      for (auto& [st, next] : p.marks) st->stored = next;
    }
    messages.fetch_add(p.consumed);
    samples.fetch_add(p.batch.size());
    batches.fetch_add(1);
  }

  void release(Parsed& p) {
    for (rd_kafka_message_t* m : p.msgs) rd_kafka_message_destroy(m);
    p.msgs.clear();
    buffered_bytes.fetch_sub(p.bytes);
    p.bytes = 0;
  }

  void ingest_loop() {
    std::unique_lock lock(ingest_mu);
    for (;;) {
      ingest_cv.wait(lock, [&] { return handed || ingest_stop; });
      if (!handed) return;
      std::unique_ptr<Parsed> p = std::move(handed);
      ingesting = true;
      const bool drop = ingest_failed;  // consumed after the failed batch: read again after the rewind
      lock.unlock();
      ingest_cv.notify_all();  // the slot is free
      if (!drop) write(*p);
      release(*p);
      lock.lock();
      ingesting = false;
      spare.push_back(std::move(p));
      ingest_cv.notify_all();
    }
  }

  // Informational commit of the consumed positions (lag tools read them); the truth is in RocksDB.
  void commit_positions() {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(8);
    {
      std::lock_guard lock(mu);
      for (auto& [topic, ps] : parts)
        for (auto& [p, st] : ps)
          if (st.assigned && st.stored >= 0)
            rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = st.stored;
    }
    if (list->cnt > 0) rd_kafka_commit(rk, list, 1);
    rd_kafka_topic_partition_list_destroy(list);
  }

  void set_paused(bool pause) {
    rd_kafka_topic_partition_list_t* list = nullptr;
    if (rd_kafka_assignment(rk, &list) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
    {
      std::lock_guard lock(mu);
      paused = pause;
    }
    if (pause) {
      rd_kafka_pause_partitions(rk, list);
      pauses.fetch_add(1);
      spdlog::info("kafka: paused {} partition(s): {} samples waiting to be applied", list->cnt,
                   engine->queue_depth());
    } else {
      rd_kafka_resume_partitions(rk, list);
      wake_broker_thread(rk, list);
      spdlog::info("kafka: resumed {} partition(s)", list->cnt);
    }
    rd_kafka_topic_partition_list_destroy(list);
  }

  // The fetch thread.
  void run() {
    std::vector<rd_kafka_message_t*> msgs(std::max<std::size_t>(opts.batch_size, 1000));
    while (!stopping.load()) {
      if (dlq) rd_kafka_poll(dlq, 0);
      bool rewinding;
      {
        std::lock_guard lock(buf_mu);
        rewinding = rewind_requested;
      }
      if (rewinding) {
        // A write failed: back to the stored offsets, and what was fetched beyond them goes.
        rewind();
        drop_buffered();
        {
          std::lock_guard lock(buf_mu);
          rewind_requested = false;
        }
        buf_cv.notify_all();
      }
      const std::size_t depth = engine->queue_depth();
      const std::size_t bytes = buffered_bytes.load();
      if (!paused && (depth > opts.pause_high_water || bytes > opts.prefetch_bytes))
        set_paused(true);
      else if (paused && depth <= opts.resume_low_water && bytes <= opts.prefetch_bytes / 2)
        set_paused(false);
      ssize_t n = rd_kafka_consume_batch_queue(queue, paused ? 50 : 10, msgs.data(), msgs.size());
      if (n < 0) {
        consumer_errors.fetch_add(1);
        error_log.warn("kafka: consume failed: {}", rd_kafka_err2str(rd_kafka_last_error()));
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      if (n > 0) {
        std::size_t added = 0;
        {
          std::lock_guard lock(buf_mu);
          for (ssize_t i = 0; i < n; ++i) {
            buffered.push_back(msgs[static_cast<std::size_t>(i)]);
            added += cost(msgs[static_cast<std::size_t>(i)]);
          }
          buffered_bytes.fetch_add(added);
        }
        buf_cv.notify_one();
      }
      if (Clock::now() - last_commit > std::chrono::seconds(1)) {
        commit_positions();
        last_commit = Clock::now();
      }
    }
    // Leaving the group runs the revoke callback: the batch in progress ends, the buffered
    // messages are dropped, and the engine flushes before the partitions go.
    rd_kafka_consumer_close(rk);
    {
      std::lock_guard lock(buf_mu);
      process_stop = true;
    }
    buf_cv.notify_all();
    if (process_thread.joinable()) process_thread.join();
    {
      std::lock_guard lock(parse_mu);
      parse_stop = true;
    }
    parse_cv.notify_all();
    if (parse_thread.joinable()) parse_thread.join();
    {
      std::lock_guard lock(ingest_mu);
      ingest_stop = true;  // after what was handed over
    }
    ingest_cv.notify_all();
    if (ingest_thread.joinable()) ingest_thread.join();
    drop_buffered();
    if (dlq) rd_kafka_flush(dlq, 5000);
  }

  void drop_buffered() {
    std::lock_guard lock(buf_mu);
    for (rd_kafka_message_t* m : buffered) rd_kafka_message_destroy(m);
    buffered.clear();
    buffered_bytes.store(0);
  }

  // The process thread: batches of at most batch_size buffered messages, parsed and handed to the
  // ingest thread, which writes each one while the next is parsed.
  void process_loop() {
    for (;;) {
      {
        std::unique_lock wait(buf_mu);
        buf_cv.wait(wait, [&] { return !buffered.empty() || process_stop || ingest_failed.load(); });
        if (process_stop) return;
      }
      if (ingest_failed.load()) {
        // Once the ingest thread has dropped what it was handed, the fetch thread rewinds.
        {
          std::unique_lock lock(ingest_mu);
          ingest_cv.wait(lock, [&] { return !handed && !ingesting; });
        }
        std::unique_lock wait(buf_mu);
        rewind_requested = true;
        buf_cv.wait(wait, [&] { return !rewind_requested || process_stop; });
        ingest_failed.store(false);
        continue;
      }
      std::lock_guard processing(process_mu);
      std::unique_ptr<Parsed> p;
      {
        std::lock_guard lock(ingest_mu);
        if (!spare.empty()) {
          p = std::move(spare.back());
          spare.pop_back();
        }
      }
      if (!p) p = std::make_unique<Parsed>();
      {
        std::lock_guard lock(buf_mu);  // a revoke may have emptied the buffer meanwhile
        std::size_t payload = 0;
        while (!buffered.empty() && p->msgs.size() < opts.batch_size && payload < kBatchPayload) {
          p->msgs.push_back(buffered.front());
          p->bytes += cost(buffered.front());
          payload += buffered.front()->len;
          buffered.pop_front();
        }
      }
      if (p->msgs.empty()) continue;
      prepare(*p);
      std::unique_lock lock(ingest_mu);
      ingest_cv.wait(lock, [&] { return !handed; });
      handed = std::move(p);
      lock.unlock();
      ingest_cv.notify_all();
    }
  }
};

KafkaConsumer::KafkaConsumer() : impl_(std::make_unique<Impl>()) {}

KafkaConsumer::~KafkaConsumer() {
  stop();
  auto& I = *impl_;
  if (I.queue) rd_kafka_queue_destroy(I.queue);
  if (I.rk) rd_kafka_destroy(I.rk);
  if (I.dlq) rd_kafka_destroy(I.dlq);
}

std::unique_ptr<KafkaConsumer> KafkaConsumer::start(actors::Engine& engine, const KafkaOptions& opts,
                                                    std::string& err) {
  std::unique_ptr<KafkaConsumer> c(new KafkaConsumer());
  auto& I = *c->impl_;
  I.engine = &engine;
  I.opts = opts;
  if (I.opts.batch_size == 0) I.opts.batch_size = 1;
  if (!parse_time_precision(opts.timestamp_precision, I.precision)) {
    err = "invalid timestamp precision '" + opts.timestamp_precision + "'";
    return nullptr;
  }
  char errstr[512];

  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, log_cb);
  const std::pair<const char*, std::string> defaults[] = {
      {"bootstrap.servers", opts.bootstrap_servers},
      {"group.id", opts.group_id},
      {"client.id", "vigil"},
      {"enable.auto.commit", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      // librdkafka's own queue: it keeps fetching a partition until it holds queued.min.messages
      // or queued.max.messages.kbytes of it (per partition in this librdkafka), then waits a
      // second before fetching it again. The fetch thread drains this queue into the consumer's
      // buffer (kafka.prefetch_mb) at once, so the bounds only cap librdkafka's memory.
      {"queued.max.messages.kbytes", "8192"},
      {"queued.min.messages", "1000000"},
      // Latency: the broker answers a fetch after at most 10 ms even if little data is waiting
      // (librdkafka's default is 500 ms, which would delay alerts on Kafka-borne samples).
      {"fetch.wait.max.ms", "10"},
  };
  for (const auto& [k, v] : defaults)
    if (!set_conf(conf, k, v, err)) {
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  for (const auto& [k, v] : opts.rdkafka)
    if (!set_conf(conf, k, v, err)) {
      rd_kafka_conf_destroy(conf);
      return nullptr;
    }
  rd_kafka_conf_set_opaque(conf, &I);
  rd_kafka_conf_set_rebalance_cb(conf, &Impl::rebalance_cb);
  lower_broker_threads(conf, &I.opts.broker_thread_nice);
  I.rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof errstr);
  if (!I.rk) {
    err = std::string("kafka consumer: ") + errstr;  // on failure the conf is still ours
    rd_kafka_conf_destroy(conf);
    return nullptr;
  }
  rd_kafka_poll_set_consumer(I.rk);
  I.queue = rd_kafka_queue_get_consumer(I.rk);

  if (!opts.dead_letter_topic.empty()) {
    rd_kafka_conf_t* pconf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(pconf, log_cb);
    bool ok = set_conf(pconf, "bootstrap.servers", opts.bootstrap_servers, err) &&
              set_conf(pconf, "client.id", "vigil-dlq", err) && set_conf(pconf, "linger.ms", "5", err);
    // Security and connection properties apply to the producer too; consumer-only ones are skipped.
    for (const auto& [k, v] : opts.rdkafka) {
      if (!ok) break;
      if (k.rfind("security.", 0) == 0 || k.rfind("ssl.", 0) == 0 || k.rfind("sasl.", 0) == 0 ||
          k.rfind("socket.", 0) == 0 || k == "broker.address.family")
        ok = set_conf(pconf, k, v, err);
    }
    if (!ok) {
      rd_kafka_conf_destroy(pconf);
      return nullptr;
    }
    rd_kafka_conf_set_opaque(pconf, &I);
    rd_kafka_conf_set_dr_msg_cb(pconf, &Impl::delivery_cb);
    lower_broker_threads(pconf, &I.opts.broker_thread_nice);
    I.dlq = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, errstr, sizeof errstr);
    if (!I.dlq) {
      err = std::string("kafka dead-letter producer: ") + errstr;
      rd_kafka_conf_destroy(pconf);
      return nullptr;
    }
  }

  rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(static_cast<int>(opts.topics.size()));
  for (const auto& t : opts.topics) rd_kafka_topic_partition_list_add(topics, t.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(I.rk, topics);
  rd_kafka_topic_partition_list_destroy(topics);
  if (e) {
    err = std::string("kafka subscribe: ") + rd_kafka_err2str(e);
    return nullptr;
  }
  std::string list;
  for (const auto& t : opts.topics) list += (list.empty() ? "" : ",") + t;
  spdlog::info("kafka: consuming {} from {} as group {} (dead letters: {})", list, opts.bootstrap_servers,
               opts.group_id, opts.dead_letter_topic.empty() ? "off" : opts.dead_letter_topic);
  // Named for top -H and perf.
  auto named = [&I](const char* name, void (Impl::*loop)()) {
    return std::thread([&I, name, loop] {
      pthread_setname_np(pthread_self(), name);
      (I.*loop)();
    });
  };
  if (std::thread::hardware_concurrency() > 1) I.parse_thread = named("vk-parse", &Impl::parse_loop);
  I.ingest_thread = named("vk-ingest", &Impl::ingest_loop);
  I.process_thread = named("vk-process", &Impl::process_loop);
  I.thread = named("vk-fetch", &Impl::run);
  return c;
}

void KafkaConsumer::stop() {
  auto& I = *impl_;
  if (I.stopped) return;
  I.stopped = true;
  I.stopping.store(true);
  if (I.thread.joinable()) I.thread.join();
  spdlog::info("kafka: consumer stopped");
}

std::string KafkaConsumer::metrics_text() {
  auto& I = *impl_;
  std::string out;
  auto head = [&](const char* name, const char* type, const char* help) { prom::head(out, name, type, help); };
  auto one = [&](const char* name, const char* type, const char* help, std::uint64_t v) {
    prom::metric(out, name, type, help, v);
  };
  one("vigil_kafka_messages_total", "counter", "Kafka messages consumed (good and bad).", I.messages.load());
  one("vigil_kafka_samples_total", "counter", "Samples ingested from Kafka.", I.samples.load());
  one("vigil_kafka_batches_total", "counter", "Consumed batches written (samples and offsets in one write).",
      I.batches.load());
  one("vigil_kafka_dead_letters_total", "counter", "Bad messages produced to the dead-letter topic.",
      I.dead_letters.load());
  one("vigil_kafka_dead_letter_errors_total", "counter", "Dead letters that could not be produced.",
      I.dead_letter_errors.load());
  one("vigil_kafka_prefetch_bytes", "gauge", "Consumed messages waiting to be parsed (bytes, with overhead).",
      I.buffered_bytes.load());
  one("vigil_kafka_split_batches_total", "counter", "Consumed batches parsed in two parts on two threads.",
      I.split_batches.load());
  one("vigil_kafka_rebalances_total", "counter", "Partition assignments and revocations.", I.rebalances.load());
  one("vigil_kafka_pauses_total", "counter", "Times the partitions were paused for backpressure.",
      I.pauses.load());
  one("vigil_kafka_stale_messages_total", "counter", "Messages skipped as already consumed or not assigned.",
      I.stale_skipped.load());
  one("vigil_kafka_consumer_errors_total", "counter", "Consumer errors reported by librdkafka.",
      I.consumer_errors.load());
  one("vigil_kafka_ingest_errors_total", "counter", "Batches whose write failed (rewound and retried).",
      I.ingest_errors.load());
  one("vigil_kafka_stale_series_rewinds_total", "counter",
      "Batches parsed again because series were removed meanwhile (rewound and retried).", I.stale_rewinds.load());

  struct Row {
    std::string topic;
    std::int32_t partition;
    std::int64_t next;
  };
  std::vector<Row> rows;
  std::map<std::string, std::uint64_t> bad;
  bool paused = false;
  {
    std::lock_guard lock(I.mu);
    for (const auto& [topic, ps] : I.parts)
      for (const auto& [p, st] : ps)
        if (st.assigned) rows.push_back({topic, p, st.stored});
    bad = I.bad_by_reason;
    paused = I.paused;
  }
  head("vigil_kafka_bad_messages_total", "counter", "Bad messages by reason.");
  for (const char* r : {"bad_json", "bad_line_protocol", "invalid_measurement", "too_old", "empty"})
    prom::sample(out, "vigil_kafka_bad_messages_total", "reason", r, bad.count(r) ? bad[r] : 0);
  one("vigil_kafka_assigned_partitions", "gauge", "Partitions assigned to this engine.", rows.size());
  one("vigil_kafka_paused_partitions", "gauge", "Partitions paused for backpressure.", paused ? rows.size() : 0);
  head("vigil_kafka_partition_offset", "gauge", "Next offset to consume as stored with the state, per assigned partition.");
  for (const auto& r : rows)
    prom::sample(out, "vigil_kafka_partition_offset", {{"topic", r.topic}, {"partition", std::to_string(r.partition)}},
                 static_cast<std::uint64_t>(r.next < 0 ? 0 : r.next));
  head("vigil_kafka_partition_lag", "gauge", "Messages behind the high watermark, per assigned partition.");
  for (const auto& r : rows) {
    int64_t lo = 0, hi = 0;
    if (rd_kafka_get_watermark_offsets(I.rk, r.topic.c_str(), r.partition, &lo, &hi) != RD_KAFKA_RESP_ERR_NO_ERROR ||
        hi < 0)
      continue;
    std::int64_t pos = r.next < 0 ? lo : r.next;
    prom::sample(out, "vigil_kafka_partition_lag", {{"topic", r.topic}, {"partition", std::to_string(r.partition)}},
                 static_cast<std::uint64_t>(hi > pos ? hi - pos : 0));
  }
  return out;
}

// -- mock cluster ---------------------------------------------------------------------------

struct MockCluster::Impl {
  rd_kafka_t* rk = nullptr;
  rd_kafka_mock_cluster_t* mc = nullptr;
  std::string bootstrap;
};

MockCluster::MockCluster() : impl_(std::make_unique<Impl>()) {}

MockCluster::~MockCluster() {
  if (impl_->mc) rd_kafka_mock_cluster_destroy(impl_->mc);
  if (impl_->rk) rd_kafka_destroy(impl_->rk);
}

std::unique_ptr<MockCluster> MockCluster::start(const std::vector<std::string>& topics, int partitions,
                                                std::string& err) {
  std::unique_ptr<MockCluster> m(new MockCluster());
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, log_cb);
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);  // the handle only hosts the cluster
  m->impl_->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!m->impl_->rk) {
    rd_kafka_conf_destroy(conf);
    err = std::string("mock cluster: ") + errstr;
    return nullptr;
  }
  m->impl_->mc = rd_kafka_mock_cluster_new(m->impl_->rk, 1);
  if (!m->impl_->mc) {
    err = "mock cluster: cannot start";
    return nullptr;
  }
  for (const auto& t : topics)
    if (!m->create_topic(t, partitions, err)) return nullptr;
  m->impl_->bootstrap = rd_kafka_mock_cluster_bootstraps(m->impl_->mc);
  return m;
}

const std::string& MockCluster::bootstrap() const { return impl_->bootstrap; }

bool MockCluster::create_topic(const std::string& topic, int partitions, std::string& err) {
  rd_kafka_resp_err_t e = rd_kafka_mock_topic_create(impl_->mc, topic.c_str(), partitions, 1);
  if (e) {
    err = "mock cluster: cannot create topic " + topic + ": " + rd_kafka_err2str(e);
    return false;
  }
  return true;
}

}  // namespace vigil::connectors
