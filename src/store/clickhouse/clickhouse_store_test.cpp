// The ClickHouse engine's own tests (the Store contract itself is checked by
// store_conformance_test.cpp): the schema and its versions, two stores over
// one database writing halves of a trace at once, and the filter pushdown —
// the SQL it produces, and that scans answer as the in-memory engine does
// for every expression of the filter corpus.
#include "store/clickhouse/clickhouse_store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "filter/filter.h"
#include "graph/trace_graph.h"
#include "store/clickhouse/clickhouse_schema.h"
#include "store/clickhouse/filter_sql.h"
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

class ClickHouseStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<testing::ClickHouseTestServer*> server = testing::SharedClickHouseTestServer();
    if (!server.ok() && server.status().code() == StatusCode::kNotFound) {
      GTEST_SKIP() << server.status().ToString();
    }
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = *server;
    Result<std::string> db = testing::NewTestDatabase();
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    options_.url = server_->Url(*db);
  }

  std::unique_ptr<Store> OpenStore() {
    Result<std::unique_ptr<Store>> store = OpenClickHouseStore(options_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(*store) : nullptr;
  }

  testing::ClickHouseTestServer* server_ = nullptr;
  ClickHouseStoreOptions options_;
};

// The last byte of the id of every trace a scan answers, in order.
std::vector<int> ScanTails(Store& store, const ScanOptions& o) {
  std::vector<int> tails;
  Result<ScanProgress> progress = store.Scan(o, [&](const TraceRecord& r, int64_t) {
    tails.push_back(r.summary.id.bytes[15]);
    return true;
  });
  EXPECT_TRUE(progress.ok()) << progress.status().ToString();
  return tails;
}

TEST_F(ClickHouseStoreTest, OpenCreatesTheSchemaAndRecordsItsVersion) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  ClickHouseClient client(options_.url);
  EXPECT_EQ(*ReadSchemaVersion(client), kSchemaVersion);
  Result<std::string> tables = client.Query(
      "SELECT name FROM system.tables WHERE database = currentDatabase() ORDER BY name");
  ASSERT_TRUE(tables.ok()) << tables.status().ToString();
  EXPECT_EQ(*tables,
            "config\ndocuments\nroentgen_schema_version\ntrace_times\ntrace_times_view\n"
            "trace_values\ntrace_values_view\ntraces\n");
  // Opening again applies nothing twice.
  store.reset();
  store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*client.Query("SELECT count() FROM roentgen_schema_version"),
            fmt::format("{}\n", kSchemaVersion));
}

TEST_F(ClickHouseStoreTest, MigrationsApplyInOrderFromTheVersionHeld) {
  ClickHouseClient client(options_.url);
  std::vector<Migration> migrations = SchemaMigrations();
  ASSERT_TRUE(MigrateSchema(client, migrations).ok());
  // A version this binary does not ship: only it runs on a database at ours.
  const uint32_t next = kSchemaVersion + 1;
  migrations.push_back(
      {next,
       {"CREATE TABLE IF NOT EXISTS next_only (x UInt8) ENGINE = MergeTree ORDER BY x",
        "INSERT INTO next_only VALUES (7)"}});
  Status s = MigrateSchema(client, migrations);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*ReadSchemaVersion(client), next);
  ASSERT_TRUE(MigrateSchema(client, migrations).ok());  // nothing left to apply
  EXPECT_EQ(*client.Query("SELECT count() FROM roentgen_schema_version"),
            fmt::format("{}\n", next));
  EXPECT_EQ(*client.Query("SELECT count() FROM system.tables WHERE database ="
                          " currentDatabase() AND name = 'next_only'"),
            "1\n");
  EXPECT_EQ(*client.Query("SELECT sum(x) FROM next_only"), "7\n");  // ran once
  // This binary now refuses the database, saying why.
  Result<std::unique_ptr<Store>> refused = OpenClickHouseStore(options_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find(fmt::format(
                "schema version {}, newer than this binary knows ({})", next, kSchemaVersion)),
            std::string::npos)
      << refused.status().ToString();
}

// A database written at version 1 (no `trace_times`) is migrated when a
// store opens it, and its traces are found by scans: the migration copies
// them into the new table.
TEST_F(ClickHouseStoreTest, TracesWrittenBeforeTraceTimesAreScannedAfterTheMigration) {
  {
    auto store = OpenStore();
    ASSERT_NE(store, nullptr);
    WriteBatch batch;
    for (int i = 0; i < 5; ++i) {
      TraceRecord r = MakeRecord(MakeTraceId(0x7d, static_cast<uint8_t>(i)), kT0 + i);
      r.summary.users = {{fmt::format("u{}", i), {}}};
      batch.traces.push_back(r);
    }
    ASSERT_TRUE(store->Write(batch).ok());
  }
  // Back to version 1: what a database of the first release held.
  ClickHouseClient client(options_.url);
  for (const char* statement : {"DROP TABLE trace_times_view", "DROP TABLE trace_times",
                                "DROP TABLE trace_values_view", "DROP TABLE trace_values",
                                "ALTER TABLE roentgen_schema_version DELETE WHERE version > 1"}) {
    ASSERT_TRUE(client.Execute(statement).ok()) << statement;
  }
  for (int tries = 0; *ReadSchemaVersion(client) != 1u; ++tries) {  // the mutation is async
    ASSERT_LT(tries, 500);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*ReadSchemaVersion(client), kSchemaVersion);
  ScanOptions o;
  o.start_us = kT0;
  o.end_us = kT0 + 100;
  std::vector<int> tails = ScanTails(*store, o);
  EXPECT_EQ(tails, (std::vector<int>{4, 3, 2, 1, 0}));
  // `trace_values` has their users too.
  o.filter = store::testing::Filter(R"(user = "u3")");
  tails = ScanTails(*store, o);
  EXPECT_EQ(tails, (std::vector<int>{3}));
  o.filter = nullptr;
  // And what is written now reaches it through the view.
  WriteBatch batch;
  batch.traces.push_back(MakeRecord(MakeTraceId(0x7d, 9), kT0 + 9));
  ASSERT_TRUE(store->Write(batch).ok());
  tails = ScanTails(*store, o);
  EXPECT_EQ(tails, (std::vector<int>{9, 4, 3, 2, 1, 0}));
}

TEST_F(ClickHouseStoreTest, UnreachableServerIsUnavailable) {
  options_.url.port = 1;  // nothing listens there
  options_.client.connect_timeout = std::chrono::milliseconds(500);
  Result<std::unique_ptr<Store>> store = OpenClickHouseStore(options_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kUnavailable) << store.status().ToString();
}

TEST_F(ClickHouseStoreTest, DamagedRecordIsCorruption) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const xray::TraceId id = MakeTraceId(0x11, 1);
  WriteBatch batch;
  batch.traces.push_back(MakeRecord(id, kT0));
  ASSERT_TRUE(store->Write(batch).ok());
  // A newer row whose record does not decode (as damage on disk would read).
  ClickHouseClient client(options_.url);
  ASSERT_TRUE(client
                  .Execute(fmt::format("INSERT INTO traces (trace_id, start_us, version, "
                                       "inserted_us, record) VALUES ({}, {}, {}, {}, 'damaged')",
                                       QuoteString(std::string_view(
                                           reinterpret_cast<const char*>(id.bytes.data()), 16)),
                                       kT0, uint64_t{1} << 62, INT64_MAX))
                  .ok());
  EXPECT_EQ(store->GetTrace(id).status().code(), StatusCode::kCorruption);
  ScanOptions o;
  o.start_us = kT0;
  o.end_us = kT0 + 1;
  auto scan = store->Scan(o, [](const TraceRecord&, int64_t) { return true; });
  EXPECT_EQ(scan.status().code(), StatusCode::kCorruption);
  EXPECT_GE(store->Stats().read_errors.corruption, 2u);
}

