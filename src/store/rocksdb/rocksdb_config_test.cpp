#include <gtest/gtest.h>

#include "store/rocksdb/rocksdb_store_test_fixture.h"

namespace roentgen::store {
namespace {

using testing::kSecond;
using testing::kT0;
using testing::MakeFullRecord;
using testing::MakeRecord;
using testing::MakeTraceId;
using testing::RocksDbStoreTest;

TEST_F(RocksDbStoreTest, ConfigCrud) {
  ASSERT_TRUE(store_->PutConfig("groups", "b", "2").ok());
  ASSERT_TRUE(store_->PutConfig("groups", "a", "1").ok());
  ASSERT_TRUE(store_->PutConfig("groupsX", "c", "3").ok());
  ASSERT_TRUE(store_->PutConfig("sampling", "rule", "{}").ok());
  ASSERT_TRUE(store_->PutConfig("groups", "a", "1b").ok());
  EXPECT_EQ(*store_->GetConfig("groups", "a"), "1b");
  auto list = store_->ListConfig("groups");
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(*list, (std::vector<std::pair<std::string, std::string>>{{"a", "1b"}, {"b", "2"}}));
  ASSERT_TRUE(store_->DeleteConfig("groups", "a").ok());
  EXPECT_EQ(store_->GetConfig("groups", "a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->DeleteConfig("groups", "a").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->ListConfig("groups")->size(), 1u);
  EXPECT_EQ(store_->ListConfig("none")->size(), 0u);
  EXPECT_EQ(store_->PutConfig(std::string_view("a\0b", 3), "k", "v").code(),
            StatusCode::kInvalidArgument);
}

TEST(RocksDbStoreConfigTest, ValidateRejectsBadConfigs) {
  RocksDbStoreConfig c;
  EXPECT_EQ(c.Validate().code(), StatusCode::kInvalidArgument);  // no path
  c.path = "/tmp/x";
  EXPECT_TRUE(c.Validate().ok());
  c.retention_us = 0;
  EXPECT_EQ(c.Validate().message(), "store retention must be positive");
  c.retention_us = 1;
  c.clock = nullptr;
  EXPECT_EQ(c.Validate().message(), "store clock must be set");
}

}  // namespace
}  // namespace roentgen::store
