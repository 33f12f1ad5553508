#include "api/http_server.h"

// Boost 1.74's asio uses std::exchange without including <utility>.
// clang-format off
#include <utility>
// clang-format on
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "api/gzip_for_test.h"
#include "api/limits.h"

namespace roentgen::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Response = http::response<http::string_body>;

// A blocking HTTP/1.1 client on one connection.
class Client {
 public:
  explicit Client(uint16_t port) {
    stream_.connect(tcp::endpoint(net::ip::address_v4::loopback(), port));
  }
  Response Send(http::verb method, std::string target, std::string body = "",
                std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "localhost");
    for (auto& [k, v] : headers) req.set(k, v);
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(stream_, req);
    return Read();
  }
  void WriteRaw(std::string_view bytes) { net::write(stream_, net::buffer(bytes)); }
  Response Read() {
    Response res;
    http::read(stream_, buffer_, res);
    return res;
  }
  // The bytes of one response's header section, as sent ("…\r\n\r\n"); what
  // follows stays buffered for the next read.
  std::string ReadRawHeader() {
    const size_t n =
        net::read_until(stream_.socket(), beast::net::dynamic_buffer(raw_), "\r\n\r\n");
    std::string header = raw_.substr(0, n);
    raw_.erase(0, n);
    return header;
  }
  // True when the server closed the connection (a read sees EOF or a reset).
  bool Closed() {
    Response res;
    beast::error_code ec;
    http::read(stream_, buffer_, res, ec);
    return ec == http::error::end_of_stream || ec == net::error::connection_reset ||
           ec == net::error::eof;
  }

 private:
  net::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buffer_;
  std::string raw_;
};

std::string Header(const Response& r, std::string_view name) {
  auto it = r.find(beast::string_view(name.data(), name.size()));
  return it == r.end() ? "" : std::string(it->value());
}

HttpResponse Text(std::string body) {
  HttpResponse r;
  r.body = std::move(body);
  r.content_type = "text/plain";
  return r;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/hello",
                [](const HttpRequest&, Responder respond) { respond(Text("hi")); });
    router_.Add("POST", "/echo",
                [](const HttpRequest& req, Responder respond) { respond(Text(req.body)); });
    router_.Add("POST", "/received", [](const HttpRequest& req, Responder respond) {
      respond(Text(std::string(req.ReceivedBody())));
    });
    router_.Add("GET", "/info", [](const HttpRequest& req, Responder respond) {
      respond(Text(req.method + " " + req.path + " " + req.query + " " +
                   std::string(req.Header("x-test")) + " " + req.remote_address));
    });
    router_.Add("GET", "/later", [this](const HttpRequest&, Responder respond) {
      std::lock_guard lock(mu_);
      pending_.push_back(std::move(respond));
      pending_promise_.set_value();
    });
    router_.Add("GET", "/forgets", [](const HttpRequest&, Responder) {});
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  void StartServer(HttpServerConfig config = {}) {
    config.port = 0;
    config.host = "127.0.0.1";
    server_ = std::make_unique<HttpServer>(config, router_, metrics_);
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_NE(server_->port(), 0);
  }
  // Waits until /later's handler has stored a responder, and takes it.
  Responder TakePending() {
    pending_future_.wait();
    std::lock_guard lock(mu_);
    Responder r = std::move(pending_.front());
    pending_.clear();
    return r;
  }

  Router router_;
  MetricsRegistry metrics_;
  std::unique_ptr<HttpServer> server_;
  std::mutex mu_;
  std::vector<Responder> pending_;
  std::promise<void> pending_promise_;
  std::future<void> pending_future_ = pending_promise_.get_future();
};

TEST_F(HttpServerTest, RoutesRequests) {
  StartServer();
  Client client(server_->port());
  Response r = client.Send(http::verb::get, "/hello");
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), "hi");
  EXPECT_EQ(Header(r, "Content-Type"), "text/plain");
  EXPECT_EQ(Header(r, "Server"), "roentgen");
  r = client.Send(http::verb::get, "/info?a=1&b=2", "", {{"X-Test", "v"}});
  EXPECT_EQ(r.body(), "GET /info a=1&b=2 v 127.0.0.1");
}

