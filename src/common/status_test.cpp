#include "common/status.h"

#include <gtest/gtest.h>

namespace roentgen {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd");
  return x / 2;
}

Status Chain(int x) {
  RG_RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST(StatusTest, OkAndError) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  Status s = Status::NotFound("trace 1-x");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NotFound: trace 1-x");
}

TEST(StatusTest, ResultHoldsValueOrStatus) {
  auto r = Half(8);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 4);
  auto e = Half(3);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "odd");
  EXPECT_EQ(Chain(3).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Chain(4).ok());
}

}  // namespace
}  // namespace roentgen
