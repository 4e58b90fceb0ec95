// The RocksDB store: one column family per kind of data, atomic write batches across them, and
// ordered range reads. RocksDB stays behind this header (pimpl): nothing else includes it.
//
// Column families and their keys (see engine/encoding/keys.hpp and series_key.hpp):
//   meta       "metric/<key>" -> metric JSON; "ckpt/<shard u16>" -> applied log sequence (u64)
//   series     "k<canonical key>" -> series id (u64); "i<series id u64>" -> canonical key
//   log        <shard u16><seq u64> -> ingest-log entry (the samples of one accepted batch)
//   raw        <series id u64><day><shard u16><flush seq u64> -> block of the series' samples
//   rollup_<r> <series id u64><chunk start> -> block of bucket aggregates (engine/encoding/rollup_block.hpp;
//              the merge operator folds the blocks written by successive flushes)
//   meta "format" -> the storage format ("5"); other formats are refused at open
//
// Errors are values (engine/status.hpp): a read tells a key that is absent (not_found) from a
// corrupt block or an I/O error, a scan checks its iterator's status when its loop ends and
// returns it, and a Cursor reports the status of its last seek. Every failed operation is also
// counted per op (get, scan, multi_get, write) for /metrics (stats_text).
//
// Contract: a Batch is applied atomically; once write() returns true it survives a crash of the
// process (through the WAL; with sync_writes it also survives power loss), except a batch marked
// skip_wal(), which survives once the memtables reach disk and is all-or-nothing before that. Reads may run
// concurrently with writes from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/model/model.hpp"
#include "engine/storage/status.hpp"

namespace vigil {

enum class Cf : int {
  meta = 0,
  series = 1,
  log = 2,
  raw = 3,
  rollup_first = 4,  // rollup CF of kResolutions[i] is rollup_first + i
};
inline Cf rollup_cf(int res_index) { return static_cast<Cf>(static_cast<int>(Cf::rollup_first) + res_index); }
inline constexpr int kCfCount = 4 + kResolutionCount;

struct StorageOptions {
  bool sync_writes = false;
  std::int64_t block_cache_mb = 256;
  std::int64_t memtable_mb = 256;  // all memtables together (RocksDB db_write_buffer_size)
  // Fault injection for tests (storage.fault_injection): "op:prefix:count[,...]", op "write" or
  // "get". The first `count` writes of a batch holding a key that starts with `prefix` (any
  // column family), or gets of such a key, fail as an I/O error would. Empty: none.
  std::string fault_injection;
};

// Parses a fault_injection spec; false and `err` when it is malformed.
struct StorageFault {
  bool write = true;  // write or get
  std::string prefix;
  std::int64_t count = 0;
};
bool parse_storage_faults(std::string_view spec, std::vector<StorageFault>& out, std::string& err);

class Storage {
 public:
  // A group of writes applied atomically.
  class Batch {
   public:
    Batch();
    ~Batch();
    Batch(Batch&&) noexcept;
    Batch& operator=(Batch&&) noexcept;
    void put(Cf cf, std::string_view key, std::string_view value);
    void merge(Cf cf, std::string_view key, std::string_view value);
    void del(Cf cf, std::string_view key);
    void delete_range(Cf cf, std::string_view begin, std::string_view end);
    // Writes this batch without the WAL. Only for batches that can be rebuilt from data that is
    // in the WAL (the shard flush, rebuilt from the ingest log): after a crash such a batch is
    // either wholly present or wholly absent (column families are flushed atomically).
    void skip_wal();
    std::size_t count() const;
    bool empty() const { return count() == 0; }

   private:
    friend class Storage;
    struct Impl;
    std::unique_ptr<Impl> impl_;
  };

  // Opens (creating if needed) the store in `dir`; nullptr and `err` on failure.
  static std::unique_ptr<Storage> open(const std::string& dir, const StorageOptions& opts,
                                       std::string& err);
  ~Storage();

