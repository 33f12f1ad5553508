#include "xray/segment_parser.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string>

#include "xray/parse_entity.h"
#include "xray/parse_reader.h"

namespace roentgen::xray {
namespace {

constexpr std::string_view kTrace = "1-581cf771-a006649127e371903a2de979";

// A segment using every field the model keeps.
constexpr std::string_view kFullSegment = R"({
  "name": "web app",
  "id": "70de5b6f19ff9a0b",
  "trace_id": "1-581cf771-a006649127e371903a2de979",
  "parent_id": "53995c3f42cd8ad8",
  "start_time": 1478293361.271,
  "end_time": 1478293361.449123,
  "origin": "AWS::EC2::Instance",
  "resource_arn": "arn:aws:ec2:us-west-2:123456789012:instance/i-1",
  "user": "alice",
  "error": true, "throttle": true, "fault": false,
  "http": {"request": {"method": "GET", "url": "https://example.com/x", "user_agent": "ua/1",
                       "client_ip": "10.0.0.1", "x_forwarded_for": true, "traced": true},
           "response": {"status": 429, "content_length": 12345678901}},
  "aws": {"account_id": "123456789012", "ec2": {"instance_id": "i-1", "availability_zone": "us-west-2a"},
          "lambda": {"function_name": "fn"}, "xray": {"sdk": "X-Ray for Go"}},
  "service": {"version": "1.2.3", "runtime": "go"},
  "annotations": {"s": "text", "n": 2.5, "i": 7, "b": false},
  "metadata": {"default": {"k": [1, "two", null]}},
  "cause": {"working_directory": "/app", "paths": ["/app/main.go"],
            "exceptions": [{"id": "0123456789abcdef", "message": "boom", "type": "Panic",
                            "remote": true, "truncated": 2, "skipped": 1, "cause": "fedcba9876543210",
                            "stack": [{"path": "main.go", "line": 10, "label": "main"}]}]},
  "subsegments": [
    {"name": "DynamoDB", "id": "0000000000000001", "start_time": 1478293361.3, "end_time": 1478293361.4,
     "namespace": "aws", "traced": false, "precursor_ids": ["0000000000000002", "00000000000000AB"],
     "aws": {"operation": "PutItem", "region": "us-west-2", "request_id": "R1", "table_name": "t",
             "queue_url": "https://q", "retries": 3, "function_name": "f2"},
     "sql": {"url": "u", "connection_string": "c", "sanitized_query": "q", "database_type": "PostgreSQL",
             "database_version": "15", "driver_version": "d", "user": "dbuser", "preparation": "call"},
     "subsegments": [{"name": "inner", "id": "0000000000000003", "start_time": 1478293361.31,
                      "in_progress": true}]}
  ]
})";

class SegmentParserTest : public ::testing::Test {
 protected:
  std::vector<SegmentDocument> ParseOk(std::string_view json) {
    std::vector<SegmentDocument> out;
    ParseFailure failure;
    EXPECT_TRUE(parser_.Parse(json, out, failure))
        << ParseErrorCode(failure.error) << ": " << failure.message;
    return out;
  }
  ParseFailure ParseBad(std::string_view json) {
    std::vector<SegmentDocument> out;
    ParseFailure failure;
    EXPECT_FALSE(parser_.Parse(json, out, failure)) << json;
    EXPECT_TRUE(out.empty());
    return failure;
  }
  static std::string Doc(std::string_view extra) {
    return std::string(
               R"({"name":"x","id":"70de5b6f19ff9a0b","trace_id":"1-581cf771-a006649127e371903a2de979","start_time":1700000000,"end_time":1700000001)") +
           std::string(extra) + "}";
  }

  SegmentParser parser_;
};

TEST_F(SegmentParserTest, BaseFields) {
  auto docs = ParseOk(kFullSegment);
  ASSERT_EQ(docs.size(), 1u);
  EXPECT_EQ(docs[0].raw, kFullSegment);
  const Entity& e = docs[0].entity;
  EXPECT_EQ(e.name, "web app");
  EXPECT_EQ(e.id.value, 0x70de5b6f19ff9a0bu);
  ASSERT_TRUE(e.trace_id);
  EXPECT_EQ(e.trace_id->ToString(), kTrace);
  ASSERT_TRUE(e.parent_id);
  EXPECT_EQ(e.parent_id->value, 0x53995c3f42cd8ad8u);
  EXPECT_EQ(e.start_time_us, 1478293361271000);
  EXPECT_EQ(e.end_time_us, std::optional<int64_t>(1478293361449123));
  EXPECT_FALSE(e.in_progress);
  EXPECT_EQ(e.type, "");
  EXPECT_FALSE(e.is_independent_subsegment());
  EXPECT_EQ(e.origin, "AWS::EC2::Instance");
  EXPECT_EQ(e.resource_arn, "arn:aws:ec2:us-west-2:123456789012:instance/i-1");
  EXPECT_EQ(e.user, "alice");
  EXPECT_TRUE(e.error);
  EXPECT_TRUE(e.throttle);
  EXPECT_FALSE(e.fault);
  EXPECT_FALSE(e.traced.has_value());
  EXPECT_FALSE(e.inferred);
}

