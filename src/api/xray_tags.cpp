// X-Ray's tag APIs over a TagService (tags.h):
//   TagResource          POST /TagResource          {ResourceARN, Tags}    → 200 {}
//   UntagResource        POST /UntagResource        {ResourceARN, TagKeys} → 200 {}
//   ListTagsForResource  POST /ListTagsForResource  {ResourceARN, NextToken?} → {Tags}
// Errors: 400 InvalidRequestException for a bad request or tag (the message
// names the field); 404 ResourceNotFoundException for an ARN no resource has
// and 400 TooManyTagsException past 50 tags, both with the ARN in
// "ResourceName" as X-Ray sends it. A resource's tags (at most 50) fit one
// page of ListTagsForResource, so it returns no NextToken and refuses one.
#include <fmt/format.h>

#include <memory>
#include <string>
#include <vector>

#include "api/json_io.h"
#include "api/tags.h"
#include "api/xray_handlers.h"

namespace roentgen::api {
namespace {

using nlohmann::json;

// The request's ResourceARN: required, 1–1011 characters.
Result<std::string> ParseArn(const RequestBody& body) {
  Field<std::string_view> arn = body.String("ResourceARN");
  if (!arn.ok()) return arn.status();
  if (!arn->has_value()) return Status::InvalidArgument("ResourceARN: required");
  if ((*arn)->empty() || (*arn)->size() > kMaxResourceArnLength) {
    return Status::InvalidArgument(
        fmt::format("ResourceARN: must be 1 to {} characters long", kMaxResourceArnLength));
  }
  return std::string(**arn);
}

HttpResponse TagError(const Status& s, const std::string& arn) {
  switch (s.code()) {
    case StatusCode::kNotFound:
      return ErrorWithMembers(
          404, "ResourceNotFoundException",
          fmt::format("ResourceARN: no taggable resource has the ARN '{}'", arn),
          {{"ResourceName", arn}});
    case StatusCode::kResourceExhausted:
      return ErrorWithMembers(400, "TooManyTagsException", s.message(), {{"ResourceName", arn}});
    default:
      return StatusResponse(s);
  }
}

void TagResource(TagService& tags, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<std::string> arn = ParseArn(body);
  if (!arn.ok()) return respond(StatusResponse(arn.status()));
  Field<simdjson::dom::array> array = body.Array("Tags");
  if (!array.ok()) return respond(StatusResponse(array.status()));
  if (!array->has_value()) return respond(InvalidRequest("Tags: required"));
  Result<TagList> list = ParseTagList(**array, "Tags");
  if (!list.ok()) return respond(StatusResponse(list.status()));
  if (Status s = tags.Tag(*arn, *list); !s.ok()) return respond(TagError(s, *arn));
  respond(JsonResponse(json::object()));
}

void UntagResource(TagService& tags, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<std::string> arn = ParseArn(body);
  if (!arn.ok()) return respond(StatusResponse(arn.status()));
  Field<simdjson::dom::array> array = body.Array("TagKeys");
  if (!array.ok()) return respond(StatusResponse(array.status()));
  if (!array->has_value()) return respond(InvalidRequest("TagKeys: required"));
  Result<std::vector<std::string>> keys = ParseTagKeys(**array, "TagKeys");
  if (!keys.ok()) return respond(StatusResponse(keys.status()));
  if (Status s = tags.Untag(*arn, *keys); !s.ok()) return respond(TagError(s, *arn));
  respond(JsonResponse(json::object()));
}

void ListTagsForResource(TagService& tags, const HttpRequest& request, Responder respond) {
  RequestBody body;
  if (Status s = body.Parse(request.body); !s.ok()) return respond(StatusResponse(s));
  Result<std::string> arn = ParseArn(body);
  if (!arn.ok()) return respond(StatusResponse(arn.status()));
  if (Status s = RejectNextToken(body, "returns every tag of a resource in one page"); !s.ok()) {
    return respond(StatusResponse(s));
  }
  Result<TagList> list = tags.List(*arn);
  if (!list.ok()) return respond(TagError(list.status(), *arn));
  json out = json::array();
  for (const auto& [key, value] : *list) out.push_back({{"Key", key}, {"Value", value}});
  respond(JsonResponse({{"Tags", std::move(out)}}));
}

}  // namespace

void RegisterTagApis(Router& router, std::shared_ptr<TagService> tags) {
  using Fn = void (*)(TagService&, const HttpRequest&, Responder);
  const std::pair<const char*, Fn> routes[] = {
      {"/TagResource", &TagResource},
      {"/UntagResource", &UntagResource},
      {"/ListTagsForResource", &ListTagsForResource},
  };
  for (const auto& [path, fn] : routes) {
    // fn = fn: clang 14 cannot capture a structured binding by name.
    router.Add("POST", path, [tags, fn = fn](const HttpRequest& request, Responder respond) {
      fn(*tags, request, std::move(respond));
    });
  }
}

}  // namespace roentgen::api
