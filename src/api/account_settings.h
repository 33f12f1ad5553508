// The account-wide X-Ray settings Roentgen keeps: the encryption
// configuration (PutEncryptionConfig) and the trace segment destination
// (UpdateTraceSegmentDestination), persisted in the store's config space
// (namespace kAccountNamespace, keys "encryption" and "destination", each a
// small JSON object). An account that never set one has X-Ray's default:
// encryption NONE, destination XRay.
//
// What Roentgen can honour:
//  - Encryption NONE only. X-Ray's KMS type encrypts with an AWS KMS key, and
//    there is no KMS here: KMS is refused (InvalidArgument, saying so) rather
//    than stored and silently not applied. Data at rest is protected by the
//    data directory's permissions (the systemd unit keeps it 0700, owned by
//    the service user; docs/security.md) and by whatever encrypts the disk
//    under it (LUKS, an encrypted volume).
//  - Destination XRay only: segments go to Roentgen's own store. There is no
//    CloudWatch Logs to send them to, so CloudWatchLogs is refused.
//  - A change takes effect at once, so Status is always ACTIVE (X-Ray reports
//    UPDATING / PENDING while it re-encrypts or moves; Roentgen has nothing
//    to wait for).
//
// Thread safety: every method may be called from any thread (each put writes
// one whole record).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "store/store.h"

namespace roentgen::api {

inline constexpr std::string_view kAccountNamespace = "xray.account";

struct EncryptionConfig {
  std::string type = "NONE";          // NONE | KMS
  std::optional<std::string> key_id;  // KMS only, so never set here
  std::string status = "ACTIVE";      // UPDATING | ACTIVE
};

struct SegmentDestination {
  std::string destination = "XRay";  // XRay | CloudWatchLogs
  std::string status = "ACTIVE";     // PENDING | ACTIVE
};

class AccountSettings {
 public:
  explicit AccountSettings(store::Store& store);

  Result<EncryptionConfig> Encryption() const;
  // `type` NONE (with no key) is stored; KMS, another type or a key id is
  // InvalidArgument.
  Result<EncryptionConfig> PutEncryption(std::string_view type,
                                         std::optional<std::string_view> key_id);

  Result<SegmentDestination> Destination() const;
  // XRay is stored; CloudWatchLogs or another value is InvalidArgument.
  Result<SegmentDestination> PutDestination(std::string_view destination);

 private:
  store::Store& store_;
};

}  // namespace roentgen::api
