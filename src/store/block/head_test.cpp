#include "store/block/head.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <map>
#include <string>

namespace roentgen::store::block {
namespace {

constexpr int64_t kSecond = 1'000'000;
constexpr int64_t kT0 = 1'700'000'000 * kSecond;

xray::TraceId Id(uint8_t n) {
  std::array<uint8_t, 16> bytes{};
  bytes[3] = 1;
  bytes[15] = n;
  return xray::TraceId::FromBinary(bytes.data());
}

TraceRecord Record(uint8_t n, int64_t start_us, uint32_t revision = 1) {
  TraceRecord r;
  r.summary.id = Id(n);
  r.summary.start_time_us = start_us;
  r.summary.revision = revision;
  return r;
}

// A write of one document per (trace, entity), each trace's record included.
struct Write {
  std::vector<std::string> raws;  // owns the bytes the batch points at
  WriteBatch batch;
  int durable = 0;

  Write& Doc(uint8_t trace, uint64_t entity, std::string raw, int64_t start_us = kT0) {
    raws.reserve(16);  // views into raws stay valid
    raws.push_back(std::move(raw));
    batch.documents.push_back({Id(trace), xray::SegmentId{entity}, 7, raws.back()});
    auto known = std::find_if(batch.traces.begin(), batch.traces.end(),
                              [&](const TraceRecord& r) { return r.summary.id == Id(trace); });
    if (known == batch.traces.end()) batch.traces.push_back(Record(trace, start_us));
    return *this;
  }
  WriteBatch& WithCallback() {
    batch.on_durable = [this] { ++durable; };
    return batch;
  }
};

auto NoOlder() {
  return [](const xray::TraceId&) -> Result<std::optional<OlderVersion>> {
    return std::optional<OlderVersion>();
  };
}

std::vector<xray::TraceId> IdsOf(const Cut& cut) {
  std::vector<xray::TraceId> ids;
  for (const auto& r : cut.records) ids.push_back(r->summary.id);
  return ids;
}

TEST(HeadTest, WritesAreReadableAtOnceAndDocumentsMergeByEntity) {
  Head head;
  Write w1;
  w1.Doc(1, 10, "a").Doc(1, 11, "bb").Doc(2, 20, "ccc");
  ASSERT_TRUE(head.Apply(w1.batch, kT0, NoOlder()).ok());
  Write w2;
  w2.Doc(1, 11, "BBBB");  // the same entity again: replaced
  w2.batch.traces[0].summary.revision = 2;
  ASSERT_TRUE(head.Apply(w2.batch, kT0 + 1, NoOlder()).ok());

  ASSERT_TRUE(head.GetTrace(Id(1)));
  EXPECT_EQ(head.GetTrace(Id(1))->summary.revision, 2u);
  auto docs = head.GetDocuments(Id(1));
  ASSERT_TRUE(docs);
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].raw, "a");
  EXPECT_EQ((*docs)[1].raw, "BBBB");
  EXPECT_FALSE(head.GetDocuments(Id(3)));
  EXPECT_FALSE(head.GetTrace(Id(3)));
  EXPECT_EQ(head.stats().traces, 2u);
  EXPECT_EQ(head.stats().documents, 3u);
  EXPECT_EQ(head.stats().document_bytes, 1u + 4u + 3u);
  auto selected = head.Select([](const TraceRecord& r) { return r.summary.id == Id(2); });
  ASSERT_EQ(selected.size(), 1u);
  EXPECT_EQ(selected[0]->summary.id, Id(2));
}

