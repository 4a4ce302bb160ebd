#include "registry/auth.h"

#include <algorithm>
#include <cctype>

#include "base/io.h"
#include "base/json.h"
#include "base/strings.h"
#include "registry/wire.h"

namespace anyarch::registry {

namespace {

bool StartsWith(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

constexpr std::chrono::seconds kTokenTimeout{30};

}  // namespace

std::optional<Challenge> ParseChallenge(const std::string& h) {
  std::string_view text = TrimSpace(h);
  auto sp = text.find(' ');
  Challenge c;
  c.scheme = ToLower(text.substr(0, sp));
  if (c.scheme.empty()) return std::nullopt;
  std::string rest = sp == std::string_view::npos ? "" : std::string(text.substr(sp + 1));
  std::size_t i = 0;
  while (i < rest.size()) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == ',')) ++i;
    auto eq = rest.find('=', i);
    if (eq == std::string::npos) break;
    std::string key = ToLower(TrimSpace(std::string_view(rest).substr(i, eq - i)));
    i = eq + 1;
    std::string value;
    if (i < rest.size() && rest[i] == '"') {
      ++i;
      while (i < rest.size() && rest[i] != '"') {
        if (rest[i] == '\\' && i + 1 < rest.size()) ++i;
        value.push_back(rest[i++]);
      }
      ++i;
    } else {
      while (i < rest.size() && rest[i] != ',') value.push_back(rest[i++]);
      value = std::string(TrimSpace(value));
    }
    c.params[key] = value;
  }
  return c;
}

std::string RepositoryScope(const std::string& repository, bool push) {
  return "repository:" + repository + (push ? ":pull,push" : ":pull");
}

Authenticator::Authenticator(std::string registry, std::shared_ptr<HttpTransport> transport,
                             std::function<Result<std::optional<Credential>>()> lookup,
                             TlsOptions realm_tls, Clock clock)
    : registry_(std::move(registry)),
      transport_(std::move(transport)),
      lookup_(std::move(lookup)),
      realm_tls_(std::move(realm_tls)),
      clock_(std::move(clock)) {}

std::string Authenticator::Key(std::vector<std::string> scopes) {
  std::sort(scopes.begin(), scopes.end());
  scopes.erase(std::unique(scopes.begin(), scopes.end()), scopes.end());
  return Join(scopes, " ");
}

Result<std::optional<Credential>> Authenticator::Cred() {
  if (!looked_up_) {
    ANYARCH_TRY(cred_, lookup_());
    looked_up_ = true;
  }
  return cred_;
}

bool Authenticator::HasCredential() {
  std::lock_guard<std::mutex> lock(mu_);
  auto c = Cred();
  return c && c->has_value();
}

Result<std::string> Authenticator::HeaderFor(const std::vector<std::string>& scopes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!challenge_) return std::string();
  if (challenge_->scheme == "basic") {
    ANYARCH_TRY(auto cred, Cred());
    if (!cred || cred->IsIdentityToken()) return std::string();
    return "Authorization: Basic " + Base64Encode(cred->username + ":" + cred->secret);
  }
  if (challenge_->scheme != "bearer") return std::string();
  std::string key = Key(scopes);
  auto it = tokens_.find(key);
  if (it != tokens_.end() && clock_() < it->second.expires) {
    return "Authorization: Bearer " + it->second.value;
  }
  ANYARCH_TRY(Token t, FetchToken(scopes));
  tokens_[key] = t;
  return "Authorization: Bearer " + t.value;
}

