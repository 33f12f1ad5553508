// Tag lists parsed from requests, and the TagService. See tags.h.
#include "api/tags.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "api/json_io.h"

namespace roentgen::api {

Result<TagList> ParseTagList(simdjson::dom::array array, std::string_view path) {
  if (array.size() > kMaxTagsPerRequest) {
    return Status::InvalidArgument(fmt::format("{}: at most {} tags per request, got {}", path,
                                               kMaxTagsPerRequest, array.size()));
  }
  TagList tags;
  std::set<std::string_view> seen;
  size_t i = 0;
  for (simdjson::dom::element e : array) {
    const std::string item = fmt::format("{}[{}]", path, i++);
    simdjson::dom::object tag;
    if (e.get(tag) != simdjson::SUCCESS) {
      return Status::InvalidArgument(fmt::format("{}: must be an object", item));
    }
    const std::string key_path = item + ".Key";
    const std::string value_path = item + ".Value";
    Field<std::string_view> key = GetString(tag, "Key", key_path);
    if (!key.ok()) return key.status();
    if (!key->has_value()) return Status::InvalidArgument(key_path + ": required");
    Field<std::string_view> value = GetString(tag, "Value", value_path);
    if (!value.ok()) return value.status();
    if (!value->has_value()) return Status::InvalidArgument(value_path + ": required");
    RG_RETURN_IF_ERROR(ValidateTagKey(**key, key_path));
    RG_RETURN_IF_ERROR(ValidateTagValue(**value, value_path));
    if (!seen.insert(**key).second) {
      return Status::InvalidArgument(
          fmt::format("{}: the key '{}' appears more than once", key_path, **key));
    }
    tags.emplace_back(std::string(**key), std::string(**value));
  }
  return tags;
}

Result<std::vector<std::string>> ParseTagKeys(simdjson::dom::array array, std::string_view path) {
  if (array.size() > kMaxTagsPerRequest) {
    return Status::InvalidArgument(fmt::format("{}: at most {} keys per request, got {}", path,
                                               kMaxTagsPerRequest, array.size()));
  }
  std::vector<std::string> keys;
  size_t i = 0;
  for (simdjson::dom::element e : array) {
    const std::string item = fmt::format("{}[{}]", path, i++);
    std::string_view key;
    if (e.get(key) != simdjson::SUCCESS) {
      return Status::InvalidArgument(fmt::format("{}: must be a string", item));
    }
    RG_RETURN_IF_ERROR(ValidateTagKey(key, item));
    keys.emplace_back(key);
  }
  return keys;
}

Status CheckNewResourceTags(const TagList& tags, std::string_view path) {
  if (tags.size() > kMaxTagsPerResource) {
    return Status::InvalidArgument(fmt::format("{}: a resource may have at most {} tags, got {}",
                                               path, kMaxTagsPerResource, tags.size()));
  }
  return Status::Ok();
}

void TagService::Register(std::shared_ptr<TaggableResources> kind) {
  kinds_.push_back(std::move(kind));
}

Result<TaggableResources*> TagService::KindOf(std::string_view arn) const {
  for (const auto& kind : kinds_) {
    if (kind->ClaimsArn(arn)) return kind.get();
  }
  return Status::NotFound(
      fmt::format("ResourceARN: no taggable resource has the ARN '{}'", arn.substr(0, 400)));
}

Result<TagList> TagService::List(std::string_view arn) const {
  Result<TaggableResources*> kind = KindOf(arn);
  if (!kind.ok()) return kind.status();
  return (*kind)->Tags(arn);
}

Status TagService::Tag(std::string_view arn, const TagList& tags) {
  Result<TaggableResources*> kind = KindOf(arn);
  if (!kind.ok()) return kind.status();
  return (*kind)->EditTags(arn, [&](TagList current) -> Result<TagList> {
    // Not a structured binding: clang 14 cannot capture one in the lambda.
    for (const auto& added : tags) {
      auto it = std::find_if(current.begin(), current.end(),
                             [&](const auto& tag) { return tag.first == added.first; });
      if (it != current.end()) {
        it->second = added.second;
      } else {
        current.push_back(added);
      }
    }
    if (current.size() > kMaxTagsPerResource) {
      return Status::ResourceExhausted(fmt::format(
          "Tags: a resource may have at most {} tags; this request would leave it with {}",
          kMaxTagsPerResource, current.size()));
    }
    return current;
  });
}

Status TagService::Untag(std::string_view arn, const std::vector<std::string>& keys) {
  Result<TaggableResources*> kind = KindOf(arn);
  if (!kind.ok()) return kind.status();
  return (*kind)->EditTags(arn, [&](TagList current) -> Result<TagList> {
    std::erase_if(current, [&](const auto& tag) {
      return std::find(keys.begin(), keys.end(), tag.first) != keys.end();
    });
    return current;
  });
}

}  // namespace roentgen::api
