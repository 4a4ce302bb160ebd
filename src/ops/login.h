// anyarch login / logout: credentials in the docker config.json.
#pragma once

#include <string>

#include "base/error.h"

namespace anyarch::ops {

struct LoginRequest {
  std::string registry;  // host[:port]
  std::string username;
  std::string password;  // never printed
  bool insecure = false;
};

// Verifies the credentials against the registry, then stores them under "auths" in the docker
// config.json (atomically, mode 0600, other keys kept). Returns the config path written.
Result<std::string> Login(const LoginRequest& request);
// Removes the registry's entry; kNotFound when there was none.
Result<std::string> Logout(const std::string& registry);

}  // namespace anyarch::ops