TEST_F(SegmentParserTest, HttpAwsSqlService) {
  auto docs = ParseOk(kFullSegment);
  ASSERT_EQ(docs.size(), 1u);
  const Entity& e = docs[0].entity;
  ASSERT_TRUE(e.http && e.http->request && e.http->response);
  EXPECT_EQ(e.http->request->method, "GET");
  EXPECT_EQ(e.http->request->url, "https://example.com/x");
  EXPECT_EQ(e.http->request->user_agent, "ua/1");
  EXPECT_EQ(e.http->request->client_ip, "10.0.0.1");
  EXPECT_TRUE(e.http->request->x_forwarded_for);
  EXPECT_TRUE(e.http->request->traced);
  EXPECT_EQ(e.http->response->status, std::optional<int>(429));
  EXPECT_EQ(e.http->response->content_length, std::optional<int64_t>(12345678901));

  ASSERT_TRUE(e.aws);
  EXPECT_EQ(e.aws->account_id, "123456789012");
  EXPECT_EQ(e.aws->ec2_instance_id, "i-1");
  EXPECT_EQ(e.aws->availability_zone, "us-west-2a");
  EXPECT_EQ(e.aws->function_name, "fn");
  EXPECT_EQ(
      e.aws->raw_json,
      R"({"account_id": "123456789012", "ec2": {"instance_id": "i-1", "availability_zone": "us-west-2a"},
          "lambda": {"function_name": "fn"}, "xray": {"sdk": "X-Ray for Go"}})");
  EXPECT_EQ(e.service_version, "1.2.3");
  EXPECT_EQ(e.service_json, R"({"version": "1.2.3", "runtime": "go"})");
  EXPECT_FALSE(e.sql);

  ASSERT_EQ(e.subsegments.size(), 1u);
  const Entity& s = e.subsegments[0];
  ASSERT_TRUE(s.aws);
  EXPECT_EQ(s.aws->operation, "PutItem");
  EXPECT_EQ(s.aws->region, "us-west-2");
  EXPECT_EQ(s.aws->request_id, "R1");
  EXPECT_EQ(s.aws->table_name, "t");
  EXPECT_EQ(s.aws->queue_url, "https://q");
  EXPECT_EQ(s.aws->retries, std::optional<int>(3));
  EXPECT_EQ(s.aws->function_name, "f2");
  EXPECT_EQ(s.aws->account_id, "");
  ASSERT_TRUE(s.sql);
  EXPECT_EQ(s.sql->url, "u");
  EXPECT_EQ(s.sql->connection_string, "c");
  EXPECT_EQ(s.sql->sanitized_query, "q");
  EXPECT_EQ(s.sql->database_type, "PostgreSQL");
  EXPECT_EQ(s.sql->database_version, "15");
  EXPECT_EQ(s.sql->driver_version, "d");
  EXPECT_EQ(s.sql->user, "dbuser");
  EXPECT_EQ(s.sql->preparation, "call");
  EXPECT_FALSE(s.http);
}