// A scan reads the versions Select shares after the head's lock is gone:
// a later write, a cut and its commit leave what it holds as it was.
TEST(HeadTest, AVersionASelectHoldsStaysAsItWasThroughWritesAndCuts) {
  Head head;
  Write first;
  first.Doc(1, 10, "a");
  first.batch.traces[0].summary.root_segment_name = "first";
  ASSERT_TRUE(head.Apply(first.batch, kT0, NoOlder()).ok());
  auto held = head.Select([](const TraceRecord&) { return true; });
  ASSERT_EQ(held.size(), 1u);

  Write second;
  second.Doc(1, 11, "b");
  second.batch.traces[0].summary.root_segment_name = "second";
  second.batch.traces[0].summary.revision = 2;
  ASSERT_TRUE(head.Apply(second.batch, kT0 + kSecond, NoOlder()).ok());
  EXPECT_EQ(held[0]->summary.root_segment_name, "first");
  EXPECT_EQ(head.GetTrace(Id(1))->summary.root_segment_name, "second");

  // Sealing shares the version a scan holds: the cut keeps the record
  // where it is, and no write changes it from then on.
  auto newest = head.Select([](const TraceRecord&) { return true; });
  std::shared_ptr<const Cut> cut = head.TakeCut(1, kT0 + kSecond, /*all=*/true);
  ASSERT_EQ(cut->size(), 1u);
  EXPECT_EQ(cut->records[0]->summary.root_segment_name, "second");
  EXPECT_EQ(cut->records[0].get(), newest[0].get());
  Write third;
  third.Doc(1, 12, "c");
  third.batch.traces[0].summary.root_segment_name = "third";
  ASSERT_TRUE(head.Apply(third.batch, kT0 + kSecond, NoOlder()).ok());
  EXPECT_EQ(cut->records[0]->summary.root_segment_name, "second");
  EXPECT_EQ(head.GetTrace(Id(1))->summary.root_segment_name, "third");
  EXPECT_EQ(newest[0]->summary.root_segment_name, "second");
  EXPECT_EQ(held[0]->summary.root_segment_name, "first");

  // A scan holds a sealed version past the commit that drops it from the
  // head and the cut's end.
  auto sealed = head.Select([](const TraceRecord&) { return true; });
  ASSERT_EQ(sealed.size(), 1u);
  EXPECT_EQ(sealed[0]->summary.root_segment_name, "third");  // the newest version
  std::shared_ptr<const TraceRecord> from_cut = cut->records[0];
  head.Committed(*cut);
  cut.reset();
  EXPECT_TRUE(head.Contains(Id(1)));  // written since its seal
  EXPECT_EQ(from_cut->summary.root_segment_name, "second");
  EXPECT_EQ(from_cut->summary.revision, 2u);
}

// The cut takes the head's record as it is: its strings are the ones the
// write gave.
TEST(HeadTest, ACutMovesARecordNoScanHolds) {
  Head head;
  Write w;
  w.Doc(1, 10, "a");
  w.batch.traces[0].summary.root_segment_name = std::string(100, 'r');
  ASSERT_TRUE(head.Apply(w.batch, kT0, NoOlder()).ok());
  const char* in_head =
      head.Select([](const TraceRecord&) { return true; })[0]->summary.root_segment_name.data();
  std::shared_ptr<const Cut> cut = head.TakeCut(1, kT0, /*all=*/true);
  ASSERT_EQ(cut->size(), 1u);
  EXPECT_EQ(cut->records[0]->summary.root_segment_name.data(), in_head);
}

TEST(HeadTest, AWriteIsDurableOnceEveryTraceItTouchedIsCommitted) {
  HeadOptions options;
  options.quiet_us = 5 * kSecond;
  Head head(options);
  Write both;
  both.Doc(1, 10, "a").Doc(2, 20, "b");
  ASSERT_TRUE(head.Apply(both.WithCallback(), kT0, NoOlder()).ok());
  // Trace 2 keeps being written, so only trace 1 is quiet at kT0 + 5 s.
  Write later;
  later.Doc(2, 21, "c");
  ASSERT_TRUE(head.Apply(later.WithCallback(), kT0 + 4 * kSecond, NoOlder()).ok());

  std::shared_ptr<const Cut> first = head.TakeCut(1, kT0 + 5 * kSecond);
  EXPECT_EQ(IdsOf(*first), std::vector<xray::TraceId>{Id(1)});
  head.Committed(*first);
  EXPECT_EQ(both.durable, 0) << "trace 2 is not in a block yet";
  EXPECT_FALSE(head.GetTrace(Id(1))) << "committed versions leave the head";
  EXPECT_EQ(head.stats().writes_waiting, 2u);

  std::shared_ptr<const Cut> second = head.TakeCut(2, kT0 + 9 * kSecond);
  EXPECT_EQ(IdsOf(*second), std::vector<xray::TraceId>{Id(2)});
  ASSERT_EQ(second->documents[0].size(), 2u) << "a row holds all of its trace's documents";
  EXPECT_EQ(both.durable, 0) << "sealed is not durable";
  head.Committed(*second);
  EXPECT_EQ(both.durable, 1);
  EXPECT_EQ(later.durable, 1);
  EXPECT_EQ(head.stats().traces, 0u);
  EXPECT_EQ(head.stats().document_bytes, 0u);
  EXPECT_EQ(head.stats().writes_waiting, 0u);
}

