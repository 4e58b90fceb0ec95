// The key layouts of the column families that are addressed by numbers (series ids, times,
// sequence numbers). All of them are big-endian fixed-width fields (engine/encoding/bytes.hpp),
// so RocksDB's bytewise order is (series, time) order and one series' time range is one scan.
// The series family is keyed by canonical series keys (engine/encoding/series_key.hpp).
//
//   rollup CF (one per resolution)   u64 series id | time chunk start   -> a rollup block
//   raw CF                           u64 series id | time UTC day       -> raw blocks
//   log CF                           u16 shard | u64 sequence           -> a log entry
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/encoding/bytes.hpp"
#include "engine/model/model.hpp"

namespace vigil::enc {

// rollup CF: series id | chunk start -> a rollup block (engine/encoding/rollup_block.hpp). A chunk
// is kRollupChunkBuckets consecutive buckets of one series at one resolution (at 60 s, one UTC
// day), so a query reads one key per series and chunk, and a flush writes one merge operand per
// series, resolution and chunk, however many of its buckets the flush touched.
inline constexpr std::int64_t kRollupChunkBuckets = 1440;
inline std::int64_t rollup_chunk(std::int64_t bucket, std::int64_t res) {
  return floor_to(bucket, res * kRollupChunkBuckets);
}
inline std::string rollup_key(std::uint64_t sid, std::int64_t chunk) {
  std::string k;
  k.reserve(16);
  put_u64(k, sid);
  put_time(k, chunk);
  return k;
}

// raw CF: series id | UTC day -> the series' samples of that day: raw blocks one after the other
// (engine/encoding/raw_block.hpp). Each flush adds its samples of the series and day as a merge
// operand (RawMergeOperator in storage.cpp), and merging folds the operands into blocks of up to
// kRawBlockRecords records in time order, so a day ends up as a few large blocks however many
// flushes wrote it.
inline constexpr std::size_t kRawKeySize = 16;
inline std::string raw_block_key(std::uint64_t sid, std::int64_t day) {
  std::string k;
  k.reserve(kRawKeySize);
  put_u64(k, sid);
  put_time(k, day);
  return k;
}

// log CF: shard | sequence
inline std::string log_key(std::uint16_t shard, std::uint64_t seq) {
  std::string k;
  k.reserve(10);
  put_u16(k, shard);
  put_u64(k, seq);
  return k;
}

}  // namespace vigil::enc
