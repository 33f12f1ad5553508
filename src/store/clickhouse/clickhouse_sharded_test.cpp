// The ClickHouse engine's sharded layout (docs/storage.md, "Sharded
// deployment"): two clickhouse-servers of the test's own on loopback, each a
// shard of the cluster their configs define, the store over Distributed
// tables. Checks that every row of a trace lands on one shard and rows
// spread over both, that two stores entering through different servers and
// writing halves of traces agree on the whole summary, that scans answer as
// the in-memory engine does, that config is read-your-writes from either
// node, that retention deletes on both shards, and that a URL leaving a
// server out is refused.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "filter/filter.h"
#include "graph/trace_graph.h"
#include "store/clickhouse/clickhouse_client.h"
#include "store/clickhouse/clickhouse_schema.h"
#include "store/clickhouse/clickhouse_store.h"
#include "store/clickhouse/testing/clickhouse_test_server.h"
#include "store/clickhouse/testing/node_documents.h"
#include "store/memory/memory_store.h"
#include "store/record_codec.h"
#include "store/store_test_util.h"
#include "xray/segment_parser.h"
#include "xray/trace.h"

namespace roentgen::store::clickhouse {
namespace {

using store::testing::kSecond;
using store::testing::kT0;
using store::testing::MakeFullRecord;
using store::testing::MakeRecord;
using store::testing::MakeService;
using store::testing::MakeTraceId;
using testing::NodeDoc;
using testing::NodeSegmentJson;
using testing::WriterRecord;

class ClickHouseShardedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::vector<testing::ClickHouseTestServer*>> servers =
        testing::SharedClickHouseTestCluster();
    if (!servers.ok() && servers.status().code() == StatusCode::kNotFound) {
      GTEST_SKIP() << servers.status().ToString();
    }
    ASSERT_TRUE(servers.ok()) << servers.status().ToString();
    servers_ = *servers;
    ASSERT_EQ(servers_.size(), 2u);
    database_ = testing::NewTestDatabaseName();
    options_.url = testing::ClusterUrl(servers_, database_);
  }

  // A store entering the cluster through server `first` (0 or 1).
  std::unique_ptr<Store> OpenStore(size_t first = 0) {
    ClickHouseStoreOptions options = options_;
    std::vector<testing::ClickHouseTestServer*> order = servers_;
    if (first == 1) std::swap(order[0], order[1]);
    options.url = testing::ClusterUrl(order, database_);
    Result<std::unique_ptr<Store>> store = OpenClickHouseStore(options);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  // What server `i` answers to `sql` in the test's database (its local
  // tables hold its own rows only), or in `database`.
  std::string OnShard(size_t i, const std::string& sql, std::string database = "") {
    ClickHouseClient client(servers_[i]->Url(database.empty() ? database_ : database));
    Result<std::string> answer = client.Query(sql);
    EXPECT_TRUE(answer.ok()) << sql << ": " << answer.status().ToString();
    return answer.ok() ? *answer : std::string();
  }

  // How many of `ids` have rows in shard `i`'s local `table`.
  size_t IdsOnShard(size_t i, const std::string& table, const std::vector<xray::TraceId>& ids) {
    size_t n = 0;
    for (const xray::TraceId& id : ids) {
      const std::string literal =
          QuoteString(std::string_view(reinterpret_cast<const char*>(id.bytes.data()), 16));
      n += OnShard(i, fmt::format("SELECT count() > 0 FROM {} WHERE trace_id = {}", table,
                                  literal)) == "1\n";
    }
    return n;
  }

  std::vector<testing::ClickHouseTestServer*> servers_;
  std::string database_;
  ClickHouseStoreOptions options_;
};

TEST_F(ClickHouseShardedTest, OpenCreatesLocalAndDistributedTablesOnEveryServer) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(OnShard(i,
                      "SELECT name, engine FROM system.tables WHERE database ="
                      " currentDatabase() ORDER BY name"),
              "config\tDistributed\n"
              "config_local\tReplacingMergeTree\n"
              "documents\tDistributed\n"
              "documents_local\tReplacingMergeTree\n"
              "roentgen_schema_version\tMergeTree\n"
              "trace_times\tDistributed\n"
              "trace_times_local\tReplacingMergeTree\n"
              "trace_times_view_local\tMaterializedView\n"
              "trace_values\tDistributed\n"
              "trace_values_local\tReplacingMergeTree\n"
              "trace_values_view_local\tMaterializedView\n"
              "traces\tDistributed\n"
              "traces_local\tReplacingMergeTree\n")
        << "server " << i;
    ClickHouseClient client(servers_[i]->Url(database_));
    EXPECT_EQ(*ReadSchemaVersion(client), kSchemaVersion);
  }
  // Opening again, through the other server, applies nothing twice.
  store.reset();
  store = OpenStore(1);
  ASSERT_NE(store, nullptr);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(OnShard(i, "SELECT count() FROM roentgen_schema_version"),
              fmt::format("{}\n", kSchemaVersion));
  }
}

