// Registry authentication (distribution's token flow, docs/spec/auth/token.md, and Basic).
//
// A registry answers 401 with WWW-Authenticate:
//   Basic realm="..."                                 -> send the credentials on every request
//   Bearer realm="URL",service="S",scope="repository:R:pull"
//                                                     -> GET URL?service=S&scope=..&scope=..
//                                                        (Basic credentials if we have some) for a
//                                                        token, then send "Bearer <token>"
// With an identity token (a refresh token from `docker login` to some registries) the token is
// asked for with an OAuth2 POST (grant_type=refresh_token) instead.
//
// A token request has 30 s to complete and its answer may be at most 1 MiB; garbage in it is
// kInvalid, an answer without a token kUnauthorized (registry/wire.h).
//
// Tokens are cached per set of scopes and refreshed shortly before they expire (expires_in,
// 60 s when absent, as the spec says), so a long push does not hit a 401 half way through a
// streamed upload. A cross-repository mount needs pull on the source repository as well as
// push on the target: callers pass every scope the request needs.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "registry/credentials.h"
#include "registry/http.h"

namespace anyarch::registry {

struct Challenge {
  std::string scheme;                         // "basic" or "bearer" (lower-case)
  std::map<std::string, std::string> params;  // realm, service, scope, error ... (lower-case keys)
};

// Parses a WWW-Authenticate value. std::nullopt when it has no scheme.
std::optional<Challenge> ParseChallenge(const std::string& header);

// "repository:<repo>:pull" or ":pull,push".
std::string RepositoryScope(const std::string& repository, bool push);

using Clock = std::function<std::chrono::steady_clock::time_point()>;

class Authenticator {
 public:
  // `registry` names the registry in messages; `credential` is looked up lazily (once) through
  // `lookup` when the registry first asks for one. `realm_tls` is used for the token server.
  Authenticator(std::string registry, std::shared_ptr<HttpTransport> transport,
                std::function<Result<std::optional<Credential>>()> lookup, TlsOptions realm_tls,
                Clock clock);

  // The Authorization header line for a request needing `scopes`, or "" for an anonymous try.
  // May fetch a token (after the registry has told us where its token server is).
  Result<std::string> HeaderFor(const std::vector<std::string>& scopes);

  // Handles a 401 answered to a request that needed `scopes`. `sent` is the header that request
  // carried. Ok when the request is worth retrying with HeaderFor(scopes); kUnauthorized with a
  // message saying what to do otherwise (no credentials, credentials refused, no such scope).
  Status OnUnauthorized(const std::string& www_authenticate, const std::vector<std::string>& scopes,
                        const std::string& sent);

  // True once a credential was found for this registry (for messages).
  bool HasCredential();

 private:
  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expires;
  };
  Result<std::optional<Credential>> Cred();
  Result<Token> FetchToken(const std::vector<std::string>& scopes);
  static std::string Key(std::vector<std::string> scopes);

  std::string registry_;
  std::shared_ptr<HttpTransport> transport_;
  std::function<Result<std::optional<Credential>>()> lookup_;
  TlsOptions realm_tls_;
  Clock clock_;

  std::mutex mu_;
  bool looked_up_ = false;
  std::optional<Credential> cred_;
  std::optional<Challenge> challenge_;  // the last one seen (realm, service)
  std::map<std::string, Token> tokens_;
};

}  // namespace anyarch::registry
