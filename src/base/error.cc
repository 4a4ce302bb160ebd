#include "base/error.h"

namespace anyarch {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kNotFound:
      return "not_found";
    case ErrorCode::kInvalid:
      return "invalid";
    case ErrorCode::kUnauthorized:
      return "unauthorized";
    case ErrorCode::kDenied:
      return "denied";
    case ErrorCode::kDigestMismatch:
      return "digest_mismatch";
    case ErrorCode::kUnavailable:
      return "unavailable";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kIo:
      return "io";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kCancelled:
      return "cancelled";
  }
  return "internal";
}

std::string Error::ToString() const {
  std::string out;
  for (const auto& c : context_) {
    out += c;
    out += ": ";
  }
  out += message_;
  return out;
}

}  // namespace anyarch
