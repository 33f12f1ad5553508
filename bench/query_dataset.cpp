#include "query_dataset.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <vector>

#include "graph/trace_graph.h"
#include "xray/segment_parser.h"
#include "xray/trace.h"

namespace roentgen::bench {
namespace {

constexpr const char* kPlans[] = {"free", "pro", "enterprise"};
constexpr const char* kRoutes[] = {"/cart", "/checkout", "/orders", "/orders/42", "/search"};
constexpr const char* kRegions[] = {"us-east-1", "eu-west-1", "ap-south-1"};

struct Outcome {
  bool deep_fault = false;     // api's "charge" subsegment throws, api answers 500
  bool root_fault = false;     // web-app answers 502
  bool root_error = false;     // 404
  bool root_throttle = false;  // 429
};

std::string Seconds(int64_t us) { return fmt::format("{}.{:06}", us / 1'000'000, us % 1'000'000); }

class TraceWriter {
 public:
  explicit TraceWriter(uint64_t seed) : rng_(seed) {}

  // The three documents of one trace starting at `start_us`.
  void Next(int64_t start_us, std::vector<std::string>& docs) {
    docs.clear();
    const xray::TraceId trace =
        xray::TraceId::Generate(static_cast<uint32_t>(start_us / 1'000'000));
    const std::string tid = trace.ToString();
    const int64_t rt = std::clamp<int64_t>(
        static_cast<int64_t>(std::exp(std::log(0.3) + 1.256 * normal_(rng_)) * 1e6), 2'000,
        30'000'000);
    Outcome o;
    const double u = unit_(rng_);
    if (u < 0.03) {
      o.deep_fault = true;
      o.root_fault = unit_(rng_) < 0.5;
    } else if (u < 0.06) {
      o.root_error = true;
    } else if (u < 0.07) {
      o.root_throttle = true;
    }
    const size_t user = rng_() % kUsers;
    const std::string web = xray::SegmentId::Generate().ToString();
    const std::string call_api = xray::SegmentId::Generate().ToString();
    const std::string api = xray::SegmentId::Generate().ToString();
    const std::string call_fn = xray::SegmentId::Generate().ToString();
    const std::string charge = xray::SegmentId::Generate().ToString();
    const std::string fn = xray::SegmentId::Generate().ToString();
    const std::string dynamo = xray::SegmentId::Generate().ToString();
    const int status = o.root_fault ? 502 : o.root_error ? 404 : o.root_throttle ? 429 : 200;
    const char* root_flags = o.root_fault      ? R"("fault":true,)"
                             : o.root_throttle ? R"("error":true,"throttle":true,)"
                             : o.root_error    ? R"("error":true,)"
                                               : "";
    const char* api_flags = o.deep_fault ? R"("fault":true,)" : "";
    const int api_status = o.deep_fault ? 500 : 200;
    const std::string tenant = fmt::format("tenant-{}", rng_() % 20);
    auto at = [&](double f) { return Seconds(start_us + static_cast<int64_t>(rt * f)); };

    docs.push_back(fmt::format(
        R"({{"name":"web-app","id":"{web}","trace_id":"{tid}","start_time":{s},"end_time":{e},)"
        R"("origin":"AWS::EC2::Instance","user":"user-{user}",{flags})"
        R"("http":{{"request":{{"method":"{method}","url":"https://shop.example.com{route}",)"
        R"("user_agent":"Mozilla/5.0 X11 Linux x86_64","client_ip":"10.0.{a}.{b}"}},)"
        R"("response":{{"status":{status},"content_length":{len}}}}},)"
        R"("aws":{{"account_id":"123456789012","ec2":{{"instance_id":"i-0abc{a:03}",)"
        R"("availability_zone":"us-east-1{az}"}}}},)"
        R"("annotations":{{"email":"{email}","tenant":"{tenant}","plan":"{plan}",)"
        R"("items":{items},"cart_value":{cart}}},)"
        R"("subsegments":[{{"name":"api","id":"{call}","start_time":{cs},"end_time":{ce},)"
        R"("namespace":"remote",{aflags}"http":{{"request":{{"method":"POST",)"
        R"("url":"https://api.internal/orders"}},"response":{{"status":{astatus}}}}}}}]}})",
        fmt::arg("web", web), fmt::arg("tid", tid), fmt::arg("s", at(0)), fmt::arg("e", at(1)),
        fmt::arg("user", user), fmt::arg("flags", root_flags),
        fmt::arg("method", (rng_() % 4) ? "GET" : "POST"), fmt::arg("route", kRoutes[rng_() % 5]),
        fmt::arg("a", rng_() % 64), fmt::arg("b", rng_() % 256), fmt::arg("status", status),
        fmt::arg("len", rng_() % 50'000), fmt::arg("az", static_cast<char>('a' + rng_() % 3)),
        fmt::arg("email", UserEmail(user)), fmt::arg("tenant", tenant),
        fmt::arg("plan", kPlans[rng_() % 3]), fmt::arg("items", rng_() % 20),
        fmt::arg("cart", static_cast<double>(rng_() % 100'000) / 100.0), fmt::arg("call", call_api),
        fmt::arg("cs", at(0.05)), fmt::arg("ce", at(0.95)), fmt::arg("aflags", api_flags),
        fmt::arg("astatus", api_status)));

    const std::string cause =
        o.deep_fault
            ? fmt::format(R"("cause":{{"working_directory":"/srv/api","exceptions":[{{"id":"{}",)"
                          R"("message":"payment gateway timed out","type":"TimeoutError"}}]}},)",
                          xray::SegmentId::Generate().ToString())
            : "";
    docs.push_back(fmt::format(
        R"({{"name":"api","id":"{api}","trace_id":"{tid}","parent_id":"{call}","start_time":{s},)"
        R"("end_time":{e},"origin":"AWS::ECS::Container",{flags})"
        R"("http":{{"request":{{"method":"POST","url":"https://api.internal/orders"}},)"
        R"("response":{{"status":{status}}}}},)"
        R"("annotations":{{"tenant":"{tenant}","region":"{region}"}},)"
        R"("subsegments":[{{"name":"function","id":"{callfn}","start_time":{fs},"end_time":{fe},)"
        R"("namespace":"remote","http":{{"request":{{"method":"POST",)"
        R"("url":"https://fn.internal/invoke"}},"response":{{"status":200}}}}}},)"
        R"({{"name":"charge","id":"{charge}","start_time":{gs},"end_time":{ge},{flags}{cause})"
        R"("metadata":{{"default":{{"attempt":1}}}}}}]}})",
        fmt::arg("api", api), fmt::arg("tid", tid), fmt::arg("call", call_api),
        fmt::arg("s", at(0.06)), fmt::arg("e", at(0.94)), fmt::arg("flags", api_flags),
        fmt::arg("status", api_status), fmt::arg("tenant", tenant),
        fmt::arg("region", kRegions[rng_() % 3]), fmt::arg("callfn", call_fn),
        fmt::arg("fs", at(0.1)), fmt::arg("fe", at(0.7)), fmt::arg("charge", charge),
        fmt::arg("gs", at(0.72)), fmt::arg("ge", at(0.9)), fmt::arg("cause", cause)));

    docs.push_back(fmt::format(
        R"({{"name":"function","id":"{fn}","trace_id":"{tid}","parent_id":"{callfn}",)"
        R"("start_time":{s},"end_time":{e},"origin":"AWS::Lambda::Function",)"
        R"("resource_arn":"arn:aws:lambda:us-east-1:123456789012:function:function",)"
        R"("subsegments":[{{"name":"DynamoDB","id":"{dyn}","start_time":{ds},"end_time":{de},)"
        R"("namespace":"aws","aws":{{"operation":"GetItem","region":"us-east-1",)"
        R"("table_name":"orders","request_id":"R{req}"}},"http":{{"response":{{"status":200}}}}}}]}})",
        fmt::arg("fn", fn), fmt::arg("tid", tid), fmt::arg("callfn", call_fn),
        fmt::arg("s", at(0.11)), fmt::arg("e", at(0.69)), fmt::arg("dyn", dynamo),
        fmt::arg("ds", at(0.2)), fmt::arg("de", at(0.6)), fmt::arg("req", rng_() % 1'000'000)));
  }

 private:
  std::mt19937_64 rng_;
  std::normal_distribution<double> normal_;
  std::uniform_real_distribution<double> unit_{0.0, 1.0};
};

}  // namespace

std::string UserEmail(size_t n) { return fmt::format("user-{}@example.com", n); }

Result<QueryDataset> LoadQueryDataset(store::Store& store, size_t traces, int64_t end_us,
                                      int64_t window_us, size_t batch, uint64_t seed) {
  const auto began = std::chrono::steady_clock::now();
  QueryDataset info{end_us - window_us, end_us, traces, 0};
  TraceWriter writer(seed);
  xray::SegmentParser parser;
  std::vector<std::string> docs;
  std::vector<std::string> batch_raw;  // owns the bytes DocumentWrite points at
  store::WriteBatch wb;
  std::vector<xray::SegmentDocument> parsed;
  std::vector<xray::ReceivedDocument> received;
  std::vector<const xray::ReceivedDocument*> pointers;

  for (size_t i = 0; i < traces; ++i) {
    const int64_t start_us =
        info.start_us + static_cast<int64_t>(static_cast<double>(window_us) * i / traces);
    writer.Next(start_us, docs);
    received.clear();
    for (std::string& d : docs) {
      parsed.clear();
      xray::ParseFailure failure;
      if (!parser.Parse(d, parsed, failure)) {
        return Status::Internal(
            fmt::format("generated document does not parse: {}: {}", failure.message, d));
      }
      const int64_t received_us = parsed[0].entity.end_time_us.value_or(start_us);
      for (xray::SegmentDocument& p : parsed) received.push_back({std::move(p), received_us});
    }
    pointers.clear();
    for (const xray::ReceivedDocument& r : received) pointers.push_back(&r);
    const xray::TraceId id = *received[0].doc.entity.trace_id;
    const xray::AssembledTrace assembled = xray::AssembleTrace(id, pointers);
    store::TraceRecord record{xray::Summarize(assembled), graph::DeriveTraceGraph(assembled)};
    record.summary.revision = 1;
    record.summary.updated_us = assembled.last_received_us;
    wb.traces.push_back(std::move(record));
    for (size_t k = 0; k < received.size(); ++k) {
      batch_raw.push_back(std::move(docs[k]));
    }
    for (const xray::ReceivedDocument& r : received) {
      wb.documents.push_back({id, r.doc.entity.id, r.received_us, {}});
    }
    if (wb.traces.size() >= batch || i + 1 == traces) {
      for (size_t k = 0; k < wb.documents.size(); ++k) wb.documents[k].raw = batch_raw[k];
      RG_RETURN_IF_ERROR(store.Write(wb));
      wb.documents.clear();
      wb.traces.clear();
      batch_raw.clear();
      if ((i + 1) % 100'000 == 0) {
        std::cerr << fmt::format(
            "  loaded {} traces ({:.0f} s)\n", i + 1,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count());
      }
    }
  }
  info.load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  return info;
}

Status SaveDatasetInfo(const std::string& dir, const QueryDataset& info) {
  const nlohmann::json j = {{"start_us", info.start_us},
                            {"end_us", info.end_us},
                            {"traces", info.traces},
                            {"load_seconds", info.load_seconds}};
  std::ofstream out(dir + "/dataset.json");
  out << j.dump(2) << "\n";
  out.close();
  if (!out) return Status::IOError(fmt::format("cannot write {}/dataset.json", dir));
  return Status::Ok();
}

Result<QueryDataset> LoadDatasetInfo(const std::string& dir) {
  std::ifstream in(dir + "/dataset.json");
  if (!in) return Status::NotFound(fmt::format("{}/dataset.json: absent", dir));
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (j.is_discarded() || !j.contains("traces")) {
    return Status::NotFound(fmt::format("{}/dataset.json: incomplete", dir));
  }
  return QueryDataset{j["start_us"].get<int64_t>(), j["end_us"].get<int64_t>(),
                      j["traces"].get<size_t>(), j["load_seconds"].get<double>()};
}

}  // namespace roentgen::bench
