// The one error type of the library, and Result<T> built on tl::expected.
//
// An Error carries a code that callers can branch on, a message for people, and context added on
// the way up ("pushing layer sha256:...: "). Library code returns errors; only cli/ prints them.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

namespace anyarch {

enum class ErrorCode {
  kNotFound,
  kInvalid,
  kUnauthorized,
  kDenied,
  kDigestMismatch,
  kUnavailable,  // retriable: the other side may answer later
  kUnsupported,
  kIo,
  kInternal,
  kTimeout,
  kCancelled,
};

// Short stable name of a code, as used in --json output ("not_found", "digest_mismatch", ...).
std::string_view ErrorCodeName(ErrorCode code);

class Error {
 public:
  Error(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Context, outermost first.
  const std::vector<std::string>& context() const { return context_; }

  // Adds an outer layer of context: the result prints as "<context>: <previous text>".
  Error& With(std::string context) & {
    context_.insert(context_.begin(), std::move(context));
    return *this;
  }
  Error&& With(std::string context) && {
    context_.insert(context_.begin(), std::move(context));
    return std::move(*this);
  }

  // "ctx1: ctx2: message".
  std::string ToString() const;

 private:
  ErrorCode code_;
  std::string message_;
  std::vector<std::string> context_;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> MakeError(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error(code, std::move(message)));
}
inline tl::unexpected<Error> Unexpected(Error error) {
  return tl::unexpected<Error>(std::move(error));
}
inline Status Ok() { return {}; }

// Returns `r` with `context` added to its error, if any.
template <typename T>
Result<T> WithContext(Result<T> r, std::string context) {
  if (!r) r.error().With(std::move(context));
  return r;
}

}  // namespace anyarch

#define ANYARCH_CONCAT_INNER(a, b) a##b
#define ANYARCH_CONCAT(a, b) ANYARCH_CONCAT_INNER(a, b)

// ANYARCH_TRY(auto x, Foo());  declares x from a Result, or returns its error.
#define ANYARCH_TRY(decl, expr)                                     \
  auto ANYARCH_CONCAT(anyarch_try_, __LINE__) = (expr);             \
  if (!ANYARCH_CONCAT(anyarch_try_, __LINE__))                      \
    return ::tl::unexpected<::anyarch::Error>(                      \
        std::move(ANYARCH_CONCAT(anyarch_try_, __LINE__)).error()); \
  decl = std::move(*ANYARCH_CONCAT(anyarch_try_, __LINE__))

// ANYARCH_CHECK(DoIt());  returns the error of a Status (or any Result), if any.
#define ANYARCH_CHECK(expr)                                                               \
  do {                                                                                    \
    auto anyarch_check_result = (expr);                                                   \
    if (!anyarch_check_result)                                                            \
      return ::tl::unexpected<::anyarch::Error>(std::move(anyarch_check_result).error()); \
  } while (0)

// ANYARCH_CHECK_CTX(DoIt(), "doing it");  as ANYARCH_CHECK, adding context to the error.
#define ANYARCH_CHECK_CTX(expr, ctx)                          \
  do {                                                        \
    auto anyarch_check_result = (expr);                       \
    if (!anyarch_check_result)                                \
      return ::tl::unexpected<::anyarch::Error>(              \
          std::move(anyarch_check_result).error().With(ctx)); \
  } while (0)