TEST_F(SegmentParserTest, AnnotationsMetadataCause) {
  auto docs = ParseOk(kFullSegment);
  ASSERT_EQ(docs.size(), 1u);
  const Entity& e = docs[0].entity;
  ASSERT_EQ(e.annotations.size(), 4u);
  EXPECT_EQ(e.annotations[0].key, "s");
  EXPECT_EQ(std::get<std::string>(e.annotations[0].value), "text");
  EXPECT_EQ(e.annotations[1].key, "n");
  EXPECT_EQ(std::get<double>(e.annotations[1].value), 2.5);
  EXPECT_EQ(e.annotations[2].key, "i");
  EXPECT_EQ(std::get<double>(e.annotations[2].value), 7.0);
  EXPECT_EQ(e.annotations[3].key, "b");
  EXPECT_EQ(std::get<bool>(e.annotations[3].value), false);
  EXPECT_EQ(e.metadata_json, R"({"default": {"k": [1, "two", null]}})");

  ASSERT_TRUE(e.cause);
  EXPECT_EQ(e.cause->working_directory, "/app");
  EXPECT_EQ(e.cause->paths, std::vector<std::string>{"/app/main.go"});
  EXPECT_EQ(e.cause->exception_id_ref, "");
  ASSERT_EQ(e.cause->exceptions.size(), 1u);
  const ExceptionInfo& x = e.cause->exceptions[0];
  EXPECT_EQ(x.id, "0123456789abcdef");
  EXPECT_EQ(x.message, "boom");
  EXPECT_EQ(x.type, "Panic");
  EXPECT_TRUE(x.remote);
  EXPECT_EQ(x.truncated, 2);
  EXPECT_EQ(x.skipped, 1);
  EXPECT_EQ(x.cause, "fedcba9876543210");
  ASSERT_EQ(x.stack.size(), 1u);
  EXPECT_EQ(x.stack[0].path, "main.go");
  EXPECT_EQ(x.stack[0].line, std::optional<int>(10));
  EXPECT_EQ(x.stack[0].label, "main");
}

TEST_F(SegmentParserTest, NestedSubsegments) {
  auto docs = ParseOk(kFullSegment);
  ASSERT_EQ(docs.size(), 1u);
  const Entity& s = docs[0].entity.subsegments.at(0);
  EXPECT_EQ(s.name, "DynamoDB");
  EXPECT_EQ(s.id.value, 1u);
  EXPECT_FALSE(s.trace_id);
  EXPECT_EQ(s.start_time_us, 1478293361300000);
  EXPECT_EQ(s.end_time_us, std::optional<int64_t>(1478293361400000));
  EXPECT_EQ(s.namespace_, "aws");
  EXPECT_EQ(s.traced, std::optional<bool>(false));
  ASSERT_EQ(s.precursor_ids.size(), 2u);
  EXPECT_EQ(s.precursor_ids[0].value, 2u);
  EXPECT_EQ(s.precursor_ids[1].value, 0xabu);
  ASSERT_EQ(s.subsegments.size(), 1u);
  const Entity& inner = s.subsegments[0];
  EXPECT_EQ(inner.name, "inner");
  EXPECT_EQ(inner.id.value, 3u);
  EXPECT_EQ(inner.start_time_us, 1478293361310000);
  EXPECT_TRUE(inner.in_progress);
  EXPECT_FALSE(inner.end_time_us);
}

TEST_F(SegmentParserTest, CauseReferenceForms) {
  auto bare = ParseOk(Doc(R"(,"cause":"ABCDEF0123456789")"));
  ASSERT_EQ(bare.size(), 1u);
  ASSERT_TRUE(bare[0].entity.cause);
  EXPECT_EQ(bare[0].entity.cause->exception_id_ref, "ABCDEF0123456789");
  EXPECT_TRUE(bare[0].entity.cause->exceptions.empty());

  // aws-xray-sdk-core writes a propagated exception as {"id": …, "exceptions": []}.
  auto object = ParseOk(Doc(R"(,"cause":{"id":"905e2eca8f974af7","exceptions":[]})"));
  ASSERT_EQ(object.size(), 1u);
  ASSERT_TRUE(object[0].entity.cause);
  EXPECT_EQ(object[0].entity.cause->exception_id_ref, "905e2eca8f974af7");
}

TEST_F(SegmentParserTest, IndependentSubsegmentAndArray) {
  std::string element0 =
      std::string(R"({"name":"a","id":"0000000000000001","type":"subsegment","trace_id":")") +
      std::string(kTrace) + R"(","parent_id":"70de5b6f19ff9a0b","start_time":1.5,"end_time":2})";
  std::string element1 =
      std::string(R"({ "name" : "b", "id":"0000000000000002","type":"subsegment","trace_id":")") +
      std::string(kTrace) +
      R"(","parent_id":"0000000000000001","start_time":2,"in_progress":true })";
  std::string array = "[ " + element0 + " ,\n " + element1 + "\n]";
  auto docs = ParseOk(array);
  ASSERT_EQ(docs.size(), 2u);
  EXPECT_EQ(docs[0].raw, element0);
  EXPECT_EQ(docs[1].raw, element1);
  EXPECT_TRUE(docs[0].entity.is_independent_subsegment());
  EXPECT_EQ(docs[0].entity.parent_id->value, 0x70de5b6f19ff9a0bu);
  EXPECT_EQ(docs[0].entity.start_time_us, 1500000);
  EXPECT_EQ(docs[0].entity.end_time_us, std::optional<int64_t>(2000000));
  EXPECT_EQ(docs[1].entity.name, "b");
  EXPECT_TRUE(docs[1].entity.in_progress);

  auto single = ParseOk(element0);
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].raw, element0);
  EXPECT_EQ(single[0].entity.type, "subsegment");
}

