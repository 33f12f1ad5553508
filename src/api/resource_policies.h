// X-Ray resource policies: named IAM policy documents, validated, revisioned
// and persisted in the store's config space (namespace kPolicyNamespace, key
// = the policy name, value = a small JSON object; the last revision id given
// out under kAccountNamespace/"policy_revision").
//
// Rules (X-Ray's, docs/api.md "Resource policies"):
//  - PolicyName: 1–128 characters of [A-Za-z0-9_+=,.@-].
//  - PolicyDocument: at most 5,120 bytes (kSizeLimitExceeded), a JSON IAM
//    policy (kMalformedDocument otherwise): an object with an optional
//    Version ("2012-10-17" or "2008-10-17") and Id and a Statement — one
//    statement or a non-empty list — each with Effect Allow|Deny, exactly one
//    of Principal/NotPrincipal ("*" or {AWS|Service|Federated|CanonicalUser:
//    string or list}), exactly one of Action/NotAction and of
//    Resource/NotResource (a string or a non-empty list of strings; an action
//    is "*" or "service:name"), an optional Sid (string) and Condition
//    ({operator: {key: value or list}}); no other members.
//  - At most kMaxPolicies (5) policies (kCountLimitExceeded for a sixth).
//  - Revisions: every stored version gets a new revision id, a decimal
//    number unique in the account (never reused, also after a delete). Put
//    with no revision id creates or updates; with "0" it only creates
//    (kInvalidRevisionId when the policy exists); with any other id it only
//    updates the policy whose current revision that is (kInvalidRevisionId
//    otherwise). Delete with a revision id deletes only that revision; with
//    none, whatever is there (deleting a policy that does not exist is not an
//    error, as X-Ray documents no error for it).
//
// Roentgen stores and returns policies but does not evaluate them: who may
// call what is decided by the keys file (docs/security.md). Since no policy
// can lock anyone out, BypassPolicyLockoutCheck is accepted and changes
// nothing, and LockoutPreventionException never comes.
//
// Errors: a refusal is InvalidArgument and sets *refusal to X-Ray's reason;
// store errors come as they are (and leave *refusal kNone).
//
// Thread safety: every method may be called from any thread; changes are
// serialized by a mutex (the count and revision checks are atomic with the
// write).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "common/status.h"
#include "store/store.h"

namespace roentgen::api {

inline constexpr std::string_view kPolicyNamespace = "xray.resource_policies";
inline constexpr size_t kMaxPolicies = 5;
inline constexpr size_t kMaxPolicyDocumentBytes = 5120;
inline constexpr size_t kMaxPolicyNameLength = 128;

struct ResourcePolicy {
  std::string name;
  std::string document;  // as the client sent it
  std::string revision_id;
  int64_t last_updated_us = 0;
};

// Why a request was refused, as X-Ray names it (PolicyRefusalName).
enum class PolicyRefusal {
  kNone,
  kInvalidRequest,      // InvalidRequestException: a bad name or field
  kMalformedDocument,   // MalformedPolicyDocumentException
  kSizeLimitExceeded,   // PolicySizeLimitExceededException
  kCountLimitExceeded,  // PolicyCountLimitExceededException
  kInvalidRevisionId,   // InvalidPolicyRevisionIdException
};
std::string_view PolicyRefusalName(PolicyRefusal refusal);

// The document's IAM policy shape; InvalidArgument saying what is wrong.
Status ValidatePolicyDocument(std::string_view document);
Status ValidatePolicyName(std::string_view name);

class ResourcePolicyRegistry {
 public:
  ResourcePolicyRegistry(store::Store& store, const Clock& clock);

  // Creates or updates `name` (see the revision rules above).
  Result<ResourcePolicy> Put(std::string_view name, std::string_view document,
                             std::optional<std::string_view> revision_id, PolicyRefusal* refusal);
  // Every policy, by name.
  Result<std::vector<ResourcePolicy>> List() const;
  Status Delete(std::string_view name, std::optional<std::string_view> revision_id,
                PolicyRefusal* refusal);

 private:
  Result<std::optional<ResourcePolicy>> Load(std::string_view name) const REQUIRES(mu_);
  Result<std::string> NextRevisionId() REQUIRES(mu_);

  store::Store& store_;
  const Clock& clock_;
  mutable Mutex mu_;
};

}  // namespace roentgen::api
