#include "engine/shard/shard_state.hpp"

#include <algorithm>
#include <map>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "engine/encoding/bytes.hpp"
#include "engine/encoding/keys.hpp"
#include "engine/encoding/raw_block.hpp"
#include "engine/encoding/rollup_block.hpp"
#include "engine/encoding/values.hpp"
#include "engine/storage/storage.hpp"

namespace vigil {

// -- log entries ------------------------------------------------------------------------------
// An entry is a sequence of records, each relative to the one before (the first to sid 0, time 0):
// zigzag varint sid change | zigzag varint time change | kind u8 | 8-byte value (kind 0) or
// 56-byte Agg (kind 1). A batch's records usually sit on neighbouring series at one time: about
// 11 bytes a sample instead of 25, which is what the write-ahead log and the log's memtable carry.

void encode_log_entry(const std::vector<LogRecord>& records, std::string& out) {
  out.clear();
  out.reserve(records.size() * 12);
  std::uint64_t prev_sid = 0, prev_time = 0;  // changes wrap: any two values have one
  for (const auto& r : records) {
    enc::put_varint(out, enc::zigzag(static_cast<std::int64_t>(r.sid - prev_sid)));
    enc::put_varint(out, enc::zigzag(static_cast<std::int64_t>(static_cast<std::uint64_t>(r.time) - prev_time)));
    prev_sid = r.sid;
    prev_time = static_cast<std::uint64_t>(r.time);
    if (enc::is_single_value(r.agg, r.time)) {
      out.push_back('\0');
      enc::put_f64(out, r.agg.sum);
    } else {
      out.push_back('\1');
      enc::put_agg(out, r.agg);
    }
  }
}

bool decode_log_entry(std::string_view in, std::vector<LogRecord>& out) {
  out.clear();
  const char* p = in.data();
  const char* end = p + in.size();
  std::uint64_t sid = 0, time = 0;
  while (p < end) {
    std::uint64_t dsid, dtime;
    if (!enc::get_varint(p, end, dsid) || !enc::get_varint(p, end, dtime) || p >= end) return false;
    sid += static_cast<std::uint64_t>(enc::unzigzag(dsid));
    time += static_cast<std::uint64_t>(enc::unzigzag(dtime));
    LogRecord r;
    r.sid = sid;
    r.time = static_cast<std::int64_t>(time);
    char kind = *p++;
    if (kind == '\0') {
      if (end - p < 8) return false;
      r.agg = Agg::of_value(enc::get_f64(p), r.time);
      p += 8;
    } else if (kind == '\1') {
      if (end - p < static_cast<std::ptrdiff_t>(enc::kAggSize)) return false;
      if (!enc::get_agg(std::string_view(p, enc::kAggSize), r.agg)) return false;
      p += enc::kAggSize;
    } else {
      return false;
    }
    out.push_back(r);
  }
  return true;
}

// -- shard state ------------------------------------------------------------------------------

namespace {

using ValueRecord = std::pair<std::int64_t, double>;
using AggRecord = std::pair<std::int64_t, Agg>;

constexpr auto by_time = [](const auto& a, const auto& b) { return a.first < b.first; };

// t lies in [start, start + width): no division for the usual case of a sample beside the last.
inline bool in_bucket(std::int64_t t, std::int64_t start, std::int64_t width) {
  return t >= start && static_cast<std::uint64_t>(t) - static_cast<std::uint64_t>(start) <
                           static_cast<std::uint64_t>(width);
}

inline void fold(Agg& a, const ValueRecord& r) { a.add(r.second, r.first); }
inline void fold(Agg& a, const AggRecord& r) { a.merge(r.second); }

// Folds time-ordered records into the buckets of resolution `res`, in record order (so `last`
// follows arrival order among equal times, as replaying the log does): fn(bucket, aggregate) once
// per bucket holding a sample, ascending.
template <class Record, class Fn>
void fold_buckets(const std::vector<Record>& records, std::int64_t res, Fn&& fn) {
  for (std::size_t i = 0; i < records.size();) {
    const std::int64_t b = floor_to(records[i].first, res);
    Agg a;
    for (; i < records.size() && in_bucket(records[i].first, b, res); ++i) fold(a, records[i]);
    if (!a.empty()) fn(b, a);
  }
}

}  // namespace

ShardState::ShardState(std::uint16_t shard, Storage& storage) : shard_(shard), storage_(storage) {
  status_ = load_checkpoint(storage, shard, checkpoint_);
  applied_seq_ = checkpoint_;
}

std::string ShardState::checkpoint_key(std::uint16_t shard) {
  std::string k = "ckpt/";
  enc::put_u16(k, shard);
  return k;
}

Status ShardState::load_checkpoint(Storage& storage, std::uint16_t shard, std::uint64_t& seq) {
  seq = 0;
  std::string v;
  Status st = storage.get(Cf::meta, checkpoint_key(shard), v);
  if (st.is_not_found()) return Status();
  if (!st.ok()) return st;
  if (v.size() == 8) seq = enc::get_u64(v.data());
  return Status();
}

void ShardState::apply(std::uint64_t seq, const std::vector<LogRecord>& records) {
  for (const auto& r : records) {
    Pending& p = series_[r.sid];
    if (enc::is_single_value(r.agg, r.time))
      p.values.emplace_back(r.time, r.agg.sum);
    else
      p.aggs.emplace_back(r.time, r.agg);
  }
  pending_samples_ += records.size();
  if (seq > applied_seq_) applied_seq_ = seq;
}

void ShardState::Pending::raw_records(std::vector<std::pair<std::int64_t, Agg>>& out) const {
  out.clear();
  out.reserve(values.size() + aggs.size());
  for (const auto& [t, x] : values) out.emplace_back(t, Agg::of_value(x, t));
  out.insert(out.end(), aggs.begin(), aggs.end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

void ShardState::copy_pending(const std::vector<std::uint64_t>& ids, const std::vector<std::size_t>& which,
                              int res_index, std::int64_t from, std::int64_t to,
                              std::vector<std::vector<std::pair<std::int64_t, Agg>>>& out) const {
  std::vector<AggRecord> records;
  std::vector<ValueRecord> values;
  for (std::size_t i : which) {
    auto it = series_.find(ids[i]);
    if (it == series_.end() || it->second.empty()) continue;
    const Pending& p = it->second;
    auto& dst = out[i];
    if (res_index < 0) {
      p.raw_records(records);  // in the order a flush writes them
      for (const auto& rec : records)
        if (rec.first >= from && rec.first <= to) dst.push_back(rec);
      continue;
    }
    // The buckets a flush would write, folded the same way.
    auto keep = [&](std::int64_t b, const Agg& a) {
      if (b >= from && b <= to) dst.emplace_back(b, a);
    };
    const std::int64_t res = kResolutions[res_index];
    if (p.aggs.empty()) {
      const std::vector<ValueRecord>* v = &p.values;
      if (!std::is_sorted(p.values.begin(), p.values.end(), by_time)) {
        values = p.values;
        std::stable_sort(values.begin(), values.end(), by_time);
        v = &values;
      }
      fold_buckets(*v, res, keep);
    } else {
      p.raw_records(records);
      fold_buckets(records, res, keep);
    }
  }
}

void ShardState::trim() {
  for (auto it = series_.begin(); it != series_.end();) it = it->second.empty() ? series_.erase(it) : std::next(it);
}

bool ShardState::flush(std::string& err) {
  if (!dirty()) return true;
  Storage::Batch batch;
  // Entries kept from the last flush that received nothing since are dropped; writes go in key
  // order: RocksDB's memtable insert is cheaper for neighbouring keys.
  trim();
  std::vector<std::pair<std::uint64_t, Pending*>> order;
  order.reserve(series_.size());
  for (auto& [sid, p] : series_) order.emplace_back(sid, &p);
  std::sort(order.begin(), order.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });

  std::string v;  // one output buffer and one writer per kind (and their buffers) for every series
  std::vector<AggRecord> raw;
  enc::RawBlockWriter raw_writer(v, 0);
  std::vector<enc::RollupBlockWriter> rollup_writers;
  rollup_writers.reserve(kResolutionCount);
  for (int r = 0; r < kResolutionCount; ++r) rollup_writers.emplace_back(v, 0, kResolutions[r]);
  // A series' time-ordered records: one raw merge operand per UTC day (reads of a time range only
  // open the days it covers), and for each resolution one rollup merge operand per chunk holding
  // the buckets the records fall in.
  auto write_series = [&](std::uint64_t sid, const auto& records, const auto& add_raw) {
    for (std::size_t i = 0; i < records.size();) {
      const std::int64_t day = floor_to(records[i].first, 86400);
      v.clear();
      raw_writer.reset(day);
      for (; i < records.size() && in_bucket(records[i].first, day, 86400); ++i) add_raw(records[i]);
      raw_writer.finish();
      batch.merge(Cf::raw, enc::raw_block_key(sid, day), v);
    }
    for (int r = 0; r < kResolutionCount; ++r) {
      const std::int64_t res = kResolutions[r];
      auto& w = rollup_writers[static_cast<std::size_t>(r)];
      std::int64_t chunk = 0;
      bool open = false;
      auto close = [&] {
        w.finish();
        batch.merge(rollup_cf(r), enc::rollup_key(sid, chunk), v);
      };
      fold_buckets(records, res, [&](std::int64_t b, const Agg& a) {
        const std::int64_t c = enc::rollup_chunk(b, res);
        if (open && c != chunk) close();
        if (!open || c != chunk) {
          v.clear();
          w.reset(c);
          chunk = c;
          open = true;
        }
        w.add_bucket(b, a);
      });
      if (open) close();
    }
  };
  for (auto& [sid, p] : order) {
    if (p->aggs.empty()) {
      // The usual case: single values only. Concurrent senders deliver a series' samples a little
      // out of order, so they are sorted (stable: arrival order among equal times) when needed.
      auto& values = p->values;
      if (!std::is_sorted(values.begin(), values.end(), by_time)) std::stable_sort(values.begin(), values.end(), by_time);
      write_series(sid, values, [&](const ValueRecord& r) { raw_writer.add_value(r.first, r.second); });
      continue;
    }
    p->raw_records(raw);
    write_series(sid, raw, [&](const AggRecord& r) { raw_writer.add(r.first, r.second); });
  }
  std::string ck;
  enc::put_u64(ck, applied_seq_);
  batch.put(Cf::meta, checkpoint_key(shard_), ck);
  batch.delete_range(Cf::log, enc::log_key(shard_, 0), enc::log_key(shard_, applied_seq_ + 1));
  // No WAL: the log entries this flush deletes stay in the WAL until the flush itself is on disk,
  // so a crash before that replays them (checkpoint and deletion are lost with the rest).
  batch.skip_wal();
  if (gate_) gate_->lock(shard_);
  const bool written = storage_.write(batch, err);
  if (gate_) gate_->unlock();
  if (!written) return false;
  // The entries stay, with their buffers: a series that keeps receiving samples refills them
  // without a reallocation or a hash-table insertion (one that does not is dropped next time).
  for (auto& [sid, p] : order) {
    p->values.clear();
    p->aggs.clear();
  }
  pending_samples_ = 0;
  checkpoint_ = applied_seq_;
  return true;
}

// -- recovery ---------------------------------------------------------------------------------

bool recover_log(Storage& storage, std::unordered_map<std::uint16_t, std::uint64_t>& last_seq,
                 std::string& err, std::size_t shard_count,
                 std::map<std::uint16_t, std::unique_ptr<ShardState>>* keep) {
  std::map<std::uint16_t, std::unique_ptr<ShardState>> shards;
  std::vector<LogRecord> records;
  bool ok = true;
  bool same_shards = keep != nullptr && shard_count > 0;
  Status scanned = storage.scan(Cf::log, "", "", [&](std::string_view k, std::string_view v) {
    if (k.size() != 10) return true;
    std::uint16_t shard = enc::get_u16(k.data());
    std::uint64_t seq = enc::get_u64(k.data() + 2);
    auto& st = shards[shard];
    if (!st) {
      st = std::make_unique<ShardState>(shard, storage);
      if (!st->status().ok()) {
        err = "cannot read the checkpoint of shard " + std::to_string(shard) + ": " + st->status().to_string();
        ok = false;
        return false;
      }
    }
    auto& last = last_seq[shard];
    if (seq > last) last = seq;
    if (seq <= st->checkpoint()) return true;  // already applied (deleted lazily)
    if (!decode_log_entry(v, records)) {
      err = "corrupt ingest-log entry";
      ok = false;
      return false;
    }
    if (same_shards) {
      if (shard >= shard_count) same_shards = false;
      for (const auto& r : records)
        if (r.sid % shard_count != shard) {
          same_shards = false;
          break;
        }
    }
    st->apply(seq, records);
    return true;
  });
  if (!ok) return false;
  if (!scanned.ok()) {
    err = "cannot read the ingest log: " + scanned.to_string();
    return false;
  }
  if (same_shards) {
    for (auto& [shard, st] : shards)
      if (st->dirty()) (*keep)[shard] = std::move(st);
    shards.clear();
  }
  // Shards flush on threads of their own: their writes are independent.
  std::vector<std::thread> flushers;
  std::vector<std::string> errors(shards.size());
  std::size_t i = 0;
  for (auto& [shard, st] : shards) {
    ShardState* sp = st.get();
    std::string* e = &errors[i++];
    flushers.emplace_back([sp, e] { sp->flush(*e); });
  }
  for (auto& t : flushers) t.join();
  for (const auto& e : errors)
    if (!e.empty()) {
      err = e;
      return false;
    }
  // Shards without log entries still have checkpoints: numbering continues after them.
  Status checkpoints = storage.scan_prefix(Cf::meta, "ckpt/", [&](std::string_view k, std::string_view v) {
    if (k.size() != 7 || v.size() != 8) return true;
    std::uint16_t shard = enc::get_u16(k.data() + 5);
    std::uint64_t ck = enc::get_u64(v.data());
    auto& last = last_seq[shard];
    if (ck > last) last = ck;
    return true;
  });
  if (!checkpoints.ok()) {
    err = "cannot read the shard checkpoints: " + checkpoints.to_string();
    return false;
  }
  return true;
}

}  // namespace vigil