TEST_F(SegmentParserTest, ParseIntoFillsTheDocumentsNextMakes) {
  std::string element0 =
      std::string(R"({"name":"a","id":"0000000000000001","type":"subsegment","trace_id":")") +
      std::string(kTrace) + R"(","parent_id":"70de5b6f19ff9a0b","start_time":1.5,"end_time":2})";
  std::string element1 =
      std::string(R"({"name":"b","id":"0000000000000002","type":"subsegment","trace_id":")") +
      std::string(kTrace) +
      R"(","parent_id":"0000000000000001","start_time":2,"in_progress":true})";
  // Documents on the heap, as the ingest pipeline keeps them: each one is
  // parsed where it stays.
  std::vector<std::unique_ptr<SegmentDocument>> made;
  auto next = [&made]() -> SegmentDocument& {
    return *made.emplace_back(std::make_unique<SegmentDocument>());
  };
  ParseFailure failure;
  ASSERT_TRUE(parser_.ParseInto("[" + element0 + "," + element1 + "]", next, failure))
      << failure.message;
  ASSERT_EQ(made.size(), 2u);
  EXPECT_EQ(made[0]->raw, element0);
  EXPECT_EQ(made[1]->raw, element1);
  EXPECT_EQ(made[0]->entity.name, "a");
  EXPECT_EQ(made[1]->entity.id.value, 2u);
  EXPECT_TRUE(made[1]->entity.in_progress);

  made.clear();
  ASSERT_TRUE(parser_.ParseInto(kFullSegment, next, failure)) << failure.message;
  ASSERT_EQ(made.size(), 1u);
  const auto reference = ParseOk(kFullSegment);
  EXPECT_EQ(made[0]->raw, reference[0].raw);
  EXPECT_EQ(made[0]->entity.subsegments.size(), reference[0].entity.subsegments.size());
  EXPECT_EQ(made[0]->entity.aws->raw_json, reference[0].entity.aws->raw_json);

  // A rejected document fails as Parse reports it; what `next` made is the
  // caller's to drop.
  const std::string bad = "[" + element0 + R"(,{"name":"c","id":"0000000000000003"}])";
  const ParseFailure expected = ParseBad(bad);
  made.clear();
  ParseFailure got;
  EXPECT_FALSE(parser_.ParseInto(bad, next, got));
  EXPECT_EQ(got.error, expected.error);
  EXPECT_EQ(got.message, expected.message);
  EXPECT_EQ(got.id, expected.id);
  EXPECT_EQ(got.id, "0000000000000003");
}

TEST_F(SegmentParserTest, NestedSubsegmentsAreNeverIndependent) {
  auto docs = ParseOk(Doc(
      R"(,"subsegments":[{"name":"a","id":"0000000000000001","start_time":1,"end_time":2,)"
      R"("type":"subsegment","parent_id":"70de5b6f19ff9a0b","trace_id":"1-581cf771-a006649127e371903a2de979"}])"));
  ASSERT_EQ(docs.size(), 1u);
  const Entity& nested = docs[0].entity.subsegments.at(0);
  EXPECT_EQ(nested.type, "");
  EXPECT_FALSE(nested.is_independent_subsegment());
  EXPECT_EQ(nested.parent_id->value, 0x70de5b6f19ff9a0bu);
  EXPECT_EQ(nested.trace_id->ToString(), kTrace);
}

TEST_F(SegmentParserTest, AppendsToOutputAndLeavesItAloneOnFailure) {
  std::vector<SegmentDocument> out;
  ParseFailure failure;
  ASSERT_TRUE(parser_.Parse(Doc(""), out, failure));
  ASSERT_EQ(out.size(), 1u);
  std::string bad_array =
      std::string("[") + R"({"name":"a","id":"0000000000000001","type":"subsegment","trace_id":")" +
      std::string(kTrace) + R"(","parent_id":"70de5b6f19ff9a0b","start_time":1,"end_time":2},)" +
      R"({"name":"b","id":"0000000000000002","type":"subsegment"}])";
  EXPECT_FALSE(parser_.Parse(bad_array, out, failure));
  EXPECT_EQ(out.size(), 1u);  // the valid first element was not kept either
  EXPECT_EQ(failure.error, ParseError::kMissingField);
  EXPECT_EQ(failure.message, "[1].trace_id: is required");
  EXPECT_EQ(failure.id, "0000000000000002");
  ASSERT_TRUE(parser_.Parse(Doc(R"(,"user":"second")"), out, failure));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].entity.user, "second");
  EXPECT_EQ(out[0].entity.user, "");
}

