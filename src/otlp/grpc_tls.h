// The OTLP/gRPC listener's TLS certificate, key and client CAs, which can be
// replaced while the listener runs (on SIGHUP, as HTTPS's are).
//
// gRPC's SSL server credentials are given a certificate config fetcher (the
// C API's grpc_ssl_server_credentials_create_options_using_config_fetcher):
// before each handshake gRPC asks it whether the files changed, and a set
// stored by Reload() since it last asked is handed over then. So a reload
// takes effect at the next connection, with no polling of the files; the
// connections already open keep the certificate they were made with.
//
// Files are checked here, as the HTTPS listener checks its own, because gRPC
// would only fail at the next handshake: the certificate file must hold a
// PEM certificate (then any intermediates), the key file the unencrypted PEM
// private key that belongs to it, the client CA file (optional) one or more
// PEM certificates. Errors name the file: IOError when it cannot be read,
// InvalidArgument for its content. A reload that fails leaves the set in use
// as it was.
//
// Lifetime: the GrpcTlsCertificates must outlive every server that was built
// with its Credentials() (gRPC calls back into it for each handshake).
// Thread safety: Reload() from any thread; the fetcher runs on gRPC's threads.
#pragma once

#include <grpc/grpc_security_constants.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/mutex.h"
#include "common/status.h"

struct grpc_ssl_server_certificate_config;
namespace grpc {
class ServerCredentials;
}  // namespace grpc

namespace roentgen::otlp {

struct GrpcTlsFiles {
  std::string cert_file;       // PEM: the certificate, then any intermediates
  std::string key_file;        // PEM: its private key, unencrypted
  std::string client_ca_file;  // PEM CA certificates; empty: no client certificate asked
};

class GrpcTlsCertificates {
 public:
  // Reads and checks the files. Errors as above.
  static Result<std::unique_ptr<GrpcTlsCertificates>> Load(GrpcTlsFiles files);
  ~GrpcTlsCertificates();
  GrpcTlsCertificates(const GrpcTlsCertificates&) = delete;
  GrpcTlsCertificates& operator=(const GrpcTlsCertificates&) = delete;

  // Credentials for grpc::ServerBuilder::AddListeningPort that take their
  // certificate from this object. With a client CA file, every connection
  // must present a certificate one of its CAs signed (mutual TLS). For one
  // listening port: a new set is handed over once, to whichever port asks
  // first.
  std::shared_ptr<grpc::ServerCredentials> Credentials();

  // Reads and checks the files again: connections made from then on get the
  // new set. On error the set in use stays, and the error says why.
  Status Reload() EXCLUDES(mu_);

 private:
  struct KeyMaterial {
    std::string cert_pem;
    std::string key_pem;
    std::string client_ca_pem;  // empty without a client CA file
  };
  explicit GrpcTlsCertificates(GrpcTlsFiles files) : files_(std::move(files)) {}
  static Result<KeyMaterial> Read(const GrpcTlsFiles& files);
  // gRPC's grpc_ssl_server_certificate_config_callback; `self` is this.
  static grpc_ssl_certificate_config_reload_status Fetch(
      void* self, grpc_ssl_server_certificate_config** config);
  // The current set in `config` if gRPC has not taken it yet.
  grpc_ssl_certificate_config_reload_status TakeNew(grpc_ssl_server_certificate_config** config)
      EXCLUDES(mu_);

  const GrpcTlsFiles files_;
  Mutex mu_;
  KeyMaterial current_ GUARDED_BY(mu_);
  uint64_t version_ GUARDED_BY(mu_) = 0;    // of current_, raised by each load
  uint64_t delivered_ GUARDED_BY(mu_) = 0;  // the version gRPC last took
};

}  // namespace roentgen::otlp
