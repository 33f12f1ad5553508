#include "cli/migrate.h"

#include <fmt/format.h>
#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

#include "cli/store_part.h"
#include "common/disk_space.h"
#include "store/migrate.h"

namespace roentgen::cli {
namespace {

namespace fs = std::filesystem;

std::string MigrateDuration(double seconds) {
  if (seconds < 90) return fmt::format("{:.0f} s", seconds);
  if (seconds < 90 * 60) return fmt::format("{:.0f} min", seconds / 60);
  return fmt::format("{:.1f} h", seconds / 3600);
}

// One progress line: traces done of RocksDB's estimate (which may be off:
// the percentage stops at 99 until the last report, whose total is exact),
// rate, time left.
std::string ProgressLine(const std::string& data_dir, const store::MigrationProgress& p) {
  const double rate = p.seconds > 0 ? static_cast<double>(p.traces) / p.seconds : 0;
  std::string line = fmt::format("migrating {}: {} traces", data_dir, p.traces);
  if (p.traces_estimate > 0) {
    const double share = p.traces == p.traces_estimate
                             ? 1.0
                             : std::min(0.99, static_cast<double>(p.traces) /
                                                  static_cast<double>(p.traces_estimate));
    line += fmt::format(" of ~{} ({:.0f}%)", p.traces_estimate, std::floor(share * 100));
    if (rate > 0 && p.traces < p.traces_estimate) {
      line += fmt::format(
          ", ~{} left", MigrateDuration(static_cast<double>(p.traces_estimate - p.traces) / rate));
    }
  }
  line += fmt::format(", {:.0f} traces/s, {} documents ({}), {} config objects", rate, p.documents,
                      FormatBytes(p.document_bytes), p.config_objects);
  return line;
}

}  // namespace

int RunMigrate(const MigrateConfig& config, std::ostream& out, std::ostream& err) {
  // The engines' informational lines are not this command's.
  spdlog::set_level(spdlog::level::warn);
  auto fail = [&err](const Status& s) {
    err << "roentgen migrate: " << s.message() << "\n";
    return 1;
  };
  if (config.to != "block") {
    return fail(Status::InvalidArgument(fmt::format(
        "--to must be block, not '{}': a data dir migrates from the rocksdb engine to the block "
        "engine only (the way back from block is the backup taken before migrating, or the "
        "RocksDB files the migration kept in DATA_DIR/{}/)",
        config.to, store::kPreMigrationStoreDir)));
  }
  std::error_code ec;
  if (!fs::is_directory(config.data_dir, ec)) {
    return fail(Status::NotFound(fmt::format("there is no data dir {}", config.data_dir)));
  }
  Result<std::optional<StoreEngine>> engine = DetectStoreEngine(config.data_dir);
  if (!engine.ok()) return fail(engine.status());
  if (!engine->has_value()) {
    return fail(Status::InvalidArgument(fmt::format(
        "{} is not a Roentgen data dir (it holds no store: no CURRENT file)", config.data_dir)));
  }
  if (**engine == StoreEngine::kBlock) {
    Result<bool> finished = store::FinishMigrationSwitch(config.data_dir);
    if (!finished.ok()) return fail(finished.status());
    out << fmt::format(
        "{} {}: start the server with --store-engine block\n", config.data_dir,
        *finished ? "was migrated to the block engine by a migration interrupted after its copy "
                    "committed; its switch is now finished"
                  : "already uses the block engine: nothing to migrate");
    return 0;
  }
  // Migrating writes a new store into the data dir: made by another user
  // (root), its files would lock the server out.
  struct stat dir {};
  if (::stat(config.data_dir.c_str(), &dir) == 0 && dir.st_uid != ::geteuid()) {
    const passwd* owner = ::getpwuid(dir.st_uid);
    const std::string name = owner != nullptr ? owner->pw_name : "#" + std::to_string(dir.st_uid);
    return fail(Status::PermissionDenied(fmt::format(
        "{} belongs to {}: run the migration as its owner, so that the new store's files stay "
        "theirs: sudo -u {} roentgen migrate …",
        config.data_dir, name, name)));
  }
  out << fmt::format(
      "migrating {} from the rocksdb engine to the block engine (the server must be stopped). "
      "Take a backup first if you have none: roentgen backup --data-dir {} --to DIR. The RocksDB "
      "files are {}; {}. Disk: {}.\n",
      config.data_dir, config.data_dir,
      config.remove_old_store ? "removed once the switch is done (--remove-old-store)"
                              : fmt::format("kept in {}/{}/ after the switch", config.data_dir,
                                            store::kPreMigrationStoreDir),
      "an interrupted migration leaves them as they were and starts over when run again",
      DescribeDiskSpace(config.data_dir));
  out.flush();

  store::MigrationOptions options;
  options.remove_old_store = config.remove_old_store;
  options.on_progress = [&out, &config](const store::MigrationProgress& p) {
    out << ProgressLine(config.data_dir, p) << "\n";
    out.flush();
  };
  options.on_note = [&out](const std::string& line) {
    out << line << "\n";
    out.flush();
  };
  Result<store::MigrationResult> migrated = store::MigrateRocksDbToBlock(config.data_dir, options);
  if (!migrated.ok()) {
    const Status& s = migrated.status();
    const bool committed = store::MigrationSwitchPending(config.data_dir);
    return fail(Status(
        s.code(),
        committed ? fmt::format("{}; the copy was committed: run roentgen migrate again (or start "
                                "the server with --store-engine block) to finish the switch",
                                s.message())
                  : fmt::format("{}; the RocksDB store is as it was (start the server with "
                                "--store-engine rocksdb, or fix the cause and migrate again)",
                                s.message())));
  }
  const store::MigrationProgress& p = migrated->progress;
  out << fmt::format(
      "migrated {} to the block engine: {} traces, {} documents ({}), {} config objects in {:.1f} "
      "s ({:.0f} traces/s); the store took {} in RocksDB, {} in blocks (before compaction).\n",
      config.data_dir, p.traces, p.documents, FormatBytes(p.document_bytes), p.config_objects,
      p.seconds, p.seconds > 0 ? static_cast<double>(p.traces) / p.seconds : 0.0,
      FormatBytes(migrated->rocksdb_bytes), FormatBytes(migrated->block_bytes));
  if (!migrated->old_store_dir.empty()) {
    out << fmt::format(
        "RocksDB's files are kept in {} ({}): remove it once the server runs as expected on the "
        "block engine (rm -r {}).\n",
        migrated->old_store_dir, FormatBytes(migrated->rocksdb_bytes), migrated->old_store_dir);
  }
  out << fmt::format(
      "start the server with --data-dir {} --store-engine block (or store-engine = \"block\" in "
      "the config file); the spools' records not yet stored are replayed into the block store at "
      "its start.\n",
      config.data_dir);
  return 0;
}

}  // namespace roentgen::cli