TEST_F(HttpServerTest, NotFoundAndMethodNotAllowedInXRayShape) {
  StartServer();
  Client client(server_->port());
  Response r = client.Send(http::verb::get, "/missing");
  EXPECT_EQ(r.result_int(), 404u);
  EXPECT_EQ(Header(r, "x-amzn-ErrorType"), "UnknownOperationException");
  EXPECT_EQ(r.body(),
            R"({"__type":"UnknownOperationException","message":"no operation at GET /missing"})");
  r = client.Send(http::verb::delete_, "/hello");
  EXPECT_EQ(r.result_int(), 405u);
  EXPECT_EQ(Header(r, "x-amzn-ErrorType"), "MethodNotAllowedException");
  EXPECT_EQ(Header(r, "Allow"), "GET");
}

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  StartServer();
  Client client(server_->port());
  EXPECT_EQ(client.Send(http::verb::get, "/hello").body(), "hi");
  Response second = client.Send(http::verb::post, "/echo", "again");
  EXPECT_EQ(second.body(), "again");
  EXPECT_TRUE(second.keep_alive());
}

TEST_F(HttpServerTest, PipelinedRequestsAnswerInOrder) {
  StartServer();
  Client client(server_->port());
  client.WriteRaw(
      "GET /later HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nsecond");
  Responder later = TakePending();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // the echo must wait its turn
  later(Text("first"));
  EXPECT_EQ(client.Read().body(), "first");
  EXPECT_EQ(client.Read().body(), "second");
}

TEST_F(HttpServerTest, BodyTooLargeIs413AndCloses) {
  HttpServerConfig config;
  config.max_body_bytes = 1024;
  StartServer(config);
  Client client(server_->port());
  Response r = client.Send(http::verb::post, "/echo", std::string(4096, 'x'));
  EXPECT_EQ(r.result_int(), 413u);
  EXPECT_EQ(Header(r, "x-amzn-ErrorType"), "RequestEntityTooLargeException");
  EXPECT_EQ(
      r.body(),
      R"({"__type":"RequestEntityTooLargeException","message":"request body exceeds 1024 bytes"})");
  EXPECT_FALSE(r.keep_alive());
  EXPECT_TRUE(client.Closed());
  EXPECT_EQ(LimitCounter(metrics_, Limit::kBodySize).Value(), 1u);
}

TEST_F(HttpServerTest, HeadersTooLargeAre431AndCounted) {
  StartServer();
  Client client(server_->port());
  Response r = client.Send(http::verb::get, "/hello", "", {{"X-Big", std::string(17 * 1024, 'h')}});
  EXPECT_EQ(r.result_int(), 431u);
  EXPECT_EQ(Header(r, "x-amzn-ErrorType"), "InvalidRequestException");
  EXPECT_TRUE(client.Closed());
  EXPECT_EQ(LimitCounter(metrics_, Limit::kHeaderSize).Value(), 1u);
}

// The reporter's case: a body that stops mid-stream was closed after 60 s with
// no answer and no counter.
TEST_F(HttpServerTest, StalledBodyIs408AndCounted) {
  HttpServerConfig config;
  config.request_timeout = std::chrono::milliseconds(300);
  StartServer(config);
  Client client(server_->port());
  const auto sent = std::chrono::steady_clock::now();
  client.WriteRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b");
  Response r = client.Read();
  const auto waited = std::chrono::steady_clock::now() - sent;
  EXPECT_EQ(r.result_int(), 408u);
  EXPECT_EQ(Header(r, "x-amzn-ErrorType"), "RequestTimeoutException");
  EXPECT_EQ(r.body(),
            R"x({"__type":"RequestTimeoutException","message":"the request did not arrive in )x"
            R"x(full within 0.3 s of its first byte (headers and body; roentgen serve )x"
            R"x(--http-request-timeout)"})x");
  EXPECT_FALSE(r.keep_alive());
  EXPECT_GE(waited, std::chrono::milliseconds(250));
  EXPECT_LT(waited, std::chrono::seconds(2));
  EXPECT_TRUE(client.Closed());
  EXPECT_EQ(LimitCounter(metrics_, Limit::kRequestTimeout).Value(), 1u);
  EXPECT_NE(
      metrics_.RenderText().find(R"(roentgen_http_requests_total{path="/echo",status="408"} 1)"),
      std::string::npos);
}

