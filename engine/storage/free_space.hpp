// The free-space guard of the store (storage.min_free_mb).
//
// RocksDB 7.8 as Debian builds it keeps its assertions, and a write-ahead-log append that meets
// ENOSPC trips one (WritableFileWriter: "sync_without_flush_called_") and aborts the process. So
// Vigil never lets the log reach a full disk: while the data directory has less free space than
// this, every write that goes through the log is refused as out of space (Storage::write's
// `no_space`, answered 507), and accepted again as soon as space is back. Memtable flushes and
// compactions that still meet ENOSPC are background errors that RocksDB recovers from by itself
// once space returns (it waits for as much free space as a column family's write buffer).
//
// Process-wide: one store per process; set before the store is opened. The free space is read
// with statvfs at most every 100 ms.
#pragma once

#include <cstdint>

namespace vigil {

// 0 turns the guard off (the default; `vigil serve` sets storage.min_free_mb).
void set_min_free_space(std::uint64_t bytes);
std::uint64_t min_free_space();

}  // namespace vigil
