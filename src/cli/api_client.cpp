#include "cli/api_client.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

// Boost 1.74's asio uses std::exchange without including <utility>.
// clang-format off
#include <utility>
// clang-format on
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "auth/sigv4.h"
#include "common/clock.h"

namespace roentgen::cli {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Request = http::request<http::string_body>;

bool IsIpAddress(const std::string& host) {
  boost::system::error_code ec;
  net::ip::make_address(host, ec);
  return !ec;
}

// Signs `req` (SigV4, service xray) when AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY are set.
void SignFromEnvironment(Request& req) {
  const char* id = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  if (id == nullptr || secret == nullptr || *id == '\0') return;
  const char* token = std::getenv("AWS_SESSION_TOKEN");
  const char* region = std::getenv("AWS_REGION");
  auth::HeaderList headers = {{"host", std::string(req[http::field::host])},
                              {"content-type", std::string(req[http::field::content_type])}};
  auth::SignRequest("POST", std::string(req.target()), "", headers, req.body(),
                    {id, secret, token != nullptr ? token : ""},
                    region != nullptr && *region != '\0' ? region : "us-east-1", "xray",
                    Clock::System().NowMicros() / 1'000'000);
  for (const auto& [name, value] : headers) {
    if (name != "host" && name != "content-type") req.set(name, value);
  }
}

// The reason of the earliest error in OpenSSL's queue, and the queue emptied.
std::string OpenSslReason() {
  const unsigned long first = ERR_peek_error();
  ERR_clear_error();
  if (first == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(first);
  return reason != nullptr ? reason : fmt::format("OpenSSL error {:#x}", first);
}

// Where the CAs come from: --ca-file, else AWS_CA_BUNDLE, else (empty file)
// the system's store.
struct TrustedCas {
  std::string file;
  std::string source;  // "--ca-file", "AWS_CA_BUNDLE"
  std::string Describe() const {
    return file.empty() ? "the system's trusted CAs"
                        : (source == "--ca-file" ? file : source + "=" + file);
  }
};

TrustedCas CasFor(const ApiClientOptions& options) {
  if (!options.ca_file.empty()) return {options.ca_file, "--ca-file"};
  const char* bundle = std::getenv("AWS_CA_BUNDLE");
  if (bundle != nullptr && *bundle != '\0') return {bundle, "AWS_CA_BUNDLE"};
  return {};
}

Result<std::unique_ptr<ssl::context>> ClientContext(const TrustedCas& cas) {
  auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  const std::string& ca_file = cas.file;
  const std::string& source = cas.source;
  ERR_clear_error();
  if (ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
      return Status::IOError("cannot load the system's trusted CAs: " + OpenSslReason());
    }
    return context;
  }
  if (std::FILE* f = std::fopen(ca_file.c_str(), "r"); f != nullptr) {
    std::fclose(f);
  } else {
    return Status::IOError(
        fmt::format("{}: cannot read {}: {}", source, ca_file, std::strerror(errno)));
  }
  if (SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) != 1) {
    return Status::InvalidArgument(
        fmt::format("{}: {} holds no PEM certificate ({})", source, ca_file, OpenSslReason()));
  }
  return context;
}

Result<ApiReply> Exchange(auto& stream, Request& req) {
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  http::read(stream, buffer, res);
  return ApiReply{static_cast<int>(res.result_int()), std::move(res.body())};
}