TEST_F(HttpServerTest, StalledHeadersAre408) {
  HttpServerConfig config;
  config.request_timeout = std::chrono::milliseconds(200);
  StartServer(config);
  Client client(server_->port());
  client.WriteRaw("GET /hello HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  EXPECT_EQ(client.Read().result_int(), 408u);
  EXPECT_EQ(LimitCounter(metrics_, Limit::kRequestTimeout).Value(), 1u);
}

// The request timeout runs from a request's first byte: a connection idle
// longer than it between requests, a slow but steady body, and a handler
// slower than it are all fine.
TEST_F(HttpServerTest, RequestTimeoutBoundsOnlyTheReadOfARequest) {
  HttpServerConfig config;
  config.request_timeout = std::chrono::milliseconds(400);
  StartServer(config);
  Client client(server_->port());
  EXPECT_EQ(client.Send(http::verb::get, "/hello").result_int(), 200u);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));  // idle, not a request
  client.WriteRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nabc");
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  client.WriteRaw("def");
  Response r = client.Read();
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), "abcdef");
  std::thread responder([this] {
    Responder later = TakePending();
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    later(Text("slow handler"));
  });
  r = client.Send(http::verb::get, "/later");
  responder.join();
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), "slow handler");
  EXPECT_EQ(client.Send(http::verb::get, "/hello").result_int(), 200u);
  EXPECT_EQ(LimitCounter(metrics_, Limit::kRequestTimeout).Value(), 0u);
}

TEST_F(HttpServerTest, IdleConnectionsAreClosedAndCounted) {
  HttpServerConfig config;
  config.idle_timeout = std::chrono::milliseconds(200);
  StartServer(config);
  Client never_used(server_->port());
  Client kept_alive(server_->port());
  EXPECT_EQ(kept_alive.Send(http::verb::get, "/hello").result_int(), 200u);
  EXPECT_TRUE(never_used.Closed());
  EXPECT_TRUE(kept_alive.Closed());
  // Beast's timer closes the socket before the read's handler counts it.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (LimitCounter(metrics_, Limit::kIdleTimeout).Value() < 2 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(LimitCounter(metrics_, Limit::kIdleTimeout).Value(), 2u);
  EXPECT_EQ(LimitCounter(metrics_, Limit::kRequestTimeout).Value(), 0u);
}

TEST_F(HttpServerTest, ChunkedBodyTooLargeIs413) {
  HttpServerConfig config;
  config.max_body_bytes = 10;
  StartServer(config);
  Client client(server_->port());
  client.WriteRaw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n");
  EXPECT_EQ(client.Read().result_int(), 413u);
}

// Bodies past the read chunk (64 KB) arrive whole, with a length or chunked,
// and a small request after them on the same connection is still read right.
TEST_F(HttpServerTest, LargeBodiesArriveWholeOnAKeptAliveConnection) {
  StartServer();
  Client client(server_->port());
  std::string large(300 * 1024, 'x');
  for (size_t i = 0; i < large.size(); i += 997) large[i] = static_cast<char>('a' + i % 26);
  Response r = client.Send(http::verb::post, "/echo", large);
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), large);

  const std::string chunk(100 * 1024, 'c');
  std::string chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 2; ++i) chunked += fmt::format("{:x}\r\n{}\r\n", chunk.size(), chunk);
  chunked += "0\r\n\r\n";
  client.WriteRaw(chunked);
  r = client.Read();
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), chunk + chunk);

  r = client.Send(http::verb::post, "/echo", "small");
  EXPECT_EQ(r.body(), "small");
}

TEST_F(HttpServerTest, GzipBodyIsDecompressed) {
  StartServer();
  Client client(server_->port());
  std::string plain = R"({"TraceSegmentDocuments":["{}"]})";
  Response r =
      client.Send(http::verb::post, "/echo", GzipForTest(plain), {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), plain);
}

