// The parse/write pipeline: the process thread takes batches of buffered messages, keeps those new
// for an assigned partition, parses them (a large batch in two parts, one on the parse thread) and
// hands the batch, with the next offsets of its partitions, to the ingest thread, which writes
// samples and offsets in one write while the next batch is parsed. This is the per-message path:
// prepare, parse and format_of stay in this one file.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <iterator>

#include "connectors/kafka/consumer_impl.hpp"
#include "api/librato/lang/ingest_parser.hpp"
#include "api/librato/lang/line_protocol.hpp"

namespace vigil::connectors {

using kafka::Format;
using kafka::Prefetch;
using kafka::SplitParse;

Format KafkaConsumer::Impl::format_of(const rd_kafka_message_t* m) {
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
void KafkaConsumer::Impl::parse(const rd_kafka_message_t* m, std::int64_t now,
                                std::uint64_t generation, std::vector<Measurement>& out,
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
                                     std::to_string(opts.max_sample_age_s) +
                                     " s (kafka.max_sample_age_s)");
  }
}

// The parse thread: parses the part of a batch it is handed.
void KafkaConsumer::Impl::parse_loop() {
  std::unique_lock lock(split.mu);
  for (;;) {
    split.cv.wait(lock, [&] { return split.pending || split.stop; });
    if (split.stop) return;
    rd_kafka_message_t* const* msgs = split.msgs;
    const std::size_t n = split.n;
    const std::size_t total = split.total;
    const std::int64_t now = split.now;
    const std::uint64_t generation = split.generation;
    const std::span<Measurement> to_recycle = split.recycle;
    lock.unlock();
    learn_series(to_recycle);
    split.out.clear();
    split.out.reserve(total);
    split.rejected.clear();
    split.ends.clear();
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t before = split.out.size();
      parse(msgs[i], now, generation, split.out, split.rejected);
      if (split.out.size() != before) split.ends.emplace_back(split.out.size(), msgs[i]);
    }
    lock.lock();
    split.pending = false;
    split.cv.notify_all();
  }
}

// Parses `todo` into `batch` (empty) in order, and dead-letters the bad messages in order;
// false if there was any. `written` is a batch already written: its tag vectors go back to
// the parsers of both threads, and its storage becomes the parse thread's next output.
bool KafkaConsumer::Impl::parse_batch(const std::vector<rd_kafka_message_t*>& todo,
                                      std::int64_t now, std::vector<Measurement>& batch,
                                      std::vector<Measurement>& written, kafka::MessageEnds& ends) {
  std::size_t own = 0;  // the first message this thread parses
  std::span<Measurement> mine_to_recycle(written);
  const std::uint64_t generation = engine->series_generation();
  if (todo.size() >= SplitParse::kParallelParse && split.thread.joinable()) {
    own = SplitParse::share(todo.size());
    counters.split_batches.fetch_add(1);
    std::lock_guard lock(split.mu);
    // The written batch's tag vectors in the same shares as the parsing.
    const std::size_t theirs = SplitParse::share(written.size());
    split.recycle = mine_to_recycle.first(theirs);
    mine_to_recycle = mine_to_recycle.subspan(theirs);
    split.msgs = todo.data();
    split.n = own;
    split.total = todo.size();
    split.now = now;
    split.generation = generation;
    split.pending = true;
    split.cv.notify_all();
  }
  learn_series(mine_to_recycle);
  thread_local std::vector<Measurement> tail;
  std::vector<Measurement>& mine = own > 0 ? tail : batch;
  mine.clear();
  mine.reserve(todo.size() - own);
  thread_local std::vector<Rejected> rejected;
  rejected.clear();
  ends.clear();
  thread_local kafka::MessageEnds mine_ends;
  mine_ends.clear();
  for (std::size_t i = own; i < todo.size(); ++i) {
    const std::size_t before = mine.size();
    parse(todo[i], now, generation, mine, rejected);
    if (mine.size() != before) mine_ends.emplace_back(mine.size(), todo[i]);
  }
  bool any_dead = !rejected.empty();
  if (own > 0) {
    {
      std::unique_lock lock(split.mu);
      split.cv.wait(lock, [&] { return !split.pending; });
    }
    // The parse thread is idle until the next batch: its output is this thread's to read.
    written.clear();
    ends.swap(split.ends);
    const std::size_t theirs = split.out.size();
    for (const auto& [end, m] : mine_ends) ends.emplace_back(theirs + end, m);
    batch.swap(split.out);
    split.out.swap(written);
    batch.insert(batch.end(), std::make_move_iterator(tail.begin()),
                 std::make_move_iterator(tail.end()));
    tail.clear();
    any_dead = any_dead || !split.rejected.empty();
    for (const Rejected& r : split.rejected)
      dead_letter(r.m, r.kind, r.detail);  // the first part's
  }
  if (own == 0) ends.swap(mine_ends);
  for (const Rejected& r : rejected) dead_letter(r.m, r.kind, r.detail);
  return !any_dead;
}

