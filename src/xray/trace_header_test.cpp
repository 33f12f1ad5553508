#include "xray/trace_header.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace roentgen::xray {
namespace {

constexpr std::string_view kRoot = "1-5759e988-bd862e3fe1be46a994272793";

TEST(TraceHeaderTest, ParsesTheThreeCommonFields) {
  auto h = TraceHeader::Parse(
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_TRUE(h->root.has_value());
  EXPECT_EQ(h->root->ToString(), kRoot);
  ASSERT_TRUE(h->parent.has_value());
  EXPECT_EQ(h->parent->value, 0x53995c3f42cd8ad8u);
  EXPECT_EQ(h->sampled, SampledDecision::kSampled);
  EXPECT_EQ(h->self, "");
  EXPECT_EQ(h->lineage, "");
  EXPECT_TRUE(h->extra.empty());
  EXPECT_EQ(h->ToString(),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1");
}

TEST(TraceHeaderTest, SampledValues) {
  EXPECT_EQ(TraceHeader::Parse("Sampled=0")->sampled, SampledDecision::kNotSampled);
  EXPECT_EQ(TraceHeader::Parse("Sampled=1")->sampled, SampledDecision::kSampled);
  EXPECT_EQ(TraceHeader::Parse("Sampled=?")->sampled, SampledDecision::kRequested);
  EXPECT_EQ(TraceHeader::Parse("Root=1-5759e988-bd862e3fe1be46a994272793")->sampled,
            SampledDecision::kUnset);
  EXPECT_EQ(TraceHeader::Parse("Sampled=?")->ToString(), "Sampled=?");
  EXPECT_EQ(TraceHeader::Parse("Sampled=0")->ToString(), "Sampled=0");
}

TEST(TraceHeaderTest, AnyOrderSpacesSelfLineageAndExtraKeysKeptInOrder) {
  auto h = TraceHeader::Parse(
      " Self=1-67891234-12456789abcdef012345678 ; Sampled = ? ;zeta=last; "
      "Root = 1-5759E988-BD862E3FE1BE46A994272793;alpha=a=b;Lineage=a87bd80c:1|68fd508a:5;"
      "Parent=53995C3F42CD8AD8;");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->root->ToString(), kRoot);  // normalised to lowercase
  EXPECT_EQ(h->parent->ToString(), "53995c3f42cd8ad8");
  EXPECT_EQ(h->sampled, SampledDecision::kRequested);
  EXPECT_EQ(h->self, "1-67891234-12456789abcdef012345678");
  EXPECT_EQ(h->lineage, "a87bd80c:1|68fd508a:5");
  ASSERT_EQ(h->extra.size(), 2u);
  EXPECT_EQ(h->extra[0].first, "zeta");
  EXPECT_EQ(h->extra[0].second, "last");
  EXPECT_EQ(h->extra[1].first, "alpha");
  EXPECT_EQ(h->extra[1].second, "a=b");
  EXPECT_EQ(h->ToString(),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=?;"
            "Self=1-67891234-12456789abcdef012345678;Lineage=a87bd80c:1|68fd508a:5;"
            "zeta=last;alpha=a=b");
}

TEST(TraceHeaderTest, KnownKeysAreCaseInsensitive) {
  auto h = TraceHeader::Parse("root=1-5759e988-bd862e3fe1be46a994272793;parent=53995c3f42cd8ad8");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->ToString(), "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8");
}

TEST(TraceHeaderTest, RoundTripsThroughToString) {
  std::string text =
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0;"
      "Self=1-67891234-12456789abcdef012345678;Lineage=a87bd80c:1;k=v";
  auto h = TraceHeader::Parse(text);
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->ToString(), text);
  EXPECT_EQ(TraceHeader{}.ToString(), "");
}

void ExpectError(std::string_view header, std::string_view message) {
  auto h = TraceHeader::Parse(header);
  ASSERT_FALSE(h.ok()) << header;
  EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(h.status().message(), message) << header;
}

TEST(TraceHeaderTest, MalformedInputGivesReasons) {
  ExpectError("", "trace header: empty");
  ExpectError("   ", "trace header: empty");
  ExpectError("Root", "trace header: field \"Root\" has no '='");
  ExpectError("=5;Root=1-5759e988-bd862e3fe1be46a994272793",
              "trace header: empty key in field \"=5\"");
  ExpectError("Root=1-5759e988-bd862e3fe1be46a99427279",
              "trace header: bad Root \"1-5759e988-bd862e3fe1be46a99427279\": trace id must be 35 "
              "characters (1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx), got 34");
  ExpectError("Root=2-5759e988-bd862e3fe1be46a994272793",
              "trace header: bad Root \"2-5759e988-bd862e3fe1be46a994272793\": trace id must have "
              "the form 1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx (version 1)");
  ExpectError("Parent=",
              "trace header: bad Parent \"\": segment id must be 16 hex digits, got 0 "
              "characters");
  ExpectError("Parent=53995c3f42cd8adz",
              "trace header: bad Parent \"53995c3f42cd8adz\": segment id has a character that is "
              "not a hex digit");
  ExpectError("Sampled=yes", "trace header: bad Sampled \"yes\": must be 0, 1 or ?");
  ExpectError("Sampled=", "trace header: bad Sampled \"\": must be 0, 1 or ?");
  ExpectError("Root=1-5759e988-bd862e3fe1be46a994272793;Root=1-5759e988-bd862e3fe1be46a994272794",
              "trace header: duplicate Root field");
  ExpectError("Parent=53995c3f42cd8ad8;Parent=53995c3f42cd8ad8",
              "trace header: duplicate Parent field");
  ExpectError("Sampled=1;Sampled=0", "trace header: duplicate Sampled field");
  ExpectError("Self=a;Self=b", "trace header: duplicate Self field");
  ExpectError("Lineage=a;Lineage=b", "trace header: duplicate Lineage field");
  ExpectError("Root=\x01\xff",
              "trace header: bad Root \"\\x01\\xff\": trace id must be 35 "
              "characters (1-xxxxxxxx-xxxxxxxxxxxxxxxxxxxxxxxx), got 2");
}

TEST(TraceHeaderTest, RandomBytesNeverCrash) {
  std::mt19937 rng(12345);
  const std::string alphabet = "Root=Parent;Sampled?01-abcdef ;=\t\x00\xff";
  int parsed = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 80, '\0');
    for (char& c : s) {
      c = (i % 2) ? static_cast<char>(rng() & 0xff) : alphabet[rng() % alphabet.size()];
    }
    auto h = TraceHeader::Parse(s);
    if (h.ok()) {
      ++parsed;
      auto again = TraceHeader::Parse(h->ToString().empty() ? std::string("x=") : h->ToString());
      EXPECT_TRUE(again.ok()) << h->ToString();
    } else {
      EXPECT_FALSE(h.status().message().empty());
    }
  }
  EXPECT_GT(parsed, 0);
}

}  // namespace
}  // namespace roentgen::xray
