// The active clients of each sampling rule, kept in the store's config space
// so that every Roentgen process over one shared store (Store::DerivesRecords)
// divides a rule's ReservoirSize among the clients of all of them
// (TargetAllocator's shared mode; docs/api.md, "Several servers").
//
// Layout: namespace kClientNamespace, key "<rule name>/<client id>" (the
// client id is hexadecimal, so the last '/' splits the key), value the time
// of the client's last recorded report for the rule: 8 bytes, big-endian
// microseconds since the epoch. Each report overwrites its pair; there is no
// read-modify-write, so processes need no compare-and-swap.
//
//  - Record writes a pair only when its stored time (as this process last read
//    or wrote it) is kClientWriteIntervalUs old or more: a client reports
//    every kIntervalSeconds, so a steady client costs one write a report, and
//    a burst of reports one write. The stored time can thus lag a client's
//    last report by up to kClientWriteIntervalUs (5 s): a client that stops
//    reporting drops out after kActiveClientUs from its last *recorded*
//    report, i.e. up to 5 s sooner than on one server.
//  - Active answers from one read of the whole namespace at most
//    kClientCacheUs (1 s) old, with this process's own writes since applied:
//    a client that starts reporting to another process is counted here within
//    kClientCacheUs. Until every process has read it, the quotas of a rule's
//    clients may add up to a little more or less than the ReservoirSize; they
//    add up exactly once the caches agree (clients report every 10 s, the
//    caches are 1 s old at most).
//  - Entries older than kClientDeleteAfterUs, and entries of rules that no
//    longer exist, are deleted by whichever process's read finds them. An old
//    entry is read again just before it is deleted, so a client that came
//    back meanwhile keeps its fresh entry except in the moment between that
//    read and the delete; it is then recorded again at its next report.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "common/mutex.h"
#include "common/status.h"
#include "sampling/target_allocator.h"
#include "store/store.h"

namespace roentgen::sampling {

inline constexpr std::string_view kClientNamespace = "xray.sampling_clients";
inline constexpr int64_t kClientWriteIntervalUs = 5'000'000;
inline constexpr int64_t kClientCacheUs = 1'000'000;
inline constexpr int64_t kClientDeleteAfterUs = 2 * kActiveClientUs;

class SharedClients {
 public:
  // client id → its last recorded report; ordered, as the quotas are.
  using Clients = std::map<std::string, int64_t>;
  using RuleClients = std::map<std::string, Clients, std::less<>>;

  explicit SharedClients(store::Store& store) : store_(store) {}

  // The clients active at `now_us` (last recorded report at most
  // kActiveClientUs before it) of each rule named in `wanted`, over every
  // process. `existing`: every rule that exists now, whose absent rules'
  // entries are deleted; null to delete none. Errors: the store's, and
  // Corruption for an entry that does not decode.
  Result<RuleClients> Active(int64_t now_us, const std::set<std::string, std::less<>>& wanted,
                             const std::set<std::string, std::less<>>* existing) EXCLUDES(mu_);

  // Records that `client_id` reported for `rule_name` at `now_us` (see the
  // write interval above). Returns the time now stored for the pair: `now_us`
  // when written, else the stored time that was recent enough.
  Result<int64_t> Record(std::string_view rule_name, std::string_view client_id, int64_t now_us)
      EXCLUDES(mu_);

 private:
  // Reads the namespace into cache_ when the cache is older than
  // kClientCacheUs; the keys found too old or of deleted rules go to
  // `stale` (deleted by the caller, outside the lock).
  Status Refresh(int64_t now_us, const std::set<std::string, std::less<>>* existing,
                 std::vector<std::string>& stale) REQUIRES(mu_);
  // Deletes `key` unless its stored time is newer than `cutoff_us`.
  Status DeleteIfStale(const std::string& key, int64_t cutoff_us);

  store::Store& store_;
  Mutex mu_;
  RuleClients cache_ GUARDED_BY(mu_);
  std::optional<int64_t> cache_read_us_ GUARDED_BY(mu_);
};

}  // namespace roentgen::sampling
