#include "engine/storage/storage.hpp"

#include <sys/statvfs.h>

#include <rocksdb/db.h>
#include <rocksdb/metadata.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>
#include <rocksdb/write_batch.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <array>
#include <atomic>
#include <deque>
#include <mutex>
#include <vector>

#include "engine/encoding/bytes.hpp"
#include "engine/storage/free_space.hpp"
#include "engine/encoding/keys.hpp"
#include "engine/encoding/raw_block.hpp"
#include "engine/encoding/rollup_block.hpp"
#include "engine/stats/prom_text.hpp"

namespace vigil {

namespace {

// A merge operator that folds a key's value and operands, oldest first, into one value: the same
// for a full merge (a value below the operands, or none) and a partial one (operands only).
class FoldingMergeOperator : public rocksdb::MergeOperator {
 public:
  bool FullMergeV2(const MergeOperationInput& in, MergeOperationOutput* out) const override {
    std::vector<rocksdb::Slice> parts;
    parts.reserve(in.operand_list.size() + 1);
    if (in.existing_value != nullptr) parts.push_back(*in.existing_value);
    for (const auto& op : in.operand_list) parts.push_back(op);
    return fold_parts(in.key, parts, out->new_value);
  }
  // A memtable flush meets a key's operands of the last few shard flushes. Folding them there
  // decodes and encodes them again, and the compaction that later meets the key folds it once
  // more: fewer than kMinPartialMerge operands are left as they are (RocksDB keeps them), for the
  // next compaction or a read to fold with the rest.
  static constexpr std::size_t kMinPartialMerge = 4;
  bool PartialMergeMulti(const rocksdb::Slice& key, const std::deque<rocksdb::Slice>& operands,
                         std::string* new_value, rocksdb::Logger*) const override {
    if (operands.size() < kMinPartialMerge) return false;
    std::vector<rocksdb::Slice> parts(operands.begin(), operands.end());
    return fold_parts(key, parts, *new_value);
  }

 protected:
  // Two or more parts (a value alone is already in its final form: the usual read once the
  // operands were folded by a flush or a compaction).
  virtual bool fold(const rocksdb::Slice& key, const std::vector<rocksdb::Slice>& parts, std::string& out) const = 0;

 private:
  bool fold_parts(const rocksdb::Slice& key, const std::vector<rocksdb::Slice>& parts, std::string& out) const {
    if (parts.size() == 1) {
      out.assign(parts[0].data(), parts[0].size());
      return true;
    }
    return fold(key, parts, out);
  }
};

// Folds rollup blocks (engine/encoding/rollup_block.hpp): the block of a series' chunk is the merge, bucket by
// bucket, of every operand written to it. Reads and compactions fold all pending operands of a key
// in one pass; operands are folded in write order, so `last` ties resolve as they did in memory.
class RollupMergeOperator : public FoldingMergeOperator {
 public:
  explicit RollupMergeOperator(std::int64_t res) : res_(res) {}
  const char* Name() const override { return "vigil.RollupBlockMerge"; }

 private:
  // Each part is sorted by bucket index; folding goes through a per-thread dense array of the
  // chunk's buckets (parts in write order), then writes the touched buckets in index order.
  bool fold(const rocksdb::Slice& key, const std::vector<rocksdb::Slice>& parts, std::string& out) const override {
    if (key.size() != 16) return false;
    const std::int64_t chunk = enc::get_time(key.data() + 8);
    struct Scratch {
      std::vector<Agg> slot = std::vector<Agg>(enc::kRollupChunkBuckets);
      std::vector<std::uint8_t> used = std::vector<std::uint8_t>(enc::kRollupChunkBuckets, 0);
      std::vector<std::uint16_t> touched;
    };
    thread_local Scratch sc;
    sc.touched.clear();
    bool ok = true;
    for (const auto& p : parts) {
      ok = enc::for_each_rollup_entry(std::string_view(p.data(), p.size()), chunk, res_,
                                      [&](std::uint16_t i, const Agg& a) {
                                        if (!sc.used[i]) {
                                          sc.used[i] = 1;
                                          sc.slot[i] = a;
                                          sc.touched.push_back(i);
                                        } else {
                                          sc.slot[i].merge(a);
                                        }
                                      });
      if (!ok) break;
    }
    std::sort(sc.touched.begin(), sc.touched.end());
    // The writer (and its column buffers) serves every merge of this thread: it writes into
    // `block`, which then trades buffers with `out`.
    thread_local std::string block;
    thread_local enc::RollupBlockWriter w(block, 0, 0);
    block.clear();
    w.reset(chunk, res_);
    for (std::uint16_t i : sc.touched) {
      if (ok) w.add(i, sc.slot[i]);
      sc.used[i] = 0;
    }
    if (ok) {
      w.finish();
      out.swap(block);
    }
    return ok;
  }

