#include "xray/document_id.h"

#include <gtest/gtest.h>

#include <string>

namespace roentgen::xray {
namespace {

TEST(ScanDocumentIdTest, FindsTheTopLevelIdWhereverItIs) {
  EXPECT_EQ(ScanDocumentId(R"({"id":"70de5b6f19ff9a0b","name":"a"})"), "70de5b6f19ff9a0b");
  EXPECT_EQ(ScanDocumentId(" \n{ \"name\" : \"a\" , \"id\" : \"70de5b6f19ff9a0b\" }"),
            "70de5b6f19ff9a0b");
  // After nested objects, arrays and strings holding "id", braces and escaped quotes.
  EXPECT_EQ(ScanDocumentId(R"({"metadata":{"id":"nested","a":[{"id":"deeper"}]},)"
                           R"("s":"x\"id\": \"no\" {[","subsegments":[{"id":"sub"}],)"
                           R"("id":"0123456789abcdef"})"),
            "0123456789abcdef");
  // The first of duplicate keys, as simdjson's find_field does.
  EXPECT_EQ(ScanDocumentId(R"({"id":"first","id":"second"})"), "first");
  // A string ending in an escaped backslash ends there.
  EXPECT_EQ(ScanDocumentId(R"({"path":"C:\\","id":"after-backslashes"})"), "after-backslashes");
  // A value "id" is not a key.
  EXPECT_EQ(ScanDocumentId(R"({"name":"id","id":"real"})"), "real");
}

TEST(ScanDocumentIdTest, AnArrayOfSubsegmentsReportsItsFirstElement) {
  EXPECT_EQ(ScanDocumentId(R"([{"name":"a","id":"0000000000000001"},{"id":"0000000000000002"}])"),
            "0000000000000001");
  EXPECT_EQ(ScanDocumentId(R"([{"name":"a"},{"id":"0000000000000002"}])"), "");
  EXPECT_EQ(ScanDocumentId(R"([1,{"id":"0000000000000002"}])"), "");
  EXPECT_EQ(ScanDocumentId(R"([[{"id":"0000000000000002"}]])"), "");
}

TEST(ScanDocumentIdTest, ReportsNothingItCannotTrust) {
  for (const char* text : {
           "",
           "   ",
           "\"id\"",
           "42",
           R"({"name":"a"})",
           R"({"id":42})",
           R"({"id":null})",
           R"({"id":"with\"escape"})",
           R"({"\u0069d":"escaped-key"})",
           R"({"id":""})",
           "{\"id\":\"tab\there\"}",
           "{\"id\":\"\xc3\xa9\"}",  // not ASCII
           R"({"id" "missing-colon"})",
           R"({"id":"unterminated)",
           R"({"a":"unterminated)",
           R"({"a":{"b":1}}, "id":"after-the-end")",
           R"({"a":"\)",
           "{",
           "[",
           "[ ",
       }) {
    EXPECT_EQ(ScanDocumentId(text), "") << text;
  }
  EXPECT_EQ(ScanDocumentId(R"({"id":")" + std::string(kMaxReportedIdChars, 'a') + "\"}"),
            std::string(kMaxReportedIdChars, 'a'));
  EXPECT_EQ(ScanDocumentId(R"({"id":")" + std::string(kMaxReportedIdChars + 1, 'a') + "\"}"), "");
}

TEST(ScanDocumentIdTest, ALargeDocumentIsScannedInOnePass) {
  // 8 MB of metadata before the id: a linear scan, no parse.
  std::string big = R"({"name":"big","metadata":{"blob":")" + std::string(8 << 20, 'x') +
                    R"("},"deep":)" + std::string(100000, '[') + std::string(100000, ']') +
                    R"(,"id":"70de5b6f19ff9a0b"})";
  EXPECT_EQ(ScanDocumentId(big), "70de5b6f19ff9a0b");
}

}  // namespace
}  // namespace roentgen::xray