// Retention drops whole days at once and deletes the rest by mutation; a
// trace goes with all its rows, those of its older versions in later days
// too, and a trace whose newest record is young stays as it is now.
TEST_F(ClickHouseStoreTest, RetentionDropsOldDaysAndEveryRowOfOldTraces) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  constexpr int64_t kDay = 86'400 * kSecond;
  const int64_t day_a = (kT0 / kDay) * kDay;  // a day that goes whole
  const int64_t day_b = day_a + kDay;         // the cutoff's day
  const int64_t cutoff = day_b + 1000;
  auto put = [&](const xray::TraceId& id, int64_t start, uint32_t revision) {
    TraceRecord r = MakeRecord(id, start);
    r.summary.revision = revision;
    WriteBatch batch;
    batch.documents.push_back({id, xray::SegmentId{revision}, start, "doc"});
    batch.traces.push_back(r);
    ASSERT_TRUE(store->Write(batch).ok());
  };
  const xray::TraceId old_only = MakeTraceId(0x12, 1);    // day A
  const xray::TraceId moved_back = MakeTraceId(0x12, 2);  // day B, then day A
  const xray::TraceId moved_on = MakeTraceId(0x12, 3);    // day A, then after the cutoff
  const xray::TraceId young = MakeTraceId(0x12, 4);       // after the cutoff
  const xray::TraceId boundary = MakeTraceId(0x12, 5);    // day B, before the cutoff
  put(old_only, day_a + 5, 1);
  put(moved_back, day_b + 5000, 1);
  put(moved_back, day_a + 7, 2);
  put(moved_on, day_a + 9, 1);
  put(moved_on, cutoff + 10, 2);
  put(young, cutoff, 1);
  put(boundary, day_b + 999, 1);
  ASSERT_TRUE(store->DeleteOlderThan(cutoff).ok());

  ClickHouseClient client(options_.url);
  for (const char* table : {"traces", "trace_times"}) {
    EXPECT_EQ(*client.Query(fmt::format("SELECT count() FROM system.parts WHERE database ="
                                        " currentDatabase() AND table = '{}' AND active"
                                        " AND partition = '{}'",
                                        table, day_a / kDay)),
              "0\n")
        << table;
  }
  for (const xray::TraceId& gone : {old_only, moved_back, boundary}) {
    EXPECT_EQ(store->GetTrace(gone).status().code(), StatusCode::kNotFound) << gone.ToString();
    EXPECT_EQ(store->GetDocuments(gone)->size(), 0u) << gone.ToString();
    EXPECT_EQ(
        *client.Query(fmt::format(
            "SELECT count() FROM trace_times WHERE trace_id = {}",
            QuoteString(std::string_view(reinterpret_cast<const char*>(gone.bytes.data()), 16)))),
        "0\n")
        << gone.ToString();
  }
  // The young traces' newest rows stay (moved_on's older row went with day A).
  EXPECT_EQ(*client.Query("SELECT count() FROM trace_times"), "2\n");
  Result<TraceRecord> kept = store->GetTrace(moved_on);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->summary.revision, 2u);
  EXPECT_EQ(store->GetDocuments(moved_on)->size(), 2u);
  EXPECT_TRUE(store->GetTrace(young).ok());
  ScanOptions o;
  o.start_us = INT64_MIN;
  o.end_us = INT64_MAX;
  std::vector<int> tails = ScanTails(*store, o);
  EXPECT_EQ(tails, (std::vector<int>{3, 4}));
  // Nothing left to delete: a second run changes nothing.
  ASSERT_TRUE(store->DeleteOlderThan(cutoff).ok());
  EXPECT_TRUE(store->GetTrace(young).ok());
  EXPECT_EQ(*client.Query("SELECT count() FROM system.tables WHERE database ="
                          " currentDatabase() AND name LIKE 'retention_%'"),
            "0\n");
}

// --- Two nodes -------------------------------------------------------------

TEST_F(ClickHouseStoreTest, TwoNodesWritingHalvesOfTracesAgreeOnTheWholeSummary) {
  auto node_a = OpenStore();
  auto node_b = OpenStore();
  ASSERT_NE(node_a, nullptr);
  ASSERT_NE(node_b, nullptr);
  constexpr int kTraces = 6;
  constexpr int kChildren = 12;  // segments under each root, alternating nodes
  const double t0 = static_cast<double>(kT0) / 1e6;
  std::vector<std::vector<NodeDoc>> all(kTraces), half_a(kTraces), half_b(kTraces);
  for (int t = 0; t < kTraces; ++t) {
    const xray::TraceId id = MakeTraceId(0x77, static_cast<uint8_t>(t));
    all[t].push_back(
        {xray::SegmentId{1}, NodeSegmentJson(id, 1, std::nullopt, t0, t0 + 2, "root"), kT0});
    for (int c = 0; c < kChildren; ++c) {
      const uint64_t entity = 100 + c;
      // The last child ends latest: the trace's duration needs it.
      all[t].push_back({xray::SegmentId{entity},
                        NodeSegmentJson(id, entity, 1, t0 + 0.1 * c, t0 + 0.5 + 0.3 * c,
                                        "svc" + std::to_string(c % 3)),
                        kT0 + c + 1});
    }
    for (size_t i = 0; i < all[t].size(); ++i)
      (i % 2 == 0 ? half_a : half_b)[t].push_back(all[t][i]);
  }
  // Each node writes its half one document per batch, with the record it
  // alone would compute, both at once.
  auto run = [&](Store* store, const std::vector<std::vector<NodeDoc>>& halves) {
    for (size_t i = 0; i < halves[0].size(); ++i) {
      for (int t = 0; t < kTraces; ++t) {
        if (i >= halves[t].size()) continue;
        const xray::TraceId id = MakeTraceId(0x77, static_cast<uint8_t>(t));
        std::vector<NodeDoc> seen(halves[t].begin(), halves[t].begin() + i + 1);
        WriteBatch batch;
        batch.documents.push_back(
            {id, halves[t][i].entity, halves[t][i].received_us, halves[t][i].raw});
        batch.traces.push_back(WriterRecord(id, seen));
        Status s = store->Write(batch);
        EXPECT_TRUE(s.ok()) << s.ToString();
      }
    }
  };
  std::thread a(run, node_a.get(), std::cref(half_a));
  std::thread b(run, node_b.get(), std::cref(half_b));
  a.join();
  b.join();

  for (int t = 0; t < kTraces; ++t) {
    const xray::TraceId id = MakeTraceId(0x77, static_cast<uint8_t>(t));
    const TraceRecord single = WriterRecord(id, all[t]);  // one node that saw everything
    for (Store* node : {node_a.get(), node_b.get()}) {
      Result<TraceRecord> got = node->GetTrace(id);
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      EXPECT_EQ(got->summary.segment_count, single.summary.segment_count);
      EXPECT_EQ(got->summary.segment_count, static_cast<size_t>(kChildren + 1));
      EXPECT_EQ(got->summary.start_time_us, single.summary.start_time_us);
      EXPECT_EQ(got->summary.duration_us, single.summary.duration_us);
      EXPECT_EQ(got->summary.response_time_us, single.summary.response_time_us);
      EXPECT_EQ(got->summary.root_segment_name, "root");
      EXPECT_TRUE(got->summary.has_fault);
      EXPECT_EQ(got->summary.http.status, 503);
      EXPECT_EQ(got->summary.service_ids.size(), single.summary.service_ids.size());
      EXPECT_EQ(got->graph.nodes.size(), single.graph.nodes.size());
      EXPECT_EQ(node->GetDocuments(id)->size(), all[t].size());
      // The whole record, byte for byte (the batches' updated_us is the
      // single writer's), but for the revision: one more each write of the
      // trace, whichever node made it, so it depends on how the writes
      // raced (at least one per batch that met a stored record).
      EXPECT_GE(got->summary.revision, 2u);
      TraceRecord expected = single;
      expected.summary.revision = got->summary.revision;
      std::string want, have;
      EncodeTraceRecord(expected, want);
      EncodeTraceRecord(*got, have);
      EXPECT_EQ(have, want) << id.ToString();
    }
    // Scans agree as well: the summary a filter sees is the whole one.
    ScanOptions o;
    o.start_us = kT0;
    o.end_us = kT0 + kSecond;
    o.filter = store::testing::Filter(R"(responsetime >= 2 AND service("svc2") AND fault)");
    size_t found = 0;
    ASSERT_TRUE(node_b
                    ->Scan(o,
                           [&](const TraceRecord& r, int64_t) {
                             found += r.summary.id == id;
                             return true;
                           })
                    .ok());
    EXPECT_EQ(found, 1u);
  }
}

