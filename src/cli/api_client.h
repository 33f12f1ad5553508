// The CLI's client for a running `roentgen serve`: one POST per connection
// over HTTP or HTTPS, signed (SigV4, service xray) from the environment as
// the AWS CLI signs: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with
// AWS_SESSION_TOKEN for a session key and AWS_REGION (default us-east-1).
//
// HTTPS verifies the server as a browser does: its certificate chain against
// the CAs of --ca-file, else of AWS_CA_BUNDLE (as the AWS CLI honours it),
// else the system's store; its name (SNI is sent for a DNS name) or IP
// address against the certificate's; TLS 1.2 or later. A certificate that
// fails is an error naming OpenSSL's reason ("self-signed certificate",
// "hostname mismatch", "certificate has expired").
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace roentgen::cli {

struct ServerUrl {
  bool https = false;
  std::string host;  // an IPv6 address without its brackets
  uint16_t port = 0;
  // "127.0.0.1:2000", "[::1]:2000"; the port left out when it is the
  // scheme's (80, 443), as clients send Host.
  std::string HostHeader() const;
  std::string ToString() const;  // "https://example.com:2000"
};

// "HOST:PORT" (HTTP, as before schemes were accepted), "http://HOST[:PORT]"
// or "https://HOST[:PORT]" (ports 80 and 443 by default), an IPv6 host in
// brackets, a trailing "/" allowed. Errors: InvalidArgument.
Result<ServerUrl> ParseServerUrl(std::string_view text);

struct ApiClientOptions {
  // PEM file of the CAs an HTTPS server's certificate must chain to; empty:
  // AWS_CA_BUNDLE when set, else the system's trusted CAs.
  std::string ca_file;
  std::chrono::seconds timeout{60};  // for the whole exchange
};

struct ApiReply {
  int status = 0;
  std::string body;
};

// POSTs `body` (JSON) to `target` on `server`. Errors: InvalidArgument (a CA
// file that holds no certificate), IOError naming the server and what failed
// (resolving, connecting, the TLS handshake or certificate, the exchange).
Result<ApiReply> PostJson(const ServerUrl& server, const std::string& target,
                          const std::string& body, const ApiClientOptions& options);

}  // namespace roentgen::cli