TEST_F(ClickHouseShardedTest, RefusesAUrlThatLeavesAServerOutOrIsNotOfTheCluster) {
  // Only the first server listed: the second would get no tables.
  ClickHouseStoreOptions partial = options_;
  partial.url.more_hosts.clear();
  Result<std::unique_ptr<Store>> refused = OpenClickHouseStore(partial);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("has 2 servers"), std::string::npos)
      << refused.status().ToString();
  // The same server twice.
  ClickHouseStoreOptions twice = options_;
  twice.url.more_hosts[0].port = twice.url.port;
  refused = OpenClickHouseStore(twice);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("listed twice"), std::string::npos)
      << refused.status().ToString();
  // A cluster the servers do not define.
  ClickHouseStoreOptions unknown = options_;
  unknown.url.cluster = "no_such_cluster";
  refused = OpenClickHouseStore(unknown);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("no cluster 'no_such_cluster'"), std::string::npos)
      << refused.status().ToString();
  // A server that is not of the cluster (the binary's single server).
  Result<testing::ClickHouseTestServer*> single = testing::SharedClickHouseTestServer();
  ASSERT_TRUE(single.ok()) << single.status().ToString();
  ClickHouseStoreOptions stranger = options_;
  stranger.url.more_hosts.push_back(ClickHouseHost{"127.0.0.1", (*single)->http_port()});
  refused = OpenClickHouseStore(stranger);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("no cluster"), std::string::npos)
      << refused.status().ToString();
  // Nothing was created on any server by the refused opens.
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(OnShard(i,
                      fmt::format("SELECT count() FROM system.databases WHERE name = {}",
                                  QuoteString(database_)),
                      "default"),
              "0\n");
  }
}

// --- Two nodes writing halves of traces -----------------------------------