TEST_F(HttpServerTest, TheBytesReceivedAreKeptForSignatures) {
  StartServer();
  Client client(server_->port());
  const std::string gzipped = GzipForTest(R"({"a":1})");
  Response r = client.Send(http::verb::post, "/received", gzipped, {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.body(), gzipped);
  r = client.Send(http::verb::post, "/received", "plain");
  EXPECT_EQ(r.body(), "plain");
}

TEST_F(HttpServerTest, GzipBombIs413AndCorruptGzipIs400) {
  HttpServerConfig config;
  config.max_body_bytes = 4096;
  StartServer(config);
  std::string bomb = GzipForTest(std::string(1 << 20, 'a'));
  ASSERT_LT(bomb.size(), 4096u);
  Client client(server_->port());
  Response r = client.Send(http::verb::post, "/echo", bomb, {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.result_int(), 413u);
  EXPECT_EQ(
      r.body(),
      R"({"__type":"RequestEntityTooLargeException","message":"decompressed body exceeds 4096 bytes"})");
  r = client.Send(http::verb::post, "/echo", "plain", {{"Content-Encoding", "gzip"}});
  EXPECT_EQ(r.result_int(), 400u);
  EXPECT_EQ(Header(r, "x-amzn-ErrorType"), "InvalidRequestException");
  r = client.Send(http::verb::post, "/echo", "x", {{"Content-Encoding", "br"}});
  EXPECT_EQ(r.result_int(), 415u);
}

TEST_F(HttpServerTest, MalformedRequestIs400AndCloses) {
  StartServer();
  Client client(server_->port());
  client.WriteRaw("THIS IS NOT HTTP\r\n\r\n");
  Response r = client.Read();
  EXPECT_EQ(r.result_int(), 400u);
  EXPECT_EQ(Header(r, "x-amzn-ErrorType"), "InvalidRequestException");
  EXPECT_TRUE(client.Closed());
}

TEST_F(HttpServerTest, AsyncResponderFromAnotherThread) {
  StartServer();
  Client client(server_->port());
  std::thread responder([this] {
    Responder r = TakePending();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    r(Text("done later"));
  });
  Response r = client.Send(http::verb::get, "/later");
  responder.join();
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), "done later");
}

TEST_F(HttpServerTest, DroppedResponderAnswers500) {
  StartServer();
  Client client(server_->port());
  Response r = client.Send(http::verb::get, "/forgets");
  EXPECT_EQ(r.result_int(), 500u);
  EXPECT_EQ(Header(r, "x-amzn-ErrorType"), "InternalFailure");
}

TEST_F(HttpServerTest, ExpectContinueIsAnswered) {
  StartServer();
  Client client(server_->port());
  client.WriteRaw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  Response interim = client.Read();
  EXPECT_EQ(interim.result_int(), 100u);
  client.WriteRaw("body");
  EXPECT_EQ(client.Read().body(), "body");
}

TEST_F(HttpServerTest, ConnectionLimitAnswers503) {
  HttpServerConfig config;
  config.max_connections = 1;
  StartServer(config);
  Client first(server_->port());
  EXPECT_EQ(first.Send(http::verb::get, "/hello").result_int(), 200u);
  Client second(server_->port());
  Response r = second.Send(http::verb::get, "/hello");
  EXPECT_EQ(r.result_int(), 503u);
  EXPECT_EQ(Header(r, "x-amzn-ErrorType"), "ServiceUnavailableException");
  EXPECT_EQ(first.Send(http::verb::get, "/hello").result_int(), 200u);
  EXPECT_NE(metrics_.RenderText().find("roentgen_http_connections_rejected_total 1\n"),
            std::string::npos);
  EXPECT_EQ(LimitCounter(metrics_, Limit::kConnections).Value(), 1u);
}

