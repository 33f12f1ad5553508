// `roentgen migrate` (docs/storage.md, "Migration"):
//
//   roentgen migrate --data-dir D --to block [--remove-old-store]
//       Copies the RocksDB store of the stopped server's data dir D into a
//       block store and switches D to the block engine (store/migrate.h),
//       printing progress (traces done of the estimate, rate, time left).
//       RocksDB's files are kept in D/rocksdb-before-migration/ unless
//       --remove-old-store. A server then starts on D with
//       --store-engine block.
//
// Exit codes: 0 done (or a switch an interrupted migration had committed
// was finished), 1 failed (the reason on stderr; before the commit the
// RocksDB store is left as it was).
#pragma once

#include <iosfwd>
#include <string>

namespace roentgen::cli {

struct MigrateConfig {
  std::string data_dir;
  std::string to;  // the engine to migrate to: "block" (the only one)
  bool remove_old_store = false;
};

int RunMigrate(const MigrateConfig& config, std::ostream& out, std::ostream& err);

}  // namespace roentgen::cli
