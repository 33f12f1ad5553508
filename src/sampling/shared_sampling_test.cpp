// Sampling over one store shared by several processes: each "process" is its
// own SharedClients, StatisticsWindows and TargetAllocator over the same
// store (the in-memory engine, and the RocksDB engine once), on a fake clock.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include "sampling/shared_clients.h"
#include "sampling/statistics_windows.h"
#include "sampling/target_allocator.h"
#include "store/memory/memory_store.h"
#include "store/rocksdb/rocksdb_store.h"

namespace roentgen::sampling {
namespace {

constexpr int64_t kSharedT0 = 1'700'000'000'000'000;
const std::string kSharedA = "aaaaaaaaaaaaaaaaaaaaaaaa";
const std::string kSharedB = "bbbbbbbbbbbbbbbbbbbbbbbb";
const std::string kSharedC = "cccccccccccccccccccccccc";

// One Roentgen process's sampling state over the shared store.
struct SamplingProcess {
  SamplingProcess(const Clock& clock, store::Store& store, std::string id)
      : clients(store), statistics(clock, store, std::move(id)),
        allocator(clock, statistics, clients) {}
  SharedClients clients;
  StatisticsWindows statistics;
  TargetAllocator allocator;
};

class SharedSamplingTest : public ::testing::Test {
 public:
  SharedSamplingTest() {
    SamplingRule web = DefaultRule();
    web.rule_name = "web";
    web.priority = 1;
    web.fixed_rate = 0.25;
    web.reservoir_size = 5;
    rules_ = {web, DefaultRule()};
  }

  void Start(store::Store& store) {
    store_ = &store;
    p1_ = std::make_unique<SamplingProcess>(clock_, store, "p1");
    p2_ = std::make_unique<SamplingProcess>(clock_, store, "p2");
  }

  // `client`'s quota for web, reported to `p`.
  int64_t Quota(SamplingProcess& p, const std::string& client, int64_t requests = 10) {
    const std::vector<StatisticsDocument> docs = {
        StatisticsDocument{"web", client, clock_.NowMicros(), Counts{requests, 2, 1}}};
    TargetsResult r = p.allocator.Report(docs, rules_);
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
    EXPECT_TRUE(r.unprocessed.empty());
    EXPECT_EQ(r.targets.size(), 1u);
    return r.targets.empty() ? -1 : r.targets.front().reservoir_quota;
  }

  size_t StoredClients() {
    auto entries = store_->ListConfig(kClientNamespace);
    EXPECT_TRUE(entries.ok());
    return entries.ok() ? entries->size() : 0;
  }

