#include "api/tls_context.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace roentgen::api {
namespace {

// Mozilla's intermediate configuration (v5.7) for TLS 1.2; TLS 1.3 keeps
// OpenSSL's suites, which are the same three.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";

// The reason of the earliest error in OpenSSL's queue ("no start line"), and
// the queue emptied.
std::string OpenSslReason() {
  const unsigned long first = ERR_peek_error();
  ERR_clear_error();
  if (first == 0) return "unknown error";
  const char* reason = ERR_reason_error_string(first);
  return reason != nullptr ? reason : fmt::format("OpenSSL error {:#x}", first);
}

Status Readable(const std::string& path, std::string_view what) {
  std::FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) {
    return Status::IOError(
        fmt::format("tls: cannot read the {} file {}: {}", what, path, std::strerror(errno)));
  }
  std::fclose(f);
  return Status::Ok();
}

// Never asks for a passphrase: an encrypted key is refused.
int NoPassphrase(char*, int, int, void*) { return -1; }

std::string Describe(const X509* cert) {
  char common_name[256] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, common_name,
                            sizeof(common_name));
  std::tm until{};
  std::string valid_until = "?";
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &until) == 1) {
    char text[64];
    std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &until);
    valid_until = text;
  }
  return fmt::format("CN={}, valid until {}", common_name[0] != '\0' ? common_name : "(none)",
                     valid_until);
}

}  // namespace

Result<TlsContext> LoadTlsContext(const TlsFiles& files) {
  RG_RETURN_IF_ERROR(Readable(files.cert_file, "certificate"));
  RG_RETURN_IF_ERROR(Readable(files.key_file, "private key"));
  ERR_clear_error();

  std::shared_ptr<boost::asio::ssl::context> context;
  try {
    context = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_server);
  } catch (const std::exception& e) {
    return Status::Internal(fmt::format("tls: cannot create an OpenSSL context: {}", e.what()));
  }
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1) {
    return Status::Internal("tls: OpenSSL knows none of the ciphers: " + OpenSslReason());
  }
  SSL_CTX_set_dh_auto(ctx, 1);

  if (SSL_CTX_use_certificate_chain_file(ctx, files.cert_file.c_str()) != 1) {
    return Status::InvalidArgument(
        fmt::format("tls: the certificate file {} holds no PEM "
                    "certificate that OpenSSL accepts ({})",
                    files.cert_file, OpenSslReason()));
  }
  BIO* bio = BIO_new_file(files.key_file.c_str(), "r");
  if (bio == nullptr) {
    return Status::IOError(fmt::format("tls: cannot read the private key file {}: {}",
                                       files.key_file, OpenSslReason()));
  }
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, NoPassphrase, nullptr);
  BIO_free(bio);
  if (key == nullptr) {
    return Status::InvalidArgument(
        fmt::format("tls: the private key file {} holds no unencrypted PEM private key ({})",
                    files.key_file, OpenSslReason()));
  }
  const int used = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (used != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument(
        fmt::format("tls: the private key in {} does not belong to the certificate in {}",
                    files.key_file, files.cert_file));
  }

  TlsContext out;
  const X509* cert = SSL_CTX_get0_certificate(ctx);
  out.description = Describe(cert);
  out.expired = X509_cmp_current_time(X509_get0_notAfter(cert)) < 0;
  out.context = std::move(context);
  return out;
}

}  // namespace roentgen::api
