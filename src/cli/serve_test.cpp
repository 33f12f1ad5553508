#include "cli/serve.h"

#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

// Boost 1.74's asio uses std::exchange without including <utility>.
// clang-format off
#include <utility>
// clang-format on
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "api/console_assets.h"
#include "api/testing/test_certificate.h"
#include "auth/keys_file.h"
#include "auth/sigv4.h"
#include "cli/server.h"
#include "cli/store_part.h"
#include "common/clock.h"
#include "store/migrate.h"
#include "store/rocksdb/rocksdb_store.h"

namespace roentgen::cli {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

// A port that was free a moment ago (bind to 0, read it, release it).
uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

// GET http://127.0.0.1:port/target; status 0 if the server is not reachable.
std::pair<unsigned, std::string> Get(uint16_t port, const std::string& target) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  stream.connect(net::ip::tcp::endpoint(net::ip::address_v4::loopback(), port), ec);
  if (ec) return {0, ""};
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "localhost");
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res, ec);
  if (ec) return {0, ""};
  return {res.result_int(), res.body()};
}

// POST http://127.0.0.1:port/target with `body`, signed with `key` unless its
// id is empty: the status and the x-amzn-ErrorType header.
std::pair<unsigned, std::string> Post(uint16_t port, const std::string& target,
                                      const std::string& body,
                                      const auth::SigningCredentials& key) {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  stream.connect(net::ip::tcp::endpoint(net::ip::address_v4::loopback(), port), ec);
  if (ec) return {0, ""};
  http::request<http::string_body> req{http::verb::post, target, 11};
  auth::HeaderList headers = {{"host", "localhost"}, {"content-type", "application/json"}};
  if (!key.access_key_id.empty()) {
    auth::SignRequest("POST", target, "", headers, body, key, "us-east-1", "xray",
                      Clock::System().NowMicros() / 1'000'000);
  }
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res, ec);
  if (ec) return {0, ""};
  return {res.result_int(), std::string(res["x-amzn-ErrorType"])};
}

// One request to http://127.0.0.1:port with `headers`; the whole response
// (status 0 if the server is not reachable).
http::response<http::string_body> Exchange(
    uint16_t port, http::verb method, const std::string& target,
    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body = "") {
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  http::response<http::string_body> res;
  stream.connect(net::ip::tcp::endpoint(net::ip::address_v4::loopback(), port), ec);
  if (ec) return res;
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  if (!ec) http::read(stream, buffer, res, ec);
  return res;
}

std::string Field(const http::response<http::string_body>& r, const std::string& name) {
  auto it = r.find(name);
  return it == r.end() ? "" : std::string(it->value());
}

// A data dir of its own (removed at the end) and a config that starts quietly
// on free ports, without OTLP/gRPC.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "roentgen_server_test_" + std::to_string(getpid());
    std::filesystem::remove_all(dir_);
    config_.port = FreePort();
    config_.data_dir = dir_ + "/data";
    config_.log_level = "off";
    config_.otlp_grpc_listen = "off";
    spdlog::set_level(spdlog::level::off);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Whether the store can be opened, that is, no server holds its lock.
  bool StoreIsFree() {
    store::RocksDbStoreConfig store_config;
    store_config.path = config_.data_dir;
    return store::OpenRocksDbStore(store_config).ok();
  }

  std::string dir_;
  ServeConfig config_;
};