  std::int64_t res_;
};

// Folds a series' raw operands of a day (RawBlockWriter output, oldest first) into one value.
// Blocks already full at the front of the value are kept as they are; the rest are decoded, put in
// time order (arrival order among equal times: the sort is stable over write order) and written
// again as blocks of up to kRawBlockRecords. So a merge rewrites at most a block's worth of old
// records besides the new ones.
class RawMergeOperator : public FoldingMergeOperator {
 public:
  const char* Name() const override { return "vigil.RawBlockMerge"; }

 private:
  bool fold(const rocksdb::Slice& key, const std::vector<rocksdb::Slice>& parts, std::string& out) const override {
    if (key.size() != enc::kRawKeySize) return false;
    const std::int64_t day = enc::get_time(key.data() + 8);
    thread_local std::vector<std::pair<std::int64_t, Agg>> records;
    // As for rollups: one writer per thread, writing into `block`, which then trades with `out`.
    thread_local std::string block;
    thread_local enc::RawBlockWriter w(block, 0);
    records.clear();
    block.clear();
    w.reset(day);
    bool tail = false;  // past the leading full blocks
    for (const auto& part : parts) {
      const char* p = part.data();
      const char* end = p + part.size();
      while (p < end) {
        const char* start = p;
        std::size_t n = 0;
        if (!enc::skip_raw_block(p, end, n)) return false;
        if (!tail && n == enc::kRawBlockRecords) {
          block.append(start, static_cast<std::size_t>(p - start));
          continue;
        }
        tail = true;
        if (!enc::get_raw_records(std::string_view(start, static_cast<std::size_t>(p - start)), day, records)) return false;
      }
    }
    std::stable_sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& [t, a] : records) w.add(t, a);
    w.finish();
    out.swap(block);
    return true;
  }
};

const char* cf_name(int i) {
  static const char* names[] = {"meta",      "series",     "log",         "raw",
                                "rollup_60", "rollup_900", "rollup_3600", "rollup_86400"};
  static_assert(sizeof(names) / sizeof(names[0]) == kCfCount);
  return names[i];
}

rocksdb::Slice sl(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// The storage ops whose failures /metrics counts.
enum class Op : std::size_t { get, scan, multi_get, write, flush, compact };
constexpr std::size_t kOpCount = 6;
const char* op_name(std::size_t i) {
  static const char* names[] = {"get", "scan", "multi_get", "write", "flush", "compact"};
  static_assert(sizeof(names) / sizeof(names[0]) == kOpCount);
  return names[i];
}
using ErrorCounters = std::array<std::atomic<std::uint64_t>, kOpCount>;

// RocksDB's status as a Status value. The message is RocksDB's text after the kind (its state),
// so to_string() reads "corruption: block checksum mismatch: ..." rather than naming it twice.
Status to_status(const rocksdb::Status& st) {
  if (st.ok()) return Status();
  const char* state = st.getState();
  std::string msg = state != nullptr ? std::string(state) : std::string();
  if (st.IsNotFound()) return Status::not_found(std::move(msg));
  if (st.IsCorruption()) return Status::corruption(std::move(msg));
  if (st.IsIOError()) return Status::io_error(std::move(msg));
  return Status::other(st.ToString());
}

constexpr const char* kFormatKey = "format";
constexpr const char* kFormat = "5";

}  // namespace

// -- batch ------------------------------------------------------------------------------------

namespace {

// A Batch is built without a Storage at hand, straight into a RocksDB WriteBatch (no copy of
// keys and values at write time). WriteBatch only needs a column family's id, and the ids are the
// Cf numbers: the store creates its column families in Cf order, and open() checks it.
class CfId final : public rocksdb::ColumnFamilyHandle {
 public:
  explicit CfId(std::uint32_t id) : id_(id), name_(std::to_string(id)) {}
  const std::string& GetName() const override { return name_; }
  std::uint32_t GetID() const override { return id_; }
  rocksdb::Status GetDescriptor(rocksdb::ColumnFamilyDescriptor*) override {
    return rocksdb::Status::NotSupported("column family id only");
  }
  const rocksdb::Comparator* GetComparator() const override { return rocksdb::BytewiseComparator(); }