TEST(HeadTest, CutsAreDueByQuietAgeAndSizeAndSortedByStartThenId) {
  HeadOptions options;
  options.quiet_us = 5 * kSecond;
  options.max_age_us = 30 * kSecond;
  Write w;
  w.Doc(3, 1, "1234", kT0 + 2).Doc(1, 1, "1234", kT0 + 2).Doc(2, 1, "1234", kT0 + 1);
  Write newer;
  newer.Doc(4, 1, "1234", kT0);
  // Each of these traces holds the same memory: a record and one document.
  uint64_t per_trace = 0;
  {
    Head measure;
    ASSERT_TRUE(measure.Apply(newer.batch, kT0, NoOlder()).ok());
    per_trace = measure.stats().memory_bytes;
    EXPECT_GE(per_trace, graph::EstimateMemoryBytes(Record(4, kT0)) + 4)
        << "the record's memory is counted with its document";
  }
  options.max_bytes = 3 * per_trace;
  Head head(options);
  ASSERT_TRUE(head.Apply(w.batch, kT0, NoOlder()).ok());
  ASSERT_TRUE(head.Apply(newer.batch, kT0 + kSecond, NoOlder()).ok());
  EXPECT_EQ(head.stats().memory_bytes, 4 * per_trace);

  // Four traces held, three allowed: the oldest versions go until half the
  // bound or less is left, so three of them, and not the newest.
  std::shared_ptr<const Cut> by_size = head.TakeCut(1, kT0 + 2 * kSecond);
  EXPECT_EQ(by_size->size(), 3u);
  const std::vector<xray::TraceId> sized = IdsOf(*by_size);
  EXPECT_EQ(std::count(sized.begin(), sized.end(), Id(4)), 0);
  EXPECT_EQ(head.stats().memory_bytes, 4 * per_trace) << "sealed versions are held until commit";
  head.Abandoned(*by_size);
  EXPECT_EQ(head.stats().memory_bytes, 4 * per_trace);
  // Quiet: everything written at kT0 is quiet at kT0 + 5 s; trace 4 is not.
  HeadOptions roomy = options;
  roomy.max_bytes = 1 << 20;
  Head quiet_head(roomy);
  ASSERT_TRUE(quiet_head.Apply(w.batch, kT0, NoOlder()).ok());
  ASSERT_TRUE(quiet_head.Apply(newer.batch, kT0 + kSecond, NoOlder()).ok());
  std::shared_ptr<const Cut> quiet = quiet_head.TakeCut(1, kT0 + 5 * kSecond);
  EXPECT_EQ(IdsOf(*quiet), (std::vector<xray::TraceId>{Id(2), Id(1), Id(3)}))
      << "by start time, then by id";
  for (uint32_t i = 0; i < quiet->size(); ++i) EXPECT_FALSE(quiet->supersedes[i]);
  EXPECT_TRUE(quiet_head.TakeCut(2, kT0 + 5 * kSecond)->empty())
      << "trace 4 is neither quiet nor old; sealed ones are not cut twice";
  // Age: a trace written every second is due once its version is 30 s old.
  Head busy(roomy);
  for (int64_t t = 0; t <= 30; ++t) {
    Write again;
    again.Doc(9, static_cast<uint64_t>(t), "x");
    ASSERT_TRUE(busy.Apply(again.batch, kT0 + t * kSecond, NoOlder()).ok());
    std::shared_ptr<const Cut> c = busy.TakeCut(static_cast<uint64_t>(t + 1), kT0 + t * kSecond);
    EXPECT_EQ(c->size(), t == 30 ? 1u : 0u) << t;
  }
  // Everything, at shutdown.
  EXPECT_EQ(quiet_head.TakeCut(3, kT0, /*all=*/true)->size(), 1u);
}

