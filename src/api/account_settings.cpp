// Encryption and segment-destination settings. See account_settings.h.
#include "api/account_settings.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <nlohmann/json.hpp>

namespace roentgen::api {
namespace {

constexpr std::string_view kEncryptionKey = "encryption";
constexpr std::string_view kDestinationKey = "destination";
constexpr size_t kMaxKeyIdLength = 3000;

// The string member `field` of the record stored under `key`, or nullopt when
// nothing is stored there.
Result<std::optional<std::string>> LoadField(store::Store& store, std::string_view key,
                                             std::string_view field) {
  Result<std::string> value = store.GetConfig(kAccountNamespace, key);
  if (!value.ok()) {
    if (value.status().code() == StatusCode::kNotFound) return std::optional<std::string>();
    return value.status();
  }
  simdjson::dom::parser parser;
  simdjson::dom::object o;
  std::string_view text;
  if (parser.parse(*value).get(o) != simdjson::SUCCESS || o[field].get(text) != simdjson::SUCCESS) {
    return Status::Corruption(
        fmt::format("{}/{}: stored record has no {}", kAccountNamespace, key, field));
  }
  return std::optional<std::string>(std::string(text));
}

}  // namespace

AccountSettings::AccountSettings(store::Store& store) : store_(store) {}

Result<EncryptionConfig> AccountSettings::Encryption() const {
  Result<std::optional<std::string>> type = LoadField(store_, kEncryptionKey, "type");
  if (!type.ok()) return type.status();
  EncryptionConfig config;
  if (type->has_value()) config.type = **type;
  return config;
}

Result<EncryptionConfig> AccountSettings::PutEncryption(std::string_view type,
                                                        std::optional<std::string_view> key_id) {
  if (key_id && (key_id->empty() || key_id->size() > kMaxKeyIdLength)) {
    return Status::InvalidArgument(
        fmt::format("KeyId: must be 1 to {} characters long", kMaxKeyIdLength));
  }
  if (type == "KMS") {
    return Status::InvalidArgument(
        "Type: KMS is not supported: Roentgen has no AWS KMS to encrypt with. Use NONE; data at "
        "rest is protected by the data directory's permissions and the disk's own encryption");
  }
  if (type != "NONE") {
    return Status::InvalidArgument(
        fmt::format("Type: must be NONE or KMS, got '{}'", type.substr(0, 100)));
  }
  if (key_id) return Status::InvalidArgument("KeyId: only with Type KMS; omit it with NONE");
  EncryptionConfig config;
  config.type = std::string(type);
  RG_RETURN_IF_ERROR(store_.PutConfig(kAccountNamespace, kEncryptionKey,
                                      nlohmann::json{{"type", config.type}}.dump()));
  return config;
}

Result<SegmentDestination> AccountSettings::Destination() const {
  Result<std::optional<std::string>> destination =
      LoadField(store_, kDestinationKey, "destination");
  if (!destination.ok()) return destination.status();
  SegmentDestination config;
  if (destination->has_value()) config.destination = **destination;
  return config;
}

Result<SegmentDestination> AccountSettings::PutDestination(std::string_view destination) {
  if (destination == "CloudWatchLogs") {
    return Status::InvalidArgument(
        "Destination: CloudWatchLogs is not supported: Roentgen has no CloudWatch Logs; "
        "segments are stored by Roentgen itself (XRay)");
  }
  if (destination != "XRay") {
    return Status::InvalidArgument(fmt::format(
        "Destination: must be XRay or CloudWatchLogs, got '{}'", destination.substr(0, 100)));
  }
  SegmentDestination config;
  config.destination = std::string(destination);
  RG_RETURN_IF_ERROR(store_.PutConfig(kAccountNamespace, kDestinationKey,
                                      nlohmann::json{{"destination", config.destination}}.dump()));
  return config;
}

}  // namespace roentgen::api
