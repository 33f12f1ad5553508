// The insights detector's leader among the servers of a shared store. See
// leader_lease.h.
#include "insights/leader_lease.h"

#include <fmt/format.h>

#include <array>
#include <optional>

#include "common/coding.h"
#include "common/hex.h"
#include "common/random.h"

namespace roentgen::insights {

std::string NewProcessId() {
  std::array<uint8_t, 8> bytes;
  FillRandom(bytes);
  return ToHex(bytes);
}

Result<bool> LeaderLease::Beat(int64_t now_us) {
  std::string value;
  coding::PutBigEndian64(static_cast<uint64_t>(now_us), value);
  RG_RETURN_IF_ERROR(store_.PutConfig(kLeaseNamespace, process_id_, value));
  Result<std::vector<std::pair<std::string, std::string>>> beats = store_.ListConfig(kLeaseNamespace);
  if (!beats.ok()) return beats.status();
  std::optional<std::string> leader;
  for (const auto& [id, stored] : *beats) {
    coding::Reader in(stored);
    uint64_t at = 0;
    if (!in.BigEndian64(at) || in.remaining() != 0) {
      return Status::Corruption(
          fmt::format("insights lease: the heartbeat of '{}' is not 8 bytes", id));
    }
    const int64_t age = now_us - static_cast<int64_t>(at);
    if (age > kForgetIntervals * interval_us_) {
      Status s = store_.DeleteConfig(kLeaseNamespace, id);
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
      continue;
    }
    if (age <= kLeaseIntervals * interval_us_ && (!leader || id < *leader)) leader = id;
  }
  return leader == process_id_;
}

Status LeaderLease::Resign() {
  Status s = store_.DeleteConfig(kLeaseNamespace, process_id_);
  return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
}

}  // namespace roentgen::insights
