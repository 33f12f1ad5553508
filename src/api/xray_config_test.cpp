// The tag APIs (on groups), the encryption configuration, the trace segment
// destination and resource policies through the Router, and their
// registries' rules and persistence.
#include <gtest/gtest.h>

#include <string>

#include "api/account_settings.h"
#include "api/resource_policies.h"
#include "api/tags.h"
#include "api/testing/api_fixture.h"
#include "common/clock.h"
#include "ingest/testing/fake_store.h"

namespace roentgen::api {
namespace {

using nlohmann::json;

class ConfigApiTest : public testing::ApiFixture {
 protected:
  std::string CreateGroup(const std::string& name, json tags = json::array()) {
    HttpResponse r = Post("/CreateGroup", json{{"GroupName", name}, {"Tags", tags}});
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r)["Group"]["GroupARN"];
  }
  json Tags(const std::string& arn) {
    HttpResponse r = Post("/ListTagsForResource", json{{"ResourceARN", arn}});
    EXPECT_EQ(r.status, 200) << r.body;
    return Json(r)["Tags"];
  }
  HttpResponse Tag(const std::string& arn, const json& tags) {
    return Post("/TagResource", json{{"ResourceARN", arn}, {"Tags", tags}});
  }
  static json T(const std::string& key, const std::string& value) {
    return {{"Key", key}, {"Value", value}};
  }
  static void ExpectError(const HttpResponse& r, int status, const json& body) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_EQ(Json(r), body);
  }
};