void KafkaConsumer::Impl::drop_refused(Parsed& p, const std::vector<SeriesRefusal>& refused) {
  std::vector<bool> drop(p.ends.size(), false);
  for (const SeriesRefusal& r : refused) {
    // The message whose measurements end after the refused one's index.
    auto it = std::upper_bound(p.ends.begin(), p.ends.end(), r.index,
                               [](std::size_t i, const auto& e) { return i < e.first; });
    if (it == p.ends.end()) continue;
    const auto k = static_cast<std::size_t>(it - p.ends.begin());
    if (drop[k]) continue;
    drop[k] = true;
    dead_letter(it->second, "series_limit", engine->refusal_text(p.batch[r.index], r));
  }
  // The measurements of the other messages, in order.
  std::size_t out = 0, begin = 0;
  kafka::MessageEnds kept;
  for (std::size_t k = 0; k < p.ends.size(); begin = p.ends[k].first, ++k) {
    if (drop[k]) continue;
    for (std::size_t i = begin; i < p.ends[k].first; ++i, ++out)
      if (out != i) p.batch[out] = std::move(p.batch[i]);
    kept.emplace_back(out, p.ends[k].second);
  }
  p.batch.resize(out);
  p.ends = std::move(kept);
}

// Process thread: the messages of `p.msgs` that are new for an assigned partition are parsed
// into `p.batch`, and the partitions' next offsets recorded for the same write.
void KafkaConsumer::Impl::prepare(Parsed& p) {
  p.now = static_cast<std::int64_t>(std::time(nullptr));
  thread_local std::vector<Measurement> written;
  written.swap(p.batch);  // recycled while the next batch is parsed
  p.offsets = Storage::Batch();
  p.marks.clear();
  p.consumed = 0;
  thread_local std::vector<rd_kafka_message_t*> todo;  // p.msgs owns them
  todo.clear();
  std::unique_lock lock(partitions.mu);
  // Messages come in runs of one partition: its state is looked up once per run.
  const rd_kafka_topic_t* run_topic = nullptr;
  std::int32_t run_partition = -1;
  kafka::PartState* run_state = nullptr;
  for (const Message& owned : p.msgs) {
    rd_kafka_message_t* m = owned.get();
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      counters.consumer_errors.fetch_add(1);
      error_log.warn("kafka: consumer error: {}", rd_kafka_message_errstr(m));
      continue;
    }
    if (m->rkt != run_topic || m->partition != run_partition) {
      run_topic = m->rkt;
      run_partition = m->partition;
      run_state = nullptr;
      if (auto t = partitions.parts.find(std::string_view(rd_kafka_topic_name(m->rkt)));
          t != partitions.parts.end())
        if (auto it = t->second.find(m->partition); it != t->second.end()) run_state = &it->second;
    }
    if (run_state == nullptr || !run_state->assigned || run_state->offset_unknown) {
      counters.stale_skipped.fetch_add(1);
      continue;
    }
    kafka::PartState& st = *run_state;
    if (st.next >= 0 && m->offset < st.next) {  // already in the state: never count twice
      counters.stale_skipped.fetch_add(1);
      continue;
    }
    st.next = m->offset + 1;
    st.touched = true;
    ++p.consumed;
    todo.push_back(m);
  }
  lock.unlock();
  p.any_dead = !parse_batch(todo, p.now, p.batch, written, p.ends);
  written.clear();
  // The offsets go into the same atomic write as the samples they produced.
  lock.lock();
  for (auto& [topic, ps] : partitions.parts)
    for (auto& [part, st] : ps)
      if (st.touched) {
        p.offsets.put(Cf::meta, kafka::offset_key(opts.group_id, topic, part),
                      std::to_string(st.next));
        p.marks.emplace_back(&st, st.next);  // map nodes stay put; entries are never erased
        st.touched = false;
      }
}

