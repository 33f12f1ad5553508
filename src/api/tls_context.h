// The HTTPS server's TLS settings: a certificate chain and its private key
// (PEM files) loaded into an OpenSSL context for Boost.Asio's ssl::stream.
//
// Settings (Mozilla's "intermediate" configuration, v5.7): TLS 1.2 and 1.3
// only; for TLS 1.2 the ECDHE (and DHE) suites with AES-GCM or
// ChaCha20-Poly1305, the client's preference among them; OpenSSL's TLS 1.3
// suites; no compression, no renegotiation; ALPN not offered (HTTP/1.1).
//
// Errors name the file and what is wrong with it: unreadable (IOError, with
// the system's reason), not a PEM certificate or key, or a key that is not the
// certificate's (InvalidArgument).
//
// The context is shared by the connections that were accepted while it was
// current (shared_ptr): a reload makes a new one and leaves theirs alone.
#pragma once

// Boost 1.74's asio uses std::exchange without including <utility>.
// clang-format off
#include <utility>
// clang-format on
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>

#include "common/status.h"

namespace roentgen::api {

struct TlsFiles {
  std::string cert_file;  // PEM: the certificate, then any intermediates
  std::string key_file;   // PEM: its private key, unencrypted
};

struct TlsContext {
  std::shared_ptr<boost::asio::ssl::context> context;
  // "CN=example.com, valid until 2027-01-31 12:00:00 UTC" (for the log).
  std::string description;
  bool expired = false;  // past its notAfter (loaded anyway: the operator is told)
};

Result<TlsContext> LoadTlsContext(const TlsFiles& files);

}  // namespace roentgen::api