TEST_F(ClickHouseShardedTest, TwoNodesThroughDifferentServersAgreeAndTracesStayOnOneShard) {
  auto node_a = OpenStore(0);
  auto node_b = OpenStore(1);
  ASSERT_NE(node_a, nullptr);
  ASSERT_NE(node_b, nullptr);
  constexpr int kTraces = 16;
  constexpr int kChildren = 8;  // segments under each root, alternating nodes
  const double t0 = static_cast<double>(kT0) / 1e6;
  std::vector<xray::TraceId> ids;
  std::vector<std::vector<NodeDoc>> all(kTraces), half_a(kTraces), half_b(kTraces);
  for (int t = 0; t < kTraces; ++t) {
    const xray::TraceId id = MakeTraceId(0x87, static_cast<uint8_t>(t));
    ids.push_back(id);
    all[t].push_back(
        {xray::SegmentId{1}, NodeSegmentJson(id, 1, std::nullopt, t0, t0 + 2, "root"), kT0});
    for (int c = 0; c < kChildren; ++c) {
      const uint64_t entity = 100 + c;
      all[t].push_back({xray::SegmentId{entity},
                        NodeSegmentJson(id, entity, 1, t0 + 0.1 * c, t0 + 0.5 + 0.3 * c,
                                        "svc" + std::to_string(c % 3)),
                        kT0 + c + 1});
    }
    for (size_t i = 0; i < all[t].size(); ++i)
      (i % 2 == 0 ? half_a : half_b)[t].push_back(all[t][i]);
  }
  // Each node writes its half, one document of each trace per batch, with
  // the record it alone would compute; both at once.
  auto run = [&](Store* store, const std::vector<std::vector<NodeDoc>>& halves) {
    for (size_t i = 0; i < halves[0].size(); ++i) {
      WriteBatch batch;
      for (int t = 0; t < kTraces; ++t) {
        if (i >= halves[t].size()) continue;
        std::vector<NodeDoc> seen(halves[t].begin(), halves[t].begin() + i + 1);
        batch.documents.push_back(
            {ids[t], halves[t][i].entity, halves[t][i].received_us, halves[t][i].raw});
        batch.traces.push_back(WriterRecord(ids[t], seen));
      }
      Status s = store->Write(batch);
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
  };
  std::thread a(run, node_a.get(), std::cref(half_a));
  std::thread b(run, node_b.get(), std::cref(half_b));
  a.join();
  b.join();

  for (int t = 0; t < kTraces; ++t) {
    const TraceRecord single = WriterRecord(ids[t], all[t]);
    for (Store* node : {node_a.get(), node_b.get()}) {
      Result<TraceRecord> got = node->GetTrace(ids[t]);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(got->summary.segment_count, static_cast<size_t>(kChildren + 1));
      EXPECT_TRUE(got->summary.has_fault);
      EXPECT_EQ(node->GetDocuments(ids[t])->size(), all[t].size());
      // The whole record, byte for byte, but for the revision: one more
      // each write of the trace, whichever node made it, so it depends on
      // how the writes raced.
      EXPECT_GE(got->summary.revision, 2u);
      TraceRecord expected = single;
      expected.summary.revision = got->summary.revision;
      std::string want, have;
      EncodeTraceRecord(expected, want);
      EncodeTraceRecord(*got, have);
      EXPECT_EQ(have, want) << ids[t].ToString();
    }
  }
  // Every trace's rows on exactly one shard, and both shards hold some.
  for (const char* table : {"documents_local", "traces_local"}) {
    const size_t on_0 = IdsOnShard(0, table, ids);
    const size_t on_1 = IdsOnShard(1, table, ids);
    EXPECT_EQ(on_0 + on_1, static_cast<size_t>(kTraces)) << table;
    EXPECT_GT(on_0, 0u) << table;
    EXPECT_GT(on_1, 0u) << table;
  }
  for (const xray::TraceId& id : ids) {
    const std::string literal =
        QuoteString(std::string_view(reinterpret_cast<const char*>(id.bytes.data()), 16));
    for (size_t i = 0; i < 2; ++i) {
      // A shard holds a trace's documents exactly when it holds its records.
      EXPECT_EQ(
          OnShard(i, fmt::format("SELECT count() > 0 FROM documents_local WHERE trace_id = {}",
                                 literal)),
          OnShard(i,
                  fmt::format("SELECT count() > 0 FROM traces_local WHERE trace_id = {}", literal)))
          << id.ToString() << " on server " << i;
    }
  }
  // Stats count the rows of both shards.
  const StoreStats stats = node_a->Stats();
  EXPECT_GE(stats.documents, static_cast<uint64_t>(kTraces * (kChildren + 1)));
  EXPECT_GE(stats.traces, static_cast<uint64_t>(kTraces));
  // A scan through either server finds every trace once, whole.
  for (Store* node : {node_a.get(), node_b.get()}) {
    ScanOptions o;
    o.start_us = kT0;
    o.end_us = kT0 + kSecond;
    o.filter = store::testing::Filter(R"(responsetime >= 2 AND service("svc2") AND fault)");
    std::vector<std::string> found;
    ASSERT_TRUE(node->Scan(o,
                           [&](const TraceRecord& r, int64_t) {
                             found.push_back(r.summary.id.ToString());
                             return true;
                           })
                    .ok());
    std::sort(found.begin(), found.end());
    std::vector<std::string> want;
    for (const xray::TraceId& id : ids) want.push_back(id.ToString());
    std::sort(want.begin(), want.end());
    EXPECT_EQ(found, want);
  }
}

// --- Scans ----------------------------------------------------------------

// Records with the variety the filters tell apart.
std::vector<TraceRecord> ShardedCorpusDataset() {
  std::vector<TraceRecord> records;
  for (int i = 0; i < 48; ++i) {
    TraceRecord r = MakeRecord(MakeTraceId(0xd0, static_cast<uint8_t>(i)), kT0 + (i % 11));
    xray::TraceSummary& s = r.summary;
    s.updated_us = kT0 + 100 + (47 - i) % 13;
    if (i % 3 == 0) s.annotations.push_back({"tier", {{std::string("gold"), {}}}});
    if (i % 3 == 1) s.annotations.push_back({"tier", {{std::string("5"), {}}}});
    s.annotations.push_back({"n", {{static_cast<double>(i % 5), {}}}});
    if (i % 4 == 0) s.annotations.push_back({"flag", {{i % 8 == 0, {}}}});
    s.users = {{"u" + std::to_string(i % 4), {}}};
    if (i % 5 != 4) s.http.status = i % 3 == 0 ? 200 : i % 3 == 1 ? 500 : 429;
    s.http.method = i % 2 == 0 ? "GET" : "POST";
    s.has_fault = i % 4 == 0;
    s.has_error = i % 5 == 0;
    s.has_throttle = i % 7 == 0;
    s.is_partial = i % 9 == 0;
    if (i % 6 != 5) s.response_time_us = int64_t{i} * 250'000 + (i % 3) - 1;
    if (i % 8 != 7) s.duration_us = int64_t{i} * 500'000;
    s.indexed = i % 6 != 5;
    s.root_segment_name = i % 2 == 0 ? "api" : "worker";
    s.service_ids = {MakeService("api", "AWS::EC2::Instance")};
    graph::Node api;
    api.id = MakeService("api", "AWS::EC2::Instance");
    api.root = true;
    graph::Observation o;
    o.start_us = s.start_time_us;
    o.fault = s.has_fault;
    o.error = s.has_error;
    api.observations = {o};
    r.graph.nodes = {api};
    if (i % 2 == 0) {
      graph::Node db;
      db.id = MakeService("db", "AWS::DynamoDB::Table");
      db.inferred = true;
      graph::Observation d;
      d.start_us = s.start_time_us;
      d.throttle = i % 4 == 2;
      db.observations = {d};
      r.graph.nodes.push_back(db);
      r.graph.edges = {{0, 1, {d}}};
    }
    records.push_back(std::move(r));
  }
  records.push_back(MakeFullRecord(MakeTraceId(0xd1, 1), kT0 + 3));
  return records;
}

std::vector<std::string> ShardedCorpusExpressions() {
  std::ifstream in(RG_FILTER_CORPUS);
  EXPECT_TRUE(in.good()) << RG_FILTER_CORPUS;
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    const size_t arrow = line.find(" ==> ");
    out.push_back(arrow == std::string::npos ? line : line.substr(0, arrow));
  }
  for (const char* extra : {"responsetime >= 1.5", "http.status = 500", R"(annotation.tier = "5")",
                            R"(user = "u2" AND annotation.n = 2)", "partial",
                            R"(service("db") AND !fault)", "fault OR error"}) {
    out.push_back(extra);
  }
  return out;
}