TEST(HeadTest, ALateSegmentStartsFromTheNewestBlockRowAndSupersedesIt) {
  Head head;
  const RowRef old_row{7, 42};
  int asked = 0;
  auto older = [&](const xray::TraceId& id) -> Result<std::optional<OlderVersion>> {
    ++asked;
    if (id != Id(1)) return std::optional<OlderVersion>();
    OlderVersion o;
    o.row = old_row;
    o.documents.push_back(StoredDocument{xray::SegmentId{10}, 3, "old root"});
    o.documents.push_back(StoredDocument{xray::SegmentId{11}, 3, "old in progress"});
    return std::optional<OlderVersion>(std::move(o));
  };
  Write late;
  late.Doc(1, 11, "completed");
  ASSERT_TRUE(head.Apply(late.WithCallback(), kT0, older).ok());
  EXPECT_EQ(asked, 1);
  EXPECT_TRUE(head.Supersedes(old_row)) << "readers must skip the old row now";
  auto docs = head.GetDocuments(Id(1));
  ASSERT_TRUE(docs);
  ASSERT_EQ(docs->size(), 2u);
  EXPECT_EQ((*docs)[0].raw, "old root");
  EXPECT_EQ((*docs)[1].raw, "completed");
  EXPECT_EQ(head.stats().documents, 2u);

  Write again;
  again.Doc(1, 12, "more");
  ASSERT_TRUE(head.Apply(again.batch, kT0 + 1, older).ok());
  EXPECT_EQ(asked, 1) << "a trace in the head is not looked up again";
  EXPECT_EQ(head.stats().documents, 3u);

  std::shared_ptr<const Cut> cut = head.TakeCut(8, kT0, /*all=*/true);
  ASSERT_EQ(cut->size(), 1u);
  EXPECT_EQ(cut->supersedes[0], old_row) << "the manifest edit marks it superseded";
  EXPECT_EQ(cut->documents[0].size(), 3u);
  head.Committed(*cut);
  EXPECT_FALSE(head.Supersedes(old_row)) << "the manifest hides it from now on";
  EXPECT_EQ(late.durable, 1);
  EXPECT_EQ(head.stats().documents, 0u);
}

TEST(HeadTest, AWriteToASealedTraceMakesAVersionThatSupersedesTheSealedRow) {
  Head head;
  Write first;
  first.Doc(1, 10, "a");
  ASSERT_TRUE(head.Apply(first.WithCallback(), kT0, NoOlder()).ok());
  std::shared_ptr<const Cut> c1 = head.TakeCut(1, kT0, /*all=*/true);
  ASSERT_EQ(c1->size(), 1u);

  Write second;
  second.Doc(1, 11, "b");
  ASSERT_TRUE(head.Apply(second.WithCallback(), kT0 + 1, NoOlder()).ok());
  EXPECT_TRUE(head.Supersedes(RowRef{1, 0}));
  EXPECT_TRUE(head.TakeCut(2, kT0 + 1, /*all=*/true)->empty()) << "one sealed version at a time";

  head.Committed(*c1);
  EXPECT_EQ(first.durable, 1);
  EXPECT_EQ(second.durable, 0) << "its document is not in block 1";
  ASSERT_TRUE(head.GetDocuments(Id(1)));
  EXPECT_EQ(head.GetDocuments(Id(1))->size(), 2u);
  EXPECT_TRUE(head.Supersedes(RowRef{1, 0})) << "block 1's row is the older version";
  EXPECT_EQ(head.stats().documents, 2u) << "the version written since the seal stays";

  std::shared_ptr<const Cut> c2 = head.TakeCut(2, kT0 + 1, /*all=*/true);
  ASSERT_EQ(c2->size(), 1u);
  EXPECT_EQ(c2->supersedes[0], (RowRef{1, 0}));
  EXPECT_EQ(c2->documents[0].size(), 2u);
  head.Committed(*c2);
  EXPECT_EQ(second.durable, 1);
  EXPECT_FALSE(head.Supersedes(RowRef{1, 0}));
  EXPECT_EQ(head.stats().traces, 0u);
  EXPECT_EQ(head.stats().documents, 0u);
}

