// What the store's tests share: builders of fully populated trace records,
// and StoreTestBase, the base of every engine's fixtures (a fresh directory
// per test, a fake clock, small write and scan helpers).
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "filter/filter.h"
#include "store/store.h"

namespace roentgen::store::testing {

inline constexpr int64_t kSecond = 1'000'000;
inline constexpr int64_t kT0 = 1'700'000'000 * kSecond;

// `expr` compiled for ScanOptions::filter (a test's expressions always compile).
inline std::shared_ptr<const filter::CompiledFilter> Filter(std::string_view expr) {
  Result<filter::CompiledFilter> f = filter::CompileFilter(expr);
  EXPECT_TRUE(f.ok()) << expr << ": " << f.status().ToString();
  if (!f.ok()) return nullptr;
  return std::make_shared<const filter::CompiledFilter>(std::move(*f));
}

// `TestBase`: ::testing::Test, or TestWithParam<…> for the conformance suite.
// A fixture opens its engine into store_ (in dir_, on clock_, with the
// retention settings) in its own Open().
template <typename TestBase>
class StoreTestBase : public TestBase {
 protected:
  virtual void Open() = 0;

  void SetUp() override {
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(test.begin(), test.end(), '/', '_');
    dir_ = std::filesystem::temp_directory_path() /
           ("rg_store_test_" + std::to_string(::getpid()) + "_" + test);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Open();
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    store_.reset();
    Open();
  }

  void Put(const TraceRecord& record) {
    WriteBatch batch;
    batch.traces.push_back(record);
    ASSERT_TRUE(store_->Write(batch).ok());
  }

  // The trace ids a scan visits, in order, as their last byte (tests use
  // MakeTraceId(seed, tail) with distinct tails).
  std::vector<int> ScanTails(const ScanOptions& options, size_t limit = 1000) {
    std::vector<int> tails;
    auto s = store_->Scan(options, [&](const TraceRecord& r, int64_t) {
      if (tails.size() == limit) return false;
      tails.push_back(r.summary.id.bytes[15]);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return tails;
  }

  // The sort times a scan visits, in order.
  std::vector<int64_t> ScanTimes(const ScanOptions& options) {
    std::vector<int64_t> times;
    auto s = store_->Scan(options, [&](const TraceRecord&, int64_t t) {
      times.push_back(t);
      return true;
    });
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return times;
  }

  static ScanOptions Range(int64_t start, int64_t end) {
    ScanOptions o;
    o.start_us = start;
    o.end_us = end;
    return o;
  }

  std::filesystem::path dir_;
  FakeClock clock_{kT0};
  int64_t retention_us_ = 3600 * kSecond;
  int64_t retention_interval_us_ = 600 * kSecond;
  std::unique_ptr<Store> store_;
};

// A trace id whose every byte is `seed` except the last, which is `tail`.
inline xray::TraceId MakeTraceId(uint8_t seed, uint8_t tail = 0) {
  xray::TraceId id;
  id.bytes.fill(seed);
  id.bytes[15] = tail;
  return id;
}

inline xray::ServiceId MakeService(const std::string& name, const std::string& type) {
  return xray::ServiceId{name, {name, name + "-alias"}, "123456789012", type};
}

inline graph::Observation MakeObservation(int64_t start_us, bool done) {
  graph::Observation o;
  o.start_us = start_us;
  if (done) o.end_us = start_us + 1500;
  o.error = true;
  o.throttle = false;
  o.fault = true;
  o.http_status = 503;
  o.http_url = "https://api.example.com/orders?id=7";
  o.http_method = "POST";
  o.http_user_agent = "curl/8.0";
  o.http_client_ip = "10.0.0.1";
  o.user = "alice";
  o.entity_name = "orders";
  return o;
}

inline xray::RootCause MakeRootCause(const std::string& service) {
  xray::RootCause cause;
  xray::RootCauseService s;
  s.name = service;
  s.names = {service};
  s.type = "AWS::EC2::Instance";
  s.account_id = "123456789012";
  s.inferred = true;
  xray::RootCauseEntity e;
  e.name = "GET /orders";
  e.exceptions = {{"TimeoutError", "timed out after 3s"}, {"IOError", ""}};
  e.coverage = 0.75;
  e.remote = true;
  s.entity_path = {e, xray::RootCauseEntity{"db", {}, std::nullopt, false}};
  cause.services = {s};
  cause.client_impacting = true;
  return cause;
}

// A record with every field set to a distinct, non-default value.
inline TraceRecord MakeFullRecord(const xray::TraceId& id, int64_t start_us) {
  TraceRecord r;
  xray::TraceSummary& s = r.summary;
  s.id = id;
  s.start_time_us = start_us;
  s.duration_us = 2'500'000;
  s.response_time_us = -7;  // any value, negative included, must survive
  s.has_fault = true;
  s.has_error = false;
  s.has_throttle = true;
  s.is_partial = true;
  s.http = {"https://api.example.com/orders", 503, "GET", "Mozilla/5.0", "192.0.2.1"};
  s.annotations = {
      {"customer",
       {{std::string("gold"), {MakeService("orders", "AWS::EC2::Instance")}},
        {std::string("5"), {}}}},
      {"retries", {{5.0, {MakeService("billing", "")}}, {-0.25, {}}}},
      {"cached", {{true, {}}, {false, {}}}},
  };
  s.users = {{"alice", {MakeService("orders", "AWS::EC2::Instance")}}, {"bob", {}}};
  s.service_ids = {MakeService("orders", "AWS::EC2::Instance"), MakeService("billing", "")};
  s.resource_arns = {"arn:aws:lambda:us-east-1:123456789012:function:f"};
  s.instance_ids = {"i-0abc", "i-0def"};
  s.availability_zones = {"us-east-1a"};
  s.entry_point = MakeService("orders", "AWS::EC2::Instance");
  s.root_segment_name = "orders";
  s.root_segment_origin = "AWS::EC2::Instance";
  s.fault_root_causes = {MakeRootCause("billing")};
  s.error_root_causes = {MakeRootCause("orders"), MakeRootCause("db")};
  s.response_time_root_causes = {MakeRootCause("slow")};
  s.revision = 4'000'000'000u;
  s.updated_us = start_us + 9'000'000;
  s.segment_count = 12;

  graph::Node client;
  client.id = xray::ServiceId{"client", {}, "", "client"};
  client.root = false;
  client.client = true;
  graph::Node orders;
  orders.id = MakeService("orders", "AWS::EC2::Instance");
  orders.root = true;
  orders.observations = {MakeObservation(start_us, true), MakeObservation(start_us + 10, false)};
  graph::Node table;
  table.id = xray::ServiceId{"Orders", {"Orders"}, "", "AWS::DynamoDB::Table"};
  table.inferred = true;
  table.observations = {MakeObservation(start_us + 20, true)};
  r.graph.nodes = {client, orders, table};
  r.graph.edges = {{0, 1, {MakeObservation(start_us, true)}}, {1, 2, {}}};
  return r;
}

// A minimal record: just an id, a start and an update time.
inline TraceRecord MakeRecord(const xray::TraceId& id, int64_t start_us) {
  TraceRecord r;
  r.summary.id = id;
  r.summary.start_time_us = start_us;
  r.summary.updated_us = start_us;
  return r;
}

}  // namespace roentgen::store::testing
