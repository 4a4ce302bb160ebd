// Resolving the images a build starts from (FROM, COPY --from=IMAGE, RUN --mount from=IMAGE)
// to one image manifest for the platform a stage runs on, and its unpacked root filesystem.
//
// Rules (what a user of buildx expects, minus its silent fallbacks):
// - a name given with --build-context NAME=LOCATION is read from there (oci:DIR, local:REF,
//   docker-image://REF, any transport location);
// - otherwise a plain reference is looked up in the local store first (as docker build uses
//   its image store), unless --pull; else it comes from its registry;
// - an index gives the entry for the platform: exact, else a lower arm variant of the same
//   architecture, with a warning that names what was chosen; another architecture is never a
//   match (buildx would take arm/v7 for arm64): the error lists the platforms the index has;
// - a single-platform image must be of the stage's architecture too.
// Each (name, platform) is resolved once per build, however many stages use it, and
// concurrent requests for the same one wait for the first.
#pragma once

#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/error.h"
#include "build/events.h"
#include "image/manifest.h"
#include "image/source.h"
#include "platform/platform.h"
#include "transport/location.h"

namespace anyarch::build {

struct ResolvedImage {
  std::shared_ptr<image::ImageSource> source;
  image::Manifest manifest;
  image::ImageConfig config;
  platform::Platform platform;  // of the chosen image
  std::string name;             // "busybox:latest (sha256:...)" for messages and events
  std::string rootfs;           // the unpacked snapshot (read-only)
};

struct ResolverOptions {
  std::string store_root;
  bool pull = false;
  std::map<std::string, std::string> build_contexts;  // NAME -> location
  EventSink* events = nullptr;
};

class Resolver {
 public:
  Resolver(transport::Transports& transports, ResolverOptions options)
      : transports_(transports), options_(std::move(options)) {}

  // The image `name` for `want`. Errors name the image and the platform.
  Result<std::shared_ptr<const ResolvedImage>> Resolve(const std::string& name,
                                                       const platform::Platform& want);

  // The location a name is read from (after --build-context and the local store rule).
  std::string LocationOf(const std::string& name, const platform::Platform& want) const;

 private:
  Result<std::shared_ptr<const ResolvedImage>> DoResolve(const std::string& name,
                                                         const platform::Platform& want);

  transport::Transports& transports_;
  ResolverOptions options_;
  std::mutex mu_;
  std::map<std::string, std::shared_future<Result<std::shared_ptr<const ResolvedImage>>>> cache_;
};

}  // namespace anyarch::build