// Ingest thread: writes a prepared batch (samples and offsets in one write).
void KafkaConsumer::Impl::write(Parsed& p) {
  if (p.marks.empty()) return;
  // Dead letters are delivered (at least once) before their offsets are stored.
  if (p.any_dead && dlq) {
    if (rd_kafka_flush(dlq.get(), 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      counters.dead_letter_errors.fetch_add(1);
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
  // New series beyond a series limit: their messages are dead-lettered (whole: a message is
  // stored entirely or not at all), the rest written again. Each round drops at least one message.
  for (int round = 0; !res.ok && !res.refused_series.empty() && round < 16; ++round) {
    drop_refused(p, res.refused_series);
    if (dlq && rd_kafka_flush(dlq.get(), 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      counters.dead_letter_errors.fetch_add(1);
      error_log.warn("kafka: dead letters not confirmed within 10 s; going on");
    }
    res = engine->ingest_learning(p.batch, p.now, &p.offsets);
  }
  if (!res.ok) {
    if (res.stale_series) {
      // Series were removed after the batch was parsed with the ids of known series: it is
      // consumed and parsed again, from the stored offsets.
      counters.stale_rewinds.fetch_add(1);
      spdlog::info("kafka: {}; rewinding to the stored offsets", res.error);
    } else {
      counters.ingest_errors.fetch_add(1);
      spdlog::error("kafka: storing a batch failed ({}); rewinding to the stored offsets",
                    res.error);
    }
    {
      std::lock_guard lock(prefetch.mu);
      prefetch.ingest_failed.store(true);
    }
    prefetch.cv.notify_all();
    if (!res.stale_series) std::this_thread::sleep_for(std::chrono::seconds(1));
    return;
  }
  {
    std::lock_guard lock(partitions.mu);
    for (auto& [st, next] : p.marks) st->stored = next;
  }
  counters.messages.fetch_add(p.consumed);
  counters.samples.fetch_add(p.batch.size());
  counters.batches.fetch_add(1);
}

void KafkaConsumer::Impl::release(Parsed& p) {
  p.msgs.clear();
  prefetch.bytes.fetch_sub(p.bytes);
  p.bytes = 0;
}

// The ingest thread: writes each batch handed over (or drops it after a failed write).
void KafkaConsumer::Impl::ingest_loop() {
  std::unique_lock lock(handoff.mu);
  for (;;) {
    handoff.cv.wait(lock, [&] { return handoff.handed || handoff.stop; });
    if (!handoff.handed) return;
    std::unique_ptr<Parsed> p = std::move(handoff.handed);
    handoff.ingesting = true;
    const bool drop =
        prefetch.ingest_failed;  // consumed after the failed batch: read again after the rewind
    lock.unlock();
    handoff.cv.notify_all();  // the slot is free
    if (!drop) write(*p);
    release(*p);
    lock.lock();
    handoff.ingesting = false;
    handoff.spare.push_back(std::move(p));
    handoff.cv.notify_all();
  }
}

// The process thread: batches of at most batch_size buffered messages, parsed and handed to the
// ingest thread, which writes each one while the next is parsed.
void KafkaConsumer::Impl::process_loop() {
  for (;;) {
    {
      std::unique_lock wait(prefetch.mu);
      prefetch.cv.wait(wait, [&] {
        return !prefetch.buffered.empty() || prefetch.process_stop || prefetch.ingest_failed.load();
      });
      if (prefetch.process_stop) return;
    }
    if (prefetch.ingest_failed.load()) {
      // Once the ingest thread has dropped what it was handed, the fetch thread rewinds.
      {
        std::unique_lock lock(handoff.mu);
        handoff.cv.wait(lock, [&] { return !handoff.handed && !handoff.ingesting; });
      }
      std::unique_lock wait(prefetch.mu);
      prefetch.rewind_requested = true;
      prefetch.cv.wait(wait, [&] { return !prefetch.rewind_requested || prefetch.process_stop; });
      prefetch.ingest_failed.store(false);
      continue;
    }
    std::lock_guard processing(process_mu);
    std::unique_ptr<Parsed> p;
    {
      std::lock_guard lock(handoff.mu);
      if (!handoff.spare.empty()) {
        p = std::move(handoff.spare.back());
        handoff.spare.pop_back();
      }
    }
    if (!p) p = std::make_unique<Parsed>();
    {
      std::lock_guard lock(prefetch.mu);  // a revoke may have emptied the buffer meanwhile
      std::size_t payload = 0;
      while (!prefetch.buffered.empty() && p->msgs.size() < opts.batch_size &&
             payload < Prefetch::kBatchPayload) {
        Message& m = prefetch.buffered.front();
        p->bytes += Prefetch::cost(m.get());
        payload += m->len;
        p->msgs.push_back(std::move(m));
        prefetch.buffered.pop_front();
      }
    }
    if (p->msgs.empty()) continue;
    prepare(*p);
    std::unique_lock lock(handoff.mu);
    handoff.cv.wait(lock, [&] { return !handoff.handed; });
    handoff.handed = std::move(p);
    lock.unlock();
    handoff.cv.notify_all();
  }
}

}  // namespace vigil::connectors