  // False with `err` when the batch could not be applied (counted as a failed write).
  // `no_space` (when given) tells whether the failure was the disk running out of space.
  //
  // Out of space: RocksDB stops writing (a background error) once a write, a memtable flush or
  // a compaction meets ENOSPC. Every later write first asks RocksDB to resume (at most every
  // 200 ms): once space is back the store takes writes again without a restart.
  bool write(Batch& batch, std::string& err, bool* no_space = nullptr);
  // True while the store refuses writes for lack of space (until a resume succeeds).
  bool out_of_space() const;
  // True while RocksDB delays or stops writes (too many level-0 files, too many memtables, or
  // too many pending compaction bytes): what waits to be written should stay small meanwhile.
  bool writes_delayed() const;

  // The value of `key`: OK, not_found when absent, or the storage error that prevented the read.
  Status get(Cf cf, std::string_view key, std::string& value);
  // Calls fn for each key in [begin, end) in order until fn returns false. An empty `end` means
  // "to the end of the column family". Not OK when the scan met a storage error: fn may then have
  // seen only part of the range (it is never called past the error).
  Status scan(Cf cf, std::string_view begin, std::string_view end,
              const std::function<bool(std::string_view key, std::string_view value)>& fn);
  // Calls fn for each key starting with `prefix`; as scan().
  Status scan_prefix(Cf cf, std::string_view prefix,
                     const std::function<bool(std::string_view key, std::string_view value)>& fn);
  // The last key of a column family that starts with `prefix`; not_found if none.
  Status last_key(Cf cf, std::string_view prefix, std::string& key);

  // A reusable ordered reader over one column family: one RocksDB iterator serves many seeks,
  // which is far cheaper than an iterator per range when a query reads thousands of series.
  // As with a RocksDB iterator, valid() turns false at the end of the data or at an error: check
  // status() once a loop ends (it stays not OK until the next seek).
  class Cursor {
   public:
    ~Cursor();
    Cursor(Cursor&&) noexcept;
    void seek(std::string_view key);
    bool valid() const;
    void next();
    std::string_view key() const;
    std::string_view value() const;
    // OK, or the storage error that ended the last seek's walk (counted once as a failed scan).
    Status status() const;

   private:
    friend class Storage;
    Cursor();
    struct Impl;
    std::unique_ptr<Impl> impl_;
  };
  Cursor cursor(Cf cf);
  // Point reads of `keys` (ascending) in one column family, in one batch: fn(i, value) for each
  // key present, in key order. Not OK when a key could not be read (the first such error; the
  // keys that were read are still handed to fn).
  Status multi_get(Cf cf, const std::vector<std::string_view>& keys,
                 const std::function<void(std::size_t, std::string_view)>& fn);

  // RocksDB's estimate of the number of keys in a column family (0 if unknown).
  std::uint64_t estimate_keys(Cf cf);
  // Prometheus-format lines with RocksDB figures (keys, sizes, memtables) and the storage errors
  // met, per op: vigil_storage_errors_total{op="get|scan|multi_get|write|flush|compact"} (every op
  // always).
  std::string stats_text();
  // Flushes memtables to SST files (at shutdown and when ingest is idle); the storage error, counted,
  // if it failed.
  Status flush();
  // Compacts the level-0 files of a column family into level 1 when it has at least `min_files`
  // of them and they hold at least 1 / `l1_factor` of level 1's bytes (a small level 0 over a
  // large level 1 is left to RocksDB's own compactions: rewriting level 1 for it would cost far
  // more than it saves); returns how many files were compacted (corruption and I/O errors of the
  // compaction are counted, op "compact"). Merge operands of keys with
  // nothing older below become plain values, so reads no longer fold them.
  std::size_t compact_level0(Cf cf, std::size_t min_files, std::uint64_t l1_factor);
  // Level-0 files of a column family (RocksDB's own compactions may be taking some of them).
  std::size_t level0_files(Cf cf);

 private:
  Storage();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil
