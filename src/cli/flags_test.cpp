#include "cli/flags.h"

#include <gtest/gtest.h>

namespace roentgen::cli {
namespace {

using std::chrono::seconds;

TEST(ParseDurationTest, UnitsAndCombinations) {
  EXPECT_EQ(ParseDuration("30d").value(), seconds(30 * 86400));
  EXPECT_EQ(ParseDuration("12h").value(), seconds(12 * 3600));
  EXPECT_EQ(ParseDuration("90m").value(), seconds(5400));
  EXPECT_EQ(ParseDuration("45s").value(), seconds(45));
  EXPECT_EQ(ParseDuration("1d12h").value(), seconds(86400 + 12 * 3600));
  EXPECT_EQ(ParseDuration("1h30m15s").value(), seconds(5415));
  EXPECT_EQ(ParseDuration("0s").value(), seconds(0));
}

TEST(ParseDurationTest, RejectsBadInput) {
  EXPECT_EQ(ParseDuration("").status(), Status::InvalidArgument("empty duration"));
  EXPECT_EQ(ParseDuration("30").status(),
            Status::InvalidArgument(
                "invalid duration '30': missing unit (use e.g. 30d, 12h, 90m, 45s, 1h30m)"));
  EXPECT_EQ(ParseDuration("3w").status(),
            Status::InvalidArgument(
                "invalid duration '3w': unknown unit 'w' (use e.g. 30d, 12h, 90m, 45s, 1h30m)"));
  EXPECT_EQ(ParseDuration("d").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDuration("-1d").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDuration("1.5h").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDuration("30 d").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDuration("36501d").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseDuration("99999999999999999999d").status().code(), StatusCode::kInvalidArgument);
}

TEST(FormatDurationTest, ShortestExactForm) {
  EXPECT_EQ(FormatDuration(seconds(30 * 86400)), "30d");
  EXPECT_EQ(FormatDuration(seconds(5400)), "1h30m");
  EXPECT_EQ(FormatDuration(seconds(86400 + 1)), "1d1s");
  EXPECT_EQ(FormatDuration(seconds(0)), "0s");
}

TEST(ParseListenAddressTest, HostAndPort) {
  EXPECT_EQ(ParseListenAddress("127.0.0.1:2000").value(), (ListenAddress{"127.0.0.1", 2000}));
  EXPECT_EQ(ParseListenAddress("0.0.0.0:0").value(), (ListenAddress{"0.0.0.0", 0}));
  EXPECT_EQ(ParseListenAddress("localhost:65535").value(), (ListenAddress{"localhost", 65535}));
  EXPECT_EQ(ParseListenAddress("[::1]:2000").value(), (ListenAddress{"::1", 2000}));
}

TEST(ParseListenAddressTest, RejectsBadInput) {
  EXPECT_EQ(ParseListenAddress("127.0.0.1").status(),
            Status::InvalidArgument("invalid listen address '127.0.0.1': missing ':PORT' (use "
                                    "HOST:PORT, e.g. 127.0.0.1:2000 or [::1]:2000)"));
  EXPECT_EQ(ParseListenAddress(":2000").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseListenAddress("host:").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseListenAddress("host:65536").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseListenAddress("host:20x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseListenAddress("::1:2000").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseListenAddress("[::1:2000").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseListenAddress("[]:2000").status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace roentgen::cli
