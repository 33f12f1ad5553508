#include "api/page_token.h"

#include <gtest/gtest.h>

namespace roentgen::api {
namespace {

TEST(PageTokenTest, RoundTrips) {
  PageToken token;
  token.cursor.time_us = 1'700'000'000'123'456;
  token.cursor.trace_id = *xray::TraceId::Parse("1-5f5e1000-0123456789abcdef01234567");
  token.fingerprint = 0xfedcba9876543210ULL;
  const std::string text = EncodePageToken(token);
  EXPECT_EQ(text.size(), 44u);
  Result<PageToken> back = DecodePageToken(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->cursor.time_us, token.cursor.time_us);
  EXPECT_EQ(back->cursor.trace_id, token.cursor.trace_id);
  EXPECT_EQ(back->fingerprint, token.fingerprint);
}

TEST(PageTokenTest, RejectsForeignTokens) {
  const Status bad = Status::InvalidArgument(
      "NextToken: not a token this server issued for this query; start again without it");
  EXPECT_EQ(DecodePageToken("").status(), bad);
  EXPECT_EQ(DecodePageToken("abc").status(), bad);
  EXPECT_EQ(DecodePageToken(std::string(44, '!')).status(), bad);
  // Right length, valid base64, wrong version byte.
  EXPECT_EQ(DecodePageToken(std::string(44, 'A')).status(), bad);
}

}  // namespace
}  // namespace roentgen::api