Result<ApiReply> PostOverTls(const ServerUrl& server, const ApiClientOptions& options,
                             const tcp::resolver::results_type& endpoints, net::io_context& ioc,
                             Request& req) {
  const TrustedCas cas = CasFor(options);
  Result<std::unique_ptr<ssl::context>> context = ClientContext(cas);
  if (!context.ok()) return context.status();
  beast::ssl_stream<beast::tcp_stream> stream(ioc, **context);
  SSL* ssl = stream.native_handle();
  // The name the certificate must carry, checked by OpenSSL during the
  // handshake; SNI is for DNS names only (RFC 6066).
  if (IsIpAddress(server.host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), server.host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, server.host.c_str());
    SSL_set1_host(ssl, server.host.c_str());
  }
  beast::get_lowest_layer(stream).expires_after(options.timeout);
  beast::get_lowest_layer(stream).connect(endpoints);
  beast::error_code ec;
  stream.handshake(ssl::stream_base::client, ec);
  if (ec) {
    const long verify = SSL_get_verify_result(ssl);
    ERR_clear_error();
    if (verify != X509_V_OK) {
      return Status::IOError(fmt::format(
          "the certificate of {} is not trusted: {} (verified against {}; --ca-file FILE names "
          "the CA that signed it)",
          server.ToString(), X509_verify_cert_error_string(verify), cas.Describe()));
    }
    return Status::IOError(fmt::format("TLS handshake with {} failed: {} (is it HTTPS?)",
                                       server.ToString(), ec.message()));
  }
  Result<ApiReply> reply = Exchange(stream, req);
  // A polite close_notify; the answer is complete whatever happens to it.
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  stream.shutdown(ec);
  return reply;
}

}  // namespace

std::string ServerUrl::HostHeader() const {
  const std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port == (https ? 443 : 80)) return name;
  return fmt::format("{}:{}", name, port);
}

std::string ServerUrl::ToString() const {
  const std::string name = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return fmt::format("{}://{}:{}", https ? "https" : "http", name, port);
}

Result<ServerUrl> ParseServerUrl(std::string_view text) {
  auto invalid = [text](std::string_view why) {
    return Status::InvalidArgument(fmt::format(
        "invalid server '{}': {} (use HOST:PORT, http://HOST:PORT or https://HOST:PORT)", text,
        why));
  };
  ServerUrl url;
  std::string_view rest = text;
  bool scheme = false;
  if (rest.starts_with("https://")) {
    url.https = true;
    scheme = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    scheme = true;
    rest.remove_prefix(7);
  } else if (rest.find("://") != std::string_view::npos) {
    return invalid("the scheme must be http or https");
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    return invalid("only a scheme, host and port");
  }
  std::string_view port_text;
  const size_t bracket = rest.rfind(']');
  const size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) {
    port_text = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  } else if (!scheme) {
    return invalid("missing ':PORT'");
  }
  if (rest.starts_with('[')) {
    if (!rest.ends_with(']') || rest.size() < 3) return invalid("unbalanced brackets");
    rest = rest.substr(1, rest.size() - 2);
  } else if (rest.find(':') != std::string_view::npos) {
    return invalid("put an IPv6 host in brackets");
  }
  if (rest.empty()) return invalid("missing host");
  url.host = std::string(rest);
  if (port_text.empty() && colon == std::string_view::npos) {
    url.port = url.https ? 443 : 80;
    return url;
  }
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() ||
      port == 0 || port > 65535) {
    return invalid("the port must be a number from 1 to 65535");
  }
  url.port = static_cast<uint16_t>(port);
  return url;
}

Result<ApiReply> PostJson(const ServerUrl& server, const std::string& target,
                          const std::string& body, const ApiClientOptions& options) {
  try {
    net::io_context ioc;
    tcp::resolver resolver(ioc);
    beast::error_code ec;
    tcp::resolver::results_type endpoints =
        resolver.resolve(server.host, std::to_string(server.port), ec);
    if (ec) {
      return Status::IOError(fmt::format("cannot reach {}: cannot resolve {}: {}",
                                         server.ToString(), server.host, ec.message()));
    }
    Request req{http::verb::post, target, 11};
    req.set(http::field::host, server.HostHeader());
    req.set(http::field::content_type, "application/json");
    req.set(http::field::user_agent, "roentgen-query");
    req.body() = body;
    req.prepare_payload();
    SignFromEnvironment(req);
    if (server.https) return PostOverTls(server, options, endpoints, ioc, req);

    beast::tcp_stream stream(ioc);
    stream.expires_after(options.timeout);
    stream.connect(endpoints);
    Result<ApiReply> reply = Exchange(stream, req);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    return reply;
  } catch (const std::exception& e) {
    return Status::IOError(fmt::format("cannot reach {}: {}", server.ToString(), e.what()));
  }
}

}  // namespace roentgen::cli