TEST_F(SegmentParserTest, TooLargeIsRejectedBeforeParsing) {
  std::string big(kMaxDocumentBytes + 1, '{');
  ParseFailure f = ParseBad(big);
  EXPECT_EQ(f.error, ParseError::kTooLarge);
  EXPECT_EQ(f.message, "document is 65537 bytes, over the 65536-byte limit");
  EXPECT_EQ(f.id, "");

  // Refused unparsed, yet reported under its id (PutTraceSegments'
  // UnprocessedTraceSegments), wherever the id is.
  std::string blob(kMaxDocumentBytes, 'x');
  ParseFailure with_id = ParseBad(Doc(R"(,"metadata":{"blob":")" + blob + R"("})"));
  EXPECT_EQ(with_id.error, ParseError::kTooLarge);
  EXPECT_EQ(with_id.id, "70de5b6f19ff9a0b");
  with_id =
      ParseBad(R"({"metadata":{"blob":")" + blob + R"(","id":"nested"},"id":"0123456789abcdef"})");
  EXPECT_EQ(with_id.id, "0123456789abcdef");
  with_id = ParseBad(R"([{"id":"0000000000000001","metadata":")" + blob + R"("}])");
  EXPECT_EQ(with_id.id, "0000000000000001");

  std::string pad(kMaxDocumentBytes - Doc(R"(,"metadata":{"p":""}})").size() + 1, 'x');
  std::string exactly = Doc(R"(,"metadata":{"p":")" + pad + R"("})");
  ASSERT_EQ(exactly.size(), kMaxDocumentBytes);
  EXPECT_EQ(ParseOk(exactly).size(), 1u);
}

struct BadCase {
  std::string json;
  ParseError error;
  std::string message;
  std::string id;
};