TEST(HeadTest, ASealedVersionIsReadInItsCutAndItsMemoryHeldUntilCommit) {
  Head head;
  Write first;
  first.Doc(1, 10, "aaaa").Doc(1, 11, "bb");
  first.batch.traces[0].summary.root_segment_name = std::string(1000, 'n');
  ASSERT_TRUE(head.Apply(first.WithCallback(), kT0, NoOlder()).ok());
  const uint64_t one_version = head.stats().memory_bytes;
  EXPECT_GE(one_version, graph::EstimateMemoryBytes(first.batch.traces[0]) + 6);

  std::shared_ptr<const Cut> cut = head.TakeCut(1, kT0, /*all=*/true);
  ASSERT_EQ(cut->size(), 1u);
  EXPECT_EQ(cut->records[0]->summary.root_segment_name, std::string(1000, 'n'));
  // The head reads the sealed version in the cut.
  ASSERT_TRUE(head.GetTrace(Id(1)));
  EXPECT_EQ(head.GetTrace(Id(1))->summary.root_segment_name, std::string(1000, 'n'));
  ASSERT_TRUE(head.GetDocuments(Id(1)));
  EXPECT_EQ(head.GetDocuments(Id(1))->size(), 2u);
  EXPECT_EQ(head.Select([](const TraceRecord&) { return true; }).size(), 1u);
  EXPECT_EQ(head.stats().memory_bytes, one_version);
  EXPECT_EQ(head.stats().documents, 2u);
  EXPECT_EQ(head.stats().document_bytes, 6u);

  // A write since the seal copies the sealed documents into a new version:
  // both are held until the cut commits.
  Write second;
  second.Doc(1, 12, "c");
  ASSERT_TRUE(head.Apply(second.WithCallback(), kT0 + 1, NoOlder()).ok());
  EXPECT_GT(head.stats().memory_bytes, one_version);
  EXPECT_EQ(head.stats().documents, 3u);
  EXPECT_EQ(head.GetDocuments(Id(1))->size(), 3u);
  EXPECT_TRUE(head.GetTrace(Id(1))->summary.root_segment_name.empty()) << "the newest record";
  EXPECT_EQ(cut->documents[0].size(), 2u) << "the cut is not changed by later writes";

  head.Committed(*cut);
  const uint64_t newest_only = head.stats().memory_bytes;
  EXPECT_LT(newest_only, one_version) << "the sealed version's memory is released";
  EXPECT_GT(newest_only, 0u);
  std::shared_ptr<const Cut> last = head.TakeCut(2, kT0 + 1, /*all=*/true);
  head.Committed(*last);
  EXPECT_EQ(head.stats().memory_bytes, 0u);
  EXPECT_EQ(head.stats().documents, 0u);
  EXPECT_EQ(head.stats().document_bytes, 0u);
  EXPECT_EQ(first.durable, 1);
  EXPECT_EQ(second.durable, 1);
}

// What the head's memory_bytes must be for records and documents it holds:
// each record's estimate and each document's StoredDocument and text.
uint64_t ExpectedMemory(const std::vector<const TraceRecord*>& records,
                        const std::vector<std::string>& document_texts) {
  uint64_t bytes = 0;
  for (const TraceRecord* r : records) bytes += graph::EstimateMemoryBytes(*r);
  for (const std::string& raw : document_texts) bytes += sizeof(StoredDocument) + raw.size();
  return bytes;
}