TEST_F(ClickHouseShardedTest, ScansThroughTheDistributedTablesAnswerAsTheMemoryEngine) {
  options_.scan_page_rows = 8;  // several pages, each merging both shards
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto memory = NewMemoryStore();
  const std::vector<TraceRecord> records = ShardedCorpusDataset();
  WriteBatch batch;
  batch.traces = records;
  ASSERT_TRUE(store->Write(batch).ok());
  ASSERT_TRUE(memory->Write(batch).ok());
  std::vector<xray::TraceId> ids;
  for (const TraceRecord& r : records) ids.push_back(r.summary.id);
  EXPECT_GT(IdsOnShard(0, "traces_local", ids), 0u);
  EXPECT_GT(IdsOnShard(1, "traces_local", ids), 0u);
  auto scan = [](Store& s, const ScanOptions& o) {
    std::vector<std::string> out;
    auto p = s.Scan(o, [&](const TraceRecord& r, int64_t t) {
      out.push_back(fmt::format("{}@{}", r.summary.id.ToString(), t));
      return true;
    });
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return out;
  };
  size_t compiled = 0, nonempty = 0;
  for (const std::string& expr : ShardedCorpusExpressions()) {
    Result<filter::CompiledFilter> f = filter::CompileFilter(expr);
    if (!f.ok()) continue;  // the corpus's invalid expressions
    ++compiled;
    auto shared = std::make_shared<const filter::CompiledFilter>(std::move(*f));
    for (bool descending : {true, false}) {
      ScanOptions o;
      o.start_us = kT0;
      o.end_us = kT0 + 200;
      o.descending = descending;
      o.filter = shared;
      const std::vector<std::string> want = scan(*memory, o);
      nonempty += !want.empty();
      EXPECT_EQ(scan(*store, o), want) << expr << (descending ? "" : " (ascending)");
    }
  }
  EXPECT_GT(compiled, 100u);
  EXPECT_GT(nonempty, 50u);
}

// --- Config and retention -------------------------------------------------