TEST_F(SegmentParserTest, ErrorsNameThePathAndReason) {
  const std::string t(kTrace);
  const std::vector<BadCase> cases = {
      {"{", ParseError::kMalformedJson,
       "malformed JSON: the document ends inside an object or array", ""},
      {"nope", ParseError::kInvalidField,
       "document: must be a JSON object (a segment) or an array of subsegments", ""},
      {"42", ParseError::kInvalidField,
       "document: must be a JSON object (a segment) or an array of subsegments", ""},
      {"[1]", ParseError::kInvalidField, "[0]: must be an object", ""},
      {R"({"id":"70de5b6f19ff9a0b"})", ParseError::kMissingField, "name: is required",
       "70de5b6f19ff9a0b"},
      {R"({"name":"","id":"70de5b6f19ff9a0b"})", ParseError::kInvalidField,
       "name: must not be empty", "70de5b6f19ff9a0b"},
      {R"({"name":7})", ParseError::kInvalidField, "name: must be a string", ""},
      {R"({"name":"x","id":"70DE5B6F19FF9A0"})", ParseError::kInvalidId,
       "id: must be 16 hex digits", "70DE5B6F19FF9A0"},
      {R"({"name":"x","id":"70de5b6f19ff9a0b","trace_id":"1-581cf771-a006649127e371903a2de97g"})",
       ParseError::kInvalidId, "trace_id: trace id has a character that is not a hex digit",
       "70de5b6f19ff9a0b"},
      {Doc(R"(,"parent_id":"")"), ParseError::kInvalidId, "parent_id: must be 16 hex digits",
       "70de5b6f19ff9a0b"},
      {Doc(R"(,"subsegments":[{"name":"a","id":"0000000000000001","start_time":1,"end_time":2},{"name":"b","id":"1","start_time":1,"end_time":2}])"),
       ParseError::kInvalidId, "subsegments[1].id: must be 16 hex digits", "70de5b6f19ff9a0b"},
      {Doc(R"(,"subsegments":[{"name":"a","id":"0000000000000001","start_time":"1","end_time":2}])"),
       ParseError::kInvalidField, "subsegments[0].start_time: must be a number (epoch seconds)",
       "70de5b6f19ff9a0b"},
      {Doc(R"(,"subsegments":[{"name":"a","id":"0000000000000001","start_time":3,"end_time":2}])"),
       ParseError::kInvalidField, "subsegments[0].end_time: must not be before start_time",
       "70de5b6f19ff9a0b"},
      {Doc(R"(,"subsegments":{})"), ParseError::kInvalidField, "subsegments: must be an array",
       "70de5b6f19ff9a0b"},
      {Doc(R"(,"http":{"request":{"method":1}})"), ParseError::kInvalidField,
       "http.request.method: must be a string", "70de5b6f19ff9a0b"},
      {Doc(R"(,"http":{"response":{"content_length":-1}})"), ParseError::kInvalidField,
       "http.response.content_length: must be an integer from 0 to 9223372036854775807",
       "70de5b6f19ff9a0b"},
      {Doc(R"(,"aws":{"ec2":"i-1"})"), ParseError::kInvalidField, "aws.ec2: must be an object",
       "70de5b6f19ff9a0b"},
      {Doc(R"(,"aws":{"lambda":{"function_name":false}})"), ParseError::kInvalidField,
       "aws.lambda.function_name: must be a string", "70de5b6f19ff9a0b"},
      {Doc(R"(,"sql":{"preparation":[]})"), ParseError::kInvalidField,
       "sql.preparation: must be a string", "70de5b6f19ff9a0b"},
      {Doc(R"(,"service":"v1")"), ParseError::kInvalidField, "service: must be an object",
       "70de5b6f19ff9a0b"},
      {Doc(R"(,"cause":{"exceptions":[null]})"), ParseError::kInvalidField,
       "cause.exceptions[0]: must be an object", "70de5b6f19ff9a0b"},
      {Doc(R"(,"cause":{"exceptions":[{"remote":"yes"}]})"), ParseError::kInvalidField,
       "cause.exceptions[0].remote: must be true or false", "70de5b6f19ff9a0b"},
      {Doc(R"(,"cause":12)"), ParseError::kInvalidField,
       "cause: must be an object or a 16-hex exception id", "70de5b6f19ff9a0b"},
      {Doc(R"(,"annotations":{"a b":1})"), ParseError::kInvalidField,
       "annotations: key \"a b\" may hold only letters, digits, '_' and '.'", "70de5b6f19ff9a0b"},
      {Doc(R"(,"annotations":{"":1})"), ParseError::kInvalidField,
       "annotations: key \"\" must not be empty", "70de5b6f19ff9a0b"},
      {Doc(R"(,"annotations":{"list":[1]})"), ParseError::kInvalidField,
       "annotations.list: must be a string, number or boolean", "70de5b6f19ff9a0b"},
      {Doc(R"(,"annotations":[])"), ParseError::kInvalidField, "annotations: must be an object",
       "70de5b6f19ff9a0b"},
      {Doc(R"(,"precursor_ids":"0000000000000001")"), ParseError::kInvalidField,
       "precursor_ids: must be an array", "70de5b6f19ff9a0b"},
      {Doc(R"(,"precursor_ids":[null])"), ParseError::kInvalidId,
       "precursor_ids[0]: must be 16 hex digits", "70de5b6f19ff9a0b"},
      {Doc(R"(,"traced":1)"), ParseError::kInvalidField, "traced: must be true or false",
       "70de5b6f19ff9a0b"},
      {Doc(R"(,"in_progress":true)"), ParseError::kInvalidField,
       "in_progress: must not be true when end_time is set", "70de5b6f19ff9a0b"},
      {Doc(R"(,"type":"subsegment")"), ParseError::kMissingField,
       "parent_id: is required for an independent subsegment", "70de5b6f19ff9a0b"},
      {Doc(R"(,"x":nul)"), ParseError::kMalformedJson,
       "malformed JSON near byte 135: a literal or number is not valid JSON", "70de5b6f19ff9a0b"},
      {Doc(R"(,"x":[1,])"), ParseError::kMalformedJson,
       "malformed JSON near byte 138: The JSON document has an improper structure: missing or "
       "superfluous commas, braces, missing keys, etc.",
       "70de5b6f19ff9a0b"},
      {Doc(R"(,"x":-)"), ParseError::kMalformedJson,
       "malformed JSON near byte 135: a literal or number is not valid JSON", "70de5b6f19ff9a0b"},
      {Doc(R"(,"end_time":1e400)"), ParseError::kMalformedJson,
       "malformed JSON near byte 142: Problem while parsing a number", "70de5b6f19ff9a0b"},
      {Doc(R"(,"x":"\q")"), ParseError::kMalformedJson,
       "malformed JSON near byte 139: Problem while parsing a string", "70de5b6f19ff9a0b"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.json);
    ParseFailure f = ParseBad(c.json);
    EXPECT_EQ(ParseErrorCode(f.error), ParseErrorCode(c.error));
    EXPECT_EQ(f.message, c.message);
    EXPECT_EQ(f.id, c.id);
  }
}

