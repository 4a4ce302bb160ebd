// anyarch inspect: what `docker buildx imagetools inspect` shows, for a registry reference or an
// OCI layout: the root manifest or index as served, its children with their platforms, and with
// --platform the selected image's manifest and config.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "image/manifest.h"
#include "platform/platform.h"
#include "transport/location.h"

namespace anyarch::ops {

struct InspectRequest {
  std::string location;
  std::optional<platform::Platform> platform;
  transport::Env env;
};

struct InspectReport {
  std::string name;         // the source as given, normalised
  image::RawManifest root;  // exact bytes
  std::optional<image::Index> index;
  // With --platform (or for a single image): the image's manifest and config.
  std::optional<image::Manifest> manifest;
  std::optional<image::ImageConfig> config;
};

Result<InspectReport> Inspect(const InspectRequest& request);

}  // namespace anyarch::ops
