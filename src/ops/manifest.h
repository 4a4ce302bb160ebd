// anyarch manifest create | annotate | inspect | push | rm: `docker manifest` without a daemon.
// Local lists are kept as JSON under <store>/manifests/, never in the OCI layout (their layers
// are not local). create reads only manifests (and a config when a manifest says no platform),
// never layers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "image/descriptor.h"
#include "image/source.h"

namespace anyarch::ops {

struct ManifestEntry {
  std::string source;            // the reference the entry came from (repo@digest)
  std::string given;             // the reference as given to create, normalised (repo:tag)
  image::Descriptor descriptor;  // with platform
};

struct ManifestList {
  std::string name;  // normalised reference of the list
  std::vector<ManifestEntry> entries;
};

struct ManifestCreateRequest {
  std::string list;
  std::vector<std::string> sources;
  bool amend = false;
  bool insecure = false;
  std::string store_root;
};
Result<ManifestList> ManifestCreate(const ManifestCreateRequest& request);

struct ManifestAnnotateRequest {
  std::string list, source;
  std::optional<std::string> os, arch, variant, os_version;
  std::vector<std::string> os_features;
  std::string store_root;
};
Result<ManifestList> ManifestAnnotate(const ManifestAnnotateRequest& request);

// The index the list would push (Docker manifest list when every child is Docker schema 2).
Result<image::RawManifest> ManifestBuild(const ManifestList& list);
Result<ManifestList> ManifestLoad(const std::string& store_root, const std::string& list);

struct ManifestPushRequest {
  std::string list;
  std::string destination;  // default: the list's own name
  bool purge = false;
  bool insecure = false;
  std::string store_root;
};
struct ManifestPushReport {
  std::string destination, digest;
  std::size_t children_copied = 0, blobs_mounted = 0, blobs_copied = 0;
};
Result<ManifestPushReport> ManifestPush(const ManifestPushRequest& request);

Status ManifestRemove(const std::string& store_root, const std::vector<std::string>& lists);

}  // namespace anyarch::ops
