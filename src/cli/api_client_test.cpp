// The CLI's API client (and `roentgen query` through it) against a real
// HTTPS server on loopback with certificates made in the test: verification
// against --ca-file, AWS_CA_BUNDLE or the system's CAs, the name check, the
// errors, and SigV4 signing over TLS.
#include "cli/api_client.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <memory>
#include <mutex>
#include <optional>
#include <sstream>

#include "api/http_server.h"
#include "api/testing/test_certificate.h"
#include "cli/query.h"

namespace roentgen::cli {
namespace {

using api::testing::TestCertificate;

// Sets an environment variable for the test's scope, or unsets it (nullopt);
// restores it after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value->c_str(), 1);
    } else {
      unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(ServerUrlTest, ParsesHostPortAndUrls) {
  Result<ServerUrl> url = ParseServerUrl("127.0.0.1:2000");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_FALSE(url->https);
  EXPECT_EQ(url->host, "127.0.0.1");
  EXPECT_EQ(url->port, 2000);
  EXPECT_EQ(url->HostHeader(), "127.0.0.1:2000");
  EXPECT_EQ(url->ToString(), "http://127.0.0.1:2000");

  url = ParseServerUrl("https://xray.example.com/");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_TRUE(url->https);
  EXPECT_EQ(url->host, "xray.example.com");
  EXPECT_EQ(url->port, 443);
  EXPECT_EQ(url->HostHeader(), "xray.example.com");

  url = ParseServerUrl("https://[::1]:2000");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->HostHeader(), "[::1]:2000");
  EXPECT_EQ(ParseServerUrl("http://localhost")->port, 80);

  EXPECT_EQ(ParseServerUrl("ftp://x:1").status().message(),
            "invalid server 'ftp://x:1': the scheme must be http or https (use HOST:PORT, "
            "http://HOST:PORT or https://HOST:PORT)");
  EXPECT_FALSE(ParseServerUrl("localhost").ok());  // HOST:PORT needs the port
  EXPECT_FALSE(ParseServerUrl("https://x:2000/TraceSummaries").ok());
  EXPECT_FALSE(ParseServerUrl("https://user@x:2000").ok());
  EXPECT_FALSE(ParseServerUrl("https://x:0").ok());
  EXPECT_FALSE(ParseServerUrl("https://::1:2000").ok());
  EXPECT_FALSE(ParseServerUrl("https://:2000").ok());
}

class HttpsQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    router_.Add("POST", "/TraceSummaries",
                [this](const api::HttpRequest& request, api::Responder respond) {
                  {
                    std::lock_guard lock(mu_);
                    host_ = request.Header("host");
                    authorization_ = request.Header("authorization");
                  }
                  api::HttpResponse r;
                  r.body = R"({"TraceSummaries":[{"Id":"1-58406520-a006649127e371903a2de979",)"
                           R"("StartTime":1700000000.5,"ResponseTime":0.25}]})";
                  respond(std::move(r));
                });
  }

  void Start(const TestCertificate* certificate, std::string host = "127.0.0.1") {
    api::HttpServerConfig config;
    config.host = std::move(host);
    config.port = 0;
    if (certificate != nullptr) config.tls = {certificate->cert_file(), certificate->key_file()};
    server_ = std::make_unique<api::HttpServer>(config, router_, metrics_);
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Runs `roentgen query` against the server; its exit code, with its
  // output in out_ and err_.
  int Query(const std::string& scheme, const std::string& ca_file = "",
            const std::string& host = "127.0.0.1") {
    QueryConfig config;
    config.server = scheme + "://" + host + ":" + std::to_string(server_->port());
    config.ca_file = ca_file;
    config.json = true;
    out_.str("");
    err_.str("");
    return RunQuery(config, out_, err_);
  }

  TestCertificate certificate_;
  api::Router router_;
  MetricsRegistry metrics_;
  std::unique_ptr<api::HttpServer> server_;
  std::ostringstream out_, err_;
  std::mutex mu_;
  std::string host_, authorization_;
};

