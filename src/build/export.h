// The last pass: every target's final state becomes an image (config, manifest) in the local
// store, the images become one index when there are several platforms, and the result goes to
// each output. Nothing is named, pushed or published before every image is complete in the
// store, so a failed build changes no output.
//
// Image format: OCI media types by default; with oci_mediatypes = false, Docker schema 2
// (which cannot carry zstd layers: refused). Base image layers keep their bytes and digests;
// their media types are rewritten to the format's equivalents (the same tar+gzip), as BuildKit
// does. The config's platform is the target's, exactly.
#pragma once

#include <vector>

#include "build/build.h"
#include "build/image_state.h"
#include "build/snapshots.h"
#include "dockerfile/evaluate.h"

namespace anyarch::build {

struct ExportedImage {
  platform::Platform platform;
  image::RawManifest manifest;
  image::Descriptor config;
  std::uint64_t size = 0;
};

struct Exported {
  image::RawManifest root;  // the index, or the only manifest
  std::vector<ExportedImage> images;
};

// Writes the images and the root into the store (not named yet). kIo/kNotFound for blobs that
// cannot be read from a base image's source.
Result<Exported> WriteImages(const BuildRequest& request, const SnapshotStore& store,
                             const std::vector<dockerfile::Plan>& plans,
                             std::vector<ImageState>& states);

// Sends the result to every output (and names it in the store). Returns where it went.
Result<std::vector<std::string>> WriteOutputs(const BuildRequest& request,
                                              const SnapshotStore& store,
                                              const std::vector<dockerfile::Plan>& plans,
                                              const std::vector<ImageState>& states,
                                              const Exported& result);

}  // namespace anyarch::build
