// The HTTP server over TLS (HttpServerConfig::tls) and the loading of its
// certificate and key (tls_context.h), with certificates made in the test.
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "api/http_server.h"
#include "api/limits.h"
#include "api/testing/test_certificate.h"
#include "api/tls_context.h"

// Boost 1.74's asio uses std::exchange without including <utility>.
// clang-format off
#include <utility>
// clang-format on
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace roentgen::api {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Response = http::response<http::string_body>;
using testing::TestCertificate;

// A blocking HTTPS client on one connection that trusts `ca_file` only.
class TlsClient {
 public:
  // The context is set up before the stream, whose SSL object copies it.
  TlsClient(uint16_t port, const std::string& ca_file, int max_version = 0) {
    context_.load_verify_file(ca_file);
    context_.set_verify_mode(ssl::verify_peer);
    if (max_version != 0) {
      SSL_CTX_set_min_proto_version(context_.native_handle(), TLS1_VERSION);
      SSL_CTX_set_max_proto_version(context_.native_handle(), max_version);
      // TLS 1.1's signatures need security level 0 in OpenSSL 3.
      SSL_CTX_set_security_level(context_.native_handle(), 0);
    }
    stream_.emplace(ioc_, context_);
    beast::get_lowest_layer(*stream_).connect(tcp::endpoint(net::ip::address_v4::loopback(), port));
    stream_->set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  }
  beast::error_code Handshake() {
    beast::error_code ec;
    stream_->handshake(ssl::stream_base::client, ec);
    return ec;
  }
  Response Get(const std::string& target) {
    http::request<http::empty_body> req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(*stream_, req);
    Response res;
    http::read(*stream_, buffer_, res);
    return res;
  }
  void WriteRaw(std::string_view bytes) { net::write(*stream_, net::buffer(bytes)); }
  Response Read() {
    Response res;
    http::read(*stream_, buffer_, res);
    return res;
  }
  // The serial number of the certificate the server presented.
  long PeerSerial() {
    X509* cert = SSL_get1_peer_certificate(stream_->native_handle());
    long serial = cert == nullptr ? -1 : ASN1_INTEGER_get(X509_get0_serialNumber(cert));
    X509_free(cert);
    return serial;
  }

 private:
  net::io_context ioc_;
  ssl::context context_{ssl::context::tls_client};
  std::optional<beast::ssl_stream<beast::tcp_stream>> stream_;
  beast::flat_buffer buffer_;
};

class HttpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("GET", "/hello", [](const HttpRequest& request, Responder respond) {
      HttpResponse r;
      r.body = "hi " + request.remote_address;
      r.content_type = "text/plain";
      respond(std::move(r));
    });
  }
  void StartServer(HttpServerConfig config = {}) {
    config.host = "127.0.0.1";
    config.port = 0;
    config.tls = {certificate_.cert_file(), certificate_.key_file()};
    server_ = std::make_unique<HttpServer>(config, router_, metrics_);
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  uint64_t HandshakeFailures() {
    return metrics_.GetCounter("roentgen_http_tls_handshake_failures_total", "").Value();
  }

  TestCertificate certificate_;
  Router router_;
  MetricsRegistry metrics_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpsServerTest, ServesRequestsOverTlsWithKeepAlive) {
  StartServer();
  EXPECT_TRUE(server_->tls());
  EXPECT_TRUE(server_->tls_description().starts_with("CN=localhost, valid until 20"))
      << server_->tls_description();
  TlsClient client(server_->port(), certificate_.cert_file());
  ASSERT_FALSE(client.Handshake());
  Response first = client.Get("/hello");
  EXPECT_EQ(first.result_int(), 200u);
  EXPECT_EQ(first.body(), "hi 127.0.0.1");
  EXPECT_TRUE(first.keep_alive());
  EXPECT_EQ(client.Get("/hello").body(), "hi 127.0.0.1");  // the same connection
  EXPECT_EQ(HandshakeFailures(), 0u);
}

// The read is cancelled under TLS as under plain TCP, and the 408 still goes
// out encrypted.
TEST_F(HttpsServerTest, StalledBodyIs408OverTls) {
  HttpServerConfig config;
  config.request_timeout = std::chrono::milliseconds(300);
  StartServer(config);
  TlsClient client(server_->port(), certificate_.cert_file());
  ASSERT_FALSE(client.Handshake());
  client.WriteRaw("POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf");
  Response r = client.Read();
  EXPECT_EQ(r.result_int(), 408u);
  EXPECT_EQ(std::string(r["x-amzn-ErrorType"]), "RequestTimeoutException");
  EXPECT_FALSE(r.keep_alive());
  EXPECT_EQ(LimitCounter(metrics_, Limit::kRequestTimeout).Value(), 1u);
}