TEST_F(HttpsQueryTest, VerifiesTheServerWithTheCaFileAndSigns) {
  ScopedEnv id("AWS_ACCESS_KEY_ID", "AKRGTESTEXAMPLE");
  ScopedEnv secret("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY");
  ScopedEnv bundle("AWS_CA_BUNDLE", std::nullopt);
  Start(&certificate_);
  ASSERT_EQ(Query("https", certificate_.cert_file()), 0) << err_.str();
  EXPECT_EQ(out_.str().find(R"({"Id":"1-58406520-a006649127e371903a2de979")"), 0u) << out_.str();
  std::lock_guard lock(mu_);
  EXPECT_EQ(host_, "127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_TRUE(authorization_.starts_with("AWS4-HMAC-SHA256 Credential=AKRGTESTEXAMPLE/"))
      << authorization_;
}

TEST_F(HttpsQueryTest, AwsCaBundleIsHonouredAndLocalhostMatchesItsName) {
  ScopedEnv bundle("AWS_CA_BUNDLE", certificate_.cert_file());
  Start(&certificate_);
  EXPECT_EQ(Query("https"), 0) << err_.str();
  EXPECT_EQ(Query("https", "", "localhost"), 0) << err_.str();  // DNS:localhost, with SNI
}

TEST_F(HttpsQueryTest, AnUntrustedCertificateIsExit1WithTheReason) {
  ScopedEnv bundle("AWS_CA_BUNDLE", std::nullopt);
  Start(&certificate_);
  EXPECT_EQ(Query("https"), 1);  // the system's CAs do not know the test's
  EXPECT_NE(err_.str().find(
                "error: the certificate of https://127.0.0.1:" + std::to_string(server_->port()) +
                " is not trusted: self-signed certificate (verified against the "
                "system's trusted CAs"),
            std::string::npos)
      << err_.str();
  EXPECT_EQ(out_.str(), "");

  TestCertificate stranger;
  EXPECT_EQ(Query("https", stranger.cert_file()), 1);
  EXPECT_NE(err_.str().find("is not trusted: self-signed certificate (verified against " +
                            stranger.cert_file()),
            std::string::npos)
      << err_.str();
}

TEST_F(HttpsQueryTest, AnExpiredCertificateIsRefused) {
  TestCertificate expired(-3600);
  Start(&expired);
  EXPECT_EQ(Query("https", expired.cert_file()), 1);
  EXPECT_NE(err_.str().find("is not trusted: certificate has expired"), std::string::npos)
      << err_.str();
}

// The certificate names 127.0.0.1, ::1 and localhost: another loopback
// address is not its server.
TEST_F(HttpsQueryTest, ACertificateForAnotherAddressIsRefused) {
  Start(&certificate_, "127.0.0.2");
  EXPECT_EQ(Query("https", certificate_.cert_file(), "127.0.0.2"), 1);
  EXPECT_NE(err_.str().find("is not trusted: IP address mismatch"), std::string::npos)
      << err_.str();
}

TEST_F(HttpsQueryTest, SchemeMismatchesAndBadCaFilesAreClearErrors) {
  Start(&certificate_);
  EXPECT_EQ(Query("http"), 1);  // plain HTTP to the HTTPS port: no answer
  EXPECT_NE(err_.str().find("error: cannot reach http://127.0.0.1:"), std::string::npos)
      << err_.str();
  EXPECT_EQ(Query("http", certificate_.cert_file()), 1);
  EXPECT_NE(err_.str().find("error: --ca-file is for an https:// server"), std::string::npos)
      << err_.str();
  EXPECT_EQ(Query("https", certificate_.dir() + "/missing.pem"), 1);
  EXPECT_EQ(err_.str(), "error: --ca-file: cannot read " + certificate_.dir() +
                            "/missing.pem: No such file or directory\n");
  EXPECT_EQ(Query("https", certificate_.key_file()), 1);
  EXPECT_NE(
      err_.str().find("error: --ca-file: " + certificate_.key_file() + " holds no PEM certificate"),
      std::string::npos)
      << err_.str();

  server_.reset();
  Start(nullptr);  // plain HTTP
  EXPECT_EQ(Query("https", certificate_.cert_file()), 1);
  EXPECT_NE(err_.str().find("error: TLS handshake with https://127.0.0.1:" +
                            std::to_string(server_->port()) + " failed: "),
            std::string::npos)
      << err_.str();
  EXPECT_EQ(Query("http"), 0) << err_.str();
}

}  // namespace
}  // namespace roentgen::cli
