// Ids, the X-Amzn-Trace-Id header and the daemon address, checked against
// Roentgen's own parsers where it has them.
#include <gtest/gtest.h>

#include <set>

#include "roentgen/xray_trace_header.h"
#include "sdk_internal.h"
#include "xray/ids.h"
#include "xray/trace_header.h"

namespace roentgen::sdk {
namespace {

TEST(SdkIdsTest, ZeroPaddedLowercase) {
  EXPECT_EQ(SegmentId{1}.ToString(), "0000000000000001");
  EXPECT_EQ(SegmentId{0xABCDEFull}.ToString(), "0000000000abcdef");
  TraceId t;
  t.epoch = 0x1f;
  t.random[11] = 0x0a;
  EXPECT_EQ(t.ToString(), "1-0000001f-00000000000000000000000a");
}

TEST(SdkIdsTest, GeneratedIdsParseInRoentgenAndRoundTrip) {
  std::set<uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    TraceId t = TraceId::Generate();
    std::string text = t.ToString();
    ASSERT_EQ(text.size(), 35u);
    ASSERT_TRUE(roentgen::xray::TraceId::Parse(text).ok()) << text;  // Roentgen's parser
    ASSERT_EQ(TraceId::Parse(text), t);
    SegmentId s = SegmentId::Generate();
    ASSERT_NE(s.value, 0u);
    ASSERT_EQ(s.ToString().size(), 16u);
    ASSERT_TRUE(roentgen::xray::SegmentId::Parse(s.ToString()).ok());
    ASSERT_EQ(SegmentId::Parse(s.ToString()), s);
    seen.insert(s.value);
  }
  EXPECT_EQ(seen.size(), 1000u);
  auto now = static_cast<uint32_t>(time(nullptr));
  EXPECT_LE(TraceId::Generate().epoch - now, 1u);
}

TEST(SdkIdsTest, RejectsMalformedIds) {
  EXPECT_FALSE(TraceId::Parse("1-5759e988-bd862e3fe1be46a994272793x"));
  EXPECT_FALSE(TraceId::Parse("2-5759e988-bd862e3fe1be46a994272793"));
  EXPECT_FALSE(TraceId::Parse("1-5759e988bd862e3fe1be46a994272793"));
  EXPECT_FALSE(SegmentId::Parse("53995c3f42cd8ad"));
  EXPECT_FALSE(SegmentId::Parse("53995c3f42cd8adg"));
  EXPECT_EQ(SegmentId::Parse("53995C3F42CD8AD8")->ToString(), "53995c3f42cd8ad8");
}

TEST(SdkTraceHeaderTest, RoundTripKeepsEveryField) {
  std::string in =
      "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;"
      "Lineage=a87bd80c:1|68fd508a:5;Self=1-67891234-12456789abcdef012345678;Custom=x";
  auto h = TraceHeader::Parse(in);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->root->ToString(), "1-5759e988-bd862e3fe1be46a994272793");
  EXPECT_EQ(h->parent->ToString(), "53995c3f42cd8ad8");
  EXPECT_EQ(h->sampled, Sampled::kYes);
  EXPECT_EQ(h->lineage, "a87bd80c:1|68fd508a:5");
  ASSERT_EQ(h->extra.size(), 2u);
  EXPECT_EQ(h->ToString(), in);
  // Roentgen's server-side parser reads what the SDK writes.
  auto server = roentgen::xray::TraceHeader::Parse(h->ToString());
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_EQ(server->lineage, "a87bd80c:1|68fd508a:5");
  EXPECT_EQ(server->parent->ToString(), "53995c3f42cd8ad8");
}

TEST(SdkTraceHeaderTest, LenientLikeTheSdks) {
  auto h = TraceHeader::Parse(" Sampled=? ; Root=1-5759e988-bd862e3fe1be46a994272793 ;Parent=bad");
  ASSERT_TRUE(h);
  EXPECT_TRUE(h->root);
  EXPECT_FALSE(h->parent);  // dropped, not fatal
  EXPECT_EQ(h->sampled, Sampled::kRequested);
  EXPECT_EQ(h->ToString(), "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=?");
  EXPECT_FALSE(TraceHeader::Parse(""));
  EXPECT_FALSE(TraceHeader::Parse(";;="));
  EXPECT_EQ(TraceHeader::Parse("Sampled=0")->sampled, Sampled::kNo);
}

TEST(SdkDaemonAddressTest, TheSdksForms) {
  std::string uh, th;
  uint16_t up = 0, tp = 0;
  ASSERT_TRUE(detail::ParseDaemonAddress("127.0.0.1:3000", uh, up, th, tp));
  EXPECT_EQ(uh, "127.0.0.1");
  EXPECT_EQ(up, 3000);
  EXPECT_EQ(th, "127.0.0.1");
  EXPECT_EQ(tp, 3000);
  ASSERT_TRUE(detail::ParseDaemonAddress("tcp:daemon:2001 udp:10.0.0.1:2002", uh, up, th, tp));
  EXPECT_EQ(uh, "10.0.0.1");
  EXPECT_EQ(up, 2002);
  EXPECT_EQ(th, "daemon");
  EXPECT_EQ(tp, 2001);
  ASSERT_TRUE(detail::ParseDaemonAddress("[::1]:2000", uh, up, th, tp));
  EXPECT_EQ(uh, "::1");
  EXPECT_FALSE(detail::ParseDaemonAddress("localhost", uh, up, th, tp));
  EXPECT_FALSE(detail::ParseDaemonAddress("localhost:99999", uh, up, th, tp));
  EXPECT_FALSE(detail::ParseDaemonAddress("udp:a:1 udp:b:2", uh, up, th, tp));
}

}  // namespace
}  // namespace roentgen::sdk