TEST_F(HttpsServerTest, ABadHandshakeIsCountedAndClosedWithoutHarmingOthers) {
  StartServer();
  TlsClient good(server_->port(), certificate_.cert_file());
  ASSERT_FALSE(good.Handshake());
  ASSERT_EQ(good.Get("/hello").result_int(), 200u);

  // Plain HTTP to the HTTPS port: the server closes the connection.
  {
    net::io_context ioc;
    beast::tcp_stream plain(ioc);
    plain.connect(tcp::endpoint(net::ip::address_v4::loopback(), server_->port()));
    http::request<http::empty_body> req{http::verb::get, "/hello", 11};
    req.set(http::field::host, "127.0.0.1");
    http::write(plain, req);
    beast::flat_buffer buffer;
    Response res;
    beast::error_code ec;
    http::read(plain, buffer, res, ec);
    EXPECT_TRUE(ec) << "a plain HTTP request got an answer: " << res.result_int();
  }
  // TLS 1.1 is not accepted.
  {
    TlsClient old(server_->port(), certificate_.cert_file(), TLS1_1_VERSION);
    EXPECT_TRUE(old.Handshake());
  }
  for (int i = 0; i < 200 && HandshakeFailures() < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(HandshakeFailures(), 2u);

  // The connection that was open all along still works, and so do new ones.
  EXPECT_EQ(good.Get("/hello").result_int(), 200u);
  TlsClient next(server_->port(), certificate_.cert_file());
  ASSERT_FALSE(next.Handshake());
  EXPECT_EQ(next.Get("/hello").result_int(), 200u);
}

TEST_F(HttpsServerTest, ReloadTakesANewCertificateForNewConnections) {
  StartServer();
  TlsClient before(server_->port(), certificate_.cert_file());
  ASSERT_FALSE(before.Handshake());
  EXPECT_EQ(before.PeerSerial(), certificate_.serial());

  // A certificate with another key and serial replaces the files.
  TestCertificate renewed;
  std::filesystem::copy_file(renewed.cert_file(), certificate_.cert_file(),
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(renewed.key_file(), certificate_.key_file(),
                             std::filesystem::copy_options::overwrite_existing);
  ASSERT_TRUE(server_->ReloadTls().ok());
  TlsClient after(server_->port(), renewed.cert_file());
  ASSERT_FALSE(after.Handshake());  // verified against the new certificate
  EXPECT_EQ(after.PeerSerial(), renewed.serial());
  EXPECT_EQ(after.Get("/hello").result_int(), 200u);
  EXPECT_EQ(before.Get("/hello").result_int(), 200u);  // the old connection goes on

  // A reload that fails keeps what was loaded.
  std::ofstream(certificate_.key_file()) << "not a key";
  Status failed = server_->ReloadTls();
  EXPECT_EQ(failed.code(), StatusCode::kInvalidArgument) << failed.ToString();
  TlsClient still(server_->port(), renewed.cert_file());
  ASSERT_FALSE(still.Handshake());
  EXPECT_EQ(still.Get("/hello").result_int(), 200u);
}

TEST(TlsContextTest, ClearErrorsForUnusableFiles) {
  TestCertificate certificate;
  const std::string missing = certificate.dir() + "/missing.pem";
  Result<TlsContext> loaded = LoadTlsContext({missing, certificate.key_file()});
  EXPECT_EQ(loaded.status(), Status::IOError("tls: cannot read the certificate file " + missing +
                                             ": No such file or directory"));
  loaded = LoadTlsContext({certificate.cert_file(), missing});
  EXPECT_EQ(loaded.status(), Status::IOError("tls: cannot read the private key file " + missing +
                                             ": No such file or directory"));

  // The files swapped: no certificate in the one, no key in the other.
  loaded = LoadTlsContext({certificate.key_file(), certificate.key_file()});
  EXPECT_EQ(loaded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(loaded.status().message().starts_with(
      "tls: the certificate file " + certificate.key_file() + " holds no PEM certificate"))
      << loaded.status().ToString();
  loaded = LoadTlsContext({certificate.cert_file(), certificate.cert_file()});
  EXPECT_TRUE(loaded.status().message().starts_with("tls: the private key file " +
                                                    certificate.cert_file() +
                                                    " holds no unencrypted PEM private key"))
      << loaded.status().ToString();

  // Another key than the certificate's.
  const std::string other = certificate.dir() + "/other-key.pem";
  TestCertificate::WriteOtherKey(other);
  loaded = LoadTlsContext({certificate.cert_file(), other});
  EXPECT_EQ(loaded.status(), Status::InvalidArgument("tls: the private key in " + other +
                                                     " does not belong to the certificate in " +
                                                     certificate.cert_file()));

  loaded = LoadTlsContext({certificate.cert_file(), certificate.key_file()});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_FALSE(loaded->expired);
}

TEST(TlsContextTest, AnExpiredCertificateLoadsAndSaysSo) {
  TestCertificate expired(-3600);
  Result<TlsContext> loaded = LoadTlsContext({expired.cert_file(), expired.key_file()});
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE(loaded->expired);
}

TEST(TlsContextTest, TheServerRefusesToStartWithAMismatchedKey) {
  TestCertificate certificate;
  const std::string other = certificate.dir() + "/other-key.pem";
  TestCertificate::WriteOtherKey(other);
  Router router;
  MetricsRegistry metrics;
  HttpServerConfig config;
  config.port = 0;
  config.tls = {certificate.cert_file(), other};
  HttpServer server(config, router, metrics);
  EXPECT_EQ(server.Start().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(server.port(), 0);  // nothing bound
  config.tls = {certificate.cert_file(), ""};
  EXPECT_EQ(config.Validate(),
            Status::InvalidArgument("http: TLS needs both a certificate and a private key file"));
}

}  // namespace
}  // namespace roentgen::api