TEST_F(HttpServerTest, StopCompletesAPendingHandler) {
  StartServer();
  Client client(server_->port());
  client.WriteRaw("GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
  Responder later = TakePending();
  Client idle(server_->port());  // an idle keep-alive connection must not delay Stop()
  EXPECT_EQ(idle.Send(http::verb::get, "/hello").result_int(), 200u);
  auto start = std::chrono::steady_clock::now();
  std::thread stopper([this] { server_->Stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  later(Text("finished during drain"));
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  Response r = client.Read();
  EXPECT_EQ(r.result_int(), 200u);
  EXPECT_EQ(r.body(), "finished during drain");
  EXPECT_FALSE(r.keep_alive());
  EXPECT_TRUE(idle.Closed());
}

TEST_F(HttpServerTest, ResponderAfterStopIsANoOp) {
  HttpServerConfig config;
  config.drain_timeout = std::chrono::seconds(0);
  StartServer(config);
  Client client(server_->port());
  client.WriteRaw("GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
  Responder later = TakePending();
  server_->Stop();
  server_.reset();
  later(Text("too late"));  // must not crash or touch the destroyed server
  EXPECT_TRUE(client.Closed());
}

TEST_F(HttpServerTest, BusyPortIsAnIOError) {
  StartServer();
  HttpServerConfig config;
  config.host = "127.0.0.1";
  config.port = server_->port();
  HttpServer second(config, router_, metrics_);
  Status s = second.Start();
  EXPECT_EQ(s.code(), StatusCode::kIOError);
  EXPECT_NE(s.message().find("cannot bind 127.0.0.1:"), std::string::npos) << s.message();
}

TEST_F(HttpServerTest, CountsRequestsByRouteAndStatus) {
  StartServer();
  Client client(server_->port());
  client.Send(http::verb::get, "/hello");
  client.Send(http::verb::get, "/hello");
  client.Send(http::verb::get, "/nope/1");
  client.Send(http::verb::get, "/nope/2");
  std::string text = metrics_.RenderText();
  EXPECT_NE(text.find("roentgen_http_requests_total{path=\"/hello\",status=\"200\"} 2\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("roentgen_http_requests_total{path=\"unmatched\",status=\"404\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("roentgen_http_request_duration_seconds_count{path=\"/hello\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("roentgen_http_connections 1\n"), std::string::npos);
}

TEST_F(HttpServerTest, NotModifiedHasNoBodyAndNoContentLength) {
  router_.Add("GET", "/cached", [](const HttpRequest&, Responder respond) {
    HttpResponse r;
    r.status = 304;
    r.content_type.clear();
    r.headers.emplace_back("ETag", "\"v1\"");
    r.body = "a body a handler left by mistake";  // must not be sent
    respond(std::move(r));
  });
  StartServer();
  Client client(server_->port());
  client.WriteRaw("GET /cached HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string header = client.ReadRawHeader();
  EXPECT_TRUE(header.starts_with("HTTP/1.1 304 Not Modified\r\n")) << header;
  EXPECT_NE(header.find("ETag: \"v1\"\r\n"), std::string::npos) << header;
  EXPECT_EQ(header.find("Content-Length"), std::string::npos) << header;
  EXPECT_EQ(header.find("Transfer-Encoding"), std::string::npos) << header;
  EXPECT_EQ(header.find("Content-Type"), std::string::npos) << header;
  // The connection stays usable: the next bytes are the second response.
  const std::string next = client.ReadRawHeader();
  EXPECT_TRUE(next.starts_with("HTTP/1.1 200 OK\r\n")) << next;
  EXPECT_NE(next.find("Content-Length: 2\r\n"), std::string::npos) << next;
}

TEST(HttpServerConfigTest, Validate) {
  HttpServerConfig config;
  EXPECT_TRUE(config.Validate().ok());
  EXPECT_EQ(config.max_body_bytes, 32u << 20);
  config.threads = 0;
  EXPECT_EQ(config.Validate(), Status::InvalidArgument("http: threads must be in [1, 256], got 0"));
  config = {};
  config.max_body_bytes = 0;
  EXPECT_EQ(config.Validate().code(), StatusCode::kInvalidArgument);
  config = {};
  config.host = "";
  EXPECT_EQ(config.Validate(), Status::InvalidArgument("http: host is empty"));
  config = {};
  EXPECT_EQ(config.request_timeout, std::chrono::seconds(30));
  EXPECT_EQ(config.idle_timeout, std::chrono::seconds(60));
  config.request_timeout = std::chrono::milliseconds(0);
  EXPECT_EQ(config.Validate(), Status::InvalidArgument("http: request_timeout must be > 0"));
}

}  // namespace
}  // namespace roentgen::api
