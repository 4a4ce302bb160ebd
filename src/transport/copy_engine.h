// The image-copying engine that copy, pull, push, export, import, manifest push and merge share.
//
// The engine reads every image manifest first, then moves the distinct blobs (configs and
// layers) `jobs` at a time: a blob the destination has is skipped, a blob in another repository
// of the destination's registry is mounted, any other is streamed from source to destination
// without touching the disk in between, verified against its digest on the way. A transfer that
// fails with a retriable error starts over (up to three times). Manifests are written after their
// blobs; indexes (after their children) and names are the caller's, so that a failed copy never
// leaves a name pointing at something incomplete.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/error.h"
#include "image/descriptor.h"
#include "image/source.h"
#include "transport/location.h"

namespace anyarch::transport {

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

}  // namespace anyarch::transport
