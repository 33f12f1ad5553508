// Test helper: a self-signed certificate (EC P-256, CA:TRUE so that clients
// can trust it as its own root, subjectAltName IP:127.0.0.1, IP:::1 and
// DNS:localhost) and its key, made with OpenSSL's API and written as PEM
// files into a fresh temporary directory that the object removes.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace roentgen::api::testing {

class TestCertificate {
 public:
  // `valid_seconds` < 0 makes a certificate that has already expired.
  explicit TestCertificate(long valid_seconds = 3600) {
    char pattern[] = "/tmp/roentgen-tls-XXXXXX";
    if (mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    cert_file_ = dir_ + "/cert.pem";
    key_file_ = dir_ + "/key.pem";
    EVP_PKEY* key = NewKey();
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    static long next_serial = 1;
    serial_ = next_serial++;
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial_);
    X509_gmtime_adj(X509_getm_notBefore(cert), valid_seconds < 0 ? 2 * valid_seconds : -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), valid_seconds);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    for (auto [nid, value] :
         {std::pair{NID_basic_constraints, "critical,CA:TRUE"},
          std::pair{NID_subject_alt_name, "IP:127.0.0.1,IP:0:0:0:0:0:0:0:1,DNS:localhost"}}) {
      X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
      X509_add_ext(cert, ext, -1);
      X509_EXTENSION_free(ext);
    }
    X509_sign(cert, key, EVP_sha256());
    WritePem(cert_file_, [&](FILE* f) { PEM_write_X509(f, cert); });
    WritePem(key_file_,
             [&](FILE* f) { PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr); });
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  ~TestCertificate() { std::filesystem::remove_all(dir_); }
  TestCertificate(const TestCertificate&) = delete;
  TestCertificate& operator=(const TestCertificate&) = delete;

  const std::string& dir() const { return dir_; }
  const std::string& cert_file() const { return cert_file_; }
  const std::string& key_file() const { return key_file_; }
  long serial() const { return serial_; }  // unique in the process
  // Another key, not the certificate's, written to `path`.
  static void WriteOtherKey(const std::string& path) {
    EVP_PKEY* key = NewKey();
    WritePem(path,
             [&](FILE* f) { PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr); });
    EVP_PKEY_free(key);
  }

 private:
  static EVP_PKEY* NewKey() { return EVP_EC_gen("P-256"); }
  template <class Write>
  static void WritePem(const std::string& path, Write write) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) throw std::runtime_error("cannot write " + path);
    write(f);
    std::fclose(f);
  }

  std::string dir_, cert_file_, key_file_;
  long serial_ = 0;
};

}  // namespace roentgen::api::testing