TEST_F(ClickHouseShardedTest, ConfigIsReadYourWritesFromEitherNode) {
  auto node_a = OpenStore(0);
  auto node_b = OpenStore(1);
  ASSERT_NE(node_a, nullptr);
  ASSERT_NE(node_b, nullptr);
  constexpr int kKeys = 12;
  for (int k = 0; k < kKeys; ++k) {
    Store* writer = k % 2 == 0 ? node_a.get() : node_b.get();
    Store* reader = k % 2 == 0 ? node_b.get() : node_a.get();
    const std::string key = "rule" + std::to_string(k);
    ASSERT_TRUE(writer->PutConfig("sampling", key, "v1").ok());
    EXPECT_EQ(*reader->GetConfig("sampling", key), "v1") << key;  // at once, the other node
    ASSERT_TRUE(reader->PutConfig("sampling", key, "v2").ok());
    EXPECT_EQ(*writer->GetConfig("sampling", key), "v2") << key;
  }
  ASSERT_TRUE(node_b->DeleteConfig("sampling", "rule3").ok());
  EXPECT_EQ(node_a->GetConfig("sampling", "rule3").status().code(), StatusCode::kNotFound);
  for (Store* node : {node_a.get(), node_b.get()}) {
    auto list = node->ListConfig("sampling");
    ASSERT_TRUE(list.ok()) << list.status().ToString();
    EXPECT_EQ(list->size(), static_cast<size_t>(kKeys - 1));
  }
  // The objects are spread over both shards.
  const std::string on_0 = OnShard(0, "SELECT uniqExact(key) FROM config_local");
  const std::string on_1 = OnShard(1, "SELECT uniqExact(key) FROM config_local");
  EXPECT_NE(on_0, "0\n");
  EXPECT_NE(on_1, "0\n");
  EXPECT_EQ(std::stoi(on_0) + std::stoi(on_1), kKeys);
}

TEST_F(ClickHouseShardedTest, RetentionDeletesOldTracesOnEveryShard) {
  auto node_a = OpenStore(0);
  auto node_b = OpenStore(1);
  ASSERT_NE(node_a, nullptr);
  ASSERT_NE(node_b, nullptr);
  constexpr int64_t kDay = 86'400 * kSecond;
  const int64_t cutoff = (kT0 / kDay) * kDay + kDay + 1000;
  std::vector<xray::TraceId> old_ids, young_ids;
  WriteBatch batch;
  for (int i = 0; i < 16; ++i) {
    const xray::TraceId old_id = MakeTraceId(0x88, static_cast<uint8_t>(i));
    const xray::TraceId young_id = MakeTraceId(0x89, static_cast<uint8_t>(i));
    old_ids.push_back(old_id);
    young_ids.push_back(young_id);
    // Old ones on both sides of the day boundary: whole days dropped, the
    // rest deleted by mutation.
    const int64_t old_start = i % 2 == 0 ? cutoff - kDay : cutoff - 10;
    batch.documents.push_back({old_id, xray::SegmentId{1}, old_start, "old"});
    batch.traces.push_back(MakeRecord(old_id, old_start));
    batch.documents.push_back({young_id, xray::SegmentId{1}, cutoff, "young"});
    batch.traces.push_back(MakeRecord(young_id, cutoff + i));
  }
  ASSERT_TRUE(node_a->Write(batch).ok());
  ASSERT_GT(IdsOnShard(0, "traces_local", old_ids), 0u);
  ASSERT_GT(IdsOnShard(1, "traces_local", old_ids), 0u);

  Status s = node_b->DeleteOlderThan(cutoff);
  ASSERT_TRUE(s.ok()) << s.ToString();
  for (size_t i = 0; i < 2; ++i) {
    for (const char* table : {"traces_local", "documents_local"}) {
      EXPECT_EQ(IdsOnShard(i, table, old_ids), 0u) << table << " on server " << i;
    }
    EXPECT_EQ(OnShard(i,
                      "SELECT count() FROM system.tables WHERE database = currentDatabase()"
                      " AND name LIKE 'retention_%'"),
              "0\n");
  }
  EXPECT_EQ(IdsOnShard(0, "traces_local", young_ids) + IdsOnShard(1, "traces_local", young_ids),
            young_ids.size());
  for (Store* node : {node_a.get(), node_b.get()}) {
    for (const xray::TraceId& id : old_ids) {
      EXPECT_EQ(node->GetTrace(id).status().code(), StatusCode::kNotFound);
    }
    for (const xray::TraceId& id : young_ids) {
      EXPECT_TRUE(node->GetTrace(id).ok()) << id.ToString();
      EXPECT_EQ(node->GetDocuments(id)->size(), 1u);
    }
  }
}

}  // namespace
}  // namespace roentgen::store::clickhouse