// A completed segment is kept over its in-progress version whichever node
// stores which, and in whichever order they arrive.
TEST_F(ClickHouseStoreTest, CompletedDocumentWinsOverInProgressFromAnotherNode) {
  auto node_a = OpenStore();
  auto node_b = OpenStore();
  ASSERT_NE(node_a, nullptr);
  ASSERT_NE(node_b, nullptr);
  const xray::TraceId id = MakeTraceId(0x78, 1);
  const double t0 = static_cast<double>(kT0) / 1e6;
  const std::string done = NodeSegmentJson(id, 1, std::nullopt, t0, t0 + 1, "api");
  const std::string in_progress = fmt::format(
      R"({{"name":"api","id":"{:016x}","trace_id":"{}","start_time":{:.6f},"in_progress":true}})",
      1, id.ToString(), t0);
  WriteBatch first;
  first.documents.push_back({id, xray::SegmentId{1}, kT0 + 10, done});
  first.traces.push_back(WriterRecord(id, {{xray::SegmentId{1}, done, kT0 + 10}}));
  ASSERT_TRUE(node_a->Write(first).ok());
  WriteBatch late;  // received later, by the other node
  late.documents.push_back({id, xray::SegmentId{1}, kT0 + 20, in_progress});
  late.traces.push_back(WriterRecord(id, {{xray::SegmentId{1}, in_progress, kT0 + 20}}));
  ASSERT_TRUE(node_b->Write(late).ok());
  for (Store* node : {node_a.get(), node_b.get()}) {
    auto docs = node->GetDocuments(id);
    ASSERT_EQ(docs->size(), 1u);
    EXPECT_EQ((*docs)[0].raw, done);
    Result<TraceRecord> got = node->GetTrace(id);
    ASSERT_TRUE(got.ok());
    EXPECT_FALSE(got->summary.is_partial);
    EXPECT_EQ(got->summary.duration_us, kSecond);
    // Both writers sent revision 1 (a writer over a store that derives
    // records keeps no trace between batches): each write of a stored
    // trace takes the next revision, whichever node made the last.
    EXPECT_EQ(got->summary.revision, 2u);
  }
}

