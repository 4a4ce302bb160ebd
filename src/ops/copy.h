// anyarch copy SRC DST [--all | --platform P...], and pull (copy into the local store).
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "base/reporter.h"
#include "platform/platform.h"

namespace anyarch::ops {

struct CopyRequest {
  std::string source;
  std::string destination;
  bool all = false;  // every platform of an index, index bytes unchanged (same digest)
  std::vector<platform::Platform> platforms;  // a subset: a new index with only these
  bool insecure = false;
  std::string store_root;
  Reporter* reporter = nullptr;
};

struct CopyReport {
  std::string source, destination;
  std::string digest;                  // of the root manifest written
  std::vector<std::string> platforms;  // copied
  std::size_t blobs_copied = 0, blobs_skipped = 0, blobs_mounted = 0;
  std::uint64_t bytes_copied = 0;
};

// Where blobs can be mounted from: the source's registry and repository (empty: not a registry).
struct MountFrom {
  std::string registry, repository;
};

}  // namespace anyarch::ops

#include "image/source.h"

namespace anyarch::ops {

// Copies one image manifest (config and layers, then the manifest by digest) from src to dst:
// blobs dst has are skipped, blobs in another repository of dst's registry are mounted.
Status CopyOneImage(image::ImageSource& src, image::ImageSink& dst, const image::Descriptor& desc,
                    CopyReport& report, Reporter& rep, const MountFrom& from);

// Without --all or --platform, an index is reduced to this host's best match (as skopeo does).
// Every blob is verified; the root is tagged last, so a failed copy leaves no tag behind.
Result<CopyReport> Copy(const CopyRequest& request);

}  // namespace anyarch::ops
