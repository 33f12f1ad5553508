// AuthError: why a request was refused, in AWS's own terms (the error name an
// AWS SDK turns into a typed exception, the HTTP status, the message), and
// AuthResult<T>, a value or an AuthError.
//
// Plain values: cheap to move, never throw, safe to pass between threads. The
// messages are AWS's wording, so a client's error handling (and a person who
// searches for the message) finds what it knows; they never contain a secret.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace roentgen::auth {

enum class AuthErrorKind {
  kMissingAuthenticationToken,  // no Authorization header at all (403)
  kIncompleteSignature,         // an Authorization header that cannot be read (400)
  kInvalidSignature,            // wrong scope, date, skew, body hash or signature (403)
  kUnrecognizedClient,          // unknown access key or invalid session token (403)
  kExpiredToken,                // a session key past its expiration (403)
  kAccessDenied,                // a known key not allowed this action (403)
};

struct AuthError {
  AuthErrorKind kind;
  std::string message;

  // "InvalidSignatureException", … as AWS names them.
  std::string_view name() const;
  int http_status() const;
};

template <typename T>
class [[nodiscard]] AuthResult {
 public:
  AuthResult(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  AuthResult(AuthError error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(v_); }
  const AuthError& error() const {
    assert(!ok());
    return std::get<AuthError>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, AuthError> v_;
};

}  // namespace roentgen::auth