TEST(HeadTest, MemoryIsExactlyTheHeldRecordsAndDocumentsThroughEveryChange) {
  Head head;
  auto older = [](const xray::TraceId& id) -> Result<std::optional<OlderVersion>> {
    if (id != Id(3)) return std::optional<OlderVersion>();
    OlderVersion o;
    o.row = RowRef{7, 1};
    o.documents.push_back(StoredDocument{xray::SegmentId{5}, 1, "older-five"});
    o.documents.push_back(StoredDocument{xray::SegmentId{40}, 1, "older-forty"});
    return std::optional<OlderVersion>(std::move(o));
  };
  // Entities out of order, a replaced one, and a trace with an older version.
  Write w1;
  w1.Doc(1, 30, "thirty").Doc(1, 10, "ten").Doc(3, 20, "twenty");
  w1.batch.traces[0].summary.root_segment_name = std::string(100, 'r');
  const TraceRecord r1 = w1.batch.traces[0];
  const TraceRecord r3 = w1.batch.traces[1];
  ASSERT_TRUE(head.Apply(w1.batch, kT0, older).ok());
  EXPECT_EQ(head.stats().memory_bytes,
            ExpectedMemory({&r1, &r3}, {"thirty", "ten", "twenty", "older-five", "older-forty"}));
  auto docs = head.GetDocuments(Id(3));
  ASSERT_TRUE(docs);
  ASSERT_EQ(docs->size(), 3u);
  EXPECT_EQ((*docs)[0].raw, "older-five") << "by entity id";
  EXPECT_EQ((*docs)[1].raw, "twenty");
  EXPECT_EQ((*docs)[2].raw, "older-forty");

  Write w2;
  w2.Doc(1, 20, "TWENTY-ONE").Doc(1, 30, "3");
  w2.batch.traces[0].summary.revision = 2;
  w2.batch.traces[0].summary.users.resize(3);
  const TraceRecord r1b = w2.batch.traces[0];
  ASSERT_TRUE(head.Apply(w2.batch, kT0 + 1, NoOlder()).ok());
  EXPECT_EQ(head.stats().memory_bytes,
            ExpectedMemory({&r1b, &r3},
                           {"3", "ten", "TWENTY-ONE", "twenty", "older-five", "older-forty"}));
  docs = head.GetDocuments(Id(1));
  ASSERT_TRUE(docs);
  ASSERT_EQ(docs->size(), 3u);
  EXPECT_EQ((*docs)[0].raw, "ten");
  EXPECT_EQ((*docs)[1].raw, "TWENTY-ONE");
  EXPECT_EQ((*docs)[2].raw, "3");

  // Sealed: held the same until commit; a write since the seal adds a copy
  // of the sealed documents and its record.
  std::shared_ptr<const Cut> cut = head.TakeCut(1, kT0 + 1, /*all=*/true);
  ASSERT_EQ(cut->size(), 2u);
  const uint64_t sealed = head.stats().memory_bytes;
  EXPECT_EQ(sealed, ExpectedMemory({&r1b, &r3}, {"3", "ten", "TWENTY-ONE", "twenty", "older-five",
                                                 "older-forty"}));
  Write w3;
  w3.Doc(3, 1, "one");
  const TraceRecord r3b = w3.batch.traces[0];
  ASSERT_TRUE(head.Apply(w3.batch, kT0 + 2, NoOlder()).ok());
  EXPECT_EQ(head.stats().memory_bytes,
            sealed + ExpectedMemory({&r3b}, {"one", "twenty", "older-five", "older-forty"}));
  docs = head.GetDocuments(Id(3));
  ASSERT_TRUE(docs);
  ASSERT_EQ(docs->size(), 4u);
  EXPECT_EQ((*docs)[0].raw, "one");
  EXPECT_EQ((*docs)[3].raw, "older-forty");

  head.Committed(*cut);
  EXPECT_EQ(head.stats().memory_bytes,
            ExpectedMemory({&r3b}, {"one", "twenty", "older-five", "older-forty"}));
  std::shared_ptr<const Cut> last = head.TakeCut(2, kT0 + 2, /*all=*/true);
  head.Abandoned(*last);
  EXPECT_EQ(head.stats().memory_bytes,
            ExpectedMemory({&r3b}, {"one", "twenty", "older-five", "older-forty"}));
  last = head.TakeCut(3, kT0 + 2, /*all=*/true);
  head.Committed(*last);
  EXPECT_EQ(head.stats().memory_bytes, 0u);
  EXPECT_EQ(head.stats().documents, 0u);
}

TEST(HeadTest, AnAbandonedSealedVersionComesBackWhole) {
  Head head;
  Write w;
  w.Doc(1, 10, "aaaa").Doc(2, 20, "bb");
  ASSERT_TRUE(head.Apply(w.WithCallback(), kT0, NoOlder()).ok());
  const Head::Stats before = head.stats();
  std::shared_ptr<const Cut> cut = head.TakeCut(1, kT0, /*all=*/true);
  ASSERT_EQ(cut->size(), 2u);
  head.Abandoned(*cut);
  cut.reset();  // the head no longer needs the cut
  EXPECT_EQ(head.stats().memory_bytes, before.memory_bytes);
  EXPECT_EQ(head.stats().documents, 2u);
  ASSERT_TRUE(head.GetDocuments(Id(1)));
  EXPECT_EQ((*head.GetDocuments(Id(1)))[0].raw, "aaaa");
  ASSERT_TRUE(head.GetTrace(Id(2)));
  EXPECT_EQ(head.GetTrace(Id(2))->summary.id, Id(2));
  std::shared_ptr<const Cut> again = head.TakeCut(2, kT0, /*all=*/true);
  ASSERT_EQ(again->size(), 2u);
  EXPECT_EQ(again->documents[0][0].raw, "aaaa");
  head.Committed(*again);
  EXPECT_EQ(w.durable, 1);
  EXPECT_EQ(head.stats().memory_bytes, 0u);
}

TEST(HeadTest, RemapRowsPointsVersionsAtACompactionsOutput) {
  // Traces 1 and 2 supersede rows of block 7 (compacted into block 9: row 3
  // moved to row 0, row 5 dropped); trace 3 supersedes a row of block 8,
  // which compaction left alone.
  Head head;
  auto older = [](const xray::TraceId& id) -> Result<std::optional<OlderVersion>> {
    OlderVersion o;
    o.row = id == Id(1) ? RowRef{7, 3} : id == Id(2) ? RowRef{7, 5} : RowRef{8, 1};
    return std::optional<OlderVersion>(std::move(o));
  };
  Write w;
  w.Doc(1, 10, "a").Doc(2, 11, "b").Doc(3, 12, "c");
  ASSERT_TRUE(head.Apply(w.batch, kT0, older).ok());
  head.RemapRows([](const RowRef& r) -> std::optional<RowRef> {
    if (r.block_id != 7) return r;
    if (r.row == 3) return RowRef{9, 0};
    return std::nullopt;
  });
  EXPECT_FALSE(head.Supersedes(RowRef{7, 3}));
  EXPECT_FALSE(head.Supersedes(RowRef{7, 5}));
  EXPECT_TRUE(head.Supersedes(RowRef{9, 0}));
  EXPECT_TRUE(head.Supersedes(RowRef{8, 1}));
  auto rows = head.SupersededRows();
  EXPECT_EQ(rows.size(), 2u);
  std::shared_ptr<const Cut> cut = head.TakeCut(10, kT0, /*all=*/true);
  ASSERT_EQ(cut->size(), 3u);
  std::map<uint8_t, std::optional<RowRef>> by_trace;
  for (size_t i = 0; i < cut->size(); ++i) {
    by_trace[cut->records[i]->summary.id.bytes[15]] = cut->supersedes[i];
  }
  EXPECT_EQ(by_trace[1], (RowRef{9, 0})) << "the cut marks the output's row";
  EXPECT_EQ(by_trace[2], std::nullopt) << "the dropped row has nothing left to hide";
  EXPECT_EQ(by_trace[3], (RowRef{8, 1}));
  head.Committed(*cut);
  EXPECT_TRUE(head.SupersededRows().empty());
}

