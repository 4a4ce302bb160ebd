// Registry credentials in the docker CLI's config.json ($DOCKER_CONFIG/config.json, default
// ~/.docker/config.json), so `docker login`, `podman login --compat-auth-file` and anyarch share
// them:
//   "auths":       {"host": {"auth": base64("user:password")} | {"username","password"} |
//                   {"identitytoken"}}
//   "credHelpers": {"host": "name"}   runs docker-credential-<name> for that host
//   "credsStore":  "name"             runs docker-credential-<name> for every other host
// Helper protocol: `docker-credential-NAME get|store|erase`, the server URL (or a JSON object for
// store) on stdin, {"ServerURL","Username","Secret"} on stdout. A Username of "<token>" means
// Secret is an identity (refresh) token. Docker Hub is keyed "https://index.docker.io/v1/".
//
// Secrets never appear in errors: messages name the registry and the helper, not the values.
#pragma once

#include <optional>
#include <string>

#include "base/error.h"
#include "base/json.h"

namespace anyarch::registry {

struct Credential {
  std::string username;
  std::string secret;  // password or identity token; never printed
  bool IsIdentityToken() const { return username == "<token>"; }
};

// The config.json to use: `explicit_path` if set, else $DOCKER_CONFIG/config.json, else
// ~/.docker/config.json. Empty when there is no HOME either.
std::string DockerConfigPath(const std::string& explicit_path = {});

class CredentialStore {
 public:
  explicit CredentialStore(std::string config_path) : path_(std::move(config_path)) {}

  const std::string& path() const { return path_; }

  // The credential for `registry` (host[:port], docker.io for Hub). std::nullopt when none is
  // configured; kInvalid for a malformed config.json; kUnavailable when a helper fails.
  Result<std::optional<Credential>> Get(const std::string& registry) const;

  // Stores a credential: through the host's helper (credHelpers, then credsStore) when one is
  // configured, else in "auths" (config.json rewritten atomically, mode 0600, other keys kept).
  // Returns where it went ("helper docker-credential-NAME" or the config path).
  Result<std::string> Store(const std::string& registry, const Credential& credential) const;

  // Removes the credential; false when there was none.
  Result<bool> Erase(const std::string& registry) const;

 private:
  std::string path_;
};

// The pure parts of Get, for tests and fuzzing (nothing is read or run):
// The helper name config.json gives for `registry` (credHelpers, then credsStore), or "".
std::string HelperFor(const Json& config, const std::string& registry);
// The credential in config.json's "auths" for `registry`: std::nullopt when there is none;
// kInvalid (naming `path` and the entry's key, never the value) when "auth" is not base64 of
// user:password.
Result<std::optional<Credential>> FromAuths(const Json& config, const std::string& registry,
                                            const std::string& path);
// A helper's answer to `get` ({"ServerURL","Username","Secret"}): std::nullopt when it has no
// Secret; kUnavailable when it is not a JSON object. Messages name the helper, never the answer.
Result<std::optional<Credential>> ParseHelperOutput(std::string_view out, const std::string& helper,
                                                    const std::string& registry);

// The key config.json uses for a registry: "https://index.docker.io/v1/" for Docker Hub, else the
// host[:port] itself.
std::string ServerKey(const std::string& registry);

}  // namespace anyarch::registry
