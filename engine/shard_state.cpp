#include "engine/shard_state.hpp"

#include <algorithm>
#include <map>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "engine/encoding.hpp"
#include "engine/storage.hpp"

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

ShardState::ShardState(std::uint16_t shard, Storage& storage) : shard_(shard), storage_(storage) {
  checkpoint_ = applied_seq_ = load_checkpoint(storage, shard);
}

std::string ShardState::checkpoint_key(std::uint16_t shard) {
  std::string k = "ckpt/";
  enc::put_u16(k, shard);
  return k;
}

std::uint64_t ShardState::load_checkpoint(Storage& storage, std::uint16_t shard) {
  std::string v;
  if (!storage.get(Cf::meta, checkpoint_key(shard), v) || v.size() != 8) return 0;
  return enc::get_u64(v.data());
}

void ShardState::apply(std::uint64_t seq, const std::vector<LogRecord>& records) {
  for (const auto& r : records) {
    Pending& p = series_[r.sid];
    // An entry kept from the last flush (with its buffers) starts over like a new one.
    const bool fresh = p.empty();
    if (enc::is_single_value(r.agg, r.time))
      p.values.emplace_back(r.time, r.agg.sum);
    else
      p.aggs.emplace_back(r.time, r.agg);
    for (int i = 0; i < kResolutionCount; ++i) {
      // Most samples fall in the open bucket: no division for them.
      if (!fresh && r.time >= p.bucket[i] &&
          static_cast<std::uint64_t>(r.time) - static_cast<std::uint64_t>(p.bucket[i]) <
              static_cast<std::uint64_t>(kResolutions[i])) {
        p.agg[i].merge(r.agg);
        continue;
      }
      std::int64_t b = floor_to(r.time, kResolutions[i]);
      if (fresh) {
        p.bucket[i] = b;
        p.agg[i] = Agg();
      }
      if (p.bucket[i] == b) {
        p.agg[i].merge(r.agg);
      } else if (b > p.bucket[i]) {
        p.closed.push_back(Closed{p.bucket[i], p.agg[i], i});
        p.bucket[i] = b;
        p.agg[i] = Agg();
        p.agg[i].merge(r.agg);
      } else {
        bool found = false;
        for (std::size_t k = p.closed.size(), seen = 0; k-- > 0 && seen < 8; ++seen)
          if (p.closed[k].res == i && p.closed[k].bucket == b) {
            p.closed[k].agg.merge(r.agg);
            found = true;
            break;
          }
        if (!found) spill_[i][BucketKey{r.sid, b}].merge(r.agg);
      }
    }
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
  std::vector<std::pair<std::int64_t, Agg>> parts;
  if (res_index < 0) {
    for (std::size_t i : which) {
      auto it = series_.find(ids[i]);
      if (it == series_.end()) continue;
      it->second.raw_records(parts);  // in the order a flush writes them
      for (const auto& rec : parts)
        if (rec.first >= from && rec.first <= to) out[i].push_back(rec);
    }
    return;
  }
  const int r = res_index;
  // Spilled buckets of the requested series (rare: samples for a bucket closed long before).
  std::unordered_map<std::uint64_t, std::vector<std::pair<std::int64_t, const Agg*>>> spilled;
  if (!spill_[r].empty()) {
    std::unordered_set<std::uint64_t> wanted;
    for (std::size_t i : which) wanted.insert(ids[i]);
    for (const auto& [k, agg] : spill_[r])
      if (wanted.count(k.sid)) spilled[k.sid].emplace_back(k.bucket, &agg);
  }
  for (std::size_t i : which) {
    auto it = series_.find(ids[i]);
    const bool has = it != series_.end() && !it->second.empty();
    auto sp = spilled.find(ids[i]);
    if (!has && sp == spilled.end()) continue;
    // The parts of each bucket in the order a flush merges them: closed, open, spilled.
    parts.clear();
    if (has) it->second.bucket_parts(r, [&](std::int64_t b, const Agg& a) { parts.emplace_back(b, a); });
    if (sp != spilled.end())
      for (const auto& [b, agg] : sp->second) parts.emplace_back(b, *agg);
    std::stable_sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    auto& dst = out[i];
    for (std::size_t k = 0; k < parts.size();) {
      const std::int64_t b = parts[k].first;
      Agg merged = parts[k].second;
      for (++k; k < parts.size() && parts[k].first == b; ++k) merged.merge(parts[k].second);
      if (b >= from && b <= to && !merged.empty()) dst.emplace_back(b, merged);
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

  std::string v;
  std::vector<std::pair<std::int64_t, Agg>> raw;
  enc::RawBlockWriter raw_writer(v, 0);  // one writer (and its buffers) for every series
  // Writes a series' time-ordered records as one raw merge operand per UTC day.
  auto write_days = [&](std::uint64_t sid, const auto& records, const auto& add) {
    for (std::size_t i = 0; i < records.size();) {
      const std::int64_t day = floor_to(records[i].first, 86400);
      v.clear();
      raw_writer.reset(day);
      for (; i < records.size() && floor_to(records[i].first, 86400) == day; ++i) add(records[i]);
      raw_writer.finish();
      batch.merge(Cf::raw, enc::raw_block_key(sid, day), v);
    }
  };
  for (auto& [sid, p] : order) {
    // One block per UTC day: reads of a time range only open the days it covers.
    if (p->aggs.empty()) {
      // The usual case: single values only. Concurrent senders deliver a series' samples a little
      // out of order, so they are sorted (stable: arrival order among equal times) when needed.
      auto by_time = [](const auto& a, const auto& b) { return a.first < b.first; };
      auto& values = p->values;
      if (!std::is_sorted(values.begin(), values.end(), by_time)) std::stable_sort(values.begin(), values.end(), by_time);
      write_days(sid, values, [&](const auto& r) { raw_writer.add_value(r.first, r.second); });
      continue;
    }
    p->raw_records(raw);
    write_days(sid, raw, [&](const auto& r) { raw_writer.add(r.first, r.second); });
  }
  std::vector<std::pair<BucketKey, const Agg*>> buckets;
  for (int r = 0; r < kResolutionCount; ++r) {
    buckets.clear();
    buckets.reserve(order.size() + spill_[r].size());
    for (auto& [sid, p] : order)
      p->bucket_parts(r, [&, sid = sid](std::int64_t b, const Agg& a) { buckets.emplace_back(BucketKey{sid, b}, &a); });
    for (const auto& [k, agg] : spill_[r]) buckets.emplace_back(k, &agg);
    // Stable: a bucket both closed and spilled keeps its parts in the order they were opened.
    std::stable_sort(buckets.begin(), buckets.end(), [](const auto& a, const auto& b) {
      return std::tie(a.first.sid, a.first.bucket) < std::tie(b.first.sid, b.first.bucket);
    });
    // One merge operand per series and chunk: the buckets of the chunk this flush touched, each
    // once (the parts of a bucket both closed and spilled are merged here).
    const std::int64_t res = kResolutions[r];
    enc::RollupBlockWriter w(v, 0, res);
    for (std::size_t i = 0; i < buckets.size();) {
      const std::uint64_t sid = buckets[i].first.sid;
      const std::int64_t chunk = enc::rollup_chunk(buckets[i].first.bucket, res);
      v.clear();
      w.reset(chunk);
      while (i < buckets.size() && buckets[i].first.sid == sid &&
             enc::rollup_chunk(buckets[i].first.bucket, res) == chunk) {
        const std::int64_t bucket = buckets[i].first.bucket;
        const Agg* agg = buckets[i].second;
        Agg merged;
        if (i + 1 < buckets.size() && buckets[i + 1].first == buckets[i].first) {
          for (; i < buckets.size() && buckets[i].first.sid == sid && buckets[i].first.bucket == bucket; ++i)
            merged.merge(*buckets[i].second);
          agg = &merged;
        } else {
          ++i;
        }
        w.add_bucket(bucket, *agg);
      }
      w.finish();
      batch.merge(rollup_cf(r), enc::rollup_key(sid, chunk), v);
    }
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
    p->closed.clear();
  }
  for (auto& m : spill_) m.clear();
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
  storage.scan(Cf::log, "", "", [&](std::string_view k, std::string_view v) {
    if (k.size() != 10) return true;
    std::uint16_t shard = enc::get_u16(k.data());
    std::uint64_t seq = enc::get_u64(k.data() + 2);
    auto& st = shards[shard];
    if (!st) st = std::make_unique<ShardState>(shard, storage);
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
  storage.scan_prefix(Cf::meta, "ckpt/", [&](std::string_view k, std::string_view v) {
    if (k.size() != 7 || v.size() != 8) return true;
    std::uint16_t shard = enc::get_u16(k.data() + 5);
    std::uint64_t ck = enc::get_u64(v.data());
    auto& last = last_seq[shard];
    if (ck > last) last = ck;
    return true;
  });
  return true;
}

}  // namespace vigil
