// Where an image lives, in skopeo's transport syntax, and what every operation that moves images
// needs to reach it:
//   REF                        a registry reference (host/repo:tag, repo@digest; docker.io default)
//   oci:DIR[:TAG]              an OCI image layout directory
//   oci-archive:FILE[:TAG]     a tar of an OCI image layout
//   docker-archive:FILE[:REF]  the `docker save` / `docker load` format (one image)
//   local:REF                  the local store (an OCI layout under --root, named by REF)
#pragma once

#include <memory>
#include <string>

#include "base/error.h"
#include "base/reporter.h"
#include "image/source.h"
#include "platform/platform.h"
#include "registry/client.h"

namespace anyarch::transport {

struct Location {
  std::string transport;  // "oci", "oci-archive", "docker-archive", "local", "registry"
  std::string path;       // directory or file for the file transports
  std::string tag;        // oci:DIR:TAG, oci-archive:FILE:TAG, docker-archive:FILE:REF
  std::string reference;  // registry and local references (normalised)
};

// Splits a location string. kInvalid says what is malformed (e.g. "oci:" with no directory, a
// bad reference part by part).
Result<Location> ParseLocation(const std::string& text);

// What an operation needs to reach images; the CLI fills it from its global flags.
struct Env {
  bool insecure = false;         // plain HTTP / unverified TLS for every registry
  std::string store_root;        // the local store, for local:REF
  std::string config_path;       // registries config (config.toml)
  std::string docker_config;     // credentials (config.json); empty: $DOCKER_CONFIG or ~/.docker
  std::uint64_t chunk_size = 0;  // blob uploads in PATCH chunks of this size; 0: one request
  int jobs = 4;                  // blob transfers at once
  Reporter* reporter = nullptr;  // progress and warnings; null: none
};

// Opens sources and sinks for one operation. Registry references share one session, so the
// connections, the scheme probe and the tokens of a host are reused across them.
class Transports {
 public:
  explicit Transports(Env env) : env_(std::move(env)) {}
  const Env& env() const { return env_; }

  Result<std::unique_ptr<image::ImageSource>> OpenSource(const std::string& location);
  // Sinks write atomically; archive sinks publish their file only on Commit().
  Result<std::unique_ptr<image::ImageSink>> OpenSink(const std::string& location);
  // The registry session (created on first use). kInvalid for a malformed registries config.
  Result<std::shared_ptr<registry::Session>> Session();

 private:
  Env env_;
  std::shared_ptr<registry::Session> session_;
};

// One-shot forms of Transports::OpenSource / OpenSink.
Result<std::unique_ptr<image::ImageSource>> OpenSource(const std::string& location,
                                                       const Env& env = {});
Result<std::unique_ptr<image::ImageSink>> OpenSink(const std::string& location,
                                                   const Env& env = {});

// For a registry reference that the local store also holds with an image for `want`: the
// local:REF location to use instead (as docker run uses a pulled image). Else `location` itself.
std::string PreferLocal(const std::string& location, const std::string& store_root,
                        const platform::Platform& want);

// The name a local:REF image has in the store ("docker.io/library/busybox:latest").
Result<std::string> LocalName(const std::string& reference);

}  // namespace anyarch::transport