 private:
  std::uint32_t id_;
  std::string name_;
};

rocksdb::ColumnFamilyHandle* cf_id(Cf cf) {
  static const std::vector<std::unique_ptr<CfId>> ids = [] {
    std::vector<std::unique_ptr<CfId>> v;
    for (int i = 0; i < kCfCount; ++i) v.push_back(std::make_unique<CfId>(static_cast<std::uint32_t>(i)));
    return v;
  }();
  return ids[static_cast<std::size_t>(cf)].get();
}

}  // namespace

struct Storage::Batch::Impl {
  rocksdb::WriteBatch wb;
  bool wal = true;
  std::string error;  // the first failed operation, reported by write()
  void check(const rocksdb::Status& st) {
    if (!st.ok() && error.empty()) error = st.ToString();
  }
};

Storage::Batch::Batch() : impl_(std::make_unique<Impl>()) {}
Storage::Batch::~Batch() = default;
Storage::Batch::Batch(Batch&&) noexcept = default;
Storage::Batch& Storage::Batch::operator=(Batch&&) noexcept = default;

void Storage::Batch::put(Cf cf, std::string_view key, std::string_view value) {
  impl_->check(impl_->wb.Put(cf_id(cf), sl(key), sl(value)));
}
void Storage::Batch::merge(Cf cf, std::string_view key, std::string_view value) {
  impl_->check(impl_->wb.Merge(cf_id(cf), sl(key), sl(value)));
}
void Storage::Batch::del(Cf cf, std::string_view key) { impl_->check(impl_->wb.Delete(cf_id(cf), sl(key))); }
void Storage::Batch::delete_range(Cf cf, std::string_view begin, std::string_view end) {
  impl_->check(impl_->wb.DeleteRange(cf_id(cf), sl(begin), sl(end)));
}
void Storage::Batch::skip_wal() { impl_->wal = false; }
std::size_t Storage::Batch::count() const { return static_cast<std::size_t>(impl_->wb.Count()); }

// -- storage ----------------------------------------------------------------------------------

namespace {

// A fault of storage.fault_injection, with the failures it has left to inject.
struct Fault {
  bool write = true;
  std::string prefix;
  std::atomic<std::int64_t> left{0};
  // True (and one failure fewer left) when this fault fails the operation now.
  bool take() {
    std::int64_t n = left.load();
    while (n > 0)
      if (left.compare_exchange_weak(n, n - 1)) return true;
    return false;
  }
};

// Whether a batch holds a key starting with `prefix` (any column family).
class PrefixFinder : public rocksdb::WriteBatch::Handler {
 public:
  explicit PrefixFinder(std::string_view prefix) : prefix_(prefix) {}
  bool found = false;
  rocksdb::Status PutCF(std::uint32_t, const rocksdb::Slice& k, const rocksdb::Slice&) override { return see(k); }
  rocksdb::Status MergeCF(std::uint32_t, const rocksdb::Slice& k, const rocksdb::Slice&) override { return see(k); }
  rocksdb::Status DeleteCF(std::uint32_t, const rocksdb::Slice& k) override { return see(k); }
  rocksdb::Status SingleDeleteCF(std::uint32_t, const rocksdb::Slice& k) override { return see(k); }
  rocksdb::Status DeleteRangeCF(std::uint32_t, const rocksdb::Slice& b, const rocksdb::Slice&) override {
    return see(b);
  }
  bool Continue() override { return !found; }

 private:
  rocksdb::Status see(const rocksdb::Slice& k) {
    if (k.starts_with(sl(prefix_))) found = true;
    return rocksdb::Status::OK();
  }
  std::string_view prefix_;
};

std::atomic<std::uint64_t> g_min_free{0};

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool no_space_status(const rocksdb::Status& st) {
  return st.IsNoSpace() || st.ToString().find("No space left on device") != std::string::npos;
}

}  // namespace

void set_min_free_space(std::uint64_t bytes) { g_min_free.store(bytes); }
std::uint64_t min_free_space() { return g_min_free.load(); }

bool parse_storage_faults(std::string_view spec, std::vector<StorageFault>& out, std::string& err) {
  out.clear();
  while (!spec.empty()) {
    auto comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    if (item.empty()) continue;
    auto c1 = item.find(':');
    auto c2 = item.rfind(':');
    if (c1 == std::string_view::npos || c2 == c1) {
      err = "fault '" + std::string(item) + "' is not op:prefix:count";
      return false;
    }
    StorageFault f;
    std::string_view op = item.substr(0, c1);
    if (op != "write" && op != "get") {
      err = "fault '" + std::string(item) + "': the op must be write or get";
      return false;
    }
    f.write = op == "write";
    f.prefix = std::string(item.substr(c1 + 1, c2 - c1 - 1));
    std::string_view count = item.substr(c2 + 1);
    if (f.prefix.empty() || count.empty() || count.size() > 9 ||
        count.find_first_not_of("0123456789") != std::string_view::npos) {
      err = "fault '" + std::string(item) + "' needs a key prefix and a count (1..999999999)";
      return false;
    }
    f.count = std::stoll(std::string(count));
    if (f.count < 1) {
      err = "fault '" + std::string(item) + "': the count must be at least 1";
      return false;
    }
    out.push_back(std::move(f));
  }
  return true;
}

struct Storage::Impl {
  std::unique_ptr<rocksdb::DB> db;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::WriteOptions wopts;
  ErrorCounters errors{};
  std::deque<Fault> faults;  // storage.fault_injection (tests)
  bool write_faults = false, get_faults = false;
  // Out of space: RocksDB holds a background error and refuses writes until Resume() succeeds.
  std::atomic<bool> no_space{false};
  std::atomic<std::int64_t> last_resume_ms{0};
  std::atomic<std::uint64_t> no_space_writes{0}, resumes{0}, guard_refusals{0};
  std::mutex resume_mu;
  // The free-space guard (free_space.hpp): the directory's free bytes, read at most every 100 ms.
  std::string dir;
  std::atomic<std::int64_t> free_read_ms{-1000};
  std::atomic<std::uint64_t> free_bytes{~std::uint64_t{0}};

