// Which one of the Roentgen processes over a shared store
// (Store::DerivesRecords) runs the insights detector: the leader, chosen from
// heartbeats kept in the store's config space, without compare-and-swap.
//
// Layout: namespace kLeaseNamespace, key = the process id, value = the time
// of its last heartbeat (8 bytes, big-endian microseconds since the epoch).
// Each process writes only its own key.
//
// Beat(now), called at every detector interval: writes this process's
// heartbeat, reads every heartbeat, and answers whether this process leads:
// it leads when its id is the smallest among the heartbeats at most
// kLeaseIntervals intervals old (its own included). Heartbeats older than
// kForgetIntervals intervals are deleted. Resign() deletes this process's
// heartbeat, so that a process that stops hands over at the others' next beat.
//
// Limits (docs/operations.md, "Several servers over one store"):
//  - Failover: when the leader stops without resigning, the next leader takes
//    over at its first beat after the leader's last heartbeat turned
//    kLeaseIntervals intervals old: up to four intervals without detection.
//    The detector catches up (its window is recounted at each evaluation);
//    only the close countdown advances more slowly.
//  - Overlap: the leader is decided from each process's own read, so while
//    membership changes (a process with a smaller id starts, or a slow leader
//    comes back) two processes can both see themselves as leader for up to
//    one interval. Both then evaluate the same data; an insight's id follows
//    from its group, root cause and start (InsightIdFor) and a write replaces
//    the whole insight, so the overlap leaves no duplicate insight — but a
//    webhook may be sent twice.
//  - Clocks: heartbeat ages are compared with each process's own clock, so
//    the servers' clocks must agree to well within an interval.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/store.h"

namespace roentgen::insights {

inline constexpr std::string_view kLeaseNamespace = "xray.insights_lease";
inline constexpr int64_t kLeaseIntervals = 3;
inline constexpr int64_t kForgetIntervals = 100;

class LeaderLease {
 public:
  // `process_id`: this process's, unique among the store's servers (not
  // empty). `interval_us`: the detector's interval (> 0). `store` must
  // outlive this.
  LeaderLease(store::Store& store, std::string process_id, int64_t interval_us)
      : store_(store), process_id_(std::move(process_id)), interval_us_(interval_us) {}

  // Errors: the store's (the caller does not evaluate then), Corruption for a
  // heartbeat that does not decode.
  Result<bool> Beat(int64_t now_us);
  Status Resign();

  const std::string& process_id() const { return process_id_; }

 private:
  store::Store& store_;
  const std::string process_id_;
  const int64_t interval_us_;
};

// A random process id (16 hexadecimal digits).
std::string NewProcessId();

}  // namespace roentgen::insights