// A document written without a record (a batch from a writer that did not
// compute one) still updates the trace: its record is computed from every
// stored document, keeping the trace's revision line and `indexed`.
TEST_F(ClickHouseStoreTest, DocumentWithoutRecordUpdatesTheTrace) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  const xray::TraceId id = MakeTraceId(0x79, 1);
  const double t0 = static_cast<double>(kT0) / 1e6;
  const std::string root = NodeSegmentJson(id, 1, std::nullopt, t0, t0 + 1, "api");
  const std::string child = NodeSegmentJson(id, 2, 1, t0 + 0.5, t0 + 3, "db");
  WriteBatch first;
  first.documents.push_back({id, xray::SegmentId{1}, kT0, root});
  TraceRecord record = WriterRecord(id, {{xray::SegmentId{1}, root, kT0}});
  record.summary.indexed = false;
  record.summary.revision = 5;
  first.traces.push_back(record);
  ASSERT_TRUE(store->Write(first).ok());
  WriteBatch second;
  second.documents.push_back({id, xray::SegmentId{2}, kT0 + 1, child});
  ASSERT_TRUE(store->Write(second).ok());
  Result<TraceRecord> got = store->GetTrace(id);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->summary.segment_count, 2u);
  EXPECT_EQ(got->summary.duration_us, 3 * kSecond);
  EXPECT_EQ(got->summary.revision, 6u);
  EXPECT_FALSE(got->summary.indexed);
}

// What a scan sees (docs/storage.md): traces created after it started are
// not passed, on any page; a trace updated while it runs is passed at most
// once, even when its sort time moves into a page still to come.
TEST_F(ClickHouseStoreTest, ScanLeavesOutNewTracesAndPassesMovedOnesOnce) {
  options_.scan_page_rows = 16;
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  WriteBatch batch;
  for (int i = 0; i < 100; ++i) {
    batch.traces.push_back(MakeRecord(MakeTraceId(0x7a, static_cast<uint8_t>(i)), kT0 + i));
  }
  ASSERT_TRUE(store->Write(batch).ok());
  ScanOptions o;
  o.start_us = kT0;
  o.end_us = kT0 + 1000;
  o.descending = false;
  std::vector<int> seen;
  auto progress = store->Scan(o, [&](const TraceRecord& r, int64_t) {
    seen.push_back(r.summary.id.bytes[15]);
    if (seen.size() == 1) {
      WriteBatch during;
      for (int i = 0; i < 10; ++i) {  // new, after every page's position
        during.traces.push_back(
            MakeRecord(MakeTraceId(0x7b, static_cast<uint8_t>(i)), kT0 + 500 + i));
      }
      TraceRecord moved = MakeRecord(r.summary.id, kT0 + 900);  // taken already
      moved.summary.revision = 2;
      during.traces.push_back(moved);
      EXPECT_TRUE(store->Write(during).ok());
    }
    return true;
  });
  ASSERT_TRUE(progress.ok()) << progress.status().ToString();
  ASSERT_EQ(seen.size(), 100u);
  std::vector<int> sorted = seen;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 100; ++i) EXPECT_EQ(sorted[i], i);
  // A scan started now sees them.
  size_t after = 0;
  ASSERT_TRUE(store->Scan(o, [&](const TraceRecord&, int64_t) { return ++after > 0; }).ok());
  EXPECT_EQ(after, 110u);
}

// A trace rewritten with earlier starts and new values has rows of several
// versions in several places: a scan answers it once, in its newest row's
// place, decided on its newest record, also when pages end between rows of
// one trace.
TEST_F(ClickHouseStoreTest, ScanAnswersEachTraceAtItsNewestRowOnly) {
  options_.scan_page_rows = 3;
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  constexpr int kTraces = 24;
  auto record_of = [](int i, int version) {
    TraceRecord r = MakeRecord(MakeTraceId(0x7c, static_cast<uint8_t>(i)),
                               kT0 + 1000 + 10 * i - 1000 * version);
    r.summary.revision = static_cast<uint32_t>(version + 1);
    // Faulty in every version but the newest, for the odd traces.
    r.summary.has_fault = i % 2 == 1 && version < 2;
    return r;
  };
  for (int version = 0; version < 3; ++version) {
    WriteBatch batch;
    for (int i = 0; i < kTraces; ++i) batch.traces.push_back(record_of(i, version));
    ASSERT_TRUE(store->Write(batch).ok());
  }
  // The first traces written again as they are: two rows in one place.
  WriteBatch again;
  for (int i = 0; i < 4; ++i) again.traces.push_back(record_of(i, 2));
  ASSERT_TRUE(store->Write(again).ok());
  for (bool descending : {false, true}) {
    ScanOptions o;
    o.start_us = kT0 - 5000;
    o.end_us = kT0 + 5000;
    o.descending = descending;
    std::vector<int64_t> times;
    std::vector<int> tails;
    ASSERT_TRUE(store
                    ->Scan(o,
                           [&](const TraceRecord& r, int64_t t) {
                             times.push_back(t);
                             tails.push_back(r.summary.id.bytes[15]);
                             EXPECT_EQ(r.summary.start_time_us, t);
                             return true;
                           })
                    .ok());
    std::vector<int> expected_tails;
    std::vector<int64_t> expected_times;
    for (int i = 0; i < kTraces; ++i) {
      expected_tails.push_back(descending ? kTraces - 1 - i : i);
      expected_times.push_back(record_of(expected_tails.back(), 2).summary.start_time_us);
    }
    EXPECT_EQ(tails, expected_tails) << "descending " << descending;
    EXPECT_EQ(times, expected_times) << "descending " << descending;
    // The older versions were faulty; the newest are not.
    o.filter = store::testing::Filter("fault");
    size_t faulty = 0;
    ASSERT_TRUE(store->Scan(o, [&](const TraceRecord&, int64_t) { return ++faulty > 0; }).ok());
    EXPECT_EQ(faulty, 0u) << "descending " << descending;
  }
}

