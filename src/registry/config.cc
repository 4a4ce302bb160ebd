#include "registry/config.h"

#include <filesystem>

#include <toml++/toml.h>

#include "base/fs.h"

namespace anyarch::registry {

namespace {

std::string CanonicalHost(std::string host) {
  if (host == "index.docker.io" || host == "registry-1.docker.io") return "docker.io";
  return host;
}

// Strings from a TOML array, or a single string (buildkit accepts both for ca).
Result<std::vector<std::string>> Strings(const toml::node& v, const std::string& where) {
  std::vector<std::string> out;
  if (auto s = v.value<std::string>()) {
    out.push_back(*s);
    return out;
  }
  const toml::array* arr = v.as_array();
  if (!arr) return MakeError(ErrorCode::kInvalid, where + " must be an array of strings");
  for (const auto& n : *arr) {
    auto s = n.value<std::string>();
    if (!s) return MakeError(ErrorCode::kInvalid, where + " must be an array of strings");
    out.push_back(*s);
  }
  return out;
}

Result<HostConfig> ParseHost(const toml::table& tab, const std::string& host,
                             std::vector<std::string>& warnings) {
  HostConfig h;
  for (const auto& [k, v] : tab) {
    std::string key(k.str());
    std::string where = "[registry.\"" + host + "\"] " + key;
    if (key == "http" || key == "insecure") {
      auto b = v.value<bool>();
      if (!v.is_boolean() || !b)
        return MakeError(ErrorCode::kInvalid, where + " must be true or false");
      (key == "http" ? h.http : h.insecure) = *b;
    } else if (key == "ca") {
      ANYARCH_TRY(h.ca, Strings(v, where));
    } else if (key == "mirrors") {
      ANYARCH_TRY(h.mirrors, Strings(v, where));
      for (auto& m : h.mirrors) {
        // buildkit accepts "host" and "host/path"; a scheme is not part of a mirror's name.
        for (const char* scheme : {"https://", "http://"}) {
          if (m.rfind(scheme, 0) == 0) m = m.substr(std::strlen(scheme));
        }
        while (!m.empty() && m.back() == '/') m.pop_back();
        if (m.empty()) return MakeError(ErrorCode::kInvalid, where + " has an empty mirror");
      }
    } else if (key == "keypair") {
      const toml::array* arr = v.as_array();
      if (!arr) return MakeError(ErrorCode::kInvalid, where + " must be an array of tables");
      for (const auto& n : *arr) {
        const toml::table* kp = n.as_table();
        auto cert = kp ? kp->get_as<std::string>("cert") : nullptr;
        auto pkey = kp ? kp->get_as<std::string>("key") : nullptr;
        if (!cert || !pkey) {
          return MakeError(ErrorCode::kInvalid,
                           where + " entries need cert = \"...\" and key = \"...\"");
        }
        h.keypairs.emplace_back(cert->get(), pkey->get());
      }
    } else if (key == "chunk_size") {
      auto i = v.value<std::int64_t>();
      if (!v.is_integer() || !i || *i < 0) {
        return MakeError(ErrorCode::kInvalid,
                         where + " must be a number of bytes (0: one request)");
      }
      h.chunk_size = static_cast<std::uint64_t>(*i);
    } else {
      warnings.push_back(where + " is not known to anyarch and is ignored");
    }
  }
  return h;
}

}  // namespace

const HostConfig* RegistriesConfig::Find(const std::string& host) const {
  auto it = hosts.find(CanonicalHost(host));
  return it == hosts.end() ? nullptr : &it->second;
}

Result<RegistriesConfig> ParseRegistriesConfig(const std::string& text, const std::string& path) {
  RegistriesConfig cfg;
  cfg.path = path;
  // Debian's toml++ is built with exceptions; they stay inside this function.
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& err) {
    return MakeError(ErrorCode::kInvalid, path + ":" + std::to_string(err.source().begin.line) +
                                              ":" + std::to_string(err.source().begin.column) +
                                              ": " + std::string(err.description()));
  }
  for (const auto& [key, value] : root) {
    if (key.str() != "registry") {
      cfg.warnings.push_back(path + ": section \"" + std::string(key.str()) +
                             "\" is not used by anyarch and is ignored");
      continue;
    }
    const toml::table* regs = value.as_table();
    if (!regs) {
      return MakeError(ErrorCode::kInvalid,
                       path + ": \"registry\" must hold [registry.\"host\"] tables");
    }
    for (const auto& [host, t] : *regs) {
      const toml::table* tab = t.as_table();
      std::string h(host.str());
      if (!tab) {
        return MakeError(ErrorCode::kInvalid, path + ": registry \"" + h + "\" must be a table");
      }
      auto parsed = ParseHost(*tab, h, cfg.warnings);
      if (!parsed) return Unexpected(std::move(parsed.error()).With(path));
      cfg.hosts[CanonicalHost(h)] = std::move(*parsed);
    }
  }
  return cfg;
}

Result<RegistriesConfig> LoadRegistriesConfig(const std::string& path) {
  if (path.empty()) return RegistriesConfig{};
  auto text = ReadFile(path, 1 << 20);
  if (!text) {
    if (text.error().code() == ErrorCode::kNotFound) return RegistriesConfig{};
    return Unexpected(std::move(text.error()).With("reading the registries config"));
  }
  return ParseRegistriesConfig(*text, path);
}

}  // namespace anyarch::registry
