#include "registry/credentials.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "base/fs.h"
#include "base/json.h"
#include "base/process.h"
#include "base/strings.h"

namespace anyarch::registry {

namespace {

constexpr const char* kHubKey = "https://index.docker.io/v1/";

bool IsHub(const std::string& host) {
  return host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io";
}

// "https://host:5000/v1/" -> "host:5000", lower-cased.
std::string KeyHost(std::string key) {
  for (const char* scheme : {"https://", "http://"}) {
    if (key.rfind(scheme, 0) == 0) key = key.substr(std::strlen(scheme));
  }
  return ToLower(key.substr(0, key.find('/')));
}

bool SameRegistry(const std::string& key, const std::string& registry) {
  std::string h = KeyHost(key);
  std::string r = ToLower(registry);
  return h == r || (IsHub(h) && IsHub(r));
}

Result<Json> LoadJson(const std::string& path) {
  if (path.empty()) return Json::object();
  auto text = ReadFile(path, 4 << 20);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) return Json::object();
    return Unexpected(text.error());
  }
  ANYARCH_TRY(Json j, ParseJson(*text, path));
  if (!j.is_object()) return MakeError(ErrorCode::kInvalid, path + ": not a JSON object");
  return j;
}

Result<ProcessResult> RunHelper(const std::string& helper, const std::string& verb,
                                const std::string& input, const std::string& registry) {
  // The name comes from a file: it names a program in PATH, never a path of its own.
  if (helper.find_first_of("/\\") != std::string::npos ||
      std::any_of(helper.begin(), helper.end(), [](unsigned char c) { return c < 0x20; })) {
    return MakeError(ErrorCode::kInvalid, "config.json names credential helper \"" +
                                              Printable(helper, 80) + "\" for " + registry +
                                              "; a helper name cannot hold a path");
  }
  std::string program = "docker-credential-" + helper;
  auto r = RunProcess({program, verb}, {.stdin_data = input, .timeout = std::chrono::seconds(60)});
  if (!r) {
    if (r.error().code() == ErrorCode::kNotFound) {
      return MakeError(ErrorCode::kNotFound, "credential helper " + program +
                                                 " (configured in config.json for " + registry +
                                                 ") is not installed or not in PATH");
    }
    return Unexpected(std::move(r.error()).With("credential helper " + program));
  }
  return r;
}

bool NotFoundAnswer(const ProcessResult& r) {
  std::string all = ToLower(r.stdout_data + r.stderr_data);
  return all.find("credentials not found") != std::string::npos ||
         all.find("not found in native keychain") != std::string::npos;
}

std::string FirstLine(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  return Printable(TrimSpace(line), 200);
}

}  // namespace

std::string HelperFor(const Json& cfg, const std::string& registry) {
  if (cfg.contains("credHelpers") && cfg["credHelpers"].is_object()) {
    for (const auto& [key, value] : cfg["credHelpers"].items()) {
      if (SameRegistry(key, registry) && value.is_string()) return value.get<std::string>();
    }
  }
  if (cfg.contains("credsStore") && cfg["credsStore"].is_string())
    return cfg["credsStore"].get<std::string>();
  return "";
}

Result<std::optional<Credential>> ParseHelperOutput(std::string_view out, const std::string& helper,
                                                    const std::string& registry) {
  auto j = ParseJson(out, "docker-credential-" + helper + " output");
  if (!j || !j->is_object()) {
    return MakeError(ErrorCode::kUnavailable, "credential helper docker-credential-" + helper +
                                                  " gave an answer that is not JSON for " +
                                                  registry);
  }
  Credential c;
  if (auto u = j->find("Username"); u != j->end() && u->is_string())
    c.username = u->get<std::string>();
  if (auto s = j->find("Secret"); s != j->end() && s->is_string()) c.secret = s->get<std::string>();
  if (c.secret.empty()) return std::optional<Credential>();
  return std::optional<Credential>(std::move(c));
}

Result<std::optional<Credential>> FromAuths(const Json& cfg, const std::string& registry,
                                            const std::string& path) {
  if (!cfg.contains("auths") || !cfg["auths"].is_object()) return std::optional<Credential>();
  for (const auto& [key, entry] : cfg["auths"].items()) {
    if (!SameRegistry(key, registry) || !entry.is_object()) continue;
    Credential c;
    if (entry.contains("auth") && entry["auth"].is_string() &&
        !entry["auth"].get<std::string>().empty()) {
      auto plain = Base64Decode(entry["auth"].get<std::string>());
      auto colon = plain ? plain->find(':') : std::string::npos;
      if (!plain || colon == std::string::npos) {
        return MakeError(ErrorCode::kInvalid, path + ": the \"auth\" value for " + key +
                                                  " is not base64 of user:password");
      }
      c.username = plain->substr(0, colon);
      c.secret = plain->substr(colon + 1);
    } else if (entry.contains("username") && entry["username"].is_string() &&
               entry.contains("password") && entry["password"].is_string()) {
      c.username = entry["username"].get<std::string>();
      c.secret = entry["password"].get<std::string>();
    }
    if (entry.contains("identitytoken") && entry["identitytoken"].is_string() &&
        !entry["identitytoken"].get<std::string>().empty()) {
      c.username = "<token>";
      c.secret = entry["identitytoken"].get<std::string>();
    }
    if (!c.secret.empty()) return std::optional<Credential>(std::move(c));
  }
  return std::optional<Credential>();
}

