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

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "api/console_assets.h"
#include "auth/keys_file.h"
#include "auth/sigv4.h"
#include "common/clock.h"

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

TEST(ServeConfigTest, Validate) {
  ServeConfig config;
  EXPECT_TRUE(config.Validate().ok());
  config.retention = std::chrono::seconds(30);
  EXPECT_EQ(config.Validate(), Status::InvalidArgument("serve: --retention must be at least 1m"));
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
  EXPECT_EQ(status.message(),
            "serve: --keys: keys file " + config.keys_file + " does not exist");
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

}  // namespace
}  // namespace roentgen::cli
