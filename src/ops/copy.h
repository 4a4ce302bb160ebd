// anyarch copy SRC DST [--all | --platform P...], pull (copy into the local store) and push (copy
// out of it), and the image-copying engine that manifest push and merge share.
//
// The engine reads every image manifest first, then moves the distinct blobs (configs and
// layers) `jobs` at a time: a blob the destination has is skipped, a blob in another repository
// of the destination's registry is mounted, any other is streamed from source to destination
// without touching the disk in between, verified against its digest on the way. A transfer that
// fails with a retriable error starts over (up to three times). Manifests are written after their
// blobs, indexes after their children, and the name last, so a failed copy never leaves a name
// pointing at something incomplete.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "image/source.h"
#include "ops/location.h"
#include "platform/platform.h"

namespace anyarch::ops {

struct CopyRequest {
  std::string source;
  std::string destination;
  bool all = false;  // every platform of an index, index bytes unchanged (same digest)
  std::vector<platform::Platform> platforms;  // a subset: a new index with only these
  Env env;
};

struct CopyReport {
  std::string source, destination;
  std::string digest;  // of the root manifest written
  std::string media_type;
  std::vector<std::string> platforms;  // copied
  std::size_t blobs_copied = 0, blobs_skipped = 0, blobs_mounted = 0;
  std::uint64_t bytes_copied = 0;
  std::size_t manifests = 0;  // image manifests written
};

// Where blobs can be mounted from: the source's registry and repository (empty: not a registry).
struct MountFrom {
  std::string registry, repository;
};

// The mount source for a location string (empty unless it is a registry reference).
MountFrom MountSourceOf(const std::string& location);

// Copies image manifests (each `images` entry names one; its config and layers go first) from
// src to dst, blobs in parallel. Adds to `report`. Does not tag anything.
Status CopyImages(image::ImageSource& src, image::ImageSink& dst,
                  const std::vector<image::Descriptor>& images, const MountFrom& from,
                  const Env& env, CopyReport& report);

// Without --all or --platform, an index is reduced to this host's best match (as skopeo does).
Result<CopyReport> Copy(const CopyRequest& request);

}  // namespace anyarch::ops
