// RocksDbStore's config namespace methods: small named objects (groups,
// sampling rules) under "namespace 0x00 key" in the config column family.
#include <fmt/format.h>

#include "store/rocksdb/rocksdb_store_impl.h"

namespace roentgen::store {
namespace {

Status CheckNamespace(std::string_view ns) {
  if (ns.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("config namespace must not contain a NUL byte");
  }
  return Status::Ok();
}

}  // namespace

Status RocksDbStore::PutConfig(std::string_view ns, std::string_view key, std::string_view value) {
  RG_RETURN_IF_ERROR(CheckNamespace(ns));
  std::lock_guard lock(config_mu_);
  return faults_->Guarded("writing config", [&] {
    return db_->Put(write_options(), cf(rocks::kConfig), keys::ConfigKey(ns, key),
                    rocksdb::Slice(value.data(), value.size()));
  });
}

Result<std::string> RocksDbStore::GetConfig(std::string_view ns, std::string_view key) {
  RG_RETURN_IF_ERROR(CheckNamespace(ns));
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), cf(rocks::kConfig), keys::ConfigKey(ns, key), &value);
  if (s.IsNotFound()) return Status::NotFound(fmt::format("config {}/{} not found", ns, key));
  if (!s.ok()) return faults_->ReadFailed(FromRocks(s, "reading config"));
  return value;
}

Status RocksDbStore::DeleteConfig(std::string_view ns, std::string_view key) {
  RG_RETURN_IF_ERROR(CheckNamespace(ns));
  const std::string k = keys::ConfigKey(ns, key);
  std::lock_guard lock(config_mu_);
  rocksdb::PinnableSlice existing;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(rocks::kConfig), k, &existing);
  if (s.IsNotFound()) return Status::NotFound(fmt::format("config {}/{} not found", ns, key));
  if (!s.ok()) return faults_->ReadFailed(FromRocks(s, "reading config"));
  return faults_->Guarded("deleting config",
                          [&] { return db_->Delete(write_options(), cf(rocks::kConfig), k); });
}

Result<std::vector<std::pair<std::string, std::string>>> RocksDbStore::ListConfig(
    std::string_view ns) {
  RG_RETURN_IF_ERROR(CheckNamespace(ns));
  const std::string prefix = keys::ConfigKey(ns, "");
  const std::string upper = keys::PrefixSuccessor(prefix);  // never empty: ends in 0x00
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf(rocks::kConfig)));
  std::vector<std::pair<std::string, std::string>> entries;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    entries.emplace_back(it->key().ToString().substr(prefix.size()), it->value().ToString());
  }
  if (!it->status().ok()) return faults_->ReadFailed(FromRocks(it->status(), "listing config"));
  return entries;
}

}  // namespace roentgen::store
