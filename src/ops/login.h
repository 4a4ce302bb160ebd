// anyarch login / logout: credentials in the docker config.json (or its credential helper).
#pragma once

#include <string>

#include "base/error.h"
#include "transport/location.h"

namespace anyarch::ops {

struct LoginRequest {
  std::string registry;  // host[:port]; docker.io for Docker Hub
  std::string username;
  std::string password;  // never printed
  transport::Env env;
};

// Checks the credentials against the registry (GET /v2/, through its token server when it has
// one), then stores them: in the credential helper config.json names for the registry, else under
// "auths" (atomically, mode 0600, other keys kept). Returns where they went.
Result<std::string> Login(const LoginRequest& request);
// Removes the registry's credentials; kNotFound when there were none.
Result<std::string> Logout(const std::string& registry, const transport::Env& env);

}  // namespace anyarch::ops