TEST(HeadTest, AnAbandonedCutIsDueAgainAndUndoesWhatItsRowsWouldHaveSuperseded) {
  Head head;
  auto older = [](const xray::TraceId&) -> Result<std::optional<OlderVersion>> {
    OlderVersion o;
    o.row = RowRef{5, 3};
    return std::optional<OlderVersion>(std::move(o));
  };
  Write first;
  first.Doc(1, 10, "a");
  ASSERT_TRUE(head.Apply(first.WithCallback(), kT0, older).ok());
  std::shared_ptr<const Cut> c1 = head.TakeCut(6, kT0, /*all=*/true);
  Write second;
  second.Doc(1, 11, "b");
  ASSERT_TRUE(head.Apply(second.WithCallback(), kT0 + 1, older).ok());
  EXPECT_TRUE(head.Supersedes(RowRef{6, 0}));

  head.Abandoned(*c1);  // block 6 was never written
  EXPECT_FALSE(head.Supersedes(RowRef{6, 0}));
  EXPECT_TRUE(head.Supersedes(RowRef{5, 3}));
  std::shared_ptr<const Cut> c2 = head.TakeCut(7, kT0 + 1, /*all=*/true);
  ASSERT_EQ(c2->size(), 1u);
  EXPECT_EQ(c2->supersedes[0], (RowRef{5, 3})) << "the row block 6 would have replaced";
  EXPECT_EQ(c2->documents[0].size(), 2u);
  head.Committed(*c2);
  EXPECT_EQ(first.durable, 1);
  EXPECT_EQ(second.durable, 1);
  EXPECT_FALSE(head.Supersedes(RowRef{5, 3}));
}

TEST(HeadTest, RefusedWritesChangeNothing) {
  Head head;
  Write w;
  w.Doc(1, 10, "a");
  auto failing = [](const xray::TraceId&) -> Result<std::optional<OlderVersion>> {
    return Status::IOError("block 3 unreadable");
  };
  EXPECT_EQ(head.Apply(w.WithCallback(), kT0, failing).code(), StatusCode::kIOError);
  EXPECT_EQ(head.stats().traces, 0u);

  Write orphan;
  orphan.Doc(2, 20, "b");
  orphan.batch.traces.clear();
  EXPECT_EQ(head.Apply(orphan.batch, kT0, NoOlder()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(head.stats().traces, 0u);
  EXPECT_EQ(head.stats().writes_waiting, 0u);
  EXPECT_EQ(w.durable, 0);

  // Documents in another order than their records (checked another way):
  // one without its record is refused among them too.
  Write mixed;
  mixed.Doc(3, 30, "c").Doc(4, 40, "d").Doc(3, 31, "e").Doc(5, 50, "f");
  mixed.batch.traces.pop_back();  // trace 5's record
  EXPECT_EQ(head.Apply(mixed.batch, kT0, NoOlder()).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(head.stats().traces, 0u);
  mixed.batch.documents.pop_back();
  ASSERT_TRUE(head.Apply(mixed.batch, kT0, NoOlder()).ok());
  EXPECT_EQ(head.stats().traces, 2u);
  ASSERT_TRUE(head.GetDocuments(Id(3)));
  EXPECT_EQ(head.GetDocuments(Id(3))->size(), 2u);

  Write empty;
  ASSERT_TRUE(head.Apply(empty.WithCallback(), kT0, NoOlder()).ok());
  EXPECT_EQ(empty.durable, 1) << "nothing to make durable";
}

}  // namespace
}  // namespace roentgen::store::block