  // False when the directory has less free space than the guard asks for.
  bool enough_space(std::uint64_t& free) {
    const std::uint64_t min = g_min_free.load(std::memory_order_relaxed);
    if (min == 0) return true;
    const std::int64_t now = steady_ms();
    std::int64_t last = free_read_ms.load(std::memory_order_relaxed);
    if (now - last >= 100 && free_read_ms.compare_exchange_strong(last, now)) {
      struct statvfs sv {};
      if (::statvfs(dir.c_str(), &sv) == 0)
        free_bytes.store(static_cast<std::uint64_t>(sv.f_bavail) * sv.f_frsize, std::memory_order_relaxed);
    }
    free = free_bytes.load(std::memory_order_relaxed);
    return free >= min;
  }

  // An injected failure for this operation, if a fault matches.
  bool injected(bool write, std::string_view key, rocksdb::WriteBatch* wb) {
    for (auto& f : faults) {
      if (f.write != write || f.left.load() <= 0) continue;
      bool match;
      if (wb) {
        PrefixFinder finder(f.prefix);
        (void)wb->Iterate(&finder);
        match = finder.found;
      } else {
        match = key.starts_with(f.prefix);
      }
      if (match && f.take()) return true;
    }
    return false;
  }

  // After a write refused for lack of space: asks RocksDB to resume, at most every 200 ms.
  void try_resume() {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now().time_since_epoch()).count();
    if (now - last_resume_ms.load() < 200) return;
    std::unique_lock lock(resume_mu, std::try_to_lock);
    if (!lock.owns_lock()) return;
    last_resume_ms.store(now);
    rocksdb::Status st = db->Resume();
    if (st.ok()) {
      no_space.store(false);
      resumes.fetch_add(1);
      spdlog::warn("storage: writes resumed (space is available again)");
    }
  }

  // Counts `st` as a failure of `op` unless it is OK (or, for a read, a key that is absent).
  Status count(Op op, Status st) {
    if (st.is_error()) errors[static_cast<std::size_t>(op)].fetch_add(1, std::memory_order_relaxed);
    return st;
  }

  ~Impl() {
    for (auto* h : handles) db->DestroyColumnFamilyHandle(h);
    handles.clear();
    if (db) db->Close();
  }
  rocksdb::ColumnFamilyHandle* h(Cf cf) { return handles[static_cast<std::size_t>(cf)]; }
};

Storage::Storage() : impl_(std::make_unique<Impl>()) {}
Storage::~Storage() = default;