TEST(ServeConfigTest, Validate) {
  ServeConfig config;
  EXPECT_TRUE(config.Validate().ok());
  config.retention = std::chrono::seconds(30);
  EXPECT_EQ(config.Validate(), Status::InvalidArgument("serve: --retention must be at least 1m"));
  config = {};
  config.store_engine = "lsm";
  EXPECT_EQ(config.Validate(),
            Status::InvalidArgument("serve: --store-engine must be rocksdb or block, not 'lsm'"));
  config = {};
  config.log_level = "loud";
  EXPECT_EQ(config.Validate(),
            Status::InvalidArgument(
                "serve: unknown --log-level 'loud' (trace, debug, info, warn, error, off)"));
  config = {};
  config.http_threads = 0;
  EXPECT_EQ(config.Validate().code(), StatusCode::kInvalidArgument);
  config = {};
  config.data_dir = "";
  EXPECT_EQ(config.Validate(), Status::InvalidArgument("serve: --data-dir is empty"));
  config = {};
  config.http_request_timeout = std::chrono::seconds(0);
  EXPECT_EQ(config.Validate(),
            Status::InvalidArgument("serve: --http-request-timeout must be at least 1s"));
  config = {};
  config.http_idle_timeout = std::chrono::seconds(0);
  EXPECT_EQ(config.Validate(),
            Status::InvalidArgument("serve: --http-idle-timeout must be at least 1s"));
  config = {};
  config.http_max_connections = 0;
  EXPECT_EQ(config.Validate(), Status::InvalidArgument("http: max_connections must be > 0"));
  config = {};
  config.max_query_range = std::chrono::seconds(59);
  EXPECT_EQ(config.Validate(),
            Status::InvalidArgument("serve: --max-query-range must be at least 1m"));
  config = {};
  config.insights_interval = std::chrono::seconds(0);
  EXPECT_EQ(config.Validate(),
            Status::InvalidArgument("serve: --insights-interval must be from 1s to 1h"));
  config = {};
  config.insights_webhook = "http://127.0.0.1:9000/hook";
  EXPECT_TRUE(config.Validate().ok());
  config.insights_webhook = "https://hooks.example.com/xray";
  EXPECT_EQ(config.Validate().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(config.Validate().message().find("--insights-webhook"), std::string::npos);
  config = {};
  config.api_spool_max_bytes = 4096;
  EXPECT_EQ(
      config.Validate(),
      Status::InvalidArgument("serve: --api-spool-max-bytes must be 0 (no spool) or >= 1 MiB"));
  config.api_spool_max_bytes = 0;
  EXPECT_TRUE(config.Validate().ok());
}

TEST(ServeConfigTest, AnOpenApiBeyondLoopbackNeedsInsecure) {
  ServeConfig config;
  config.host = "::1";
  EXPECT_TRUE(config.Validate().ok());
  config.host = "localhost";
  EXPECT_TRUE(config.Validate().ok());
  config.host = "0.0.0.0";
  EXPECT_EQ(config.Validate(),
            Status::InvalidArgument(
                "serve: --listen 0.0.0.0:2000 is not a loopback address, and without --keys "
                "anyone who can reach it could read and write traces. Give --keys FILE (made by "
                "roentgen keys create) to require signed requests, or --insecure to serve it "
                "open anyway"));
  config.insecure = true;
  EXPECT_TRUE(config.Validate().ok());
  config.insecure = false;
  config.keys_file = "/etc/roentgen/keys.json";  // read at start, not here
  EXPECT_TRUE(config.Validate().ok());

  // OTLP/gRPC's address too.
  config = {};
  config.otlp_grpc_listen = "[::]:4317";
  EXPECT_EQ(config.Validate().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(config.Validate().message().starts_with(
      "serve: --otlp-grpc-listen [::]:4317 is not a loopback address"))
      << config.Validate().message();
  config.otlp_grpc_listen = "[::1]:4317";
  EXPECT_TRUE(config.Validate().ok());
  config.otlp_grpc_listen = "off";
  EXPECT_TRUE(config.Validate().ok());

  // With keys, the API may listen anywhere, but OTLP/gRPC, which checks no
  // keys, still needs --insecure beyond loopback.
  config = {};
  config.keys_file = "/etc/roentgen/keys.json";
  config.host = "0.0.0.0";
  EXPECT_TRUE(config.Validate().ok());
  config.otlp_grpc_listen = "0.0.0.0:4317";
  EXPECT_TRUE(config.Validate().message().starts_with(
      "serve: --otlp-grpc-listen 0.0.0.0:4317 is not a loopback address, and OTLP/gRPC checks "
      "no keys (SigV4 is not defined for gRPC)"))
      << config.Validate().message();
  config.insecure = true;
  EXPECT_TRUE(config.Validate().ok());

  // Client certificates authenticate gRPC's exporters: beyond loopback
  // without --insecure, with or without keys. They need TLS.
  config.insecure = false;
  config.otlp_grpc_client_ca_file = "/etc/roentgen/tls/exporters-ca.pem";  // read at start
  EXPECT_EQ(config.Validate(),
            Status::InvalidArgument("serve: --otlp-grpc-client-ca needs TLS: give --tls-cert FILE "
                                    "and --tls-key FILE too"));
  config.tls_cert_file = "/etc/roentgen/tls/cert.pem";
  config.tls_key_file = "/etc/roentgen/tls/key.pem";
  EXPECT_TRUE(config.Validate().ok()) << config.Validate().message();
  config.keys_file.clear();
  config.host = "127.0.0.1";
  EXPECT_TRUE(config.Validate().ok()) << config.Validate().message();
  config.otlp_grpc_listen = "off";
  EXPECT_EQ(config.Validate(),
            Status::InvalidArgument("serve: --otlp-grpc-client-ca is for OTLP/gRPC, which is off"));
}

TEST(ServeConfigTest, UdpAllowCorsAndTlsOptions) {
  ServeConfig config;
  EXPECT_EQ(config.UdpAllowlist()->ToString(), "127.0.0.0/8,::1/128");
  config.udp_allow = {"10.0.0.0/8", "10.1.2.3/8"};
  EXPECT_EQ(config.Validate(),
            Status::InvalidArgument("serve: --udp-allow: '10.1.2.3/8' has host bits set below its "
                                    "prefix (did you mean 10.0.0.0/8?)"));
  config = {};
  config.cors_origins = {"https://app.example.com/path"};
  EXPECT_TRUE(config.Validate().message().starts_with(
      "serve: --cors-origins: CORS origin 'https://app.example.com/path' is not an origin"));
  config.cors_origins = {"*"};
  EXPECT_TRUE(config.Validate().ok());
  config.keys_file = "keys.json";
  EXPECT_EQ(config.Validate(),
            Status::InvalidArgument(
                "serve: --cors-origins '*' (any web page) is refused with --keys: name the "
                "origins whose pages may call the API (https://app.example.com,…)"));
  config = {};
  config.tls_cert_file = "cert.pem";
  EXPECT_EQ(config.Validate(),
            Status::InvalidArgument("serve: HTTPS needs both --tls-cert FILE and --tls-key FILE"));
}

TEST(RunServeTest, ServesUntilSignalledThenDrains) {
  std::string dir = testing::TempDir() + "roentgen_serve_test_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  ServeConfig config;
  config.port = FreePort();
  config.data_dir = dir + "/data";  // created by RunServe
  config.log_level = "warn";
  config.otlp_grpc_listen = "off";

  std::promise<pthread_t> thread_id;
  std::future<Status> result = std::async(std::launch::async, [&] {
    thread_id.set_value(pthread_self());
    return RunServe(config);
  });
  pthread_t serve_thread = thread_id.get_future().get();

  std::pair<unsigned, std::string> health{0, ""};
  for (int i = 0; i < 200 && health.first != 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
    health = Get(config.port, "/healthz");
  }
  ASSERT_EQ(health, (std::pair<unsigned, std::string>{200, "ok"}));
  EXPECT_TRUE(std::filesystem::is_directory(config.data_dir));

  // The web console on the same port, or a page saying it was not built.
  const auto [page_status, page] = Get(config.port, "/");
  if (api::EmbeddedConsoleAssets().empty()) {
    EXPECT_EQ(page_status, 404u);
    EXPECT_NE(page.find("-DROENTGEN_BUILD_CONSOLE=OFF"), std::string::npos) << page;
  } else {
    EXPECT_EQ(page_status, 200u);
    EXPECT_NE(page.find("<html"), std::string::npos) << page;
  }

  // UDP shares the port: one datagram shows up in /metrics.
  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(config.port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // One rejected datagram, one stored segment.
  const std::string header = "{\"format\":\"json\",\"version\":1}\n";
  const double now = static_cast<double>(time(nullptr));
  for (const std::string& datagram :
       {header + "{}",
        header + fmt::format(R"({{"name":"api","id":"70de5b6f19ff9a0a","trace_id":"1-{:08x}-)"
                             R"(5759e988bd862e3fe1be46a9","start_time":{},"end_time":{}}})",
                             static_cast<uint32_t>(now), now, now + 0.5)}) {
    sendto(udp, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  }
  close(udp);
  std::string metrics;
  for (int i = 0; i < 200; ++i) {
    metrics = Get(config.port, "/metrics").second;
    if (metrics.find("roentgen_store_traces 1\n") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_NE(metrics.find("roentgen_udp_datagrams_received_total 2\n"), std::string::npos)
      << metrics;
  // The store's figures are read at each scrape.
  EXPECT_NE(metrics.find("roentgen_store_traces 1\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("roentgen_store_documents 1\n"), std::string::npos);
  EXPECT_NE(metrics.find("roentgen_store_memtable_bytes "), std::string::npos);
  EXPECT_NE(metrics.find("roentgen_store_writes_stalled 0\n"), std::string::npos);
  EXPECT_NE(metrics.find("roentgen_http_requests_total{path=\"/healthz\",status=\"200\"} 1\n"),
            std::string::npos);
  // The rollups' background rebuild over the empty store ends.
  for (int i = 0; i < 200; ++i) {
    metrics = Get(config.port, "/metrics").second;
    if (metrics.find("roentgen_rollups_rebuilding 0\n") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_NE(metrics.find("roentgen_rollups_rebuilding 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("roentgen_rollups_rebuilt_traces 0\n"), std::string::npos);

  pthread_kill(serve_thread, SIGTERM);
  ASSERT_EQ(result.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  Status status = result.get();
  EXPECT_TRUE(status.ok()) << status.ToString();
  EXPECT_EQ(Get(config.port, "/healthz").first, 0u);  // closed
  std::filesystem::remove_all(dir);
}

TEST(RunServeTest, KeysRequireSignedRequestsAndSighupReloadsThem) {
  std::string dir = testing::TempDir() + "roentgen_serve_keys_" + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const auth::SigningCredentials reader{"AKRGREADERAAAAAAAAAA", "reader-secret-0123456789", ""};
  auth::KeysFile keys;
  keys.keys.push_back({reader.access_key_id, reader.secret_access_key, "", {"xray:Get*"}, 0});
  ASSERT_TRUE(auth::WriteKeysFile(dir + "/keys.json", keys).ok());
  ServeConfig config;
  config.port = FreePort();
  config.data_dir = dir + "/data";
  config.log_level = "warn";
  config.otlp_grpc_listen = "off";
  config.keys_file = dir + "/keys.json";

  std::promise<pthread_t> thread_id;
  std::future<Status> result = std::async(std::launch::async, [&] {
    thread_id.set_value(pthread_self());
    return RunServe(config);
  });
  pthread_t serve_thread = thread_id.get_future().get();
  unsigned health = 0;
  for (int i = 0; i < 200 && health != 200; ++i) {
    health = Get(config.port, "/healthz").first;
    if (health != 200) std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  ASSERT_EQ(health, 200u);
  EXPECT_EQ(Get(config.port, "/metrics").first, 200u);

  const std::string query = R"({"StartTime": 1, "EndTime": 2})";
  EXPECT_EQ(Post(config.port, "/TraceSummaries", query, {}),
            (std::pair<unsigned, std::string>{403, "MissingAuthenticationTokenException"}));
  EXPECT_EQ(Post(config.port, "/TraceSummaries", query, reader).first, 200u);
  EXPECT_EQ(Post(config.port, "/TraceSegments", R"({"TraceSegmentDocuments": []})", reader),
            (std::pair<unsigned, std::string>{403, "AccessDeniedException"}));

  // The key is removed from the file; SIGHUP re-reads it at once.
  keys.keys.clear();
  ASSERT_TRUE(auth::WriteKeysFile(config.keys_file, keys).ok());
  pthread_kill(serve_thread, SIGHUP);
  std::pair<unsigned, std::string> refused;
  for (int i = 0; i < 200 && refused.first != 403; ++i) {
    refused = Post(config.port, "/TraceSummaries", query, reader);
    if (refused.first != 403) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(refused, (std::pair<unsigned, std::string>{403, "UnrecognizedClientException"}));
  EXPECT_EQ(Get(config.port, "/healthz").first, 200u);  // SIGHUP did not stop it

  pthread_kill(serve_thread, SIGTERM);
  ASSERT_EQ(result.wait_for(std::chrono::seconds(30)), std::future_status::ready);
  EXPECT_TRUE(result.get().ok());
  std::filesystem::remove_all(dir);
}

TEST(RunServeTest, AMissingKeysFileFailsStartUp) {
  ServeConfig config;
  config.port = FreePort();
  config.data_dir = testing::TempDir() + "roentgen_serve_nokeys_" + std::to_string(getpid());
  config.log_level = "off";
  config.otlp_grpc_listen = "off";
  config.keys_file = config.data_dir + "/missing-keys.json";
  Status status = RunServe(config);
  EXPECT_EQ(status.code(), StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "serve: --keys: keys file " + config.keys_file + " does not exist");
  EXPECT_FALSE(std::filesystem::exists(config.data_dir));  // nothing opened
}

TEST(RunServeTest, BusyPortFailsStartUp) {
  std::string dir = testing::TempDir() + "roentgen_serve_busy_" + std::to_string(getpid());
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ServeConfig config;
  config.port = ntohs(a.sin_port);
  config.data_dir = dir;
  config.log_level = "off";
  config.otlp_grpc_listen = "off";
  Status status = RunServe(config);
  close(fd);
  EXPECT_EQ(status.code(), StatusCode::kIOError);
  EXPECT_EQ(status.message(), "http: cannot bind 127.0.0.1:" + std::to_string(config.port) +
                                  ": Address already in use");
  std::filesystem::remove_all(dir);
}

// A data dir keeps the engine that wrote it: started with the other one, the
// server refuses, naming both and the way out.
TEST_F(ServerTest, ADataDirKeepsItsStoreEngine) {
  const std::string block_dir = config_.data_dir;
  config_.store_engine = "block";
  {
    Result<std::unique_ptr<Server>> server = Server::Start(config_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
  }
  EXPECT_TRUE(std::filesystem::exists(block_dir + "/blocks/CURRENT"));
  EXPECT_FALSE(std::filesystem::exists(block_dir + "/CURRENT"));
  Result<std::optional<StoreEngine>> detected = DetectStoreEngine(block_dir);
  ASSERT_TRUE(detected.ok());
  EXPECT_EQ(*detected, std::optional<StoreEngine>(StoreEngine::kBlock));

  config_.store_engine = "rocksdb";
  Result<std::unique_ptr<Server>> refused = Server::Start(config_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status(),
            Status::InvalidArgument(
                "serve: the data dir " + block_dir +
                " holds a store of the block engine, but --store-engine is rocksdb: start with "
                "--store-engine block (or store-engine = \"block\" in the config file) to use it, "
                "or give another --data-dir to start a rocksdb store; a data dir does not migrate "
                "from the block engine back to rocksdb"));
  EXPECT_FALSE(std::filesystem::exists(block_dir + "/CURRENT"));  // nothing written

  config_.store_engine = "block";  // the engine that wrote it starts again
  EXPECT_TRUE(Server::Start(config_).ok());

  // And the other way round.
  config_.data_dir = dir_ + "/rocksdb";
  config_.store_engine = "rocksdb";
  ASSERT_TRUE(Server::Start(config_).ok());
  detected = DetectStoreEngine(config_.data_dir);
  ASSERT_TRUE(detected.ok());
  EXPECT_EQ(*detected, std::optional<StoreEngine>(StoreEngine::kRocksDb));
  config_.store_engine = "block";
  refused = Server::Start(config_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find(
                "holds a store of the rocksdb engine, but --store-engine is block: migrate it "
                "first with the server stopped (roentgen migrate --data-dir " +
                config_.data_dir + " --to block;"),
            std::string::npos)
      << refused.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(config_.data_dir + "/blocks"));

  // A new data dir holds no engine's store yet.
  detected = DetectStoreEngine(dir_ + "/new");
  ASSERT_TRUE(detected.ok());
  EXPECT_FALSE(detected->has_value());
}

// The block engine's data dir through the whole server: a stored trace is
// read back after a restart.
TEST_F(ServerTest, TheBlockEngineKeepsWhatItStoredAcrossARestart) {
  config_.store_engine = "block";
  const double now = static_cast<double>(time(nullptr));
  const std::string id =
      fmt::format("1-{:08x}-5759e988bd862e3fe1be46a9", static_cast<uint32_t>(now));
  {
    Result<std::unique_ptr<Server>> server = Server::Start(config_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    auto put = Exchange(config_.port, http::verb::post, "/TraceSegments",
                        {{"Content-Type", "application/json"}},
                        fmt::format(R"({{"TraceSegmentDocuments":["{{\"name\":\"api\",)"
                                    R"(\"id\":\"70de5b6f19ff9a0a\",\"trace_id\":\"{}\",)"
                                    R"(\"start_time\":{},\"end_time\":{}}}"]}})",
                                    id, now, now + 0.5));
    ASSERT_EQ(put.result_int(), 200u) << put.body();
    EXPECT_NE(put.body().find(R"("UnprocessedTraceSegments":[])"), std::string::npos) << put.body();
  }
  Result<std::unique_ptr<Server>> server = Server::Start(config_);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  auto got =
      Exchange(config_.port, http::verb::post, "/Traces", {{"Content-Type", "application/json"}},
               fmt::format(R"({{"TraceIds":["{}"]}})", id));
  ASSERT_EQ(got.result_int(), 200u) << got.body();
  EXPECT_NE(got.body().find("70de5b6f19ff9a0a"), std::string::npos) << got.body();
  // The service-graph rollups came with the blocks: no rebuild, and the map
  // holds the stored trace's service at once.
  const std::string metrics = Get(config_.port, "/metrics").second;
  EXPECT_NE(metrics.find("roentgen_rollups_rebuilding 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("roentgen_rollups_rebuilt_blocks 0\n"), std::string::npos) << metrics;
  // The stored trace's minutes, kept per minute, nothing evicted.
  EXPECT_NE(metrics.find("roentgen_rollups_minutes "), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("roentgen_rollups_minutes 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("roentgen_rollups_hours 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("roentgen_rollups_evicted_minutes 0\n"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("roentgen_rollups_bytes 0\n"), std::string::npos) << metrics;
  auto map = Exchange(config_.port, http::verb::post, "/ServiceGraph",
                      {{"Content-Type", "application/json"}},
                      fmt::format(R"({{"StartTime":{},"EndTime":{}}})", now - 120, now + 120));
  ASSERT_EQ(map.result_int(), 200u) << map.body();
  EXPECT_NE(map.body().find(R"("Name":"api")"), std::string::npos) << map.body();
}

// A RocksDB data dir whose migration committed its copy but stopped before
// the switch (store/migrate.h) is the block engine's: a block server
// finishes the switch and serves the trace the RocksDB server stored; a
// RocksDB server is refused.
TEST_F(ServerTest, ABlockServerFinishesAMigrationInterruptedAfterItsCommit) {
  config_.store_engine = "rocksdb";
  const double now = static_cast<double>(time(nullptr));
  const std::string id =
      fmt::format("1-{:08x}-6759e988bd862e3fe1be46a9", static_cast<uint32_t>(now));
  {
    Result<std::unique_ptr<Server>> server = Server::Start(config_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    auto put = Exchange(config_.port, http::verb::post, "/TraceSegments",
                        {{"Content-Type", "application/json"}},
                        fmt::format(R"({{"TraceSegmentDocuments":["{{\"name\":\"api\",)"
                                    R"(\"id\":\"80de5b6f19ff9a0a\",\"trace_id\":\"{}\",)"
                                    R"(\"start_time\":{},\"end_time\":{}}}"]}})",
                                    id, now, now + 0.5));
    ASSERT_EQ(put.result_int(), 200u) << put.body();
  }
  store::MigrationOptions options;
  options.after_commit = [] { return Status::IOError("stopped after the commit"); };
  ASSERT_EQ(store::MigrateRocksDbToBlock(config_.data_dir, options).status().code(),
            StatusCode::kIOError);
  ASSERT_TRUE(store::MigrationSwitchPending(config_.data_dir));
  Result<std::optional<StoreEngine>> detected = DetectStoreEngine(config_.data_dir);
  ASSERT_TRUE(detected.ok());
  EXPECT_EQ(*detected, std::optional<StoreEngine>(StoreEngine::kBlock));

  Result<std::unique_ptr<Server>> refused = Server::Start(config_);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("holds a store of the block engine"), std::string::npos)
      << refused.status().ToString();

  config_.store_engine = "block";
  Result<std::unique_ptr<Server>> server = Server::Start(config_);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_FALSE(store::MigrationSwitchPending(config_.data_dir));
  EXPECT_FALSE(std::filesystem::exists(config_.data_dir + "/CURRENT"));
  EXPECT_TRUE(std::filesystem::exists(config_.data_dir + "/rocksdb-before-migration/CURRENT"));
  auto got =
      Exchange(config_.port, http::verb::post, "/Traces", {{"Content-Type", "application/json"}},
               fmt::format(R"({{"TraceIds":["{}"]}})", id));
  ASSERT_EQ(got.result_int(), 200u) << got.body();
  EXPECT_NE(got.body().find("80de5b6f19ff9a0a"), std::string::npos) << got.body();
}

TEST_F(ServerTest, ABusyUdpPortAfterHttpStartedUndoesTheStart) {
  // UDP's half of the port is taken; HTTP binds its TCP half first.
  int udp = socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(config_.port);
  ASSERT_EQ(bind(udp, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  Result<std::unique_ptr<Server>> failed = Server::Start(config_);
  close(udp);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status(),
            Status::IOError("udp: cannot bind 127.0.0.1:" + std::to_string(config_.port) +
                            ": Address already in use"));
  // Undone: the HTTP port is closed, the store closed and its lock released.
  EXPECT_EQ(Get(config_.port, "/healthz").first, 0u);
  EXPECT_TRUE(std::filesystem::is_directory(config_.data_dir + "/udp-spool"));
  EXPECT_TRUE(std::filesystem::is_directory(config_.data_dir + "/api-spool"));
  EXPECT_TRUE(StoreIsFree());

  // A second start on the same port works.
  Result<std::unique_ptr<Server>> second = Server::Start(config_);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(Get(config_.port, "/healthz"), (std::pair<unsigned, std::string>{503, "starting"}));
  (*second)->SetReady();
  EXPECT_EQ(Get(config_.port, "/healthz"), (std::pair<unsigned, std::string>{200, "ok"}));
  second->reset();
  EXPECT_EQ(Get(config_.port, "/healthz").first, 0u);
  EXPECT_TRUE(StoreIsFree());
}

TEST_F(ServerTest, ABusyOtlpGrpcPortGivenExplicitlyUndoesTheStart) {
  int tcp = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(tcp, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  ASSERT_EQ(listen(tcp, 1), 0);
  socklen_t len = sizeof(a);
  getsockname(tcp, reinterpret_cast<sockaddr*>(&a), &len);
  config_.otlp_grpc_listen = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  config_.otlp_grpc_listen_explicit = true;
  Result<std::unique_ptr<Server>> failed = Server::Start(config_);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kIOError) << failed.status().ToString();
  EXPECT_EQ(Get(config_.port, "/healthz").first, 0u);
  EXPECT_TRUE(StoreIsFree());

  // Left at its default, a busy gRPC address is logged and serve runs without it.
  config_.otlp_grpc_listen_explicit = false;
  Result<std::unique_ptr<Server>> without_grpc = Server::Start(config_);
  close(tcp);
  ASSERT_TRUE(without_grpc.ok()) << without_grpc.status().ToString();
  EXPECT_FALSE((*without_grpc)->otlp_grpc());
  without_grpc->reset();
  EXPECT_TRUE(StoreIsFree());
}

TEST_F(ServerTest, AnUnusableCertificateStopsStartUpWithNothingLeftOpen) {
  api::testing::TestCertificate certificate;
  const std::string other_key = certificate.dir() + "/other.pem";
  api::testing::TestCertificate::WriteOtherKey(other_key);
  config_.tls_cert_file = certificate.cert_file();
  config_.tls_key_file = other_key;
  Result<std::unique_ptr<Server>> failed = Server::Start(config_);
  EXPECT_EQ(
      failed.status(),
      Status::InvalidArgument("serve: --tls-cert/--tls-key: tls: the private key in " + other_key +
                              " does not belong to the certificate in " + certificate.cert_file()));
  EXPECT_TRUE(StoreIsFree());
}

TEST_F(ServerTest, ServesHttpsWhenGivenACertificate) {
  api::testing::TestCertificate certificate;
  config_.tls_cert_file = certificate.cert_file();
  config_.tls_key_file = certificate.key_file();
  Result<std::unique_ptr<Server>> server = Server::Start(config_);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  (*server)->SetReady();
  EXPECT_EQ(Get(config_.port, "/healthz").first, 0u);  // plain HTTP is not served

  net::io_context ioc;
  net::ssl::context context(net::ssl::context::tls_client);
  context.load_verify_file(certificate.cert_file());
  context.set_verify_mode(net::ssl::verify_peer);
  beast::ssl_stream<beast::tcp_stream> stream(ioc, context);
  beast::get_lowest_layer(stream).connect(
      net::ip::tcp::endpoint(net::ip::address_v4::loopback(), config_.port));
  stream.handshake(net::ssl::stream_base::client);
  http::request<http::empty_body> req{http::verb::get, "/healthz", 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "ok");

  // SIGHUP's reload with a broken key file keeps the certificate it had.
  std::filesystem::resize_file(certificate.key_file(), 10);
  (*server)->Reload();
  EXPECT_TRUE((*server)->http().tls_description().starts_with("CN=localhost"));
}

TEST_F(ServerTest, SamplingRoutesAreUnsignedFromUdpAllowedNetworksOnly) {
  const auth::SigningCredentials admin{"AKRGADMINAAAAAAAAAAA", "admin-secret-0123456789", ""};
  auth::KeysFile keys;
  keys.keys.push_back({admin.access_key_id, admin.secret_access_key, "", {"*"}, 0});
  std::filesystem::create_directories(dir_);
  config_.keys_file = dir_ + "/keys.json";
  ASSERT_TRUE(auth::WriteKeysFile(config_.keys_file, keys).ok());
  {
    Result<std::unique_ptr<Server>> server = Server::Start(config_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    // Let through unsigned from loopback: answered by the sampling API (an
    // empty GetSamplingTargets lacks its statistics documents).
    EXPECT_EQ(Post(config_.port, "/SamplingTargets", "{}", {}),
              (std::pair<unsigned, std::string>{400, "InvalidRequestException"}));
    EXPECT_EQ(Post(config_.port, "/GetSamplingRules", "{}", {}).first, 200u);
    // Other routes need a signature.
    EXPECT_EQ(Post(config_.port, "/TraceSummaries", "{}", {}),
              (std::pair<unsigned, std::string>{403, "MissingAuthenticationTokenException"}));
  }
  // With loopback outside --udp-allow, a signature is needed there too.
  config_.udp_allow = {"192.0.2.0/24"};
  Result<std::unique_ptr<Server>> server = Server::Start(config_);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_EQ(Post(config_.port, "/SamplingTargets", "{}", {}),
            (std::pair<unsigned, std::string>{403, "MissingAuthenticationTokenException"}));
  EXPECT_EQ(Post(config_.port, "/SamplingTargets", "{}", admin).first, 400u);
}

TEST_F(ServerTest, CorsPreflightsAndResponsesOverHttp) {
  const auth::SigningCredentials admin{"AKRGADMINAAAAAAAAAAA", "admin-secret-0123456789", ""};
  auth::KeysFile keys;
  keys.keys.push_back({admin.access_key_id, admin.secret_access_key, "", {"*"}, 0});
  std::filesystem::create_directories(dir_);
  config_.keys_file = dir_ + "/keys.json";
  ASSERT_TRUE(auth::WriteKeysFile(config_.keys_file, keys).ok());
  config_.cors_origins = {"http://127.0.0.1:8080"};
  Result<std::unique_ptr<Server>> server = Server::Start(config_);
  ASSERT_TRUE(server.ok()) << server.status().ToString();

  // The preflight of the AWS SDK's PutTraceSegments: unsigned, answered.
  const std::vector<std::pair<std::string, std::string>> preflight = {
      {"Origin", "http://127.0.0.1:8080"},
      {"Access-Control-Request-Method", "POST"},
      {"Access-Control-Request-Headers",
       "amz-sdk-invocation-id,amz-sdk-request,authorization,content-type,x-amz-content-sha256,"
       "x-amz-date,x-amz-user-agent"}};
  auto answer = Exchange(config_.port, http::verb::options, "/TraceSegments", preflight);
  EXPECT_EQ(answer.result_int(), 204u);
  EXPECT_EQ(Field(answer, "Access-Control-Allow-Origin"), "http://127.0.0.1:8080");
  EXPECT_EQ(Field(answer, "Access-Control-Allow-Methods"), "POST, GET, OPTIONS");
  EXPECT_NE(Field(answer, "Access-Control-Allow-Headers").find("x-amz-security-token"),
            std::string::npos);
  EXPECT_EQ(Field(answer, "Access-Control-Max-Age"), "7200");
  EXPECT_EQ(Field(answer, "Content-Length"), "");

  // The request itself, unsigned here: refused, readable by the page.
  auto refused = Exchange(config_.port, http::verb::post, "/TraceSegments",
                          {{"Origin", "http://127.0.0.1:8080"}}, "{}");
  EXPECT_EQ(refused.result_int(), 403u);
  EXPECT_EQ(Field(refused, "Access-Control-Allow-Origin"), "http://127.0.0.1:8080");
  EXPECT_EQ(Field(refused, "Access-Control-Expose-Headers"), "x-amzn-errortype, x-amzn-requestid");
  EXPECT_EQ(Field(refused, "Vary"), "Origin");

  // Another origin's preflight is the gate's: refused, no CORS headers.
  auto other = preflight;
  other[0].second = "http://127.0.0.1:9090";
  answer = Exchange(config_.port, http::verb::options, "/TraceSegments", other);
  EXPECT_EQ(answer.result_int(), 403u);
  EXPECT_EQ(Field(answer, "Access-Control-Allow-Origin"), "");
}

}  // namespace
}  // namespace roentgen::cli