// Scans by start time read their range in widening windows from its leading
// edge: traces spread over hours, with empty stretches, come back in order,
// each once, from whole scans and from scans resumed page by page, in both
// directions and by update time too.
TEST_F(ClickHouseStoreTest, ScansOverHoursComeBackInOrderWindowByWindow) {
  options_.scan_page_rows = 8;
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  constexpr int64_t kMinute = 60'000'000;
  std::vector<int64_t> starts;
  WriteBatch batch;
  for (int i = 0; i < 150; ++i) {
    // A trace every 73 s, then none for two hours, then the rest.
    const int64_t start = kT0 + int64_t{i} * 73'000'000 + (i >= 100 ? 120 * kMinute : 0);
    TraceRecord r = MakeRecord(MakeTraceId(0x7e, static_cast<uint8_t>(i)), start);
    r.summary.updated_us = start + 1000;
    r.summary.has_fault = i % 3 == 0;
    starts.push_back(start);
    batch.traces.push_back(r);
  }
  ASSERT_TRUE(store->Write(batch).ok());
  for (TimeRangeType type : {TimeRangeType::kTraceId, TimeRangeType::kEvent}) {
    for (bool descending : {true, false}) {
      for (bool faults : {false, true}) {
        for (bool resumed : {false, true}) {
          ScanOptions o;
          o.start_us = kT0 - 30 * kMinute;
          o.end_us = kT0 + 24 * 60 * kMinute;
          o.time_range_type = type;
          o.descending = descending;
          if (faults) o.filter = store::testing::Filter("fault");
          std::vector<int> expected;
          for (int i = 0; i < 150; ++i) {
            if (!faults || i % 3 == 0) expected.push_back(i);
          }
          if (descending) std::reverse(expected.begin(), expected.end());
          std::vector<int> got;
          for (int scans = 0;; ++scans) {
            ASSERT_LT(scans, 200);
            size_t taken = 0;
            auto progress = store->Scan(o, [&](const TraceRecord& r, int64_t t) {
              if (resumed && taken == 7) return false;
              ++taken;
              const int i = r.summary.id.bytes[15];
              got.push_back(i);
              EXPECT_EQ(t, type == TimeRangeType::kTraceId ? starts[i] : starts[i] + 1000);
              return true;
            });
            ASSERT_TRUE(progress.ok()) << progress.status().ToString();
            if (!progress->stopped_at) break;
            o.resume_after = progress->last;
          }
          EXPECT_EQ(got, expected) << "type " << static_cast<int>(type) << " descending "
                                   << descending << " faults " << faults << " resumed " << resumed;
        }
      }
    }
  }
  // Ranges that start or end beyond int64's reach read every row.
  ScanOptions all;
  all.start_us = INT64_MIN;
  all.end_us = INT64_MAX;
  for (bool descending : {true, false}) {
    all.descending = descending;
    size_t n = 0;
    ASSERT_TRUE(store->Scan(all, [&](const TraceRecord&, int64_t) { return ++n > 0; }).ok());
    EXPECT_EQ(n, 150u) << descending;
  }
}

// A filter on one user or string annotation reads that value's rows of
// `trace_values`; rows of older versions stay there, and the scan decides
// on each trace's newest record: a value a trace no longer has finds it no
// more, in whatever place its older rows are.
TEST_F(ClickHouseStoreTest, ValueLookupsDecideOnTheNewestRecord) {
  options_.scan_page_rows = 4;
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto record_of = [](int i, const std::string& email, int64_t start, uint32_t revision) {
    TraceRecord r = MakeRecord(MakeTraceId(0x7f, static_cast<uint8_t>(i)), start);
    r.summary.annotations = {{"email", {{email, {}}}}};
    r.summary.users = {{email, {}}};
    r.summary.revision = revision;
    return r;
  };
  WriteBatch first;
  for (int i = 0; i < 20; ++i) first.traces.push_back(record_of(i, "old@x", kT0 + 100 * i, 1));
  ASSERT_TRUE(store->Write(first).ok());
  // The even traces change their value: half in place, half also moving.
  WriteBatch second;
  for (int i = 0; i < 20; i += 2) {
    second.traces.push_back(record_of(i, "new@x", kT0 + 100 * i - (i % 4 == 0 ? 50 : 0), 2));
  }
  ASSERT_TRUE(store->Write(second).ok());
  auto scan = [&](std::string_view expr, bool descending) {
    ScanOptions o;
    o.start_us = kT0 - 1000;
    o.end_us = kT0 + 10'000;
    o.descending = descending;
    o.filter = store::testing::Filter(expr);
    return ScanTails(*store, o);
  };
  for (bool descending : {false, true}) {
    std::vector<int> odd, even;
    for (int i = 0; i < 20; ++i) (i % 2 == 0 ? even : odd).push_back(i);
    if (descending) {
      std::reverse(odd.begin(), odd.end());
      std::reverse(even.begin(), even.end());
    }
    EXPECT_EQ(scan(R"(annotation.email = "old@x")", descending), odd);
    EXPECT_EQ(scan(R"(annotation.email = "new@x")", descending), even);
    EXPECT_EQ(scan(R"(user = "old@x" AND annotation.email = "old@x")", descending), odd);
    EXPECT_EQ(scan(R"(fault AND user = "new@x")", descending), std::vector<int>{});
    EXPECT_EQ(scan(R"(annotation.email = "nobody")", descending), std::vector<int>{});
  }
}

