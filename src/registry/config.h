// The registries config file, $XDG_CONFIG_HOME/anyarch/config.toml. It takes the
// [registry."host"] tables of BuildKit's buildkitd.toml, so an existing file can be reused:
//
//   [registry."127.0.0.1:5000"]
//   http = true                      # plain HTTP
//   insecure = true                  # TLS without certificate verification
//   ca = ["/etc/certs/my-ca.pem"]    # extra CA certificates (PEM)
//   mirrors = ["mirror.internal:5000"]  # tried in order for pulls, then the registry itself
//   [[registry."127.0.0.1:5000".keypair]]
//   key = "/etc/certs/client.key"
//   cert = "/etc/certs/client.pem"
//
// anyarch adds one key: chunk_size = N (bytes) uploads blobs to that registry in PATCH chunks of
// N bytes instead of one request. Other buildkitd.toml sections (worker, grpc, ...) are ignored
// with a warning; a key of the wrong type is an error naming the key.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace anyarch::registry {

struct HostConfig {
  std::optional<bool> http;
  std::optional<bool> insecure;
  std::vector<std::string> ca;
  std::vector<std::pair<std::string, std::string>> keypairs;  // cert, key
  std::vector<std::string> mirrors;
  std::uint64_t chunk_size = 0;
};

struct RegistriesConfig {
  std::string path;                         // where it was read from; empty: no file
  std::map<std::string, HostConfig> hosts;  // keyed by registry host[:port] (docker.io for Hub)
  std::vector<std::string> warnings;        // ignored sections and keys

  // The table for `host` (docker.io aliases included), or null.
  const HostConfig* Find(const std::string& host) const;
};

// Reads the file. A missing file gives an empty config; malformed TOML gives kInvalid with
// "path:line:column: what is wrong"; a key of the wrong type gives kInvalid naming it.
Result<RegistriesConfig> LoadRegistriesConfig(const std::string& path);

// Parses config text (for tests and `anyarch doctor`); `path` names it in messages.
Result<RegistriesConfig> ParseRegistriesConfig(const std::string& text, const std::string& path);

}  // namespace anyarch::registry
