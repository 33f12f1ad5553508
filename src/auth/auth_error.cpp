#include "auth/auth_error.h"

namespace roentgen::auth {

std::string_view AuthError::name() const {
  switch (kind) {
    case AuthErrorKind::kMissingAuthenticationToken:
      return "MissingAuthenticationTokenException";
    case AuthErrorKind::kIncompleteSignature:
      return "IncompleteSignatureException";
    case AuthErrorKind::kInvalidSignature:
      return "InvalidSignatureException";
    case AuthErrorKind::kUnrecognizedClient:
      return "UnrecognizedClientException";
    case AuthErrorKind::kExpiredToken:
      return "ExpiredTokenException";
    case AuthErrorKind::kAccessDenied:
      return "AccessDeniedException";
  }
  return "AccessDeniedException";
}

int AuthError::http_status() const {
  return kind == AuthErrorKind::kIncompleteSignature ? 400 : 403;
}

}  // namespace roentgen::auth