  FakeClock clock_{kSharedT0};
  std::vector<SamplingRule> rules_;
  store::Store* store_ = nullptr;
  std::unique_ptr<SamplingProcess> p1_, p2_;
};

class SharedSamplingMemoryTest : public SharedSamplingTest {
 protected:
  SharedSamplingMemoryTest() { Start(*memory_); }
  std::unique_ptr<store::Store> memory_ = store::NewMemoryStore();
};

TEST_F(SharedSamplingMemoryTest, QuotasOfClientsSplitOverTwoProcessesAddUpToTheReservoir) {
  // A and B report to p1, C to p2: one fleet of three clients.
  EXPECT_EQ(Quota(*p1_, kSharedA), 5);
  Quota(*p1_, kSharedB);
  Quota(*p2_, kSharedC);
  // Once every process has read the store again (within kClientCacheUs)...
  clock_.Advance(kClientCacheUs);
  const int64_t a = Quota(*p1_, kSharedA);
  const int64_t b = Quota(*p1_, kSharedB);
  const int64_t c = Quota(*p2_, kSharedC);
  // ...the quotas are those one process gives three clients: 5 = 2 + 2 + 1.
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b, 2);
  EXPECT_EQ(c, 1);
  EXPECT_EQ(p1_->allocator.ActiveClients("web"), 3u);
  EXPECT_EQ(p2_->allocator.ActiveClients("web"), 3u);
  EXPECT_EQ(StoredClients(), 3u);
}

TEST_F(SharedSamplingMemoryTest, ProcessesThatHaveNotReadTheStoreYetDisagreeForAtMostTheCacheAge) {
  Quota(*p1_, kSharedA);
  // p2 reads the store now and sees A: B gets its share of two at once.
  EXPECT_EQ(Quota(*p2_, kSharedB), 2);
  // p1 read the store before B came, and still answers A alone for less than
  // kClientCacheUs.
  clock_.Advance(kClientCacheUs - 1);
  EXPECT_EQ(Quota(*p1_, kSharedA), 5);
  clock_.Advance(1);
  EXPECT_EQ(Quota(*p1_, kSharedA), 3);
}

TEST_F(SharedSamplingMemoryTest, AClientThatMovesToAnotherProcessIsCountedOnce) {
  Quota(*p1_, kSharedA);
  Quota(*p1_, kSharedB);
  clock_.Advance(10'000'000);
  // B's next report reaches p2 (a load balancer moved it): still two clients.
  EXPECT_EQ(Quota(*p2_, kSharedB), 2);
  EXPECT_EQ(Quota(*p1_, kSharedA), 3);
  EXPECT_EQ(p1_->allocator.ActiveClients("web"), 2u);
  EXPECT_EQ(p2_->allocator.ActiveClients("web"), 2u);
  EXPECT_EQ(StoredClients(), 2u);
}

TEST_F(SharedSamplingMemoryTest, AClientThatStopsReportingExpiresEverywhereAndIsDeleted) {
  Quota(*p1_, kSharedA);
  Quota(*p2_, kSharedB);
  clock_.Advance(kClientCacheUs);
  EXPECT_EQ(Quota(*p1_, kSharedA), 3);
  // B stops. A keeps reporting every Interval; once B's last report is more
  // than kActiveClientUs old, A has the whole reservoir on either process.
  for (int i = 0; i < 2; ++i) {
    clock_.Advance(kIntervalSeconds * 1'000'000);
    Quota(*p1_, kSharedA);
  }
  EXPECT_EQ(Quota(*p1_, kSharedA), 5);
  EXPECT_EQ(Quota(*p2_, kSharedA), 5);
  EXPECT_EQ(p2_->allocator.ActiveClients("web"), 1u);
  // The stale entry stays in the store until kClientDeleteAfterUs, then the
  // next read deletes it.
  EXPECT_EQ(StoredClients(), 2u);
  clock_.Advance(kClientDeleteAfterUs);
  Quota(*p2_, kSharedA);
  EXPECT_EQ(StoredClients(), 1u);
}

TEST_F(SharedSamplingMemoryTest, ABurstOfReportsWritesOnceAWriteInterval) {
  Quota(*p1_, kSharedA);
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(100'000);
    Quota(*p1_, kSharedA);
    Quota(*p2_, kSharedA);
  }
  // The stored time is still the first report's.
  auto stored = store_->GetConfig(kClientNamespace, "web/" + kSharedA);
  ASSERT_TRUE(stored.ok());
  auto first_time = [&] {
    auto again = store_->GetConfig(kClientNamespace, "web/" + kSharedA);
    return again.ok() && *again == *stored;
  };
  EXPECT_TRUE(first_time());
  clock_.Set(kSharedT0 + kClientWriteIntervalUs);
  Quota(*p2_, kSharedA);
  EXPECT_FALSE(first_time());
}

TEST_F(SharedSamplingMemoryTest, ClientsOfADeletedRuleAreDeleted) {
  Quota(*p1_, kSharedA);
  Quota(*p1_, kSharedB);
  EXPECT_EQ(StoredClients(), 2u);
  rules_.erase(rules_.begin());  // web
  clock_.Advance(kClientCacheUs);
  const std::vector<StatisticsDocument> docs = {
      StatisticsDocument{"Default", kSharedC, clock_.NowMicros(), Counts{1, 0, 0}}};
  TargetsResult r = p2_->allocator.Report(docs, rules_);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.targets.at(0).reservoir_quota, 1);
  auto entries = store_->ListConfig(kClientNamespace);
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ(entries->front().first, "Default/" + kSharedC);
}

