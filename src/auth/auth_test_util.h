// Test helpers for the auth module: a temporary keys file and signed requests.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

#include "api/http.h"
#include "auth/keys_file.h"
#include "auth/sigv4.h"

namespace roentgen::auth::testing {

inline constexpr int64_t kNow = 1764979200;  // 2025-12-06T00:00:00Z
inline constexpr int64_t kSecond = 1'000'000;

class TempKeysFile {
 public:
  TempKeysFile() {
    char pattern[] = "/tmp/roentgen-auth-XXXXXX";
    dir_ = mkdtemp(pattern);
    path_ = dir_ + "/keys.json";
  }
  ~TempKeysFile() { std::filesystem::remove_all(dir_); }
  const std::string& path() const { return path_; }

 private:
  std::string dir_, path_;
};

// A KeysFile with a SessionTokenKey and the given long-lived keys.
inline KeysFile MakeKeysFile(std::vector<KeyEntry> keys) {
  KeysFile file;
  file.session_token_key = std::string(32, 's');
  file.keys = std::move(keys);
  return file;
}

inline api::HttpRequest SignedRequest(std::string path, std::string body,
                                      const SigningCredentials& key, int64_t at = kNow,
                                      std::string method = "POST") {
  api::HttpRequest r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.target = r.path;
  r.body = std::move(body);
  r.headers = {{"host", "127.0.0.1:2000"}, {"content-type", "application/json"}};
  r.remote_address = "127.0.0.1";
  SignRequest(r.method, r.path, r.query, r.headers, r.body, key, "us-east-1", "xray", at);
  return r;
}

}  // namespace roentgen::auth::testing
