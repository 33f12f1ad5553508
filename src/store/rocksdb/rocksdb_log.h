// RocksDB's own log messages, sent to the server's log (spdlog) instead of a
// LOG file in the store's directory.
//
// Why: RocksDB's file logger cannot survive a full disk. Once a LOG write
// fails, its next one trips an assertion in the writer (Debian's librocksdb
// 7.8 keeps assertions on) and the server aborts: the abort the store's
// full-disk handling (rocksdb_faults.h) exists to prevent. A logger that
// writes nothing to the data directory also keeps RocksDB's warnings and
// errors where an operator looks: the server's log.
//
// Levels: RocksDB's warnings and errors are logged as warnings and errors
// (prefixed "rocksdb: "); its informational and debug lines only at the
// server's trace level (a busy store writes several per flush and compaction,
// and ~1000 lines of options at open).
//
// Thread safety: RocksDB calls it from any of its threads; spdlog is thread-safe.
#pragma once

#include <rocksdb/env.h>

#include <memory>

namespace roentgen::store::rocks {

// A logger whose level follows spdlog's level when it is made.
std::shared_ptr<rocksdb::Logger> MakeServerLogger();

}  // namespace roentgen::store::rocks
