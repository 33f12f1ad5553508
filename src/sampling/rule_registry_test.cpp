// The sampling rule registry over the in-memory store and over RocksDB
// (across a close and reopen).
#include "sampling/rule_registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "store/memory/memory_store.h"
#include "store/rocksdb/rocksdb_store.h"

namespace roentgen::sampling {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000'000;

SamplingRule Rule(const std::string& name, int64_t priority) {
  SamplingRule r = DefaultRule();
  r.rule_name = name;
  r.priority = priority;
  r.fixed_rate = 0.1;
  r.reservoir_size = 2;
  return r;
}

std::vector<std::string> Names(const std::vector<RuleRecord>& records) {
  std::vector<std::string> names;
  for (const RuleRecord& r : records) names.push_back(r.rule.rule_name);
  return names;
}

class RuleRegistryTest : public ::testing::Test {
 protected:
  FakeClock clock_{kT0};
  std::unique_ptr<store::Store> store_ = store::NewMemoryStore();
  RuleRegistry registry_{*store_, clock_};
};

TEST_F(RuleRegistryTest, DefaultAlwaysThere) {
  Result<std::vector<RuleRecord>> all = registry_.List();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ(all->front().rule, DefaultRule());
  EXPECT_EQ(all->front().created_at_us, 0);
  EXPECT_EQ(registry_.Arn("Default"), "arn:aws:xray:us-east-1:000000000000:sampling-rule/Default");
  Result<RuleRecord> by_arn = registry_.Get(RuleRef{registry_.Arn("Default"), true});
  ASSERT_TRUE(by_arn.ok());
  EXPECT_EQ(by_arn->rule.rule_name, "Default");
}

TEST_F(RuleRegistryTest, CreateGetUpdateDelete) {
  Result<RuleRecord> created = registry_.Create(Rule("web", 5), {{"team", "web"}});
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(created->created_at_us, kT0);
  EXPECT_EQ(created->modified_at_us, kT0);
  clock_.Advance(5'000'000);
  RuleUpdate u;
  u.fixed_rate = 1;
  Result<RuleRecord> updated = registry_.Update(RuleRef{registry_.Arn("web"), true}, u);
  ASSERT_TRUE(updated.ok()) << updated.status().ToString();
  EXPECT_DOUBLE_EQ(updated->rule.fixed_rate, 1);
  EXPECT_EQ(updated->created_at_us, kT0);
  EXPECT_EQ(updated->modified_at_us, kT0 + 5'000'000);
  EXPECT_EQ(*registry_.LastModification(), kT0 + 5'000'000);
  Result<Tags> tags = registry_.GetTags(registry_.Arn("web"));
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(*tags, (Tags{{"team", "web"}}));
  ASSERT_TRUE(registry_.SetTags(registry_.Arn("web"), {{"team", "api"}}).ok());
  EXPECT_EQ(*registry_.GetTags(registry_.Arn("web")), (Tags{{"team", "api"}}));
  EXPECT_EQ(registry_.SetTags(registry_.Arn("web"), {{"aws:x", "1"}}).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(registry_.GetTags(registry_.Arn("nope")).status().code(), StatusCode::kInvalidArgument);

  clock_.Advance(5'000'000);
  Result<RuleRecord> deleted = registry_.Delete(RuleRef{"web", false});
  ASSERT_TRUE(deleted.ok());
  EXPECT_DOUBLE_EQ(deleted->rule.fixed_rate, 1);
  // A deletion moves LastModification too, so clients refetch.
  EXPECT_EQ(*registry_.LastModification(), kT0 + 10'000'000);
  EXPECT_EQ(registry_.Get(RuleRef{"web", false}).status().message(),
            "RuleName: no sampling rule named 'web'");
  EXPECT_EQ(registry_.Delete(RuleRef{"web", false}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RuleRegistryTest, RefusesDuplicatesDefaultAndUnknown) {
  ASSERT_TRUE(registry_.Create(Rule("web", 5), {}).ok());
  Result<RuleRecord> again = registry_.Create(Rule("web", 6), {});
  EXPECT_EQ(again.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(again.status().message(),
            "SamplingRule.RuleName: a sampling rule named 'web' already exists");
  EXPECT_EQ(registry_.Create(Rule("Default", 6), {}).status().code(), StatusCode::kInvalidArgument);
  Result<RuleRecord> del = registry_.Delete(RuleRef{"Default", false});
  EXPECT_EQ(del.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(del.status().message(), "RuleName: the Default sampling rule cannot be deleted");
  RuleUpdate u;
  u.host = "example.com";
  EXPECT_EQ(registry_.Update(RuleRef{"Default", false}, u).status().message(),
            "Invalid update request for default sampling rule");
  EXPECT_EQ(registry_.Update(RuleRef{"ghost", false}, u).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      registry_.Get(RuleRef{"arn:aws:xray:eu-west-1:1:sampling-rule/web", true}).status().code(),
      StatusCode::kInvalidArgument);
}

TEST_F(RuleRegistryTest, DefaultUpdatePersistsAndKeepsItsPlace) {
  clock_.Advance(1'000'000);
  RuleUpdate u;
  u.fixed_rate = 0.5;
  u.reservoir_size = 10;
  ASSERT_TRUE(registry_.Update(RuleRef{"Default", false}, u).ok());
  RuleRegistry reopened(*store_, clock_);
  Result<RuleRecord> d = reopened.Get(RuleRef{"Default", false});
  ASSERT_TRUE(d.ok());
  EXPECT_DOUBLE_EQ(d->rule.fixed_rate, 0.5);
  EXPECT_EQ(d->rule.reservoir_size, 10);
  EXPECT_EQ(d->rule.priority, 10000);
  EXPECT_EQ(d->created_at_us, 0);
  EXPECT_EQ(d->modified_at_us, kT0 + 1'000'000);
  EXPECT_EQ(reopened.List()->size(), 1u);
}

TEST_F(RuleRegistryTest, MatchingOrderAndPages) {
  for (const auto& [name, priority] : std::vector<std::pair<std::string, int64_t>>{
           {"c", 5}, {"a", 5}, {"b", 1}, {"z", 9999}, {"m", 100}}) {
    ASSERT_TRUE(registry_.Create(Rule(name, priority), {}).ok());
  }
  EXPECT_EQ(Names(*registry_.List()),
            (std::vector<std::string>{"b", "a", "c", "m", "z", "Default"}));
  std::vector<std::string> paged;
  std::string token;
  int pages = 0;
  do {
    Result<RulePage> page = registry_.ListPage(token, 4);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const std::string& n : Names(page->records)) paged.push_back(n);
    token = page->next_token.value_or("");
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(paged, (std::vector<std::string>{"b", "a", "c", "m", "z", "Default"}));
  EXPECT_EQ(registry_.ListPage("garbage", 4).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(RuleRegistryTest, RuleLimit) {
  RuleRegistry small(*store_, clock_, Identity{}, 2);
  ASSERT_TRUE(small.Create(Rule("one", 1), {}).ok());
  ASSERT_TRUE(small.Create(Rule("two", 2), {}).ok());
  Result<RuleRecord> third = small.Create(Rule("three", 3), {});
  EXPECT_EQ(third.status().code(), StatusCode::kResourceExhausted);
  // Updating Default (stored from now on) does not count against the limit.
  RuleUpdate u;
  u.fixed_rate = 0.5;
  ASSERT_TRUE(small.Update(RuleRef{"Default", false}, u).ok());
  ASSERT_TRUE(small.Delete(RuleRef{"one", false}).ok());
  EXPECT_TRUE(small.Create(Rule("three", 3), {}).ok());
}

TEST(RuleRegistryRocksDbTest, SurvivesReopen) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("rg-sampling-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  FakeClock clock(kT0);
  store::RocksDbStoreConfig config;
  config.path = dir.string();
  {
    auto opened = store::OpenRocksDbStore(config);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    RuleRegistry registry(**opened, clock);
    SamplingRule r = Rule("web", 7);
    r.attributes = {{"k", "v"}};
    ASSERT_TRUE(registry.Create(r, {{"team", "web"}}).ok());
    RuleUpdate u;
    u.reservoir_size = 4;
    ASSERT_TRUE(registry.Update(RuleRef{"Default", false}, u).ok());
  }
  {
    auto opened = store::OpenRocksDbStore(config);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    RuleRegistry registry(**opened, clock);
    Result<std::vector<RuleRecord>> all = registry.List();
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(Names(*all), (std::vector<std::string>{"web", "Default"}));
    EXPECT_EQ((*all)[0].rule.priority, 7);
    EXPECT_EQ((*all)[0].rule.attributes, (Attributes{{"k", "v"}}));
    EXPECT_EQ((*all)[0].tags, (Tags{{"team", "web"}}));
    EXPECT_EQ((*all)[0].created_at_us, kT0);
    EXPECT_EQ((*all)[1].rule.reservoir_size, 4);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace roentgen::sampling