// --- Pushdown ------------------------------------------------------------

std::string Sql(std::string_view expr) {
  auto f = store::testing::Filter(expr);
  return f ? PushdownCondition(f->bound()) : "<does not compile>";
}

TEST(FilterSqlTest, ConjunctsBecomeConditionsOnColumns) {
  EXPECT_EQ(Sql(""), "");
  EXPECT_EQ(Sql("fault"), "(fault = 1)");
  EXPECT_EQ(Sql("error = false AND throttle"), "(error = 0) AND (throttle = 1)");
  EXPECT_EQ(Sql(R"(user = "bob")"), "(has(users, 'bob'))");
  EXPECT_EQ(Sql(R"(annotation.tier = "gold")"), "(has(annotation_strings, 'tier\\x00gold'))");
  EXPECT_EQ(Sql("annotation.n = 3"), "(has(annotation_keys, 'n'))");
  EXPECT_EQ(Sql("responsetime > 2.5"), "(has_response_time = 1 AND response_time_us >= 2499999)");
  EXPECT_EQ(Sql("duration <= 1"), "(has_duration = 1 AND duration_us <= 1000001)");
  EXPECT_EQ(Sql("http.status = 503"),
            "(has_http_status = 1 AND http_status >= 502 AND http_status <= 504)");
  EXPECT_EQ(Sql("http.status != 503"), "(has_http_status = 1)");
  EXPECT_EQ(Sql(R"(service("api") { fault } AND edge("api", "db"))"),
            "(has(node_names, 'api')) AND (has(node_names, 'api') AND has(node_names, 'db'))");
  EXPECT_EQ(Sql(R"(fault AND (user = "a" AND annotation.k = "v"))"),
            "(fault = 1) AND (has(users, 'a')) AND (has(annotation_strings, 'k\\x00v'))");
  // An alternative implies what all its branches do, when each does.
  EXPECT_EQ(Sql("fault OR error"), "((fault = 1) OR (error = 1))");
  EXPECT_EQ(Sql(R"(user = "a" OR (service("api") AND responsetime > 1))"),
            "((has(users, 'a')) OR ((has(node_names, 'api')) AND (has_response_time = 1 AND "
            "response_time_us >= 999999)))");
  EXPECT_EQ(Sql(R"(fault AND (error OR http.url CONTAINS "x"))"), "(fault = 1)");
  // Negations, other keywords and scopes are left to the re-check.
  EXPECT_EQ(Sql(R"(fault OR http.url CONTAINS "x")"), "");
  EXPECT_EQ(Sql("!fault"), "");
  EXPECT_EQ(Sql(R"(user != "bob")"), "");
  EXPECT_EQ(Sql(R"(annotation.tier != "gold")"), "");
  EXPECT_EQ(Sql(R"(service("api") { responsetime > 3 })"), "(has(node_names, 'api'))");
}

std::string Value(std::string_view expr) {
  auto f = store::testing::Filter(expr);
  return f ? IndexedValue(f->bound()) : "<does not compile>";
}

TEST(FilterSqlTest, AnEqualityOnAUserOrAStringAnnotationIsLookedUp) {
  using namespace std::string_literals;
  EXPECT_EQ(Value(R"(user = "bob")"), "ubob");
  EXPECT_EQ(Value(R"(annotation.email = "a@x")"), "aemail\0a@x"s);
  EXPECT_EQ(Value(R"(fault AND (responsetime > 1 AND user = "bob"))"), "ubob");
  EXPECT_EQ(Value(R"(annotation.tier = "gold" AND user = "bob")"), "atier\0gold"s);
  // Nothing every match holds: an alternative, a negation, another operator
  // or kind of value, other keywords.
  EXPECT_EQ(Value(R"(user = "a" OR user = "b")"), "");
  EXPECT_EQ(Value(R"(!(user = "a"))"), "");
  EXPECT_EQ(Value(R"(user != "a")"), "");
  EXPECT_EQ(Value("annotation.n = 3"), "");
  EXPECT_EQ(Value(R"(service("api") { fault })"), "");
  EXPECT_EQ(Value("fault"), "");
}