std::string DockerConfigPath(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  const char* dc = std::getenv("DOCKER_CONFIG");
  if (dc && *dc) return std::string(dc) + "/config.json";
  const char* home = std::getenv("HOME");
  return home && *home ? std::string(home) + "/.docker/config.json" : "";
}

std::string ServerKey(const std::string& registry) { return IsHub(registry) ? kHubKey : registry; }

Result<std::optional<Credential>> CredentialStore::Get(const std::string& registry) const {
  ANYARCH_TRY(Json cfg, LoadJson(path_));
  // An "auths" entry written by `docker login` without a store comes first only when no helper is
  // configured for the host, as in the docker CLI.
  std::string helper = HelperFor(cfg, registry);
  if (!helper.empty()) {
    ANYARCH_TRY(auto r, RunHelper(helper, "get", ServerKey(registry), registry));
    if (r.exit_code == 0) return ParseHelperOutput(r.stdout_data, helper, registry);
    if (!NotFoundAnswer(r)) {
      return MakeError(ErrorCode::kUnavailable,
                       "credential helper docker-credential-" + helper + " failed for " + registry +
                           " (exit " + std::to_string(r.exit_code) +
                           "): " + FirstLine(r.stderr_data + r.stdout_data));
    }
    // Not in the helper: fall through to "auths" (docker does the same for credHelpers misses).
  }
  return FromAuths(cfg, registry, path_);
}

Result<std::string> CredentialStore::Store(const std::string& registry,
                                           const Credential& credential) const {
  if (path_.empty())
    return MakeError(ErrorCode::kInvalid, "no HOME or DOCKER_CONFIG to keep credentials in");
  ANYARCH_TRY(Json cfg, LoadJson(path_));
  std::string helper = HelperFor(cfg, registry);
  if (!helper.empty()) {
    Json in = {{"ServerURL", ServerKey(registry)},
               {"Username", credential.username},
               {"Secret", credential.secret}};
    ANYARCH_TRY(auto r, RunHelper(helper, "store", in.dump(), registry));
    if (r.exit_code != 0) {
      return MakeError(ErrorCode::kUnavailable, "credential helper docker-credential-" + helper +
                                                    " could not store " + registry + ": " +
                                                    FirstLine(r.stderr_data + r.stdout_data));
    }
    return "credential helper docker-credential-" + helper;
  }
  ANYARCH_TRY(std::string text, [&]() -> Result<std::string> {
    auto t = ReadFile(path_, 4 << 20);
    if (!t && t.error().code() == ErrorCode::kNotFound) return std::string("{}");
    return t;
  }());
  // Ordered, so the rest of the user's file keeps its layout.
  ANYARCH_TRY(OrderedJson j, ParseOrderedJson(text, path_));
  if (!j.is_object()) return MakeError(ErrorCode::kInvalid, path_ + ": not a JSON object");
  if (!j.contains("auths") || !j["auths"].is_object()) j["auths"] = OrderedJson::object();
  for (auto it = j["auths"].begin(); it != j["auths"].end();) {
    if (SameRegistry(it.key(), registry))
      it = j["auths"].erase(it);
    else
      ++it;
  }
  if (credential.IsIdentityToken()) {
    j["auths"][ServerKey(registry)] = {{"identitytoken", credential.secret}};
  } else {
    j["auths"][ServerKey(registry)] = {
        {"auth", Base64Encode(credential.username + ":" + credential.secret)}};
  }
  ANYARCH_CHECK(WriteFileAtomic(path_, j.dump(1, '\t') + "\n", 0600));
  return path_;
}

Result<bool> CredentialStore::Erase(const std::string& registry) const {
  if (path_.empty()) return false;
  ANYARCH_TRY(Json cfg, LoadJson(path_));
  bool erased = false;
  std::string helper = HelperFor(cfg, registry);
  if (!helper.empty()) {
    ANYARCH_TRY(auto r, RunHelper(helper, "erase", ServerKey(registry), registry));
    if (r.exit_code == 0) {
      erased = true;
    } else if (!NotFoundAnswer(r)) {
      return MakeError(ErrorCode::kUnavailable, "credential helper docker-credential-" + helper +
                                                    " could not erase " + registry + ": " +
                                                    FirstLine(r.stderr_data + r.stdout_data));
    }
  }
  auto text = ReadFile(path_, 4 << 20);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) return erased;
    return Unexpected(text.error());
  }
  ANYARCH_TRY(OrderedJson j, ParseOrderedJson(*text, path_));
  if (!j.is_object() || !j.contains("auths") || !j["auths"].is_object()) return erased;
  bool changed = false;
  for (auto it = j["auths"].begin(); it != j["auths"].end();) {
    if (SameRegistry(it.key(), registry)) {
      it = j["auths"].erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  if (changed) ANYARCH_CHECK(WriteFileAtomic(path_, j.dump(1, '\t') + "\n", 0600));
  return erased || changed;
}

}  // namespace anyarch::registry
