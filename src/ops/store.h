// The local store's commands: tag, rmi, prune, export and import. (images is ops/images.h; pull
// and push are copies, ops/copy.h.) The store is an OCI image layout under --root whose names are
// full references (docker.io/library/busybox:latest).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "build/snapshots.h"
#include "ops/copy.h"
#include "platform/platform.h"
#include "transport/location.h"

namespace anyarch::ops {

// Gives the image `source` names in the store a second name, `target`. kNotFound lists nothing
// but says how to see what there is.
Status TagImage(const std::string& store_root, const std::string& source,
                const std::string& target);

struct RemoveReport {
  std::vector<std::string> untagged;
  std::size_t blobs_removed = 0;
  std::uint64_t bytes_freed = 0;
};
// Removes names, then every blob no remaining name reaches. A reference is a name, the short
// ID `images` shows (a digest prefix), or repo@sha256:...; one that matches nothing is kNotFound,
// an ID several names share is kInvalid, and in both cases nothing is removed.
Result<RemoveReport> RemoveImages(const std::string& store_root,
                                  const std::vector<std::string>& references);

struct PruneReport {
  std::size_t blobs_removed = 0, temp_files_removed = 0, snapshots_removed = 0,
              containers_removed = 0, build_cache_removed = 0;
  std::uint64_t bytes_freed = 0;
  std::uint64_t build_cache_bytes_freed = 0;
};
struct PruneOptions {
  bool snapshots = false;    // also the unpacked root filesystems `anyarch run` caches
  bool build_cache = false;  // also every cached build step and cache mount
  // Also cached steps and cache mounts, least recently used first, until the build cache holds
  // at most this many bytes.
  std::optional<std::uint64_t> keep_storage;
};
// Deletes blobs no name reaches (the build cache's layers stay, unless their entries go),
// leftovers of killed processes and kept containers that are not running (anyarch ps -a), and
// what `options` adds. Not while runs (snapshots) or builds (build cache) are in progress.
Result<PruneReport> Prune(const std::string& store_root, const PruneOptions& options);

// anyarch du: what the store holds, by kind, in bytes of file content.
struct UsageLine {
  std::string
      kind;  // "images", "unused blobs", "build cache", "cache mounts", "snapshots", "containers"
  std::size_t count = 0;
  std::uint64_t bytes = 0;
  std::uint64_t reclaimable = 0;  // what prune (with the flag for the kind) would free
};
struct DiskUsage {
  std::vector<UsageLine> lines;
  std::vector<build::CacheEntryInfo> cache;  // least recently used first
};
Result<DiskUsage> Du(const std::string& store_root);

struct ExportRequest {
  std::string reference;  // in the store
  std::string file;
  std::string format = "oci";  // "oci" (oci-archive, every platform) or "docker" (one image)
  std::vector<platform::Platform> platforms;  // oci: a subset; docker: the one to export
  transport::Env env;
};
// docker-archive holds one image: from an index, the --platform one or this host's.
Result<transport::CopyReport> Export(const ExportRequest& request);

struct ImportRequest {
  std::string file;
  std::string reference;  // -t; default: the archive's own name (docker RepoTags, OCI ref.name)
  transport::Env env;
};
// Detects the format (oci-archive or docker-archive) from the tar's entries.
Result<transport::CopyReport> Import(const ImportRequest& request);

// "oci-archive" or "docker-archive" for a tar file; kInvalid when it is neither.
Result<std::string> DetectArchive(const std::string& file);

}  // namespace anyarch::ops