// Records for the corpus comparison: the conformance suite's kinds of
// variety, with times on the boundaries the filter's seconds round at.
std::vector<TraceRecord> CorpusDataset() {
  std::vector<TraceRecord> records;
  for (int i = 0; i < 48; ++i) {
    TraceRecord r = MakeRecord(MakeTraceId(0xc0, static_cast<uint8_t>(i)), kT0 + (i % 11));
    xray::TraceSummary& s = r.summary;
    s.updated_us = kT0 + 100 + (47 - i) % 13;
    if (i % 3 == 0) s.annotations.push_back({"tier", {{std::string("gold"), {}}}});
    if (i % 3 == 1) s.annotations.push_back({"tier", {{std::string("5"), {}}}});
    s.annotations.push_back({"n", {{static_cast<double>(i % 5), {}}}});
    if (i % 4 == 0) s.annotations.push_back({"flag", {{i % 8 == 0, {}}}});
    s.users = {{"u" + std::to_string(i % 4), {}}};
    if (i % 5 != 4) s.http.status = i % 3 == 0 ? 200 : i % 3 == 1 ? 500 : 429;
    s.http.method = i % 2 == 0 ? "GET" : "POST";
    s.http.url = "https://example.com/" + std::to_string(i % 3);
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
    o.end_us = s.start_time_us + int64_t{i} * 100'000;
    o.fault = s.has_fault;
    o.error = s.has_error;
    o.http_status = s.http.status;
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
  records.push_back(MakeFullRecord(MakeTraceId(0xc1, 1), kT0 + 3));
  return records;
}

std::vector<std::string> CorpusExpressions() {
  std::ifstream in(RG_FILTER_CORPUS);
  EXPECT_TRUE(in.good()) << RG_FILTER_CORPUS;
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#' || line[0] == '[') continue;
    const size_t arrow = line.find(" ==> ");
    out.push_back(arrow == std::string::npos ? line : line.substr(0, arrow));
  }
  // Boundaries of the widened numeric bounds.
  for (const char* extra :
       {"responsetime = 0.25", "responsetime > 0.249999", "responsetime < 0.250001",
        "responsetime >= 1.5", "responsetime <= 1.499999", "duration = 1", "duration > 23",
        "http.status = 500", "http.status <= 429", "http.status >= 500 AND fault",
        R"(annotation.tier = "5")", "annotation.tier = 5", "annotation.flag = true",
        "annotation.flag = false", R"(user = "u2" AND annotation.n = 2)", "partial",
        R"(service("db") AND !fault)", R"(edge("api", "db") AND annotation.tier = "gold")"}) {
    out.push_back(extra);
  }
  return out;
}

TEST_F(ClickHouseStoreTest, CorpusScansAnswerAsTheMemoryEngine) {
  auto store = OpenStore();
  ASSERT_NE(store, nullptr);
  auto memory = NewMemoryStore();
  const std::vector<TraceRecord> records = CorpusDataset();
  WriteBatch batch;
  batch.traces = records;
  ASSERT_TRUE(store->Write(batch).ok());
  ASSERT_TRUE(memory->Write(batch).ok());
  auto ids = [](Store& s, const ScanOptions& o) {
    std::vector<std::string> out;
    auto p = s.Scan(o, [&](const TraceRecord& r, int64_t t) {
      out.push_back(fmt::format("{}@{}", r.summary.id.ToString(), t));
      return true;
    });
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return out;
  };
  size_t compiled = 0, nonempty = 0;
  for (const std::string& expr : CorpusExpressions()) {
    Result<filter::CompiledFilter> f = filter::CompileFilter(expr);
    if (!f.ok()) continue;  // the corpus's invalid expressions
    ++compiled;
    auto shared = std::make_shared<const filter::CompiledFilter>(std::move(*f));
    for (bool event : {false, true}) {
      ScanOptions o;
      o.start_us = event ? kT0 + 100 : kT0;
      o.end_us = kT0 + 200;
      o.time_range_type = event ? TimeRangeType::kEvent : TimeRangeType::kTraceId;
      o.filter = shared;
      o.searchable_only = event;
      const std::vector<std::string> want = ids(*memory, o);
      nonempty += !want.empty();
      EXPECT_EQ(ids(*store, o), want) << expr << (event ? " (event time, searchable)" : "");
    }
  }
  EXPECT_GT(compiled, 100u);
  EXPECT_GT(nonempty, 50u);  // not a comparison of empty answers
}

}  // namespace
}  // namespace roentgen::store::clickhouse
