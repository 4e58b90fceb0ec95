// The state one shard owns: the series routed to it (id % shard count), their pending raw
// samples since the last flush, and the position in its ingest log.
//
// Durability model: an accepted batch is first written to the ingest log (the `log` CF, one
// entry per shard per batch) and acknowledged; the shard then applies it in memory and, every
// flush interval, writes raw samples and rollup deltas together with its checkpoint (the last
// applied log sequence) and the deletion of the applied log entries, in one atomic batch. On
// start, log entries past the checkpoint are replayed. So every acknowledged sample is applied
// exactly once, whatever moment the process dies at.
//
// Raw samples are written as blocks: one merge operand per series and UTC day
// (enc::raw_block_key) holding that flush's samples of the series for that day
// (enc::RawBlockWriter). A flush costs one raw write per series touched, not one per sample, and
// merging folds a day's operands into a few large blocks.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/model/model.hpp"
#include "engine/storage/status.hpp"

namespace vigil {

class Storage;

struct LogRecord {
  std::uint64_t sid;
  std::int64_t time;
  Agg agg;
};

void encode_log_entry(const std::vector<LogRecord>& records, std::string& out);
bool decode_log_entry(std::string_view in, std::vector<LogRecord>& out);

// Lets a query read storage and the shards' pending state as one picture: a shard flush writes
// only while no reader holds the gate, and counts its writes per shard. A reader copies the
// pending state it needs (noting the counts), enters, and checks that no flush wrote since the
// copy: then every sample is either in storage or in the copy, never in both. Writers take
// precedence (a waiting flush holds off new readers), so queries cannot starve flushes; a reader
// never waits on a shard while inside, so a flush waiting for it cannot block it.
class FlushGate {
 public:
  explicit FlushGate(std::size_t shards) : generations_(shards) {}

  void lock_shared() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !writing_ && waiting_writers_ == 0; });
    ++readers_;
  }
  void unlock_shared() {
    std::lock_guard lock(mu_);
    if (--readers_ == 0) cv_.notify_all();
  }
  // A flush of `shard`: waits for the readers inside, then counts the write.
  void lock(std::size_t shard) {
    std::unique_lock lock(mu_);
    ++waiting_writers_;
    cv_.wait(lock, [&] { return !writing_ && readers_ == 0; });
    --waiting_writers_;
    writing_ = true;
    generations_[shard].fetch_add(1);
  }
  void unlock() {
    std::lock_guard lock(mu_);
    writing_ = false;
    cv_.notify_all();
  }
  std::uint64_t generation(std::size_t shard) const { return generations_[shard].load(); }
  std::size_t shards() const { return generations_.size(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int readers_ = 0;
  int waiting_writers_ = 0;
  bool writing_ = false;
  std::vector<std::atomic<std::uint64_t>> generations_;
};

class ShardState {
 public:
  // Reads the shard's checkpoint; status() tells whether that read succeeded.
  ShardState(std::uint16_t shard, Storage& storage);
  // OK, or the storage error that kept the checkpoint from being read (the shard then starts
  // from 0 and must not be trusted to replay).
  const Status& status() const { return status_; }

  std::uint16_t shard() const { return shard_; }

  // Applies the records of log entry `seq` to the pending state. Entries arrive in sequence.
  void apply(std::uint64_t seq, const std::vector<LogRecord>& records);
  // Writes pending raw samples, rollup deltas and the checkpoint; false and `err` on failure
  // (the pending state is kept, so a later flush retries).
  bool flush(std::string& err);

  // Flushes write through `gate` (counted as shard `shard()`), if set.
  void set_gate(FlushGate* gate) { gate_ = gate; }

  // Appends to out[i] what the shard holds for series ids[i] (for each i in `which`) and has not
  // flushed: its rollup buckets at kResolutions[res_index] with start in [from, to], one per
  // bucket, ascending; or, for res_index -1, its raw samples with time in [from, to], in time
  // order (arrival order among equal times).
  void copy_pending(const std::vector<std::uint64_t>& ids, const std::vector<std::size_t>& which, int res_index,
                    std::int64_t from, std::int64_t to,
                    std::vector<std::vector<std::pair<std::int64_t, Agg>>>& out) const;

  // Drops the entries (and buffers) a flush kept for series that received nothing since: called
  // after a quiet flush interval, so an idle shard holds no per-series memory.
  void trim();
  std::size_t entries() const { return series_.size(); }

  std::uint64_t applied_seq() const { return applied_seq_; }
  std::uint64_t checkpoint() const { return checkpoint_; }
  std::size_t pending_samples() const { return pending_samples_; }
  bool dirty() const { return applied_seq_ != checkpoint_; }

  // The applied log sequence stored for `shard` in `seq` (0 when none is stored).
  static Status load_checkpoint(Storage& storage, std::uint16_t shard, std::uint64_t& seq);
  static std::string checkpoint_key(std::uint16_t shard);

 private:
  // A series' pending state since the last flush: its raw samples, single values as (time, value),
  // 16 bytes each, and the rare aggregate samples (summary fields) beside them in full. Its rollup
  // deltas are not kept: a flush (or a query's copy) folds them from the samples in time order, one
  // pass per resolution, so applying a sample is an append.
  struct Pending {
    std::vector<std::pair<std::int64_t, double>> values;
    std::vector<std::pair<std::int64_t, Agg>> aggs;

    // No sample since the last flush (an entry kept with its buffers, or dropped at the next trim).
    bool empty() const { return values.empty() && aggs.empty(); }
    // The samples in time order (arrival order among equal times; single values before
    // aggregates of the same time), as (time, aggregate).
    void raw_records(std::vector<std::pair<std::int64_t, Agg>>& out) const;
  };

  std::uint16_t shard_;
  Storage& storage_;
  FlushGate* gate_ = nullptr;
  std::uint64_t applied_seq_ = 0;
  std::uint64_t checkpoint_ = 0;
  Status status_;
  std::size_t pending_samples_ = 0;
  std::unordered_map<std::uint64_t, Pending> series_;
};

// Replays every ingest-log entry past its shard's checkpoint. Returns, per shard found in the log or
// checkpoints, the last sequence in use (new log entries must be numbered after it).
// With `keep`, when every replayed series is logged under the shard it belongs to with
// `shard_count` shards (the count has not changed), the replayed states are handed over unflushed
// in *keep: the shard actors take them as their pending state and flush them on their own
// schedule, so the process serves without first writing what the log held (a flush of a million
// series writes five million keys). Otherwise they are flushed here, before shards start.
bool recover_log(Storage& storage, std::unordered_map<std::uint16_t, std::uint64_t>& last_seq,
                 std::string& err, std::size_t shard_count = 0,
                 std::map<std::uint16_t, std::unique_ptr<ShardState>>* keep = nullptr);

}  // namespace vigil
