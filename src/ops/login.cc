#include "ops/login.h"

#include <filesystem>

#include "base/fs.h"
#include "base/json.h"
#include "registry/client.h"

namespace anyarch::ops {

namespace {

std::string Base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned val = 0;
  int bits = -6;
  for (unsigned char c : in) {
    val = (val << 8) + c;
    bits += 8;
    while (bits >= 0) {
      out.push_back(t[(val >> bits) & 0x3f]);
      bits -= 6;
    }
  }
  if (bits > -6) out.push_back(t[((val << 8) >> (bits + 8)) & 0x3f]);
  while (out.size() % 4) out.push_back('=');
  return out;
}

Result<OrderedJson> LoadConfig(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return OrderedJson::object();
  ANYARCH_TRY(std::string text, ReadFile(path, 1 << 20));
  ANYARCH_TRY(OrderedJson j, ParseOrderedJson(text, path));
  if (!j.is_object()) return MakeError(ErrorCode::kInvalid, path + ": not a JSON object");
  return j;
}

}  // namespace

Result<std::string> Login(const LoginRequest& req) {
  if (req.username.empty()) return MakeError(ErrorCode::kInvalid, "login needs a username (-u)");
  if (req.password.empty())
    return MakeError(ErrorCode::kInvalid, "login needs a password (--password-stdin)");
  registry::ClientOptions opt{.insecure = req.insecure};
  opt.basic_auth = Base64(req.username + ":" + req.password);
  ANYARCH_CHECK(registry::Ping(req.registry, opt));
  std::string path = registry::DockerConfigPath({});
  if (path.empty())
    return MakeError(ErrorCode::kInvalid, "no HOME or DOCKER_CONFIG to keep credentials in");
  ANYARCH_TRY(OrderedJson j, LoadConfig(path));
  if (!j.contains("auths") || !j["auths"].is_object()) j["auths"] = OrderedJson::object();
  j["auths"][req.registry] = {{"auth", opt.basic_auth}};
  ANYARCH_CHECK(WriteFileAtomic(path, j.dump(1, '\t') + "\n", 0600));
  return path;
}

Result<std::string> Logout(const std::string& registry) {
  std::string path = registry::DockerConfigPath({});
  ANYARCH_TRY(OrderedJson j, LoadConfig(path));
  if (!j.contains("auths") || !j["auths"].is_object() || !j["auths"].contains(registry)) {
    return MakeError(ErrorCode::kNotFound, "not logged in to " + registry);
  }
  j["auths"].erase(registry);
  ANYARCH_CHECK(WriteFileAtomic(path, j.dump(1, '\t') + "\n", 0600));
  return path;
}

}  // namespace anyarch::ops
