#include "otlp/grpc_tls.h"

#include <fmt/format.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpcpp/security/server_credentials.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace roentgen::otlp {
namespace {

Result<std::string> ReadFile(const std::string& path, std::string_view what) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  if (in) text << in.rdbuf();
  if (!in || in.bad()) {
    return Status::IOError(
        fmt::format("otlp grpc: cannot read the {} file {}: {}", what, path, std::strerror(errno)));
  }
  return text.str();
}

// Never asks for a passphrase: an encrypted key is refused.
int NoPassphrase(char*, int, int, void*) { return -1; }

// The certificates in `pem` (0 when it holds none OpenSSL accepts); the first
// one is kept in `first` when given.
int CountCertificates(const std::string& pem, X509** first = nullptr) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  int count = 0;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (count++ == 0 && first != nullptr) {
      *first = cert;
    } else {
      X509_free(cert);
    }
  }
  BIO_free(bio);
  ERR_clear_error();
  return count;
}

Status CheckKeyPair(const GrpcTlsFiles& files, const std::string& cert_pem,
                    const std::string& key_pem) {
  X509* cert = nullptr;
  if (CountCertificates(cert_pem, &cert) == 0) {
    return Status::InvalidArgument(fmt::format(
        "otlp grpc: the certificate file {} holds no PEM certificate", files.cert_file));
  }
  BIO* bio = BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size()));
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, NoPassphrase, nullptr);
  BIO_free(bio);
  const bool matches = key != nullptr && X509_check_private_key(cert, key) == 1;
  X509_free(cert);
  EVP_PKEY_free(key);
  ERR_clear_error();
  if (key == nullptr) {
    return Status::InvalidArgument(fmt::format(
        "otlp grpc: the private key file {} holds no unencrypted PEM private key", files.key_file));
  }
  if (!matches) {
    return Status::InvalidArgument(
        fmt::format("otlp grpc: the private key in {} does not belong to the certificate in {}",
                    files.key_file, files.cert_file));
  }
  return Status::Ok();
}

// grpc::SslServerCredentials takes fixed PEM text only; the fetcher is in
// gRPC's C API, so its credentials are wrapped here as grpc++'s own SSL
// credentials wrap theirs (a ServerCredentials binds a port with them).
class FetchingServerCredentials final : public grpc::ServerCredentials {
 public:
  explicit FetchingServerCredentials(grpc_server_credentials* c_credentials)
      : c_credentials_(c_credentials) {}
  ~FetchingServerCredentials() override { grpc_server_credentials_release(c_credentials_); }

  // Exporters authenticate by their TLS client certificate here: no call
  // metadata is ever checked, so nothing sets a processor.
  void SetAuthMetadataProcessor(const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {
    spdlog::critical("otlp grpc: an auth metadata processor is not supported (a bug)");
    std::abort();
  }

 private:
  int AddPortToServer(const std::string& addr, grpc_server* server) override {
    return grpc_server_add_http2_port(server, addr.c_str(), c_credentials_);
  }

  grpc_server_credentials* const c_credentials_;
};

}  // namespace

Result<GrpcTlsCertificates::KeyMaterial> GrpcTlsCertificates::Read(const GrpcTlsFiles& files) {
  KeyMaterial out;
  Result<std::string> cert = ReadFile(files.cert_file, "certificate");
  if (!cert.ok()) return cert.status();
  Result<std::string> key = ReadFile(files.key_file, "private key");
  if (!key.ok()) return key.status();
  RG_RETURN_IF_ERROR(CheckKeyPair(files, *cert, *key));
  out.cert_pem = std::move(cert).value();
  out.key_pem = std::move(key).value();
  if (!files.client_ca_file.empty()) {
    Result<std::string> ca = ReadFile(files.client_ca_file, "client CA");
    if (!ca.ok()) return ca.status();
    if (CountCertificates(*ca) == 0) {
      return Status::InvalidArgument(fmt::format(
          "otlp grpc: the client CA file {} holds no PEM certificate", files.client_ca_file));
    }
    out.client_ca_pem = std::move(ca).value();
  }
  return out;
}

Result<std::unique_ptr<GrpcTlsCertificates>> GrpcTlsCertificates::Load(GrpcTlsFiles files) {
  std::unique_ptr<GrpcTlsCertificates> certificates(new GrpcTlsCertificates(std::move(files)));
  RG_RETURN_IF_ERROR(certificates->Reload());
  return certificates;
}

GrpcTlsCertificates::~GrpcTlsCertificates() = default;

Status GrpcTlsCertificates::Reload() {
  Result<KeyMaterial> loaded = Read(files_);
  if (!loaded.ok()) return loaded.status();
  MutexLock lock(mu_);
  current_ = std::move(loaded).value();
  ++version_;
  return Status::Ok();
}

std::shared_ptr<grpc::ServerCredentials> GrpcTlsCertificates::Credentials() {
  // The client CA may change on a reload; whether a client certificate is
  // required may not (gRPC fixes it with the credentials).
  const grpc_ssl_client_certificate_request_type request =
      files_.client_ca_file.empty() ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                    : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  grpc_ssl_server_credentials_options* options =
      grpc_ssl_server_credentials_create_options_using_config_fetcher(request, &Fetch, this);
  return std::make_shared<FetchingServerCredentials>(
      grpc_ssl_server_credentials_create_with_options(options));
}

grpc_ssl_certificate_config_reload_status GrpcTlsCertificates::Fetch(
    void* self, grpc_ssl_server_certificate_config** config) {
  return static_cast<GrpcTlsCertificates*>(self)->TakeNew(config);
}

grpc_ssl_certificate_config_reload_status GrpcTlsCertificates::TakeNew(
    grpc_ssl_server_certificate_config** config) {
  MutexLock lock(mu_);
  if (delivered_ == version_) return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
  grpc_ssl_pem_key_cert_pair pair{current_.key_pem.c_str(), current_.cert_pem.c_str()};
  // gRPC asserts that a fetched config has client CAs, even when it asks for
  // no client certificate (and so never uses them): without a client CA
  // file the server's own certificates stand in, never sent nor checked.
  const std::string& client_cas =
      current_.client_ca_pem.empty() ? current_.cert_pem : current_.client_ca_pem;
  // gRPC copies the strings, and destroys the config once it has used it.
  *config = grpc_ssl_server_certificate_config_create(client_cas.c_str(), &pair, 1);
  delivered_ = version_;
  return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW;
}

}  // namespace roentgen::otlp