// Found by fuzz/segment_parser: the fast path for plain epoch seconds read
// every integer digit before checking the count, overflowing int64 (UBSan).
TEST_F(SegmentParserTest, TimesWithManyIntegerDigitsAreOutOfRange) {
  for (const char* time : {"100000000001", "1795618322222222222222", "99999999999999999999.5"}) {
    ParseFailure f = ParseBad(
        std::string(R"({"name":"x","id":"70de5b6f19ff9a0b","trace_id":"1-581cf771-a006649127e371903a2de979","start_time":)") +
        time + "}");
    EXPECT_EQ(f.error, ParseError::kInvalidField) << time;
    EXPECT_EQ(f.message, "start_time: must be epoch seconds from 0 to 100000000000") << time;
  }
  EXPECT_EQ(ParseOk(Doc(R"(,"subsegments":[{"name":"a","id":"0000000000000001","start_time":99999999999.5,"in_progress":true}])"))
                .at(0)
                .entity.subsegments.at(0)
                .start_time_us,
            99999999999500000);
}

TEST_F(SegmentParserTest, SubsegmentDepthIsBounded) {
  std::string doc = Doc(R"(,"subsegments":[)");
  doc.pop_back();  // Doc() closed the object; reopen the array instead
  std::string nested;
  for (int i = 0; i < parse::kMaxSubsegmentDepth + 1; ++i) {
    nested += R"({"name":"s","id":"0000000000000001","start_time":1,"end_time":2,"subsegments":[)";
  }
  for (int i = 0; i < parse::kMaxSubsegmentDepth + 1; ++i) nested += "]}";
  ParseFailure f = ParseBad(doc + nested + "]}");
  EXPECT_EQ(f.error, ParseError::kInvalidField);
  const std::string tail = ": subsegments nested more than 64 levels deep";
  ASSERT_GT(f.message.size(), tail.size());
  EXPECT_EQ(f.message.substr(f.message.size() - tail.size()), tail);
  EXPECT_EQ(f.message.substr(0, 30), "subsegments[0].subsegments[0].");
}

TEST_F(SegmentParserTest, FreeFormJsonDepthIsBounded) {
  auto nested = [](int depth) {
    return std::string(static_cast<size_t>(depth), '[') +
           std::string(static_cast<size_t>(depth), ']');
  };
  // metadata's object is level 1; the arrays inside add the rest.
  auto ok = ParseOk(Doc(R"(,"metadata":{"k":)" + nested(127) + "}"));
  ASSERT_EQ(ok.size(), 1u);
  EXPECT_EQ(ok[0].entity.metadata_json, R"({"k":)" + nested(127) + "}");
  ParseFailure f = ParseBad(Doc(R"(,"metadata":{"k":)" + nested(128) + "}"));
  EXPECT_EQ(f.error, ParseError::kInvalidField);
  EXPECT_EQ(f.message, "metadata: JSON nested more than 128 levels deep");
  f = ParseBad(Doc(R"(,"unknown":)" + nested(20000)));
  EXPECT_EQ(f.message, "document: JSON nested more than 128 levels deep");
}

TEST_F(SegmentParserTest, ParserReuseKeepsNoState) {
  auto first = ParseOk(kFullSegment);
  auto second = ParseOk(Doc(""));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].entity.name, "x");
  EXPECT_TRUE(second[0].entity.subsegments.empty());
  EXPECT_FALSE(second[0].entity.aws);
  EXPECT_EQ(first[0].entity.subsegments.size(), 1u);
}

TEST_F(SegmentParserTest, MutatedDocumentsNeverCrash) {
  std::mt19937 rng(7);
  const std::string base(kFullSegment);
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string s = base;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < edits && !s.empty(); ++k) {
      size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0:
          s[pos] = static_cast<char>(rng() & 0xff);
          break;
        case 1:
          s.erase(pos, 1 + rng() % 8);
          break;
        default:
          s.resize(pos);
          break;
      }
    }
    std::vector<SegmentDocument> out;
    ParseFailure failure;
    if (parser_.Parse(s, out, failure)) {
      ++accepted;
    } else {
      EXPECT_FALSE(failure.message.empty());
    }
  }
  EXPECT_GT(accepted, 0);
}

