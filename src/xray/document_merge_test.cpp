// Tests for MergeDocuments: raw splicing of independent subsegments.
#include "xray/document_merge.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "xray/trace_test_util.h"

namespace roentgen::xray {
namespace {

using namespace roentgen::xray::testing;  // NOLINT
using nlohmann::json;

std::string Hex(uint64_t id) { return SegmentId{id}.ToString(); }

std::vector<MergedDocument> Merge(const std::vector<ReceivedDocument>& docs) {
  auto pointers = Pointers(docs);
  AssembledTrace trace = AssembleTrace(TestTraceId(), pointers);
  auto merged = MergeDocuments(trace, pointers);
  EXPECT_TRUE(merged.ok()) << merged.status().ToString();
  return merged.ok() ? *merged : std::vector<MergedDocument>{};
}

TEST(MergeDocumentsTest, DocumentWithoutSplicesIsReturnedByteForByte) {
  const std::string raw = "{ \"name\" : \"api\", \"id\":\"" + Hex(1) +
                          "\", \"x-custom\": {\"a\": [1, 2.50, \"\\u00e9\"]},\n"
                          " \"subsegments\": [ {\"id\":\"" +
                          Hex(10) + "\", \"name\":\"h\"} ] }\n";
  Entity segment = MakeSegment(1, "api", 0, 10);
  segment.subsegments.push_back(MakeSubsegment(10, "h", 1, 2));
  std::vector<ReceivedDocument> docs{MakeDoc(segment, 0, raw)};
  auto merged = Merge(docs);
  ASSERT_EQ(merged.size(), 1u);
  EXPECT_EQ(merged[0].id, SegmentId{1});
  EXPECT_EQ(merged[0].json, raw);
}

TEST(MergeDocumentsTest, SplicesIntoNestedArrayKeepingUnknownFields) {
  const std::string segment_raw =
      "{\"name\":\"api\",\"id\":\"" + Hex(1) + "\",\"unknown\":{\"k\":[true,null]}," +
      "\"subsegments\":[{\"id\":\"" + Hex(10) + "\",\"name\":\"handler\",\"subsegments\":[" +
      "{\"id\":\"" + Hex(11) + "\",\"name\":\"first\"}]},{\"id\":\"" + Hex(12) +
      "\",\"name\":\"sibling\"}],\"tail\":1}";
  const std::string independent_raw = "{\"type\":\"subsegment\",\"id\":\"" + Hex(20) +
                                      "\",\"parent_id\":\"" + Hex(10) +
                                      "\",\"name\":\"streamed\",\"custom\":\"keep\"}";
  Entity segment = MakeSegment(1, "api", 0, 1000);
  Entity handler = MakeSubsegment(10, "handler", 10, 900);
  handler.subsegments.push_back(MakeSubsegment(11, "first", 20, 30));
  segment.subsegments = {handler, MakeSubsegment(12, "sibling", 40, 50)};
  std::vector<ReceivedDocument> docs{
      MakeDoc(MakeIndependent(20, 10, "streamed", 100, 200), 0, independent_raw),
      MakeDoc(segment, 0, segment_raw)};
  auto merged = Merge(docs);
  ASSERT_EQ(merged.size(), 1u);
  json out = json::parse(merged[0].json);
  EXPECT_EQ(out["unknown"], json::parse("{\"k\":[true,null]}"));
  EXPECT_EQ(out["tail"], 1);
  ASSERT_EQ(out["subsegments"].size(), 2u);
  const json& h = out["subsegments"][0];
  EXPECT_EQ(h["name"], "handler");
  ASSERT_EQ(h["subsegments"].size(), 2u);
  EXPECT_EQ(h["subsegments"][0]["name"], "first");
  EXPECT_EQ(h["subsegments"][1], json::parse(independent_raw));
  EXPECT_EQ(out["subsegments"][1]["name"], "sibling");
  // Only the edited array changed: the untouched text around it is verbatim.
  EXPECT_EQ(merged[0].json.substr(0, 60), segment_raw.substr(0, 60));
  EXPECT_EQ(merged[0].json.substr(merged[0].json.size() - 30),
            segment_raw.substr(segment_raw.size() - 30));
}

TEST(MergeDocumentsTest, CreatesSubsegmentArraysAlongAChain) {
  const std::string segment_raw = "{\"id\":\"" + Hex(1) + "\",\"name\":\"api\"  }";
  const std::string a_raw = "{\"type\":\"subsegment\",\"id\":\"" + Hex(10) + "\",\"parent_id\":\"" +
                            Hex(1) + "\",\"name\":\"a\"}";
  const std::string b_raw = "{\"type\":\"subsegment\",\"id\":\"" + Hex(20) + "\",\"parent_id\":\"" +
                            Hex(10) + "\",\"name\":\"b\",\"subsegments\":[]}";
  std::vector<ReceivedDocument> docs{MakeDoc(MakeIndependent(20, 10, "b", 30, 40), 0, b_raw),
                                     MakeDoc(MakeSegment(1, "api", 0, 100), 0, segment_raw),
                                     MakeDoc(MakeIndependent(10, 1, "a", 10, 90), 0, a_raw)};
  auto merged = Merge(docs);
  ASSERT_EQ(merged.size(), 1u);
  json out = json::parse(merged[0].json);
  ASSERT_EQ(out["subsegments"].size(), 1u);
  EXPECT_EQ(out["subsegments"][0]["name"], "a");
  EXPECT_EQ(out["subsegments"][0]["parent_id"], Hex(1));
  ASSERT_EQ(out["subsegments"][0]["subsegments"].size(), 1u);
  EXPECT_EQ(out["subsegments"][0]["subsegments"][0], json::parse(b_raw));
  EXPECT_EQ(merged[0].json.substr(0, 36), segment_raw.substr(0, 36));
}

TEST(MergeDocumentsTest, UsesWinningVersionsAndReturnsOrphansAsDocuments) {
  const std::string in_progress =
      "{\"id\":\"" + Hex(1) + "\",\"name\":\"api\",\"in_progress\":true}";
  const std::string complete = "{\"id\":\"" + Hex(1) + "\",\"name\":\"api\",\"end_time\":2}";
  const std::string second = "{\"id\":\"" + Hex(2) + "\",\"name\":\"worker\"}";
  const std::string orphan_raw = "{\"type\":\"subsegment\",\"id\":\"" + Hex(40) +
                                 "\",\"parent_id\":\"" + Hex(99) + "\",\"name\":\"lost\"}";
  const std::string orphan_child = "{\"type\":\"subsegment\",\"id\":\"" + Hex(41) +
                                   "\",\"parent_id\":\"" + Hex(40) + "\",\"name\":\"lost-child\"}";
  Entity worker = MakeSegment(2, "worker", 50, 60);
  worker.parent_id = SegmentId{1};
  std::vector<ReceivedDocument> docs{
      MakeDoc(MakeSegment(1, "api", 0, 100), 5, complete),
      MakeDoc(MakeSegment(1, "api", 0, std::nullopt), 9, in_progress), MakeDoc(worker, 1, second),
      MakeDoc(MakeIndependent(41, 40, "lost-child", 80, 85), 1, orphan_child),
      MakeDoc(MakeIndependent(40, 99, "lost", 70, 90), 1, orphan_raw)};
  auto merged = Merge(docs);
  ASSERT_EQ(merged.size(), 3u);
  EXPECT_EQ(merged[0].id, SegmentId{1});
  EXPECT_EQ(merged[0].json, complete);
  EXPECT_EQ(merged[1].id, SegmentId{2});
  EXPECT_EQ(merged[1].json, second);
  EXPECT_EQ(merged[2].id, SegmentId{40});
  json orphan = json::parse(merged[2].json);
  EXPECT_EQ(orphan["name"], "lost");
  ASSERT_EQ(orphan["subsegments"].size(), 1u);
  EXPECT_EQ(orphan["subsegments"][0], json::parse(orphan_child));
}

TEST(MergeDocumentsTest, MissingStoredDocumentIsAnInternalError) {
  std::vector<ReceivedDocument> docs{MakeDoc(MakeSegment(1, "api", 0, 1), 0, "{}")};
  AssembledTrace trace = AssembleTrace(TestTraceId(), Pointers(docs));
  auto merged = MergeDocuments(trace, {});
  ASSERT_FALSE(merged.ok());
  EXPECT_EQ(merged.status().code(), StatusCode::kInternal);
}

TEST(MergeDocumentsTest, UnparseableStoredDocumentIsAnInternalError) {
  std::vector<ReceivedDocument> docs{
      MakeDoc(MakeSegment(1, "api", 0, 1), 0, "{\"id\": }"),
      MakeDoc(MakeIndependent(2, 1, "x", 0, 1), 0, "{\"id\":\"" + Hex(2) + "\"}")};
  auto pointers = Pointers(docs);
  auto merged = MergeDocuments(AssembleTrace(TestTraceId(), pointers), pointers);
  ASSERT_FALSE(merged.ok());
  EXPECT_EQ(merged.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace roentgen::xray