std::unique_ptr<Storage> Storage::open(const std::string& dir, const StorageOptions& opts,
                                       std::string& err) {
  rocksdb::Options db_opts;
  db_opts.create_if_missing = true;
  db_opts.create_missing_column_families = true;
  db_opts.IncreaseParallelism(2);
  db_opts.max_background_jobs = 2;
  // RocksDB's own info log: warnings and errors only, two files (Vigil logs its own events; at
  // the info level RocksDB writes every flush and compaction, 0.25 MB for W1 alone).
  db_opts.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
  db_opts.keep_log_file_num = 2;
  // Shard flushes are written without the WAL (Batch::skip_wal): their source, the ingest log, is
  // in the WAL until they are durable. Flushing every column family together keeps a flush's
  // rollups, raw blocks, checkpoint and log deletion all-or-nothing across a crash.
  db_opts.atomic_flush = true;
  // A shard flush is one batch of tens of thousands of merge operands; with ordered writes every
  // ingest-log write queued behind its memtable insert (W3: HTTP and Kafka alert latency p99
  // 35 - 65 ms, maxima near 100 ms). Unordered writes insert into the memtable concurrently and
  // return when their own insert is done. What it relaxes is the immutability of snapshots, which
  // Vigil does not use: a reader may see part of a batch being written at that moment, i.e. only
  // samples accepted after its own sync point.
  db_opts.unordered_write = true;

  db_opts.db_write_buffer_size = static_cast<std::size_t>(opts.memtable_mb) << 20;
  auto cache = rocksdb::NewLRUCache(static_cast<std::size_t>(opts.block_cache_mb) << 20);


  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (int i = 0; i < kCfCount; ++i) {
    rocksdb::ColumnFamilyOptions cf;
    rocksdb::BlockBasedTableOptions t;
    t.block_cache = cache;
    t.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10, false));
    cf.compression = rocksdb::kLZ4Compression;
    cf.bottommost_compression = rocksdb::kZSTD;
    if (i == static_cast<int>(Cf::raw) || i >= static_cast<int>(Cf::rollup_first)) {
      // Samples and rollups: ZSTD at every level. Their compact encoding (engine/encoding/)
      // leaves little for LZ4's matching, while ZSTD's entropy coding still takes the tag bytes and
      // the skewed high bytes of the varints.
      cf.compression = rocksdb::kZSTD;
      // Level-0 files live until the next compaction (the idle one or RocksDB's): LZ4 there, a
      // fifth of ZSTD's CPU at a memtable flush (W1: ZSTD was 6 % of all instructions).
      cf.compression_per_level.assign(7, rocksdb::kZSTD);
      cf.compression_per_level[0] = rocksdb::kLZ4Compression;
      // Per-series scans: the series id prefix selects the bloom filter.
      cf.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(8));
      t.whole_key_filtering = false;
      // 16 KiB blocks (RocksDB's default is 4): ZSTD sees more blocks' column heads and keys at
      // once (W1: 12.0 instead of 13.3 MB), while a one-series read still decompresses little.
      t.block_size = 16 << 10;
    }
    if (i == static_cast<int>(Cf::raw)) cf.merge_operator = std::make_shared<RawMergeOperator>();
    if (i >= static_cast<int>(Cf::rollup_first))
      cf.merge_operator = std::make_shared<RollupMergeOperator>(kResolutions[i - static_cast<int>(Cf::rollup_first)]);
    cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(t));
    cfs.emplace_back(i == 0 ? rocksdb::kDefaultColumnFamilyName : cf_name(i), cf);
  }
  // A store of an earlier format has column families this version does not open (format 2 kept
  // seven rollup resolutions): refuse it with the format message rather than RocksDB's.
  {
    std::vector<std::string> existing;
    if (rocksdb::DB::ListColumnFamilies(db_opts, dir, &existing).ok()) {
      for (const auto& name : existing) {
        bool known = name == rocksdb::kDefaultColumnFamilyName;
        for (int i = 1; i < kCfCount && !known; ++i) known = name == cf_name(i);
        if (!known) {
          err = "the data directory " + dir + " holds an older storage format (column family " + name +
                "); this version reads format " + kFormat + "; start on an empty directory";
          return nullptr;
        }
      }
    }
  }
  // The default column family holds the metadata ("meta").
  auto s = std::unique_ptr<Storage>(new Storage());
  rocksdb::DB* raw = nullptr;
  rocksdb::Status st = rocksdb::DB::Open(db_opts, dir, cfs, &s->impl_->handles, &raw);
  if (!st.ok()) {
    err = st.ToString();
    return nullptr;
  }
  s->impl_->db.reset(raw);
  for (int i = 0; i < kCfCount; ++i) {
    if (s->impl_->handles[static_cast<std::size_t>(i)]->GetID() != static_cast<std::uint32_t>(i)) {
      err = "unexpected column family layout in " + dir + " (column family " + cf_name(i) +
            " has id " + std::to_string(s->impl_->handles[static_cast<std::size_t>(i)]->GetID()) + ")";
      return nullptr;
    }
  }
  s->impl_->wopts.sync = opts.sync_writes;
  s->impl_->dir = dir;
  {
    std::vector<StorageFault> faults;
    if (!parse_storage_faults(opts.fault_injection, faults, err)) return nullptr;
    for (auto& f : faults) {
      auto& to = s->impl_->faults.emplace_back();
      to.write = f.write;
      to.prefix = f.prefix;
      to.left.store(f.count);
      (f.write ? s->impl_->write_faults : s->impl_->get_faults) = true;
    }
  }
  // The store's format: rollups are kept in per-chunk blocks since format 2, at four stored
  // resolutions since format 3, with compact values (engine/encoding/compact.hpp) since format 4, column by column since format 5. A store without the
  // marker is new if it holds no series yet; otherwise it predates the marker and is refused.
  std::string format;
  Status fst = s->get(Cf::meta, kFormatKey, format);
  if (fst.is_error()) {
    err = "cannot read the storage format of " + dir + ": " + fst.to_string();
    return nullptr;
  }
  if (fst.is_not_found()) {
    bool has_series = false;
    Status sst = s->scan(Cf::series, "", "", [&](std::string_view, std::string_view) {
      has_series = true;
      return false;
    });
    if (!sst.ok()) {
      err = "cannot read the series of " + dir + ": " + sst.to_string();
      return nullptr;
    }
    if (has_series) {
      err = "the data directory " + dir + " holds an older storage format; start on an empty directory";
      return nullptr;
    }
    Batch b;
    b.put(Cf::meta, kFormatKey, kFormat);
    if (!s->write(b, err)) return nullptr;
  } else if (format != kFormat) {
    err = "the data directory " + dir + " holds storage format " + format + ", this version reads format " +
          std::string(kFormat);
    return nullptr;
  }
  return s;
}