TEST_F(ConfigApiTest, TagUntagAndListAGroupsTags) {
  const std::string arn = CreateGroup("web", json::array({T("team", "web"), T("tier", "1")}));
  EXPECT_EQ(Tags(arn), json::array({T("team", "web"), T("tier", "1")}));

  // New keys are added, existing ones get the new value; keys are case-sensitive.
  HttpResponse r = Tag(arn, json::array({T("tier", "2"), T("Team", "ops"), T("empty", "")}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(Tags(arn),
            json::array({T("team", "web"), T("tier", "2"), T("Team", "ops"), T("empty", "")}));

  // Keys the group does not have are ignored.
  r = Post("/UntagResource",
           json{{"ResourceARN", arn}, {"TagKeys", json::array({"team", "missing"})}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(Tags(arn), json::array({T("tier", "2"), T("Team", "ops"), T("empty", "")}));

  // Tags are kept with the group: they do not change what GetGroup returns,
  // and leave with it.
  EXPECT_FALSE(Json(Post("/GetGroup", json{{"GroupName", "web"}}))["Group"].contains("Tags"));
  ASSERT_EQ(Post("/DeleteGroup", json{{"GroupName", "web"}}).status, 200);
  ExpectError(Post("/ListTagsForResource", json{{"ResourceARN", arn}}), 404,
              {{"__type", "ResourceNotFoundException"},
               {"message", "ResourceARN: no taggable resource has the ARN '" + arn + "'"},
               {"ResourceName", arn}});
  // A group made again under the name has a new ARN and none of the old tags.
  const std::string again = CreateGroup("web");
  EXPECT_NE(again, arn);
  EXPECT_EQ(Tags(again), json::array());
}

TEST_F(ConfigApiTest, TheDefaultGroupCanBeTagged) {
  const std::string arn = "arn:aws:xray:us-east-1:000000000000:group/Default";
  EXPECT_EQ(Tags(arn), json::array());
  ASSERT_EQ(Tag(arn, json::array({T("env", "prod")})).status, 200);
  EXPECT_EQ(Tags(arn), json::array({T("env", "prod")}));
  // Its insights settings are kept beside the tags.
  ASSERT_EQ(Post("/UpdateGroup", json{{"GroupName", "Default"},
                                      {"InsightsConfiguration", {{"InsightsEnabled", true}}}})
                .status,
            200);
  EXPECT_EQ(Tags(arn), json::array({T("env", "prod")}));
}

TEST_F(ConfigApiTest, SamplingRulesAreTaggable) {
  const json rule = {{"RuleName", "web"},  {"ResourceARN", "*"}, {"Priority", 10},
                     {"FixedRate", 0.5},   {"ReservoirSize", 1}, {"ServiceName", "*"},
                     {"ServiceType", "*"}, {"Host", "*"},        {"HTTPMethod", "*"},
                     {"URLPath", "*"},     {"Version", 1}};
  HttpResponse created =
      Post("/CreateSamplingRule",
           json{{"SamplingRule", rule}, {"Tags", json::array({T("team", "web")})}});
  ASSERT_EQ(created.status, 200) << created.body;
  const std::string arn = Json(created)["SamplingRuleRecord"]["SamplingRule"]["RuleARN"];
  EXPECT_EQ(arn, "arn:aws:xray:us-east-1:000000000000:sampling-rule/web");
  EXPECT_EQ(Tags(arn), json::array({T("team", "web")}));
  ASSERT_EQ(Tag(arn, json::array({T("team", "ops"), T("Équipe", "ünï")})).status, 200);
  ASSERT_EQ(Post("/UntagResource", json{{"ResourceARN", arn}, {"TagKeys", {"team"}}}).status, 200);
  EXPECT_EQ(Tags(arn), json::array({T("Équipe", "ünï")}));
  // An update of the rule keeps its tags.
  ASSERT_EQ(Post("/UpdateSamplingRule",
                 json{{"SamplingRuleUpdate", {{"RuleName", "web"}, {"FixedRate", 0.25}}}})
                .status,
            200);
  EXPECT_EQ(Tags(arn), json::array({T("Équipe", "ünï")}));
  // The Default rule too.
  const std::string default_arn = "arn:aws:xray:us-east-1:000000000000:sampling-rule/Default";
  ASSERT_EQ(Tag(default_arn, json::array({T("env", "prod")})).status, 200);
  EXPECT_EQ(Tags(default_arn), json::array({T("env", "prod")}));
  // The 50-tag limit and the rules hold for rules as for groups.
  json fifty = json::array();
  for (int i = 0; i < 50; ++i) fifty.push_back(T("k" + std::to_string(i), "v"));
  HttpResponse too_many = Tag(arn, fifty);
  EXPECT_EQ(too_many.status, 400) << too_many.body;
  EXPECT_EQ(Json(too_many)["__type"], "TooManyTagsException");
  EXPECT_EQ(Json(too_many)["ResourceName"], arn);
  json rule2 = rule;
  rule2["RuleName"] = "other";
  ExpectInvalid(Post("/CreateSamplingRule",
                     json{{"SamplingRule", rule2}, {"Tags", json::array({T("a#", "")})}}),
                "Tags[0].Key: the character '#' is not allowed; tags may hold letters, digits, "
                "white space and _ . : / = + - @");
  json many = fifty;
  many.push_back(T("k50", ""));
  ExpectInvalid(Post("/CreateSamplingRule", json{{"SamplingRule", rule2}, {"Tags", many}}),
                "Tags: a resource may have at most 50 tags, got 51");
  // A deleted rule has no tags to list.
  ASSERT_EQ(Post("/DeleteSamplingRule", json{{"RuleName", "web"}}).status, 200);
  HttpResponse gone = Post("/ListTagsForResource", json{{"ResourceARN", arn}});
  EXPECT_EQ(gone.status, 404) << gone.body;
  EXPECT_EQ(Json(gone)["ResourceName"], arn);
  EXPECT_EQ(
      Post("/TagResource", json{{"ResourceARN", arn}, {"Tags", json::array({T("a", "b")})}}).status,
      404);
}

TEST_F(ConfigApiTest, UnknownArnsAreResourceNotFound) {
  const std::string arn = CreateGroup("web");
  for (const std::string& unknown :
       {std::string("arn:aws:xray:us-east-1:000000000000:group/web/WRONGID"),
        std::string("arn:aws:xray:us-east-1:000000000000:group/nope/ABC"),
        std::string("arn:aws:xray:us-east-1:000000000000:sampling-rule/nope"),
        std::string("arn:aws:xray:eu-west-1:000000000000:group/web"), std::string("x")}) {
    for (const auto& [path, body] :
         {std::pair<std::string, json>{"/ListTagsForResource", {{"ResourceARN", unknown}}},
          {"/TagResource", {{"ResourceARN", unknown}, {"Tags", json::array({T("a", "b")})}}},
          {"/UntagResource", {{"ResourceARN", unknown}, {"TagKeys", json::array({"a"})}}}}) {
      HttpResponse r = Post(path, body);
      EXPECT_EQ(r.status, 404) << path << " " << unknown << " " << r.body;
      EXPECT_EQ(Json(r)["__type"], "ResourceNotFoundException");
      EXPECT_EQ(Json(r)["ResourceName"], unknown);
      ASSERT_EQ(r.headers.size(), 1u);
      EXPECT_EQ(r.headers[0], (std::pair<std::string, std::string>{"x-amzn-ErrorType",
                                                                   "ResourceNotFoundException"}));
    }
  }
}

TEST_F(ConfigApiTest, AtMostFiftyTagsPerResource) {
  const std::string arn = CreateGroup("web");
  json fifty = json::array();
  for (int i = 0; i < 50; ++i) fifty.push_back(T("k" + std::to_string(i), "v"));
  ASSERT_EQ(Tag(arn, fifty).status, 200);
  // Overwriting keeps the count.
  ASSERT_EQ(Tag(arn, json::array({T("k0", "new")})).status, 200);
  ExpectError(Tag(arn, json::array({T("k50", "v")})), 400,
              {{"__type", "TooManyTagsException"},
               {"message",
                "Tags: a resource may have at most 50 tags; this request would leave it with 51"},
               {"ResourceName", arn}});
  EXPECT_EQ(Tags(arn).size(), 50u);
  EXPECT_EQ(Tags(arn)[0], T("k0", "new"));
  // After removing one there is room for one.
  ASSERT_EQ(Post("/UntagResource", json{{"ResourceARN", arn}, {"TagKeys", {"k1"}}}).status, 200);
  ASSERT_EQ(Tag(arn, json::array({T("k50", "v")})).status, 200);

  // CreateGroup refuses more than 50 (InvalidRequest: X-Ray's model has no
  // TooManyTags for it).
  json many = fifty;
  many.push_back(T("k50", "v"));
  ExpectInvalid(Post("/CreateGroup", json{{"GroupName", "many"}, {"Tags", many}}),
                "Tags: a resource may have at most 50 tags, got 51");
}

TEST_F(ConfigApiTest, TagRulesAreChecked) {
  const std::string arn = CreateGroup("web");
  ExpectInvalid(Tag(arn, json::array({T("aws:owner", "x")})),
                "Tags[0].Key: the aws: prefix is reserved");
  ExpectInvalid(Tag(arn, json::array({T("a", "b"), T("AWS:owner", "x")})),
                "Tags[1].Key: the aws: prefix is reserved");
  ExpectInvalid(Post("/UntagResource", json{{"ResourceARN", arn}, {"TagKeys", {"Aws:x"}}}),
                "TagKeys[0]: the aws: prefix is reserved");
  ExpectInvalid(Tag(arn, json::array({T("", "x")})),
                "Tags[0].Key: must be 1 to 128 characters long");
  ExpectInvalid(Tag(arn, json::array({T(std::string(129, 'k'), "x")})),
                "Tags[0].Key: must be 1 to 128 characters long");
  ExpectInvalid(Tag(arn, json::array({T("k", std::string(257, 'v'))})),
                "Tags[0].Value: at most 256 characters long");
  ExpectInvalid(Tag(arn, json::array({T("a#b", "x")})),
                "Tags[0].Key: the character '#' is not allowed; tags may hold letters, digits, "
                "white space and _ . : / = + - @");
  ExpectInvalid(Tag(arn, json::array({T("k", "tab\there")})),
                "Tags[0].Value: the character '\t' is not allowed; tags may hold letters, digits, "
                "white space and _ . : / = + - @");
  ExpectInvalid(Tag(arn, json::array({T("k", "smile \xF0\x9F\x98\x80")})),
                "Tags[0].Value: the character '\xF0\x9F\x98\x80' is not allowed; tags may hold "
                "letters, digits, white space and _ . : / = + - @");
  ExpectInvalid(Tag(arn, json::array({T("k", "1"), T("k", "2")})),
                "Tags[1].Key: the key 'k' appears more than once");
  ExpectInvalid(Tag(arn, json::array({{{"Key", "k"}}})), "Tags[0].Value: required");
  ExpectInvalid(Tag(arn, json::array({"k=v"})), "Tags[0]: must be an object");
  ExpectInvalid(Post("/TagResource", json{{"ResourceARN", arn}}), "Tags: required");
  ExpectInvalid(Post("/TagResource", json{{"Tags", json::array()}}), "ResourceARN: required");
  ExpectInvalid(Post("/UntagResource", json{{"ResourceARN", arn}}), "TagKeys: required");
  ExpectInvalid(Post("/ListTagsForResource", json{{"ResourceARN", std::string(1012, 'a')}}),
                "ResourceARN: must be 1 to 1011 characters long");
  ExpectInvalid(Post("/ListTagsForResource", json{{"ResourceARN", arn}, {"NextToken", "x"}}),
                "NextToken: this server returns every tag of a resource in one page");
  json too_many = json::array();
  for (int i = 0; i < 201; ++i) too_many.push_back("k");
  ExpectInvalid(Post("/UntagResource", json{{"ResourceARN", arn}, {"TagKeys", too_many}}),
                "TagKeys: at most 200 keys per request, got 201");
  EXPECT_EQ(Tags(arn), json::array());

  // Every allowed character, Unicode letters and digits, 128/256 characters
  // counted as characters, not bytes.
  const std::string unicode_key = "Équipe 日本 ٣ " + std::string(116, 'x');  // 128 characters
  HttpResponse allowed =
      Tag(arn, json::array({T("a-z A-Z 0-9 _.:/=+-@", "ok"), T(unicode_key, "ünïcødé"),
                            T("v", std::string(256, 'v')), T("awsx:not-reserved", "")}));
  ASSERT_EQ(allowed.status, 200) << allowed.body;
  ExpectInvalid(Tag(arn, json::array({T(unicode_key + "x", "")})),
                "Tags[0].Key: must be 1 to 128 characters long");
  EXPECT_EQ(Tags(arn).size(), 4u);
}

TEST(TagRulesTest, KeysAndValues) {
  EXPECT_TRUE(ValidateTagKey("a", "K").ok());
  EXPECT_TRUE(ValidateTagKey("Ωμέγα", "K").ok());
  EXPECT_TRUE(ValidateTagValue("", "V").ok());
  EXPECT_FALSE(ValidateTagKey("", "K").ok());
  EXPECT_FALSE(ValidateTagKey("aws:", "K").ok());
  EXPECT_TRUE(ValidateTagKey("aws", "K").ok());
  EXPECT_FALSE(ValidateTagKey("a!", "K").ok());
  EXPECT_FALSE(ValidateTagKey("a\x01", "K").ok());
  EXPECT_EQ(ValidateTagKey("\xC3\x28", "K").message(), "K: is not valid UTF-8");
  EXPECT_EQ(ValidateTagKey("\xC0\xAF", "K").message(), "K: is not valid UTF-8");  // overlong '/'
  EXPECT_TRUE(ValidateTagValue(std::string(128, 'x') + std::string(128, 'y'), "V").ok());
  // 256 two-byte characters are 256 characters.
  std::string two_byte;
  for (int i = 0; i < 256; ++i) two_byte += "é";
  EXPECT_TRUE(ValidateTagValue(two_byte, "V").ok());
  EXPECT_FALSE(ValidateTagValue(two_byte + "é", "V").ok());
}

TEST_F(ConfigApiTest, EncryptionConfigIsNoneAndKmsIsRefused) {
  const json none = {{"EncryptionConfig", {{"Status", "ACTIVE"}, {"Type", "NONE"}}}};
  EXPECT_EQ(Json(Post("/EncryptionConfig", json::object())), none);
  EXPECT_EQ(store_.GetConfig(kAccountNamespace, "encryption").status().code(),
            StatusCode::kNotFound);
  HttpResponse put = Post("/PutEncryptionConfig", json{{"Type", "NONE"}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Json(put), none);
  // Persisted.
  Result<std::string> stored = store_.GetConfig(kAccountNamespace, "encryption");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(json::parse(*stored), (json{{"type", "NONE"}}));
  EXPECT_EQ(Json(Post("/EncryptionConfig", json::object())), none);

  ExpectInvalid(Post("/PutEncryptionConfig", json{{"Type", "KMS"}, {"KeyId", "alias/aws/xray"}}),
                "Type: KMS is not supported: Roentgen has no AWS KMS to encrypt with. Use NONE; "
                "data at rest is protected by the data directory's permissions and the disk's "
                "own encryption");
  ExpectInvalid(
      Post("/PutEncryptionConfig", json{{"Type", "KMS"}}),
      Json(Post("/PutEncryptionConfig", json{{"Type", "KMS"}, {"KeyId", "k"}}))["message"]);
  ExpectInvalid(Post("/PutEncryptionConfig", json::object()), "Type: required (NONE or KMS)");
  ExpectInvalid(Post("/PutEncryptionConfig", json{{"Type", "none"}}),
                "Type: must be NONE or KMS, got 'none'");
  ExpectInvalid(Post("/PutEncryptionConfig", json{{"Type", "NONE"}, {"KeyId", "k"}}),
                "KeyId: only with Type KMS; omit it with NONE");
  ExpectInvalid(
      Post("/PutEncryptionConfig", json{{"Type", "KMS"}, {"KeyId", std::string(3001, 'k')}}),
      "KeyId: must be 1 to 3000 characters long");
  EXPECT_EQ(Json(Post("/EncryptionConfig", json::object())), none);
}

TEST_F(ConfigApiTest, TraceSegmentDestinationIsXRay) {
  const json xray = {{"Destination", "XRay"}, {"Status", "ACTIVE"}};
  EXPECT_EQ(Json(Post("/GetTraceSegmentDestination", json::object())), xray);
  HttpResponse r = Post("/UpdateTraceSegmentDestination", json{{"Destination", "XRay"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r), xray);
  Result<std::string> stored = store_.GetConfig(kAccountNamespace, "destination");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(json::parse(*stored), (json{{"destination", "XRay"}}));
  // No Destination: nothing changes.
  EXPECT_EQ(Json(Post("/UpdateTraceSegmentDestination", json::object())), xray);
  ExpectInvalid(Post("/UpdateTraceSegmentDestination", json{{"Destination", "CloudWatchLogs"}}),
                "Destination: CloudWatchLogs is not supported: Roentgen has no CloudWatch Logs; "
                "segments are stored by Roentgen itself (XRay)");
  ExpectInvalid(Post("/UpdateTraceSegmentDestination", json{{"Destination", "S3"}}),
                "Destination: must be XRay or CloudWatchLogs, got 'S3'");
  ExpectInvalid(Post("/UpdateTraceSegmentDestination", json{{"Destination", 1}}),
                "Destination: must be a string, got a number");
  EXPECT_EQ(Json(Post("/GetTraceSegmentDestination", json::object())), xray);
}

const char* const kPolicy = R"({
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "SNS-Access",
    "Effect": "Allow",
    "Principal": {"Service": "sns.amazonaws.com"},
    "Action": "xray:PutTraceSegments",
    "Resource": "*",
    "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"},
                  "ArnLike": {"aws:SourceArn": ["arn:aws:sns:us-east-1:123456789012:topic"]}}
  }]
})";