Status Authenticator::OnUnauthorized(const std::string& www_authenticate,
                                     const std::vector<std::string>& scopes,
                                     const std::string& sent) {
  auto ch = ParseChallenge(www_authenticate);
  if (!ch) {
    return MakeError(ErrorCode::kUnauthorized,
                     registry_ + " answered 401 without saying how to authenticate");
  }
  std::lock_guard<std::mutex> lock(mu_);
  ANYARCH_TRY(auto cred, Cred());
  if (ch->scheme == "basic") {
    challenge_ = *ch;
    if (!cred || cred->IsIdentityToken()) {
      return MakeError(ErrorCode::kUnauthorized,
                       registry_ + " needs credentials: run anyarch login " + registry_);
    }
    if (StartsWith(sent, "Authorization: Basic")) {
      return MakeError(ErrorCode::kUnauthorized,
                       registry_ +
                           " refused the stored credentials (HTTP 401); check them with "
                           "anyarch login " +
                           registry_);
    }
    return Ok();
  }
  if (ch->scheme != "bearer" || ch->params["realm"].empty()) {
    return MakeError(ErrorCode::kUnsupported, registry_ +
                                                  " asks for an authentication scheme anyarch "
                                                  "does not support (" +
                                                  ch->scheme + ")");
  }
  bool had_token = StartsWith(sent, "Authorization: Bearer");
  challenge_ = *ch;
  if (had_token) {
    // The token we sent was refused: expired, or it does not grant these scopes.
    tokens_.erase(Key(scopes));
    if (!cred) {
      return MakeError(ErrorCode::kUnauthorized, registry_ + " needs credentials for " +
                                                     Join(scopes, " ") + ": run anyarch login " +
                                                     registry_);
    }
  }
  return Ok();
}

Result<Authenticator::Token> Authenticator::FetchToken(const std::vector<std::string>& scopes) {
  const auto& p = challenge_->params;
  std::string realm = p.at("realm");
  std::string service = p.count("service") ? p.at("service") : "";
  std::vector<std::string> want = scopes;
  if (want.empty() && p.count("scope")) want = Split(p.at("scope"), ' ');
  ANYARCH_TRY(auto cred, Cred());

  HttpRequest req;
  req.tls = realm_tls_;
  // A token server that accepts the connection and never answers must not hold the command.
  req.timeout = kTokenTimeout;
  std::string form;
  StringReader* body = nullptr;
  std::unique_ptr<StringReader> body_holder;
  if (cred && cred->IsIdentityToken()) {
    // OAuth2 refresh-token grant (docs/spec/auth/oauth.md).
    form = "grant_type=refresh_token&client_id=anyarch&service=" + UrlEncode(service) +
           "&refresh_token=" + UrlEncode(cred->secret);
    if (!want.empty()) form += "&scope=" + UrlEncode(Join(want, " "));
    body_holder = std::make_unique<StringReader>(form);
    body = body_holder.get();
    req.method = "POST";
    req.url = realm;
    req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    req.body = body;
    req.body_size = static_cast<std::int64_t>(form.size());
  } else {
    std::string url = realm + (realm.find('?') == std::string::npos ? "?" : "&");
    url += "service=" + UrlEncode(service);
    for (const auto& s : want) url += "&scope=" + UrlEncode(s);
    if (cred) {
      url += "&account=" + UrlEncode(cred->username);
      req.headers.push_back("Authorization: Basic " +
                            Base64Encode(cred->username + ":" + cred->secret));
    }
    req.url = url;
  }
  auto resp = transport_->Send(req);
  if (!resp) {
    return Unexpected(std::move(resp.error()).With("asking the token server of " + registry_));
  }
  long status = (*resp)->status();
  auto text = ReadAll(**resp, 1 << 20);
  if (status == 401 || status == 403) {
    if (cred) {
      return MakeError(ErrorCode::kUnauthorized,
                       "the token server of " + registry_ +
                           " refused the stored credentials (HTTP " + std::to_string(status) +
                           "); check them with anyarch login " + registry_);
    }
    return MakeError(
        ErrorCode::kUnauthorized,
        "the token server of " + registry_ + " wants credentials: run anyarch login " + registry_);
  }
  if (status != 200) {
    return MakeError(
        status >= 500 || status == 429 ? ErrorCode::kUnavailable : ErrorCode::kIo,
        "the token server of " + registry_ + " answered HTTP " + std::to_string(status));
  }
  if (!text) return Unexpected(std::move(text.error()).With("token from " + registry_));
  ANYARCH_TRY(TokenResponse tr, ParseTokenResponse(*text, "the token server of " + registry_));
  Token t{.value = std::move(tr.token), .expires = {}};
  long long expires_in = tr.expires_in;
  // Renew early: a streamed upload must not start with a token about to expire.
  long long usable = std::max(expires_in / 2, expires_in - 30);
  t.expires = clock_() + std::chrono::seconds(usable);
  return t;
}

}  // namespace anyarch::registry