bool Storage::write(Batch& batch, std::string& err, bool* no_space) {
  auto& b = *batch.impl_;
  if (no_space) *no_space = false;
  if (!b.error.empty()) {
    err = b.error;
    (void)impl_->count(Op::write, Status::other(b.error));
    return false;
  }
  if (impl_->write_faults && impl_->injected(true, {}, &b.wb)) {
    err = "IO error: injected fault (storage.fault_injection)";
    (void)impl_->count(Op::write, Status::io_error(err));
    return false;
  }
  if (std::uint64_t free = 0; b.wal && !impl_->enough_space(free)) {
    err = "IO error: No space left on device: " + std::to_string(free >> 10) + " KiB free in " + impl_->dir +
          ", less than storage.min_free_mb (" + std::to_string(g_min_free.load() >> 20) + " MiB)";
    (void)impl_->count(Op::write, Status::io_error(err));
    impl_->no_space_writes.fetch_add(1, std::memory_order_relaxed);
    impl_->guard_refusals.fetch_add(1, std::memory_order_relaxed);
    if (!impl_->no_space.exchange(true)) spdlog::error("storage: out of space, writes refused: {}", err);
    if (no_space) *no_space = true;
    return false;
  }
  if (impl_->no_space.load(std::memory_order_relaxed)) impl_->try_resume();
  rocksdb::WriteOptions wo = impl_->wopts;
  if (!b.wal) {
    wo.disableWAL = true;
    wo.sync = false;
  }
  rocksdb::Status st = impl_->db->Write(wo, &b.wb);
  if (st.ok() && impl_->no_space.load(std::memory_order_relaxed) && impl_->no_space.exchange(false))
    spdlog::warn("storage: writes resumed (space is available again)");
  if (!st.ok()) {
    err = st.ToString();
    (void)impl_->count(Op::write, to_status(st));
    if (no_space_status(st)) {
      impl_->no_space_writes.fetch_add(1, std::memory_order_relaxed);
      if (!impl_->no_space.exchange(true)) spdlog::error("storage: out of space, writes refused: {}", err);
      if (no_space) *no_space = true;
    }
    return false;
  }
  return true;
}

bool Storage::out_of_space() const { return impl_->no_space.load(std::memory_order_relaxed); }

Status Storage::get(Cf cf, std::string_view key, std::string& value) {
  if (impl_->get_faults && impl_->injected(false, key, nullptr))
    return impl_->count(Op::get, Status::io_error("injected fault (storage.fault_injection)"));
  return impl_->count(Op::get, to_status(impl_->db->Get(rocksdb::ReadOptions(), impl_->h(cf), sl(key), &value)));
}

Status Storage::scan(Cf cf, std::string_view begin, std::string_view end,
                   const std::function<bool(std::string_view, std::string_view)>& fn) {
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;
  rocksdb::Slice upper = sl(end);
  if (!end.empty()) ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->h(cf)));
  for (it->Seek(sl(begin)); it->Valid(); it->Next()) {
    auto k = it->key();
    auto v = it->value();
    if (!fn(std::string_view(k.data(), k.size()), std::string_view(v.data(), v.size()))) break;
  }
  // Valid() is false at the end of the range and at an error alike: only status() tells them apart.
  return impl_->count(Op::scan, to_status(it->status()));
}

namespace {
// The smallest key greater than every key starting with `prefix` ("" if there is none).
std::string prefix_successor(std::string_view prefix) {
  std::string s(prefix);
  while (!s.empty()) {
    auto c = static_cast<unsigned char>(s.back());
    if (c != 0xff) {
      s.back() = static_cast<char>(c + 1);
      return s;
    }
    s.pop_back();
  }
  return s;
}
}  // namespace

Status Storage::scan_prefix(Cf cf, std::string_view prefix,
                            const std::function<bool(std::string_view, std::string_view)>& fn) {
  return scan(cf, prefix, prefix_successor(prefix), fn);
}

Status Storage::last_key(Cf cf, std::string_view prefix, std::string& key) {
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it(impl_->db->NewIterator(ro, impl_->h(cf)));
  std::string succ = prefix_successor(prefix);
  if (succ.empty())
    it->SeekToLast();
  else
    it->SeekForPrev(succ);
  // SeekForPrev lands on a key <= succ; step back past succ itself if present.
  while (it->Valid() && !succ.empty() && it->key().compare(sl(succ)) >= 0) it->Prev();
  if (!it->Valid()) {
    Status st = impl_->count(Op::scan, to_status(it->status()));
    return st.ok() ? Status::not_found() : st;
  }
  if (!it->key().starts_with(sl(prefix))) return Status::not_found();
  key.assign(it->key().data(), it->key().size());
  return Status();
}