TEST_F(SharedSamplingMemoryTest, ADamagedEntryFailsTheReportRatherThanAnswerWrong) {
  ASSERT_TRUE(store_->PutConfig(kClientNamespace, "web/" + kSharedB, "xyz").ok());
  const std::vector<StatisticsDocument> docs = {
      StatisticsDocument{"web", kSharedA, clock_.NowMicros(), Counts{1, 0, 0}}};
  TargetsResult r = p1_->allocator.Report(docs, rules_);
  EXPECT_EQ(r.status.code(), StatusCode::kCorruption) << r.status.ToString();
}

// The summaries any process answers: every process's reports, summed per
// rule and window.
void ExpectSummedStatistics(SharedSamplingTest& t, FakeClock& clock, SamplingProcess& p1,
                            SamplingProcess& p2) {
  t.Quota(p1, kSharedA, 10);
  t.Quota(p2, kSharedB, 7);
  t.Quota(p2, kSharedC, 5);
  clock.Advance(kWindowUs);
  t.Quota(p1, kSharedA, 1);
  for (SamplingProcess* p : {&p1, &p2}) {
    auto page = p->statistics.Page("", 100);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ASSERT_EQ(page->summaries.size(), 2u);
    EXPECT_EQ(page->summaries[0].rule_name, "web");
    EXPECT_EQ(page->summaries[0].counts.request_count, 22);
    EXPECT_EQ(page->summaries[0].counts.sampled_count, 6);
    EXPECT_EQ(page->summaries[0].counts.borrow_count, 3);
    EXPECT_EQ(page->summaries[1].counts.request_count, 1);
    EXPECT_FALSE(page->next_token);
    // Pages over the sums: one at a time, the same two windows.
    auto first = p->statistics.Page("", 1);
    ASSERT_TRUE(first.ok());
    ASSERT_TRUE(first->next_token);
    auto second = p->statistics.Page(*first->next_token, 1);
    ASSERT_TRUE(second.ok());
    ASSERT_EQ(second->summaries.size(), 1u);
    EXPECT_EQ(second->summaries[0].counts.request_count, 1);
    EXPECT_FALSE(second->next_token);
  }
}

TEST_F(SharedSamplingMemoryTest, StatisticSummariesSumEveryProcess) {
  ExpectSummedStatistics(*this, clock_, *p1_, *p2_);
}

TEST_F(SharedSamplingMemoryTest, StoredStatisticsPastTheRetentionAreSweptAway) {
  Quota(*p1_, kSharedA);
  Quota(*p2_, kSharedB);
  auto stored = store_->ListConfig(kStatisticsNamespace);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->size(), 2u);  // one window of each process
  // p2 stops; an hour and a sweep interval later p1's flush deletes both old
  // windows (p2's too) and keeps its new one.
  clock_.Advance(kStatisticsRetentionUs + kStatisticsSweepUs + kWindowUs);
  Quota(*p1_, kSharedA);
  stored = store_->ListConfig(kStatisticsNamespace);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ(stored->front().first.substr(0, 3), "p1/");
  auto page = p1_->statistics.Page("", 100);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->summaries.size(), 1u);
}

class SharedSamplingRocksDbTest : public SharedSamplingTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("rg_shared_sampling_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    store::RocksDbStoreConfig config;
    config.path = (dir_ / "db").string();
    config.block_cache_bytes = 8 << 20;
    config.sync_writes = false;
    config.clock = &clock_;
    auto opened = store::OpenRocksDbStore(config);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    rocksdb_ = std::move(*opened);
    Start(*rocksdb_);
  }
  void TearDown() override {
    p1_.reset();
    p2_.reset();
    rocksdb_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> rocksdb_;
};

TEST_F(SharedSamplingRocksDbTest, StatisticsSumAndQuotasAddUpOverTheRocksDbEngine) {
  // A reports to p1, B and C to p2.
  ExpectSummedStatistics(*this, clock_, *p1_, *p2_);
  clock_.Advance(kClientCacheUs);
  EXPECT_EQ(Quota(*p1_, kSharedA), 2);
  EXPECT_EQ(Quota(*p2_, kSharedB), 2);
  EXPECT_EQ(Quota(*p2_, kSharedC), 1);
}

}  // namespace
}  // namespace roentgen::sampling
