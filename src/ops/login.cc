#include "ops/login.h"

#include "ref/reference.h"
#include "registry/client.h"
#include "registry/credentials.h"

namespace anyarch::ops {

namespace {

// "https://host:5000/" or "host:5000" -> "host:5000"; Docker Hub's names -> docker.io.
Result<std::string> RegistryHost(const std::string& text) {
  std::string h = text;
  for (const char* scheme : {"https://", "http://"}) {
    if (h.rfind(scheme, 0) == 0) h = h.substr(std::string(scheme).size());
  }
  h = h.substr(0, h.find('/'));
  if (h.empty()) return MakeError(ErrorCode::kInvalid, "no registry given (e.g. 127.0.0.1:5000)");
  // Parse a dummy reference on the host to validate it the same way references are.
  auto r = ref::Parse(h + "/x");
  if (!r || r->repository != "x") {
    if (h == "docker.io" || h == "index.docker.io" || h == "registry-1.docker.io")
      return std::string("docker.io");
    return MakeError(ErrorCode::kInvalid, "\"" + text + "\" is not a registry host[:port]");
  }
  return r->registry;
}

}  // namespace

Result<std::string> Login(const LoginRequest& req) {
  ANYARCH_TRY(std::string host, RegistryHost(req.registry));
  if (req.username.empty()) return MakeError(ErrorCode::kInvalid, "login needs a username (-u)");
  if (req.password.empty())
    return MakeError(ErrorCode::kInvalid, "login needs a password (--password-stdin)");
  registry::Credential cred{.username = req.username, .secret = req.password};
  ANYARCH_TRY(auto session, registry::NewSession({.insecure = req.env.insecure,
                                                  .config_path = req.env.config_path,
                                                  .docker_config = req.env.docker_config,
                                                  .credential = cred,
                                                  .reporter = req.env.reporter}));
  ANYARCH_TRY(auto reg, session->Get(host));
  auto st = reg->Ping();
  if (!st) {
    if (st.error().code() == ErrorCode::kUnauthorized) {
      return MakeError(ErrorCode::kUnauthorized,
                       "login to " + host + " failed: the registry refused the credentials");
    }
    return Unexpected(std::move(st.error()).With("login to " + host));
  }
  registry::CredentialStore store(registry::DockerConfigPath(req.env.docker_config));
  return store.Store(host, cred);
}

Result<std::string> Logout(const std::string& registry, const transport::Env& env) {
  ANYARCH_TRY(std::string host, RegistryHost(registry));
  registry::CredentialStore store(registry::DockerConfigPath(env.docker_config));
  ANYARCH_TRY(bool erased, store.Erase(host));
  if (!erased) return MakeError(ErrorCode::kNotFound, "not logged in to " + host);
  return store.path();
}

}  // namespace anyarch::ops