struct Storage::Cursor::Impl {
  std::unique_ptr<rocksdb::Iterator> it;
  std::atomic<std::uint64_t>* scan_errors = nullptr;
  mutable bool counted = false;  // the current error was counted (once per seek)
};

Storage::Cursor::Cursor() : impl_(std::make_unique<Impl>()) {}
Storage::Cursor::~Cursor() = default;
Storage::Cursor::Cursor(Cursor&&) noexcept = default;
void Storage::Cursor::seek(std::string_view key) {
  impl_->it->Seek(sl(key));
  impl_->counted = false;
}
Status Storage::Cursor::status() const {
  Status st = to_status(impl_->it->status());
  if (st.is_error() && !impl_->counted) {
    impl_->counted = true;
    impl_->scan_errors->fetch_add(1, std::memory_order_relaxed);
  }
  return st;
}
bool Storage::Cursor::valid() const { return impl_->it->Valid(); }
void Storage::Cursor::next() { impl_->it->Next(); }
std::string_view Storage::Cursor::key() const {
  auto k = impl_->it->key();
  return {k.data(), k.size()};
}
std::string_view Storage::Cursor::value() const {
  auto v = impl_->it->value();
  return {v.data(), v.size()};
}

Storage::Cursor Storage::cursor(Cf cf) {
  rocksdb::ReadOptions ro;
  ro.total_order_seek = true;
  Cursor c;
  c.impl_->it.reset(impl_->db->NewIterator(ro, impl_->h(cf)));
  c.impl_->scan_errors = &impl_->errors[static_cast<std::size_t>(Op::scan)];
  return c;
}

Status Storage::multi_get(Cf cf, const std::vector<std::string_view>& keys,
                          const std::function<void(std::size_t, std::string_view)>& fn) {
  const std::size_t n = keys.size();
  if (n == 0) return Status();
  // Per-thread buffers: a value that is not pinned (a merge result) lands in its slice's own
  // string, whose capacity is kept from one call to the next.
  struct Scratch {
    std::vector<rocksdb::Slice> keys;
    std::unique_ptr<rocksdb::PinnableSlice[]> values;
    std::size_t capacity = 0;
    std::vector<rocksdb::Status> statuses;
  };
  thread_local Scratch sc;
  sc.keys.clear();
  for (const auto& k : keys) sc.keys.push_back(sl(k));
  if (sc.capacity < n) {
    sc.values = std::make_unique<rocksdb::PinnableSlice[]>(n);
    sc.capacity = n;
  }
  sc.statuses.assign(n, rocksdb::Status());
  impl_->db->MultiGet(rocksdb::ReadOptions(), impl_->h(cf), n, sc.keys.data(), sc.values.get(),
                      sc.statuses.data(), /*sorted_input=*/true);
  Status first;
  for (std::size_t i = 0; i < n; ++i) {
    if (sc.statuses[i].ok())
      fn(i, std::string_view(sc.values[i].data(), sc.values[i].size()));
    else if (!sc.statuses[i].IsNotFound())
      first.update(to_status(sc.statuses[i]));
    sc.values[i].Reset();
  }
  return impl_->count(Op::multi_get, std::move(first));
}

bool Storage::writes_delayed() const {
  std::uint64_t delayed = 0, stopped = 0;
  impl_->db->GetIntProperty("rocksdb.actual-delayed-write-rate", &delayed);
  impl_->db->GetIntProperty("rocksdb.is-write-stopped", &stopped);
  return delayed > 0 || stopped > 0;
}

