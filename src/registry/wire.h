// The small formats a registry answers in besides manifests and blobs, each parsed by a pure
// function so that it can be tested and fuzzed on its own (the HTTP code only calls them):
//   - error bodies (distribution-spec "errors" array),
//   - token and OAuth2 responses (docs/spec/auth/token.md and oauth.md),
//   - Link headers of paginated tag lists (RFC 8288),
//   - Content-Range of a resumed blob download (RFC 9110 section 14.4).
// All input is untrusted: a registry may send anything, of any length. None of these functions
// fails on malformed input other than by returning nothing (or kInvalid where documented).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/error.h"

namespace anyarch::registry {

// The first entry of a distribution error body: {"errors":[{"code":"...","message":"..."}]}.
// Both fields are empty when the body is not in that format (HTML from a proxy, plain text).
// The message is returned as sent: callers make it printable before showing it.
struct ErrorBody {
  std::string code;
  std::string message;
};
ErrorBody ParseErrorBody(std::string_view body);

// A token server's answer. `token` is "access_token" (OAuth2) or else "token"; `expires_in` is in
// seconds, 60 when absent or smaller (as the spec says), and at most a year, so that adding it to
// a clock cannot overflow.
struct TokenResponse {
  std::string token;
  std::int64_t expires_in = 60;
};
inline constexpr std::int64_t kMaxTokenLifetime = 365LL * 24 * 3600;
// kInvalid when the body is not a JSON object; kUnauthorized when it holds no token.
// `who` names the token server in messages ("the token server of host").
Result<TokenResponse> ParseTokenResponse(std::string_view body, const std::string& who);

// The target of the first link whose rel includes "next", as written between < and > (a URL
// reference, usually relative), or std::nullopt. Several links may share the header,
// comma-separated; rel may be quoted and may list several types ("next last").
std::optional<std::string> NextLink(std::string_view link_header);

// "bytes FIRST-LAST/TOTAL" or "bytes FIRST-LAST/*". std::nullopt when malformed, when
// LAST < FIRST, or when LAST >= TOTAL.
struct ContentRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::optional<std::uint64_t> total;
};
std::optional<ContentRange> ParseContentRange(std::string_view value);

}  // namespace anyarch::registry