TEST_F(ConfigApiTest, ResourcePoliciesAreRevisioned) {
  HttpResponse r = Post(
      "/PutResourcePolicy",
      json{{"PolicyName", "sns"}, {"PolicyDocument", kPolicy}, {"BypassPolicyLockoutCheck", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  const json first = Json(r)["ResourcePolicy"];
  EXPECT_EQ(first["PolicyName"], "sns");
  EXPECT_EQ(first["PolicyDocument"], kPolicy);
  EXPECT_EQ(first["PolicyRevisionId"], "1");
  EXPECT_GT(first["LastUpdatedTime"].get<double>(), 1.7e9);
  EXPECT_EQ(Json(Post("/ListResourcePolicies", json::object())),
            (json{{"ResourcePolicies", {first}}}));

  // "0" creates only.
  ExpectError(
      Post("/PutResourcePolicy",
           json{{"PolicyName", "sns"}, {"PolicyDocument", kPolicy}, {"PolicyRevisionId", "0"}}),
      400,
      {{"__type", "InvalidPolicyRevisionIdException"},
       {"message", "PolicyRevisionId: 0 creates a policy, and 'sns' exists (revision 1)"}});
  // A stale revision is refused; the current one updates.
  r = Post("/PutResourcePolicy",
           json{{"PolicyName", "sns"}, {"PolicyDocument", kPolicy}, {"PolicyRevisionId", "1"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Json(r)["ResourcePolicy"]["PolicyRevisionId"], "2");
  ExpectError(
      Post("/PutResourcePolicy",
           json{{"PolicyName", "sns"}, {"PolicyDocument", kPolicy}, {"PolicyRevisionId", "1"}}),
      400,
      {{"__type", "InvalidPolicyRevisionIdException"},
       {"message", "PolicyRevisionId: '1' is not the current revision of 'sns' (2)"}});
  // No revision: update.
  r = Post("/PutResourcePolicy", json{{"PolicyName", "sns"}, {"PolicyDocument", kPolicy}});
  EXPECT_EQ(Json(r)["ResourcePolicy"]["PolicyRevisionId"], "3");
  // "0" on a new name creates; a revision on an unknown name is refused.
  r = Post("/PutResourcePolicy",
           json{{"PolicyName", "a.b@c"}, {"PolicyDocument", kPolicy}, {"PolicyRevisionId", "0"}});
  EXPECT_EQ(Json(r)["ResourcePolicy"]["PolicyRevisionId"], "4");
  ExpectError(
      Post("/PutResourcePolicy",
           json{{"PolicyName", "new"}, {"PolicyDocument", kPolicy}, {"PolicyRevisionId", "4"}}),
      400,
      {{"__type", "InvalidPolicyRevisionIdException"},
       {"message", "PolicyRevisionId: there is no policy 'new' to update"}});

  // Listed by name.
  const json listed = Json(Post("/ListResourcePolicies", json::object()))["ResourcePolicies"];
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0]["PolicyName"], "a.b@c");
  EXPECT_EQ(listed[1]["PolicyName"], "sns");

  // Delete: a stale revision is refused, the current one or none deletes;
  // deleting what is not there is not an error, unless a revision is named.
  ExpectError(Post("/DeleteResourcePolicy", json{{"PolicyName", "sns"}, {"PolicyRevisionId", "2"}}),
              400,
              {{"__type", "InvalidPolicyRevisionIdException"},
               {"message", "PolicyRevisionId: '2' is not the current revision of 'sns' (3)"}});
  r = Post("/DeleteResourcePolicy", json{{"PolicyName", "sns"}, {"PolicyRevisionId", "3"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{}");
  EXPECT_EQ(Post("/DeleteResourcePolicy", json{{"PolicyName", "sns"}}).status, 200);
  ExpectError(Post("/DeleteResourcePolicy", json{{"PolicyName", "sns"}, {"PolicyRevisionId", "3"}}),
              400,
              {{"__type", "InvalidPolicyRevisionIdException"},
               {"message", "PolicyRevisionId: there is no policy 'sns'"}});
  ASSERT_EQ(Post("/DeleteResourcePolicy", json{{"PolicyName", "a.b@c"}}).status, 200);
  EXPECT_EQ(Json(Post("/ListResourcePolicies", json::object())),
            (json{{"ResourcePolicies", json::array()}}));
  // Revision ids are never reused, also after a delete.
  r = Post("/PutResourcePolicy", json{{"PolicyName", "sns"}, {"PolicyDocument", kPolicy}});
  EXPECT_EQ(Json(r)["ResourcePolicy"]["PolicyRevisionId"], "5");
}

TEST_F(ConfigApiTest, ResourcePolicyLimits) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Post("/PutResourcePolicy",
                   json{{"PolicyName", "p" + std::to_string(i)}, {"PolicyDocument", kPolicy}})
                  .status,
              200);
  }
  ExpectError(
      Post("/PutResourcePolicy", json{{"PolicyName", "p5"}, {"PolicyDocument", kPolicy}}), 400,
      {{"__type", "PolicyCountLimitExceededException"},
       {"message",
        "an account may have at most 5 resource policies; delete one before creating 'p5'"}});
  // Updating one of the five is fine.
  EXPECT_EQ(
      Post("/PutResourcePolicy", json{{"PolicyName", "p0"}, {"PolicyDocument", kPolicy}}).status,
      200);

  json big = json::parse(kPolicy);
  big["Statement"][0]["Sid"] = std::string(5200, 's');
  ExpectError(
      Post("/PutResourcePolicy", json{{"PolicyName", "p0"}, {"PolicyDocument", big.dump()}}), 400,
      {{"__type", "PolicySizeLimitExceededException"},
       {"message", "PolicyDocument: " + std::to_string(big.dump().size()) +
                       " bytes, over the 5120-byte limit"}});
  ExpectInvalid(
      Post("/PutResourcePolicy", json{{"PolicyName", "a b"}, {"PolicyDocument", kPolicy}}),
      "PolicyName: may contain only letters, digits and _ + = , . @ -");
  ExpectInvalid(Post("/PutResourcePolicy",
                     json{{"PolicyName", std::string(129, 'p')}, {"PolicyDocument", kPolicy}}),
                "PolicyName: must be 1 to 128 characters long");
  ExpectInvalid(Post("/PutResourcePolicy", json{{"PolicyDocument", kPolicy}}),
                "PolicyName: required");
  ExpectInvalid(Post("/PutResourcePolicy", json{{"PolicyName", "p0"}}), "PolicyDocument: required");
  ExpectInvalid(Post("/PutResourcePolicy", json{{"PolicyName", "p0"},
                                                {"PolicyDocument", kPolicy},
                                                {"BypassPolicyLockoutCheck", "yes"}}),
                "BypassPolicyLockoutCheck: must be a boolean, got a string");
  ExpectInvalid(Post("/DeleteResourcePolicy", json::object()), "PolicyName: required");
  ExpectInvalid(Post("/ListResourcePolicies", json{{"NextToken", "x"}}),
                "NextToken: this server returns every resource policy in one page");
}

TEST_F(ConfigApiTest, MalformedPolicyDocuments) {
  const auto malformed = [&](const std::string& document, const std::string& message) {
    ExpectError(Post("/PutResourcePolicy", json{{"PolicyName", "p"}, {"PolicyDocument", document}}),
                400, {{"__type", "MalformedPolicyDocumentException"}, {"message", message}});
  };
  const std::string allow = R"("Effect":"Allow","Principal":"*","Action":"xray:*","Resource":"*")";
  malformed("{",
            "PolicyDocument: not valid JSON: The JSON document has an improper structure: "
            "missing or superfluous commas, braces, missing keys, etc.");
  malformed("[]", "PolicyDocument: must be a JSON object");
  malformed("{}", "PolicyDocument: Statement is required");
  malformed(R"({"Version":"2020-01-01","Statement":{)" + allow + "}}",
            "PolicyDocument: Version: must be \"2012-10-17\" or \"2008-10-17\"");
  malformed(R"({"Statement":[],"Version":"2012-10-17"})",
            "PolicyDocument: Statement: must not be empty");
  malformed(R"({"Statement":{)" + allow + R"(},"Extra":1})",
            "PolicyDocument: unknown member 'Extra' (Version, Id, Statement)");
  malformed(R"({"Statement":[1]})", "PolicyDocument: Statement[0]: must be an object");
  malformed(R"({"Statement":{"Principal":"*","Action":"xray:*","Resource":"*"}})",
            "PolicyDocument: Statement: Effect is required");
  malformed(R"({"Statement":{"Effect":"Maybe","Principal":"*","Action":"xray:*","Resource":"*"}})",
            "PolicyDocument: Statement.Effect: must be \"Allow\" or \"Deny\"");
  malformed(R"({"Statement":{"Effect":"Allow","Action":"xray:*","Resource":"*"}})",
            "PolicyDocument: Statement: exactly one of Principal or NotPrincipal is required");
  malformed(R"({"Statement":{"Effect":"Allow","Principal":"*","Resource":"*"}})",
            "PolicyDocument: Statement: exactly one of Action or NotAction is required");
  malformed(
      R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"xray:*","NotAction":"s3:*","Resource":"*"}})",
      "PolicyDocument: Statement: exactly one of Action or NotAction is required");
  malformed(R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"xray:*"}})",
            "PolicyDocument: Statement: exactly one of Resource or NotResource is required");
  malformed(
      R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"PutTraceSegments","Resource":"*"}})",
      "PolicyDocument: Statement.Action: 'PutTraceSegments' is not an action (\"*\" or "
      "\"service:name\")");
  malformed(R"({"Statement":{"Effect":"Allow","Principal":"*","Action":[],"Resource":"*"}})",
            "PolicyDocument: Statement.Action: must be an action (\"*\" or \"service:name\") or a "
            "non-empty list of them");
  malformed(
      R"({"Statement":{"Effect":"Allow","Principal":{"User":"x"},"Action":"xray:*","Resource":"*"}})",
      "PolicyDocument: Statement.Principal: unknown principal type 'User' (AWS, Service, "
      "Federated or CanonicalUser)");
  malformed(R"({"Statement":{"Effect":"Allow","Principal":"me","Action":"xray:*","Resource":"*"}})",
            "PolicyDocument: Statement.Principal: must be \"*\" or an object such as {\"AWS\": …}");
  malformed(
      R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"xray:*","Resource":"*","Condition":{"StringEquals":"x"}}})",
      "PolicyDocument: Statement.Condition.StringEquals: must be an object of condition "
      "keys and values");
  malformed(
      R"({"Statement":{"Effect":"Allow","Principal":"*","Action":"xray:*","Resource":"*","Condition":{"StringEquals":{"k":{}}}}})",
      "PolicyDocument: Statement.Condition.StringEquals.k: must be a string, number or "
      "boolean, or a non-empty list of them");
  malformed(R"({"Statement":{)" + allow + R"(,"Oops":1}})",
            "PolicyDocument: Statement: unknown member 'Oops'");
  // A single statement object, NotPrincipal, lists and Deny are fine.
  HttpResponse r = Post(
      "/PutResourcePolicy",
      json{
          {"PolicyName", "p"},
          {"PolicyDocument",
           R"({"Id":"x","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":["arn:aws:iam::1:root","2"]},)"
           R"("NotAction":["xray:Get*","xray:BatchGetTraces"],"NotResource":["arn:aws:xray:*"]}})"}});
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST(ResourcePolicyRegistryTest, LastUpdatedTimeComesFromTheClock) {
  ingest::testing::FakeStore store;
  FakeClock clock(1'700'000'000'000'000);
  ResourcePolicyRegistry registry(store, clock);
  PolicyRefusal refusal = PolicyRefusal::kNone;
  Result<ResourcePolicy> p = registry.Put("p", kPolicy, std::nullopt, &refusal);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->last_updated_us, 1'700'000'000'000'000);
  clock.Advance(5'000'000);
  p = registry.Put("p", kPolicy, std::nullopt, &refusal);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->last_updated_us, 1'700'000'005'000'000);
  // A second registry over the same store (a restart) sees the policy and
  // continues its revisions.
  ResourcePolicyRegistry reopened(store, clock);
  Result<std::vector<ResourcePolicy>> all = reopened.List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].revision_id, "2");
  EXPECT_EQ((*all)[0].last_updated_us, 1'700'000'005'000'000);
  p = reopened.Put("q", kPolicy, std::nullopt, &refusal);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->revision_id, "3");
  EXPECT_EQ(refusal, PolicyRefusal::kNone);
  EXPECT_FALSE(reopened.Put("q", "{", std::nullopt, &refusal).ok());
  EXPECT_EQ(refusal, PolicyRefusal::kMalformedDocument);
}

}  // namespace
}  // namespace roentgen::api