TEST(DecimalSecondsToMicrosTest, RoundsTheDecimalTextToNearest) {
  using parse::DecimalSecondsToMicros;
  EXPECT_EQ(DecimalSecondsToMicros("0"), 0);
  EXPECT_EQ(DecimalSecondsToMicros("1700000000"), 1700000000000000);
  EXPECT_EQ(DecimalSecondsToMicros("1478293361.271"), 1478293361271000);
  EXPECT_EQ(DecimalSecondsToMicros("1700000000.0000004"), 1700000000000000);
  EXPECT_EQ(DecimalSecondsToMicros("1700000000.0000005"), 1700000000000001);
  EXPECT_EQ(DecimalSecondsToMicros("1700000000.9999996"), 1700000001000000);
  EXPECT_EQ(DecimalSecondsToMicros("1.478293361271E9"), 1478293361271000);
  EXPECT_EQ(DecimalSecondsToMicros("1.7000000000000015e9"), 1700000000000002);
  EXPECT_EQ(DecimalSecondsToMicros("14782933612710e-4"), 1478293361271000);
  EXPECT_EQ(DecimalSecondsToMicros("0.0000004"), 0);
  EXPECT_EQ(DecimalSecondsToMicros("0.0000005"), 1);
  EXPECT_EQ(DecimalSecondsToMicros("5e-7"), 1);
  EXPECT_EQ(DecimalSecondsToMicros("1e11"), 100000000000000000);
  EXPECT_EQ(DecimalSecondsToMicros("0e99999999"), 0);
  EXPECT_EQ(DecimalSecondsToMicros("12.5 "), 12500000);
}

TEST(SplitDaemonDatagramTest, AcceptsBothHeaderSpellings) {
  auto a = SplitDaemonDatagram("{\"format\":\"json\",\"version\":1}\n{\"name\":\"x\"}");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(*a, "{\"name\":\"x\"}");
  auto b = SplitDaemonDatagram("{\"format\": \"json\", \"version\": 1}\n[1]");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(*b, "[1]");
  auto c = SplitDaemonDatagram("{ \"version\" : 1 , \"format\" : \"json\" }\r\n{}");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(*c, "{}");
}

TEST(SplitDaemonDatagramTest, ErrorsSayWhatIsWrong) {
  auto msg = [](std::string_view d) { return SplitDaemonDatagram(d).status().message(); };
  EXPECT_EQ(
      msg("{\"name\":\"x\"}"),
      "daemon datagram: no newline after the header line {\"format\":\"json\",\"version\":1}");
  EXPECT_EQ(msg("{\"format\":\"json\"\n{}"), "daemon datagram: the header line is not JSON");
  EXPECT_EQ(msg("[1]\n{}"), "daemon datagram: the header line is not a JSON object");
  EXPECT_EQ(msg("{\"format\":\"xml\",\"version\":1}\n{}"),
            "daemon datagram: the header's format must be \"json\"");
  EXPECT_EQ(msg("{\"version\":1}\n{}"), "daemon datagram: the header's format must be \"json\"");
  EXPECT_EQ(msg("{\"format\":\"json\",\"version\":2}\n{}"),
            "daemon datagram: the header's version must be 1");
  EXPECT_EQ(msg("{\"format\":\"json\",\"version\":\"1\"}\n{}"),
            "daemon datagram: the header's version must be 1");
  EXPECT_EQ(msg("{\"format\":\"json\",\"version\":1}\n  \n"),
            "daemon datagram: no document after the header line");
  EXPECT_EQ(SplitDaemonDatagram("x").status().code(), StatusCode::kInvalidArgument);
}

TEST(ParseErrorCodeTest, StableNames) {
  EXPECT_EQ(ParseErrorCode(ParseError::kTooLarge), "TooLarge");
  EXPECT_EQ(ParseErrorCode(ParseError::kMalformedJson), "MalformedJson");
  EXPECT_EQ(ParseErrorCode(ParseError::kMissingField), "MissingField");
  EXPECT_EQ(ParseErrorCode(ParseError::kInvalidField), "InvalidField");
  EXPECT_EQ(ParseErrorCode(ParseError::kInvalidId), "InvalidId");
}

}  // namespace
}  // namespace roentgen::xray