std::string Storage::stats_text() {
  std::string out;
  auto prop = [&](const char* metric, const char* property, const char* help) {
    prom::head(out, metric, "gauge", help);
    for (int i = 0; i < kCfCount; ++i) {
      std::uint64_t v = 0;
      impl_->db->GetIntProperty(impl_->handles[i], property, &v);
      prom::sample(out, metric, "cf", cf_name(i), v);
    }
  };
  prop("vigil_rocksdb_estimated_keys", "rocksdb.estimate-num-keys", "Estimated keys per column family.");
  prop("vigil_rocksdb_sst_bytes", "rocksdb.total-sst-files-size", "SST file bytes per column family.");
  prop("vigil_rocksdb_memtable_bytes", "rocksdb.cur-size-all-mem-tables", "Memtable bytes per column family.");
  prop("vigil_rocksdb_table_readers_bytes", "rocksdb.estimate-table-readers-mem",
       "Memory of open SST files outside the block cache, per column family.");
  prop("vigil_rocksdb_pending_compaction_bytes", "rocksdb.estimate-pending-compaction-bytes",
       "Bytes RocksDB estimates it must rewrite to bring the levels back under their targets, per column family.");
  {
    // One block cache serves every column family; write stalls are the database's.
    std::uint64_t usage = 0, pinned = 0;
    impl_->db->GetIntProperty(impl_->handles[0], "rocksdb.block-cache-usage", &usage);
    impl_->db->GetIntProperty(impl_->handles[0], "rocksdb.block-cache-pinned-usage", &pinned);
    prom::metric(out, "vigil_rocksdb_block_cache_bytes", "gauge",
                 "Bytes in the block cache (data, index and filter blocks; bound: storage.block_cache_mb).", usage);
    prom::metric(out, "vigil_rocksdb_block_cache_pinned_bytes", "gauge",
                 "Bytes of the block cache pinned by blocks in use.", pinned);
    std::uint64_t delayed = 0, stopped = 0;
    impl_->db->GetIntProperty("rocksdb.actual-delayed-write-rate", &delayed);
    impl_->db->GetIntProperty("rocksdb.is-write-stopped", &stopped);
    prom::metric(out, "vigil_rocksdb_delayed_write_rate", "gauge",
                 "Bytes/s RocksDB lets writes through while it delays them (0: no delay).", delayed);
    prom::metric(out, "vigil_rocksdb_write_stopped", "gauge",
                 "1 while RocksDB stops writes (too many level-0 files or pending compaction bytes).", stopped);
  }
  prom::head(out, "vigil_storage_errors_total", "counter",
             "Storage operations that failed (corruption, I/O and other errors; not absent keys), per op.");
  for (std::size_t i = 0; i < kOpCount; ++i)
    prom::sample(out, "vigil_storage_errors_total", "op", op_name(i),
                 impl_->errors[i].load(std::memory_order_relaxed));
  prom::metric(out, "vigil_storage_no_space_writes_total", "counter",
               "Writes refused because the disk was out of space (HTTP 507).", impl_->no_space_writes.load());
  prom::metric(out, "vigil_storage_out_of_space", "gauge",
               "1 while the store refuses writes for lack of space (until space returns and it resumes).",
               impl_->no_space.load() ? 1 : 0);
  prom::metric(out, "vigil_storage_min_free_refusals_total", "counter",
               "Writes refused because the data directory had less free space than storage.min_free_mb.",
               impl_->guard_refusals.load());
  prom::metric(out, "vigil_storage_resumes_total", "counter",
               "Times the store resumed writing after running out of space.", impl_->resumes.load());
  return out;
}

std::uint64_t Storage::estimate_keys(Cf cf) {
  std::uint64_t n = 0;
  if (!impl_->db->GetIntProperty(impl_->h(cf), "rocksdb.estimate-num-keys", &n)) return 0;
  return n;
}

Status Storage::flush() {
  rocksdb::FlushOptions fo;
  return impl_->count(Op::flush, to_status(impl_->db->Flush(fo, impl_->handles)));
}

std::size_t Storage::compact_level0(Cf cf, std::size_t min_files, std::uint64_t l1_factor) {
  rocksdb::ColumnFamilyMetaData md;
  impl_->db->GetColumnFamilyMetaData(impl_->h(cf), &md);
  if (md.levels.size() < 2 || md.levels[0].files.size() < std::max<std::size_t>(min_files, 1)) return 0;
  if (md.levels[0].size * l1_factor < md.levels[1].size) return 0;
  std::vector<std::string> names;
  // Files a background compaction already took are left to it (CompactFiles would refuse them all).
  for (const auto& f : md.levels[0].files)
    if (!f.being_compacted) names.push_back(f.name);
  if (names.size() < std::max<std::size_t>(min_files, 1)) return 0;
  // Overlapping level-1 files are added by RocksDB itself. The output takes the column family's
  // compression (CompactionOptions would otherwise default to Snappy).
  rocksdb::CompactionOptions co;
  co.compression = rocksdb::kDisableCompressionOption;
  co.output_file_size_limit = std::uint64_t{64} << 20;
  rocksdb::Status st = impl_->db->CompactFiles(co, impl_->h(cf), names, 1);
  // A compaction RocksDB declined (files taken meanwhile, a shutdown in progress) is not a storage
  // error; corruption and I/O errors are counted.
  if (st.IsCorruption() || st.IsIOError()) (void)impl_->count(Op::compact, to_status(st));
  return st.ok() ? names.size() : 0;
}

std::size_t Storage::level0_files(Cf cf) {
  rocksdb::ColumnFamilyMetaData md;
  impl_->db->GetColumnFamilyMetaData(impl_->h(cf), &md);
  return md.levels.empty() ? 0 : md.levels[0].files.size();
}

}  // namespace vigil
